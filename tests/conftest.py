"""Shared test setup: headless Qt, and small traces built without any framework."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture
def data_dir() -> Path:
    """Committed fixture files."""
    return DATA


@pytest.fixture
def synthetic_trace(tmp_path: Path):
    """Factory: ``synthetic_trace(blocks=2, nan_at=None, values=False)`` → path of a new trace."""
    from tracing.synthetic import write_synthetic_trace

    def make(name: str = "synthetic.opscope", **kwargs) -> Path:
        path = tmp_path / name
        write_synthetic_trace(path, **kwargs)
        return path

    return make
