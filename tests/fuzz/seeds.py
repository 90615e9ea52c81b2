"""Valid trace files that the fuzzers start from.

Each seed exercises a different part of the reader: a values-free transformer with a NaN, a
trace with stored values of every storable dtype, a trace with function graphs, open module
calls, in-place writes and errors, and a recording that was cut off (a WAL file left beside it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tracing.model import TensorSummary
from tracing.recorder import Recorder
from tracing.summaries import summarize_array
from tracing.synthetic import write_synthetic_trace

SEED_NAMES = ("plain", "values", "rich", "wal")


def write_seed(name: str, path: str | os.PathLike[str]) -> Path:
    """Write seed ``name`` (one of ``SEED_NAMES``) to ``path``; returns the path."""
    path = Path(path)
    if name == "plain":
        write_synthetic_trace(path, blocks=2, nan_block=1, values=False)
    elif name == "values":
        write_synthetic_trace(path, blocks=1, seq_len=4, width=8, values=True)
    elif name == "rich":
        _write_rich(path, finish=True)
    elif name == "wal":
        _write_rich(path, finish=False)
    else:
        raise ValueError(f"unknown seed {name!r}; choose from {SEED_NAMES}")
    return path


def write_seeds(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Write every seed into ``folder``; returns ``{name: path}``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return {name: write_seed(name, folder / f"seed-{name}.opscope") for name in SEED_NAMES}


def companions(path: str | os.PathLike[str]) -> list[Path]:
    """The WAL and shared-memory files that belong beside ``path`` (those that exist)."""
    return [Path(f"{path}{s}") for s in ("-wal", "-shm") if Path(f"{path}{s}").exists()]


def _values():
    import numpy as np

    rng = np.random.default_rng(7)
    floats = rng.standard_normal((3, 4)).astype(np.float32)
    return {
        "float32": floats,
        "float64": rng.standard_normal(5),
        "float16": floats.astype(np.float16),
        "int64": np.arange(6, dtype=np.int64).reshape(2, 3),
        "uint8": np.arange(4, dtype=np.uint8),
        "bool": np.array([True, False, True]),
        "complex64": (floats[0] + 1j * floats[1]).astype(np.complex64),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }


def _write_rich(path: Path, *, finish: bool) -> None:
    """A trace that uses every table: functions, graph nodes, open calls, bfloat16 and float8."""
    import numpy as np

    recorder = Recorder(path, values=True, frameworks=())
    recorder.__enter__()
    try:
        recorder.add_source("src:param:w", "param", "w", (3, 4), "float32")
        recorder.add_source(
            "src:input:0", "input", "x", (3, 4), "float32", TensorSummary((3, 4), "float32")
        )
        recorder.add_source("src:const:0", "const", "2.0", (), "float64")
        outer = recorder.enter_module("net", "Net", "torch")
        previous = "src:input:0"
        for name, array in _values().items():
            inner = recorder.enter_module(f"net.{name}", "Layer", "torch")
            seq = recorder.add_op(
                f"torch.op_{name}",
                "torch",
                [
                    (0, "input", previous, 0, (3, 4), "float32", "data"),
                    (1, "w", "src:param:w", 0, (3, 4), "float32", "data"),
                ],
                [summarize_array(array, has_value=True)],
                values={0: array.tobytes()},
                attrs=(("alpha", "1.5"), ("naïve", "ünïcode ✓")),
            )
            recorder.exit_module(inner)
            previous = f"op:{seq}"
        bf16 = (np.arange(6, dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
        recorder.add_op(
            "torch.to_bfloat16",
            "torch",
            [(0, "input", previous, 0, (6,), "float32", "data")],
            [TensorSummary((6,), "bfloat16", min=0.0, max=5.0, has_value=True)],
            values={0: bf16.tobytes()},
        )
        recorder.add_op(
            "torch.to_float8",
            "torch",
            [],
            [
                TensorSummary((4,), "float8_e4m3fn", has_value=True),
                TensorSummary((2,), "float8_e5m2", has_value=True),
            ],
            values={0: bytes([0, 0x38, 0x7F, 0xFF]), 1: bytes([0x7C, 0x3C])},
        )
        seq = recorder.add_op(
            "Tensor.add_",
            "torch",
            [
                (0, "self", previous, 0, (3, 4), "float32", "data"),
                (1, "other", "src:const:0", 0, (), "float64", "data"),
            ],
            [TensorSummary((3, 4), "float32", nan_count=2, inf_count=1, min=-1.0, max=1.0)],
            mutates=(0,),
            error="RuntimeError: something went wrong ✗",
        )
        recorder.add_op(
            "torch.empty",
            "torch",
            [(0, "self", f"op:{seq}", 0, (3, 4), "float32", "write")],
            [TensorSummary((3, 4), "float32", nan_count=5, initialized=False)],
        )
        recorder.add_function("fn:0", "step", "", "model.py", 10)
        recorder.add_function("fn:0/while", "while_body", "fn:0", "model.py", 12)
        recorder.add_graph_node(
            "fn:0/MatMul",
            "fn:0",
            "MatMul",
            "MatMul",
            module_path="net",
            file="model.py",
            line=11,
            func="step",
            outputs=[TensorSummary((3, 3), "float32", min=0.0, max=1.0)],
            attrs=(("transpose_a", "false"),),
        )
        recorder.add_graph_node(
            "fn:0/while/Add", "fn:0/while", "AddV2", "Add", file="model.py", line=13
        )
        recorder.add_graph_edge("src:input:0", "fn:0/MatMul", 0, 0, (3, 4), "float32")
        recorder.add_graph_edge("fn:0/MatMul", "fn:0/while/Add", 0, 0, (3, 3), "float32")
        recorder.add_op(
            "step",
            "tensorflow",
            [(0, "x", "src:input:0", 0, (3, 4), "float32", "data")],
            [TensorSummary((3, 3), "float32")],
            kind="call",
            graph_id="fn:0",
        )
        recorder.enter_module("net.open", "Unfinished", "torch")  # never exited in the wal seed
        recorder.add_op(
            "torch.relu",
            "torch",
            [(0, "input", "op:0", 0, (3, 4), "float32", "data")],
            [TensorSummary((3, 4), "float32", min=0.0, max=2.0)],
        )
        if not finish:
            recorder.writer.flush()
            _snapshot_live(path)
            recorder.exit_module(outer)
    finally:
        recorder.__exit__(None, None, None)
    if not finish:
        snapshot = Path(f"{path}.live")
        for suffix in ("", "-wal", "-shm"):
            target = Path(f"{path}{suffix}")
            target.unlink(missing_ok=True)
            source = Path(f"{snapshot}{suffix}")
            if source.exists():
                source.rename(target)


def _snapshot_live(path: Path) -> None:
    """Copy a trace that is still being written, with its WAL, as a killed recorder leaves it."""
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            shutil.copyfile(source, f"{path}.live{suffix}")
