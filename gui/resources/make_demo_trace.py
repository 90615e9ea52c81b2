"""Regenerate ``demo.opscope``, the demo trace shipped for machines without PyTorch.

Run from the repository root, with PyTorch installed: ``python gui/resources/make_demo_trace.py``.
It records the same program ``opscope demo`` records when PyTorch is there
(``python -m tracing.torch_backend.demo``: a small sentiment classifier whose hand-written norm
divides 0 by 0 in the second training step), with values and its source embedded, run in a
scratch folder (the trace records its working folder). The file must stay under
``MAX_BYTES``: it ships with the package.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from gui.demo import record_torch_demo  # noqa: E402

MAX_BYTES = 1 << 20


def main() -> int:
    out = HERE / "demo.opscope"
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch) / "demo.opscope"

        def run_in_scratch(argv: list[str], **options: object) -> subprocess.CompletedProcess:
            return subprocess.run(argv, cwd=scratch, **options)  # type: ignore[arg-type]

        problem = record_torch_demo(fresh, run_in_scratch)
        if problem is not None:
            print(f"make_demo_trace: {problem}", file=sys.stderr)
            return 1
        size = fresh.stat().st_size
        if size > MAX_BYTES:
            print(
                f"make_demo_trace: the trace is {size:,} bytes, over {MAX_BYTES:,}", file=sys.stderr
            )
            return 1
        fresh.replace(out)
    print(f"wrote {out} ({size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
