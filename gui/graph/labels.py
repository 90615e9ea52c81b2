"""Short display names, op categories and shape text for graph nodes (pure, no Qt)."""

from __future__ import annotations

import re
from collections.abc import Sequence

CATEGORIES = (
    "layer",
    "activation",
    "normalization",
    "attention",
    "pooling",
    "shape",
    "math",
    "reduction",
    "data",
    "call",
    "other",
)
"""Op categories, each with its own node colour (see ``style.py``)."""

_CATEGORY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("attention", ("attention", "sdpa", "multi_head", "multihead")),
    (
        "normalization",
        ("norm", "dropout", "normalize", "batchnorm", "layernorm", "rms"),
    ),
    (
        "activation",
        (
            "relu",
            "gelu",
            "silu",
            "swish",
            "sigmoid",
            "tanh",
            "softmax",
            "softplus",
            "elu",
            "selu",
            "mish",
            "hardtanh",
            "leaky",
            "glu",
            "log_softmax",
            "logsoftmax",
        ),
    ),
    ("pooling", ("pool",)),
    (
        "layer",
        (
            "linear",
            "conv",
            "matmul",
            "bmm",
            "addmm",
            "einsum",
            "embedding",
            "dense",
            "mm",
            "baddbmm",
            "lstm",
            "gru",
            "rnn",
            "biasadd",
        ),
    ),
    (
        "shape",
        (
            "transpose",
            "reshape",
            "view",
            "permute",
            "cat",
            "concat",
            "split",
            "chunk",
            "stack",
            "squeeze",
            "unsqueeze",
            "expand",
            "flatten",
            "contiguous",
            "getitem",
            "setitem",
            "slice",
            "gather",
            "scatter",
            "index",
            "pad",
            "repeat",
            "tile",
            "narrow",
            "select",
            "identity",
            "cast",
            "to",
            "clone",
            "copy",
            "detach",
            "strided",
        ),
    ),
    (
        "reduction",
        ("mean", "sum", "max", "min", "prod", "argmax", "argmin", "std", "var", "norm_", "all"),
    ),
    ("data", ("placeholder", "const", "input", "variable", "param", "buffer", "arange", "zeros")),
)

_DUNDER = re.compile(r"^__(r|i)?(\w+?)__$")
_WORD_SPLIT = re.compile(r"[^a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def short_op_name(op_type: str) -> str:
    """The last, human part of an op type: ``torch.nn.functional.linear`` → ``linear``,
    ``Tensor.__matmul__`` → ``matmul``, ``Tensor.__radd__`` → ``add``, ``MatMul`` → ``MatMul``."""
    name = op_type.rsplit(".", 1)[-1] if op_type else "?"
    match = _DUNDER.match(name)
    if match:
        name = match.group(2)
    return name or op_type or "?"


def op_category(op_type: str, kind: str = "op") -> str:
    """The colour category of an op type (one of ``CATEGORIES``)."""
    if kind == "call":
        return "call"
    name = short_op_name(op_type)
    words = [w for w in _WORD_SPLIT.split(_CAMEL.sub("_", name).lower()) if w]
    joined = "_".join(words)
    squashed = "".join(words)
    for category, keys in _CATEGORY_WORDS:
        for key in keys:
            if key in words or (len(key) > 3 and (key in joined or key in squashed)):
                return category
    if words and words[0] in {
        "add",
        "sub",
        "mul",
        "div",
        "truediv",
        "floordiv",
        "pow",
        "exp",
        "log",
        "sqrt",
        "rsqrt",
        "neg",
        "abs",
        "where",
        "clamp",
        "maximum",
        "minimum",
        "addv2",
        "realdiv",
        "square",
    }:
        return "math"
    return "other"


def format_shape(shape: Sequence[int] | None) -> str:
    """``(8, 16)`` → ``8×16``; a scalar → ``scalar``; unknown → ``""``."""
    if shape is None:
        return ""
    if len(shape) == 0:
        return "scalar"
    return "×".join("?" if d < 0 else str(d) for d in shape)


def format_tensor(shape: Sequence[int] | None, dtype: str) -> str:
    """``8×16 float32`` (either part may be missing)."""
    return " ".join(part for part in (format_shape(shape), dtype) if part)


_PARAM_ABBREVIATIONS = {"weight": "W", "bias": "B"}


def param_label(name: str, shape: Sequence[int]) -> str:
    """An inline parameter annotation: ``W ⟨16×16⟩`` for ``layers.0.q.weight``."""
    leaf = name.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    leaf = leaf.split(":", 1)[0] or name
    return f"{_PARAM_ABBREVIATIONS.get(leaf, leaf)} ⟨{format_shape(shape)}⟩"


def relative_name(path: str, parent_path: str) -> str:
    """``encoder.layers.0`` under ``encoder`` → ``layers.0``; Keras ``model/dense`` → ``dense``."""
    if parent_path:
        for sep in (".", "/"):
            prefix = parent_path + sep
            if path.startswith(prefix):
                return path[len(prefix) :]
    return path or "(top)"


_INDEXED = re.compile(r"^(.*?)(\d+)$")


def split_index(name: str) -> tuple[str, int] | None:
    """``layers.12`` → ``("layers.", 12)``; ``dense_3`` → ``("dense_", 3)``; no number → None."""
    match = _INDEXED.match(name)
    if not match:
        return None
    return match.group(1), int(match.group(2))


def elide(text: str, limit: int) -> str:
    """Cut ``text`` to ``limit`` characters with an ellipsis in the middle."""
    if len(text) <= limit:
        return text
    keep = max(1, limit - 1)
    head = keep - keep // 2
    return text[:head] + "…" + text[len(text) - keep // 2 :]
