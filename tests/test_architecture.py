"""The import rules of ARCHITECTURE.md, checked on the real packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("torch", "tensorflow", "keras")


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def _modules_after(statement: str) -> set[str]:
    probe = f"{statement}\nimport sys\nprint(' '.join(sorted(sys.modules)))"
    result = _run(probe)
    assert result.returncode == 0, result.stderr
    return set(result.stdout.split())


def test_import_tracing_pulls_in_no_framework_and_no_qt():
    loaded = _modules_after("import tracing, tracing.trace, tracing.cli, tracing.info")
    assert not loaded & {*FRAMEWORKS, "PySide6", "pyqtgraph"}


def test_loading_a_trace_pulls_in_no_framework(data_dir):
    loaded = _modules_after(
        f"import tracing\nt = tracing.load({str(data_dir / 'tiny_v1.opscope')!r})\n"
        "t.graph; t.value(0, 0); t.first_nonfinite()"
    )
    assert not loaded & set(FRAMEWORKS)


def test_viewer_main_window_pulls_in_no_framework():
    if not (ROOT / "gui" / "main_window.py").exists():
        pytest.fail("gui/main_window.py is missing")
    loaded = _modules_after("import gui.main_window, gui.cli")
    assert not loaded & set(FRAMEWORKS)


def test_import_linter_contracts_hold():
    result = _run(
        "import sys\nfrom importlinter.cli import lint_imports_command\n"
        "sys.exit(lint_imports_command())"
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "broken" not in result.stdout.lower().replace("0 broken", "")
