"""Regenerate ``demo.opscope``, the demo trace shipped for machines without PyTorch.

Run from the repository root: ``python gui/resources/make_demo_trace.py``. The trace is the
synthetic transformer of ``tracing.synthetic`` (no framework needed) with a NaN that appears
in block 1's attention softmax, with values, so every panel has something to show.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent.parent))

from tracing.synthetic import write_synthetic_trace  # noqa: E402


def main() -> None:
    out = HERE / "demo.opscope"
    out.unlink(missing_ok=True)
    write_synthetic_trace(out, blocks=3, nan_block=1, values=True)
    print(f"wrote {out} ({out.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
