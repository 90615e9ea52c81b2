"""Fixtures for the PyTorch backend tests (each test module skips itself without torch)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _seeded():
    """Each test starts from the same global seed."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    yield
