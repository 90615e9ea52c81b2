"""Shared assertion: a fast or batched TF summary says what ``summarize_array`` says."""

from __future__ import annotations

import pytest

from tracing.model import TensorSummary


def assert_same_statistics(fast: TensorSummary, reference: TensorSummary) -> None:
    """Same min/max and NaN/Inf counts; mean and std equal up to float64 rounding."""
    assert (fast.min, fast.max) == (reference.min, reference.max)
    assert (fast.nan_count, fast.inf_count) == (reference.nan_count, reference.inf_count)
    if reference.mean is None:
        assert fast.mean is None and fast.std is None
    else:
        assert fast.mean == pytest.approx(reference.mean, rel=1e-12, abs=1e-12)
        assert fast.std == pytest.approx(reference.std, rel=1e-9, abs=1e-12)
