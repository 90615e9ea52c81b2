"""A full disk while recording never changes the program's results; it warns and keeps what
was committed."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracing

ROOT = Path(__file__).resolve().parents[2]

FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys, warnings
    sys.path.insert(0, {root!r})
    import numpy as np
    from tracing.model import TensorSummary
    from tracing.recorder import Recorder
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (4 << 20, 4 << 20))  # the "disk" holds 4 MiB
    block = np.ones((256, 256), np.float32)
    total = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Recorder({path!r}, values=True, frameworks=()) as rec:
            for i in range(100):  # 25 MiB of values
                total += float(block.sum()) * i   # the program's own result
                rec.add_op("torch.mul", "torch", [],
                           [TensorSummary((256, 256), "float32", has_value=True)],
                           values={{0: block.tobytes()}})
    print("result", total)
    print("warnings", [str(w.message) for w in caught])
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_full_disk_warns_and_leaves_results_unchanged(tmp_path):
    path = tmp_path / "full.opscope"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK.format(root=str(ROOT), path=str(path))],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    expected = sum(float(256 * 256) * i for i in range(100))
    assert f"result {expected}" in result.stdout
    assert "lacks some values: writing them failed" in result.stdout
    trace = tracing.load(path)  # values were dropped, but every op and summary was kept
    assert len(trace.ops) == 100
    assert not trace.ops[-1].outputs[0].has_value
