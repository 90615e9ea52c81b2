"""Synthetic transformer-like traces, written without any framework.

Used by tests and benchmarks of the viewer (any size, on machines without torch), and as the
demo trace shipped for machines without torch. The trace reads like a real PyTorch recording:
a generated source file with one line per op, nested module calls (``layers.3.attn.q``),
parameters as source nodes, and optionally a NaN that appears in one block's softmax.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass

from tracing.model import TensorSummary
from tracing.recorder import Recorder
from tracing.summaries import summarize_array

SOURCE_FILE = "synthetic_model.py"

# The generated model source. Each op below names the line (by a marker) it is issued from.
_SOURCE = '''"""A small transformer, as recorded by OpScope's synthetic trace generator."""
import torch
import torch.nn.functional as F
from torch import nn


class Attention(nn.Module):
    def forward(self, x):
        q = self.q(x)  # @q
        k = self.k(x)  # @k
        v = self.v(x)  # @v
        scores = q @ k.transpose(-2, -1)  # @scores
        weights = torch.softmax(scores * self.scale, dim=-1)  # @softmax
        mixed = weights @ v  # @mix
        return self.out(mixed)  # @out


class MLP(nn.Module):
    def forward(self, x):
        hidden = F.gelu(self.fc1(x))  # @fc1
        return self.fc2(hidden)  # @fc2


class Block(nn.Module):
    def forward(self, x):
        x = x + self.attn(self.norm1(x))  # @attn
        x = x + self.mlp(self.norm2(x))  # @mlp
        return x


class Model(nn.Module):
    def forward(self, tokens):
        x = self.embed(tokens)  # @embed
        for layer in self.layers:
            x = layer(x)  # @layer
        return self.head(x).mean()  # @head


