"""What the tensor inspector shows, computed with numpy (no Qt): refs, slices, histograms."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tracing.model import Op, SourceNode, TensorSummary
from tracing.trace import Trace

HISTOGRAM_BINS = 64

NAN_RGBA = (229, 20, 0, 255)
POSINF_RGBA = (214, 0, 214, 255)
NEGINF_RGBA = (0, 170, 255, 255)

QT_INT_MAX = 2**31 - 1
"""The largest value of a C ``int``: what Qt's row counts, ranges and sizes can hold."""


def qt_int(value: int) -> int:
    """``value`` clamped to a C ``int`` (a trace may claim any size; Qt overflows or crashes)."""
    return max(-QT_INT_MAX - 1, min(int(value), QT_INT_MAX))


@dataclass(frozen=True)
class TensorRef:
    """One tensor of the current op: an output, or an input and where it came from."""

    label: str
    summary: TensorSummary | None
    seq: int = -1
    """The producing op (-1 for a parameter, an input of the program, a constant)."""
    out_index: int = 0
    note: str = ""
    """Why values cannot be shown, when ``seq`` is -1."""

    @property
    def has_value(self) -> bool:
        """True when the trace stores this tensor's values."""
        return self.seq >= 0 and self.summary is not None and self.summary.has_value

    def load(self, trace: Trace) -> np.ndarray:
        """The stored values (raises ``LookupError`` when not recorded)."""
        return np.asarray(trace.value(self.seq, self.out_index))


def tensor_refs(trace: Trace, op: Op, sources: dict[str, SourceNode]) -> list[TensorRef]:
    """Outputs of ``op`` first, then its inputs with their producers."""
    refs = [
        TensorRef(f"out {index}" if len(op.outputs) > 1 else "output", summary, op.seq, index)
        for index, summary in enumerate(op.outputs)
    ]
    for ref in op.inputs:
        name = ref.name or f"input {ref.slot}"
        if ref.source.startswith("op:"):
            producer = int(ref.source[3:])
            if 0 <= producer < len(trace.ops) and ref.out_index < len(trace.ops[producer].outputs):
                summary = trace.ops[producer].outputs[ref.out_index]
                label = f"{name} ← op {producer}"
                refs.append(TensorRef(label, summary, producer, ref.out_index))
                continue
        node = sources.get(ref.source)
        kind = node.kind if node else "tensor"
        label = f"{name} ← {kind} {node.name if node else ref.source}"
        summary = node.summary if node and node.summary else None
        if summary is None:
            summary = TensorSummary(ref.shape, ref.dtype)
        refs.append(TensorRef(label, summary, -1, 0, f"values of a {kind} are not recorded"))
    return refs


def as_2d(array: np.ndarray, leading: tuple[int, ...] = ()) -> np.ndarray:
    """The 2-D slice of ``array`` at ``leading`` indices of the dims before the last two.

    1-D arrays become one row, scalars a 1×1 table. Complex values show their magnitude;
    booleans show as 0/1.
    """
    data = np.asarray(array)
    if np.iscomplexobj(data):
        data = np.abs(data)
    if data.dtype == np.bool_:
        data = data.astype(np.uint8)
    if data.ndim == 0:
        return data.reshape(1, 1)
    if data.ndim == 1:
        return data.reshape(1, -1)
    if 0 in data.shape[:-2]:  # no slice to show: keep the slice's columns, no rows
        return np.zeros((0, data.shape[-1]), dtype=data.dtype)
    index = tuple(min(max(i, 0), n - 1) for i, n in zip(leading, data.shape[:-2]))
    index += (0,) * (data.ndim - 2 - len(index))
    return data[index]


