"""Python code run in a fresh interpreter: checks that need a clean process, and crash tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def killed_when_done(script: str) -> Iterator[subprocess.Popen]:
    """Start ``script`` (Python source that prints ``ready`` once it has recorded enough), wait
    for that line, hand the running process to the ``with`` body, then SIGKILL it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == b"ready"
        yield proc
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


def assert_prints_ok(
    code: str, *, cwd: Path = ROOT, timeout: float = 300, env: dict[str, str] | None = None
) -> None:
    """Run ``code`` in a fresh interpreter (``PYTHONPATH`` = the repo, plus ``env``) and require
    that it exits 0 having printed exactly ``ok``."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-3000:]