model = Model()
loss = model(torch.randn(8, 16))  # @main
'''


def _line_numbers() -> dict[str, int]:
    marks = {}
    for number, text in enumerate(_SOURCE.splitlines(), start=1):
        if "# @" in text:
            marks[text.rsplit("# @", 1)[1].strip()] = number
    return marks


_LINES = _line_numbers()
_FUNCS = {
    **dict.fromkeys(("q", "k", "v", "scores", "softmax", "mix", "out"), ("forward", 8)),
    **dict.fromkeys(("fc1", "fc2"), ("forward", 19)),
    **dict.fromkeys(("attn", "mlp"), ("forward", 25)),
    **dict.fromkeys(("embed", "layer", "head"), ("forward", 32)),
    "main": ("<module>", 1),
}


@dataclass
class _Writer:
    recorder: Recorder
    rng: object
    values: bool
    nan_block: int | None
    seq_len: int
    width: int
    frames: dict
    stacks: dict
    file: str

    def location(self, marks: tuple[str, ...]):
        """Location of the innermost mark, with a chain through the outer marks."""
        writer = self.recorder.writer
        frame_ids = []
        for mark in marks:
            func, first = _FUNCS[mark]
            key = (self.file, _LINES[mark], func, first)
            if key not in self.frames:
                self.frames[key] = len(self.frames)
                writer.put("frames", (self.frames[key], *key))
            frame_ids.append(self.frames[key])
        chain = tuple(frame_ids)
        if chain not in self.stacks:
            self.stacks[chain] = len(self.stacks)
            writer.put("stacks", (self.stacks[chain], json.dumps(list(chain))))
        mark = marks[-1]
        return (self.file, _LINES[mark], 8, 40, _FUNCS[mark][0], self.stacks[chain])

    def tensor(self, shape, poison: bool = False):
        import numpy as np

        array = self.rng.standard_normal(shape).astype(np.float32)
        if poison:
            array.reshape(-1)[:: max(1, array.size // 7)] = np.nan
        return array

    def op(self, op_type, marks, inputs, shape, poison=False, attrs=()):
        recorder = self.recorder
        keep = self.values and recorder.keeps_values(op_type)
        if keep or poison or self.values:
            array = self.tensor(shape, poison)
            summary = summarize_array(array, has_value=keep)
            payload = {0: array.tobytes()} if keep else None
        else:
            summary = TensorSummary(tuple(shape), "float32", min=-2.5, max=2.5, mean=0.0, std=1.0)
            payload = None
        refs = [
            (slot, name, source, 0, tuple(in_shape), "float32", "data")
            for slot, (name, source, in_shape) in enumerate(inputs)
        ]
        seq = recorder.add_op(
            op_type,
            "torch",
            refs,
            [summary],
            duration_ns=int(self.rng.integers(2_000, 90_000)),
            location=self.location(marks),
            values=payload,
            attrs=attrs,
        )
        return f"op:{seq}", tuple(shape)

    def param(self, name, shape):
        node = f"src:param:{name}"
        if not self.recorder.has_source(node):
            summary = summarize_array(self.tensor(shape))
            self.recorder.add_source(node, "param", name, shape, "float32", summary)
        return ("weight" if name.endswith("weight") else "bias", node, tuple(shape))


def write_synthetic_trace(
    path: str | os.PathLike[str],
    *,
    blocks: int = 2,
    seq_len: int = 8,
    width: int = 16,
    nan_block: int | None = None,
    values: bool = False,
    seed: int = 0,
) -> str:
    """Write a transformer-like trace of about ``12 + 20 * blocks`` ops; returns the path.

    ``nan_block``: index of the block whose attention softmax produces NaN (None: no NaN).
    The generated model source is embedded, so the source view shows real lines.
    """
    import numpy as np

    recorder = Recorder(path, values=values, frameworks=())
    with recorder:
        recorder.writer.put("sources", (SOURCE_FILE, _SOURCE))
        w = _Writer(
            recorder,
            np.random.default_rng(seed),
            values,
            nan_block,
            seq_len,
            width,
            {},
            {},
            SOURCE_FILE,
        )
        recorder.add_source(
            "src:input:0",
            "input",
            "tokens",
            (seq_len, width),
            "float32",
            summarize_array(w.tensor((seq_len, width))),
        )
        x = ("src:input:0", (seq_len, width))
        top = ("main",)
        x = _sub_linear(w, "embed", top, "embed", x)
        for index in range(blocks):
            x = _block(w, index, x)
        head_call = recorder.enter_module("head", "Linear", "torch")
        h = w.op(
            "torch.nn.functional.linear",
            (*top, "head"),
            [("input", *x), w.param("head.weight", (width, width)), w.param("head.bias", (width,))],
            (seq_len, width),
        )
        recorder.exit_module(head_call)
        w.op("Tensor.mean", (*top, "head"), [("self", *h)], ())
    return os.fspath(path)


def _block(w: _Writer, index: int, x):
    recorder = w.recorder
    prefix = f"layers.{index}"
    marks = ("main", "layer")
    block = recorder.enter_module(prefix, "Block", "torch")
    residual = x
    norm = recorder.enter_module(f"{prefix}.norm1", "LayerNorm", "torch")
    n = w.op(
        "torch.nn.functional.layer_norm",
        (*marks, "attn"),
        [("input", *x), w.param(f"{prefix}.norm1.weight", (w.width,))],
        x[1],
    )
    recorder.exit_module(norm)
    attn = recorder.enter_module(f"{prefix}.attn", "Attention", "torch")
    amarks = (*marks, "attn")
    q = _sub_linear(w, f"{prefix}.attn.q", amarks, "q", n)
    k = _sub_linear(w, f"{prefix}.attn.k", amarks, "k", n)
    v = _sub_linear(w, f"{prefix}.attn.v", amarks, "v", n)
    kt = w.op(
        "Tensor.transpose",
        (*amarks, "scores"),
        [("self", *k)],
        (w.width, w.seq_len),
        attrs=(("dim0", "-2"), ("dim1", "-1")),
    )
    scores = w.op(
        "Tensor.__matmul__",
        (*amarks, "scores"),
        [("self", *q), ("other", *kt)],
        (w.seq_len, w.seq_len),
    )
    scaled = w.op(
        "Tensor.__mul__",
        (*amarks, "softmax"),
        [("self", *scores)],
        (w.seq_len, w.seq_len),
        attrs=(("other", "0.25"),),
    )
    weights = w.op(
        "torch.softmax",
        (*amarks, "softmax"),
        [("input", *scaled)],
        (w.seq_len, w.seq_len),
        poison=index == w.nan_block,
        attrs=(("dim", "-1"),),
    )
    mixed = w.op(
        "Tensor.__matmul__",
        (*amarks, "mix"),
        [("self", *weights), ("other", *v)],
        (w.seq_len, w.width),
    )
    out = _sub_linear(w, f"{prefix}.attn.out", amarks, "out", mixed)
    recorder.exit_module(attn)
    x = w.op("Tensor.__add__", (*marks, "attn"), [("self", *residual), ("other", *out)], x[1])
    residual = x
    norm = recorder.enter_module(f"{prefix}.norm2", "LayerNorm", "torch")
    n = w.op(
        "torch.nn.functional.layer_norm",
        (*marks, "mlp"),
        [("input", *x), w.param(f"{prefix}.norm2.weight", (w.width,))],
        x[1],
    )
    recorder.exit_module(norm)
    mlp = recorder.enter_module(f"{prefix}.mlp", "MLP", "torch")
    mmarks = (*marks, "mlp")
    h = _sub_linear(w, f"{prefix}.mlp.fc1", mmarks, "fc1", n)
    h = w.op("torch.nn.functional.gelu", (*mmarks, "fc1"), [("input", *h)], h[1])
    h = _sub_linear(w, f"{prefix}.mlp.fc2", mmarks, "fc2", h)
    recorder.exit_module(mlp)
    x = w.op("Tensor.__add__", (*marks, "mlp"), [("self", *residual), ("other", *h)], x[1])
    recorder.exit_module(block)
    return x


def _sub_linear(w: _Writer, path: str, marks: tuple[str, ...], mark: str, x):
    call = w.recorder.enter_module(path, "Linear", "torch")
    out = w.op(
        "torch.nn.functional.linear",
        (*marks, mark),
        [
            ("input", *x),
            w.param(f"{path}.weight", (w.width, w.width)),
            w.param(f"{path}.bias", (w.width,)),
        ],
        (w.seq_len, w.width),
    )
    w.recorder.exit_module(call)
    return out
