"""The trace behind ``opscope demo``: recorded fresh with PyTorch, or the one shipped with OpScope.

No Qt and no torch here: the PyTorch demo runs in a subprocess
(``python -m tracing.torch_backend.demo OUT``), so the viewer's process never imports torch.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import tracing
from tracing.errors import TraceFileError

DEMO_MODULE = "tracing.torch_backend.demo"
SHIPPED_DEMO = Path(__file__).resolve().parent / "resources" / "demo.opscope"
RECORD_TIMEOUT_S = 300

Runner = Callable[..., subprocess.CompletedProcess]


def cache_dir() -> Path:
    """Where recorded demo traces go (``$XDG_CACHE_HOME/opscope`` or ``~/.cache/opscope``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = Path(base) / "opscope"
    try:
        path.mkdir(parents=True, exist_ok=True)
        return path
    except OSError:
        fallback = (
            Path(tempfile.gettempdir())
            / f"opscope-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
        )
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


def torch_available() -> bool:
    """True when PyTorch is installed (found without importing it)."""
    return importlib.util.find_spec("torch") is not None


def record_torch_demo(out: Path, runner: Runner = subprocess.run) -> str | None:
    """Record the PyTorch demo into ``out`` in a subprocess; None on success, else why not."""
    if not torch_available():
        return "PyTorch is not installed"
    package_root = str(Path(tracing.__file__).resolve().parent.parent)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    partial = out.with_name(out.name + ".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    try:
        result = runner(
            [sys.executable, "-m", DEMO_MODULE, str(partial)],
            capture_output=True,
            text=True,
            timeout=RECORD_TIMEOUT_S,
            env=env,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        return f"the PyTorch demo could not run ({exc})"
    if result.returncode != 0:
        lines = (result.stderr or result.stdout or "").strip().splitlines()
        return f"the PyTorch demo failed ({lines[-1] if lines else f'exit {result.returncode}'})"
    try:
        tracing.load(partial).close()
    except TraceFileError as exc:
        return f"the PyTorch demo wrote an unreadable trace ({exc.problem})"
    os.replace(partial, out)
    return None


def demo_trace(record: bool = True, runner: Runner = subprocess.run) -> tuple[Path, str]:
    """The demo trace to open and a note on where it came from.

    With ``record`` and PyTorch installed, the demo model is recorded now; otherwise (or when
    that fails) the trace shipped with OpScope is used.
    """
    if record:
        out = cache_dir() / "demo-torch.opscope"
        problem = record_torch_demo(out, runner)
        if problem is None:
            return out, f"recorded the PyTorch demo into {out}"
        return SHIPPED_DEMO, f"{problem}; opening the demo trace shipped with OpScope"
    return SHIPPED_DEMO, "opening the demo trace shipped with OpScope"
