"""How the viewer writes numbers, shapes, op names and locations (pure, no Qt)."""

from __future__ import annotations

import html
import math
from functools import lru_cache
from pathlib import PurePath

from tracing.model import ModuleCall, Op, TensorSummary

_OP_PREFIXES = (
    ("torch.nn.functional.", "F."),
    ("torch.Tensor.", "Tensor."),
)


def plain_tooltip(text: str) -> str:
    """``text`` for a tooltip (or any rich-text-capable label), shown exactly as written.

    Qt renders a tooltip as HTML when its first line looks like HTML, so a file name from a
    trace such as ``<img src="/x.png">.py`` would load an image. This escapes ``text`` in a
    ``white-space:pre`` paragraph: the same lines and size as plain text (``""`` stays empty,
    which clears a tooltip).
    """
    if not text:
        return ""
    return f"<p style='white-space:pre'>{html.escape(text, quote=False)}</p>"


def short_op_name(op_type: str) -> str:
    """``torch.nn.functional.linear`` -> ``F.linear``; other names unchanged."""
    for prefix, short in _OP_PREFIXES:
        if op_type.startswith(prefix):
            return short + op_type[len(prefix) :]
    return op_type


def format_shape(shape: tuple[int, ...]) -> str:
    """``(8, 16)`` -> ``8×16``; a scalar -> ``scalar``."""
    return "×".join(map(str, shape)) if shape else "scalar"


def format_tensor(summary: TensorSummary) -> str:
    """``8×16 float32`` (with the device when it is not the CPU)."""
    text = f"{format_shape(summary.shape)} {summary.dtype}"
    if summary.device and summary.device != "cpu":
        text += f" @{summary.device}"
    return text


def format_number(value: float | int | None, digits: int = 5) -> str:
    """A compact number: ``—`` for None, ``nan``/``inf`` spelled out, ``%g`` otherwise."""
    if value is None:
        return "—"
    if isinstance(value, int):
        return f"{value:,}"
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


def format_count(value: int) -> str:
    """``1234567`` -> ``1,234,567``."""
    return f"{value:,}"


def format_duration(ns: int) -> str:
    """Op wall time: ``850 ns``, ``12.3 µs``, ``4.56 ms``, ``1.20 s``."""
    if ns <= 0:
        return ""
    if ns < 1_000:
        return f"{ns} ns"
    if ns < 1_000_000:
        return f"{ns / 1_000:.1f} µs"
    if ns < 1_000_000_000:
        return f"{ns / 1_000_000:.2f} ms"
    return f"{ns / 1_000_000_000:.2f} s"


@lru_cache(maxsize=4096)
def file_name(file: str) -> str:
    """The last component of a path (``""`` stays ``""``)."""
    return PurePath(file).name if file else ""


def format_location(op: Op) -> str:
    """``model.py:42`` or ``<unknown>``."""
    return f"{file_name(op.file)}:{op.line}" if op.file else "<unknown>"


def format_call(call: ModuleCall) -> str:
    """``layers.0.attn (Attention)``, with ``#2`` for a repeated call."""
    text = f"{call.path or '<root>'} ({call.type_name})"
    return f"{text} #{call.call_index}" if call.call_index > 1 else text


def nonfinite_text(summary: TensorSummary) -> str:
    """``3 NaN, 1 Inf``, or ``""`` when the tensor is finite."""
    parts = []
    if summary.nan_count:
        parts.append(f"{summary.nan_count:,} NaN")
    if summary.inf_count:
        parts.append(f"{summary.inf_count:,} Inf")
    return ", ".join(parts) if summary.initialized else ""
