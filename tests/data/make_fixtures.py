"""Regenerate the committed fixture traces: `python tests/data/make_fixtures.py`.

Only run this when the trace format version changes, and then ADD a file for the new version;
never replace an older version's fixture (it proves old traces keep loading).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tracing.schema import FORMAT_VERSION  # noqa: E402
from tracing.synthetic import write_synthetic_trace  # noqa: E402

if __name__ == "__main__":
    out = Path(__file__).with_name(f"tiny_v{FORMAT_VERSION}.opscope")
    write_synthetic_trace(out, blocks=1, nan_block=0, values=True, seed=7)
    print(out, out.stat().st_size, "bytes")
