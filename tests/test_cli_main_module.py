"""``opscope record script.py`` runs the script as a real ``__main__`` module, like ``python``.

Pickle and ``torch.save`` look a script's classes up in ``sys.modules["__main__"]``, and
``inspect.getsource`` finds a class's file through that module's ``__file__``; with the script
run in a bare dict all three failed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import tracing

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent(
    """
    import inspect
    import io
    import pickle
    import sys

    import torch

    import __main__


    class Cfg:
        def __init__(self):
            self.lr = 0.5


    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = torch.nn.Parameter(torch.ones(2))

        def forward(self, x):
            return torch.relu(x * self.scale)


    assert __name__ == "__main__"
    assert sys.modules["__main__"] is __main__
    print("file", __main__.__file__)
    print("pickled", pickle.loads(pickle.dumps(Cfg())).lr)
    print("source", inspect.getsource(Cfg).splitlines()[0])
    buffer = io.BytesIO()
    torch.save(Tiny(), buffer)
    buffer.seek(0)
    print("saved", type(torch.load(buffer, weights_only=False)).__name__)
    print("sum", Tiny()(torch.ones(2)).sum().item())
    sys.exit(3)
    """
)


def test_the_script_is_a_real_main_module(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    result = subprocess.run(
        [sys.executable, "-m", "tracing.cli", "record", str(script), "-o", "run.opscope"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 3, result.stderr
    assert result.stdout.splitlines() == [
        f"file {script}",
        "pickled 0.5",
        "source class Cfg:",
        "saved Tiny",
        "sum 2.0",
    ], result.stderr
    with tracing.load(tmp_path / "run.opscope") as trace:
        assert trace.meta.complete and len(trace.ops) > 0
        assert any(op.file == str(script) for op in trace.ops)