def bounded_2d(
    data: np.ndarray, max_rows: int, max_columns: int, max_cells: int | None = None
) -> tuple[np.ndarray, str]:
    """The top-left corner of a 2-D ``data`` that a view can show, and a note saying what
    was left out (``""`` when nothing was).

    At most ``max_rows`` rows and ``max_columns`` columns (and, with ``max_cells``, fewer rows
    so that rows × columns stays within it). An empty ``data`` gives ``Empty (0 × n): no values``.
    Taking the corner is a numpy view: no values are copied.
    """
    rows, columns = (int(n) for n in data.shape)
    if rows == 0 or columns == 0:
        return data[:0, :0], f"Empty ({rows:,} × {columns:,}): no values"
    shown_columns = min(columns, max_columns)
    row_limit = max_rows
    if max_cells is not None:
        row_limit = min(row_limit, max(1, max_cells // shown_columns))
    shown_rows = min(rows, row_limit)
    parts = []
    if shown_rows < rows:
        parts.append(f"the first {shown_rows:,} of {rows:,} rows")
    if shown_columns < columns:
        parts.append(f"the first {shown_columns:,} of {columns:,} columns")
    note = f"Showing {' and '.join(parts)}" if parts else ""
    return data[:shown_rows, :shown_columns], note


HISTOGRAM_CHUNK = 1 << 22
"""Values converted to float64 at a time (32 MB), so a big tensor never doubles in memory."""


def histogram(array: np.ndarray, bins: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` over the finite values (empty arrays when there are none).

    ``bins`` defaults to about twice the square root of the count, between 8 and 64. Big
    arrays are counted a chunk at a time (the same counts as one ``np.histogram``).
    """
    data = np.asarray(array)
    if np.iscomplexobj(data):
        data = np.abs(data)
    if not np.issubdtype(data.dtype, np.number) and data.dtype != np.bool_:
        return np.zeros(0), np.zeros(0)
    flat = data.reshape(-1)
    whole = flat.dtype.kind in "biu"  # integers and booleans: every value is finite

    def chunks():
        for start in range(0, flat.size, HISTOGRAM_CHUNK):
            part = flat[start : start + HISTOGRAM_CHUNK].astype(np.float64, copy=False)
            yield part if whole else part[np.isfinite(part)]

    kept = list(chunks()) if flat.size <= HISTOGRAM_CHUNK else None  # one chunk: convert once
    low, high, count = np.inf, -np.inf, 0
    for part in kept if kept is not None else chunks():
        if part.size:
            low, high = min(low, float(part.min())), max(high, float(part.max()))
            count += part.size
    if count == 0:
        return np.zeros(0), np.zeros(0)
    if low == high:
        low, high = low - 0.5, high + 0.5
    if bins is None:
        bins = int(min(HISTOGRAM_BINS, max(8, 2 * np.sqrt(count))))
    counts, edges = np.histogram(np.zeros(0), bins=bins, range=(low, high))
    for part in kept if kept is not None else chunks():
        counts += np.histogram(part, bins=edges)[0]
    return counts, edges


def finite_levels(data: np.ndarray) -> tuple[float, float]:
    """Colour range of the finite values (``(0, 1)`` when there are none)."""
    values = np.asarray(data, dtype=np.float64)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    return (low, high) if low < high else (low - 0.5, high + 0.5)


def displayable(data: np.ndarray) -> np.ndarray:
    """``data`` as float64 with non-finite cells set to the finite minimum (for colouring)."""
    values = np.array(data, dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        values[bad] = finite_levels(values)[0]
    return values


def nonfinite_overlay(data: np.ndarray) -> np.ndarray | None:
    """An RGBA image marking NaN, +Inf and -Inf cells (None when every cell is finite)."""
    values = np.asarray(data, dtype=np.float64)
    nan = np.isnan(values)
    posinf = np.isposinf(values)
    neginf = np.isneginf(values)
    if not (nan.any() or posinf.any() or neginf.any()):
        return None
    rgba = np.zeros((*values.shape, 4), dtype=np.uint8)
    rgba[nan] = NAN_RGBA
    rgba[posinf] = POSINF_RGBA
    rgba[neginf] = NEGINF_RGBA
    return rgba
