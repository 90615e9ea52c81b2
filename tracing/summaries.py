"""Tensor summaries computed with numpy (shape, dtype, min/max/mean/std over finite values,
NaN and Inf counts). Framework backends may compute the same fields faster on their own
tensors; this is the reference and the fallback.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from tracing.model import TensorSummary

if TYPE_CHECKING:
    import numpy as np


def summarize_array(
    array: np.ndarray, dtype: str | None = None, device: str = "cpu", *, has_value: bool = False
) -> TensorSummary:
    """Summary of a numpy array; ``dtype`` overrides the name (for bfloat16 shown as float32)."""
    import numpy as np

    shape = tuple(int(d) for d in array.shape)
    name = dtype or array.dtype.name
    kind = array.dtype.kind
    if array.size == 0 or kind not in "biufc":
        return TensorSummary(shape, name, device, has_value=has_value)
    values = np.abs(array) if kind == "c" else array
    if kind == "b":
        values = values.view(np.uint8)
    nan_count = inf_count = 0
    if kind in "fc":
        lo, hi = values.min(), values.max()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            finite = np.isfinite(values)
            nan_count = int(np.isnan(values).sum())
            inf_count = int(values.size - int(finite.sum()) - nan_count)
            values = values[finite]
            if values.size == 0:
                return TensorSummary(
                    shape,
                    name,
                    device,
                    nan_count=nan_count,
                    inf_count=inf_count,
                    has_value=has_value,
                )
            lo, hi = values.min(), values.max()
        mean = float(values.mean(dtype=np.float64))
        std = float(values.std(dtype=np.float64))
    else:
        lo, hi = values.min(), values.max()
        mean = float(values.mean(dtype=np.float64))
        std = float(values.std(dtype=np.float64))
    return TensorSummary(
        shape,
        name,
        device,
        min=float(lo),
        max=float(hi),
        mean=mean,
        std=std,
        nan_count=nan_count,
        inf_count=inf_count,
        has_value=has_value,
    )
