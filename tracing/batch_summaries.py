"""Summaries of many small tensors at once: a copy at op time, vectorised reductions later.

Summarising one small tensor costs microseconds of per-call overhead (one numpy or torch call per
statistic) whatever its size. A backend that records ops of a few hundred elements instead
copies each output's data when the op runs (well under a microsecond for a few hundred
elements) into a ``PendingSummary`` and hands it to the recorder. Every few hundred ops the
recorder computes all pending summaries together: the copies are concatenated into one float64
array and reduced per segment (``np.minimum.reduceat`` and friends), with a two-pass variance.
A segment whose minimum, maximum, mean or spread is not finite (a NaN, an Inf, an overflow) is
summarised on its own by ``tracing.summaries.summarize_array``, which counts NaN and Inf.

The statistics are those of ``summarize_array``: min, max, mean and std over the finite
elements, NaN and Inf counts; mean and std are computed in float64.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tracing.summaries import summarize_array

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "NO_STATS",
    "PendingSummary",
    "Stats",
    "is_pending",
    "pending_summary",
    "resolve_summaries",
]


PendingSummary = tuple
"""An output whose statistics are computed later: ``(data, shape, dtype, device)``, where
``data`` is a private copy of the tensor's elements taken when the op ran (a float numpy
array with at least one element). A plain tuple, so the garbage collector stops tracking the
ops that wait for their summaries (they would otherwise trigger full collections of the
program's objects)."""

Stats = tuple[float | None, float | None, float | None, float | None, int, int]
"""``(min, max, mean, std, nan_count, inf_count)``."""

NO_STATS: Stats = (None, None, None, None, 0, 0)
"""Statistics of a summary that could not be computed."""


def pending_summary(
    data: np.ndarray, shape: tuple[int, ...], dtype: str, device: str
) -> PendingSummary:
    """A ``PendingSummary`` (backends on a hot path may build the tuple directly)."""
    return (data, shape, dtype, device)


def is_pending(summary: object) -> bool:
    """True for a ``PendingSummary`` (as opposed to a ``TensorSummary``)."""
    return type(summary) is tuple


def resolve_summaries(pending: list[PendingSummary]) -> list[Stats]:
    """The statistics of every summary in ``pending``, in order, computed together."""
    if not pending:
        return []
    import numpy as np

    sizes = np.fromiter((p[0].size for p in pending), dtype=np.intp, count=len(pending))
    starts = np.zeros(len(pending), dtype=np.intp)
    np.cumsum(sizes[:-1], out=starts[1:])
    flat = np.concatenate([p[0] for p in pending], axis=None, dtype=np.float64)
    with np.errstate(all="ignore"):  # NaN/Inf/overflow segments are redone one by one below
        lows = np.minimum.reduceat(flat, starts)
        highs = np.maximum.reduceat(flat, starts)
        means = np.add.reduceat(flat, starts) / sizes
        centred = flat - np.repeat(means, sizes)
        centred *= centred
        stds = np.sqrt(np.add.reduceat(centred, starts) / sizes)
        finite = np.isfinite(lows) & np.isfinite(highs) & np.isfinite(means) & np.isfinite(stds)
    return [
        (lo, hi, mean, std, 0, 0) if ok else _stats_alone(p[0], p[2])
        for p, lo, hi, mean, std, ok in zip(
            pending, lows.tolist(), highs.tolist(), means.tolist(), stds.tolist(), finite.tolist()
        )
    ]


def _stats_alone(data: np.ndarray, dtype: str) -> Stats:
    """Statistics over the finite elements with NaN/Inf counts; a mean or std that overflowed
    float64 is unknown (None), as the per-tensor paths say."""
    import numpy as np

    with np.errstate(all="ignore"):
        summary = summarize_array(data, dtype)
    return (
        summary.min,
        summary.max,
        _finite_or_none(summary.mean),
        _finite_or_none(summary.std),
        summary.nan_count,
        summary.inf_count,
    )


def _finite_or_none(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
