"""Fixtures for the PyTorch backend tests (skipped when torch is not installed)."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def _deterministic_torch():
    """Each test starts from the same seed and leaves thread settings alone."""
    torch.manual_seed(0)
    yield
