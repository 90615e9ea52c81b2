"""Run a recording script in a child process and SIGKILL it: the crash tests' shared part."""

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
