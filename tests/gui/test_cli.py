"""The ``opscope`` command: light imports, clear errors, screenshots, the demo's fallback."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import tracing
from gui import cli, demo

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120
    )


def run_opscope(*args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "gui", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=timeout,
    )


def test_the_viewer_imports_neither_torch_nor_tensorflow():
    result = run_python(
        "import sys, gui.main_window, gui.app, gui.cli\n"
        "bad = sorted(m for m in ('torch', 'tensorflow', 'keras', 'jax') if m in sys.modules)\n"
        "assert not bad, bad\n"
        "assert not any(m.startswith('tracing.torch_backend') or m.startswith('tracing.tf_backend')"
        " for m in sys.modules)\n"
    )
    assert result.returncode == 0, result.stderr


def test_importing_the_cli_imports_no_qt():
    result = run_python(
        "import sys, gui.cli\n"
        "qt = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'superqt')]\n"
        "assert not qt, qt\n"
    )
    assert result.returncode == 0, result.stderr


def test_view_of_a_missing_file_is_one_clear_line(tmp_path, capsys):
    assert cli.main(["view", str(tmp_path / "nope.opscope")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.opscope" in err[0] and "no such file" in err[0]


def test_view_of_a_foreign_file_is_one_clear_line(tmp_path, capsys):
    path = tmp_path / "notes.opscope"
    path.write_text("hello")
    assert cli.main(["view", str(path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not an OpScope trace" in err[0]


def test_bad_goto_and_size_are_rejected(qapp, nan_trace, tmp_path, capsys):
    shot = tmp_path / "shot.png"
    # the op count is known once the trace is read (in the window's worker thread)
    assert cli.main(["view", str(nan_trace), "--goto", "9999", "--screenshot", str(shot)]) == 2
    assert "0 to 34" in capsys.readouterr().err
    assert not shot.exists()
    assert cli.main(["view", str(nan_trace), "--goto", "soon"]) == 2
    assert cli.main(["view", str(nan_trace), "--goto", "-1"]) == 2
    assert cli.main(["view", str(nan_trace), "--size", "big"]) == 2
    assert cli.main(["view", str(nan_trace), "--screenshot", "/no/such/dir/x.png"]) == 1


def test_unknown_command_fails_with_usage(capsys):
    assert cli.main(["frobnicate"]) == 2
    assert "usage" in capsys.readouterr().err


def test_screenshot_renders_the_window_at_the_first_nan(nan_trace, tmp_path):
    shot = tmp_path / "shot.png"
    result = run_opscope(
        "view", str(nan_trace), "--screenshot", str(shot), "--goto", "first-nonfinite"
    )
    assert result.returncode == 0, result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1600, 1000)


def test_demo_opens_the_shipped_trace_without_torch(monkeypatch):
    monkeypatch.setattr(demo, "torch_available", lambda: False)
    path, note = demo.demo_trace(record=True)
    assert path == demo.SHIPPED_DEMO and "PyTorch is not installed" in note
    trace = tracing.load(path)
    assert trace.first_nonfinite() is not None  # the demo hides a NaN
    assert trace.source(trace.ops[0].file)  # and shows its source


def test_demo_falls_back_when_the_recording_fails(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(demo, "torch_available", lambda: True)

    def failing(argv, **kwargs):
        return subprocess.CompletedProcess(argv, 1, "", "ModuleNotFoundError: no demo\n")

    path, note = demo.demo_trace(record=True, runner=failing)
    assert path == demo.SHIPPED_DEMO and "no demo" in note


def test_demo_records_with_torch_in_a_subprocess_when_it_can(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(demo, "torch_available", lambda: True)
    calls = []

    def recording(argv, **kwargs):
        calls.append(argv)
        from tracing.synthetic import write_synthetic_trace

        write_synthetic_trace(argv[-1], blocks=1)
        return subprocess.CompletedProcess(argv, 0, "", "")

    path, _note = demo.demo_trace(record=True, runner=recording)
    assert calls[0][:3] == [sys.executable, "-m", demo.DEMO_MODULE]
    assert path == tmp_path / "opscope" / "demo-torch.opscope" and path.exists()
    assert len(tracing.load(path).ops) > 0


def test_demo_without_recording_uses_the_shipped_trace():
    assert demo.demo_trace(record=False)[0] == demo.SHIPPED_DEMO


def fake_module(monkeypatch, name: str, **attributes) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, loader=None)
    for key, value in attributes.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def test_record_and_info_are_forwarded_to_the_tracing_cli(monkeypatch):
    seen = []
    fake_module(monkeypatch, "tracing.cli", main=lambda argv: seen.append(argv) or 3)
    assert cli.main(["info", "run.opscope"]) == 3
    assert cli.main(["record", "train.py", "-o", "run.opscope"]) == 3
    assert seen == [["info", "run.opscope"], ["record", "train.py", "-o", "run.opscope"]]


def test_export_is_delegated_to_the_graph_exporter(monkeypatch):
    def add_arguments(parser):
        parser.add_argument("path")
        parser.add_argument("-o", dest="out")

    runs = []
    fake_module(
        monkeypatch,
        "gui.graph.cli_export",
        add_arguments=add_arguments,
        run=lambda args: runs.append((args.path, args.out)) or 0,
    )
    assert cli.main(["export", "run.opscope", "-o", "g.svg"]) == 0
    assert runs == [("run.opscope", "g.svg")]


def test_record_without_a_tracing_cli_says_so(monkeypatch, capsys):
    # a viewer-only build ships no recorder command: pretend this one has none
    monkeypatch.setattr(cli, "TRACING_CLI_MODULE", "tracing.no_such_cli")
    assert cli.main(["record", "x.py"]) == 1
    assert cli.main(["info", "run.opscope"]) == 1
    err = capsys.readouterr().err
    assert err.count("not available") == 2 and "opscope record" in err


@pytest.mark.skipif(
    importlib.util.find_spec("gui.graph.cli_export") is None, reason="no graph exporter"
)
def test_opscope_export_writes_an_svg(nan_trace, tmp_path):
    out = tmp_path / "graph.svg"
    result = run_opscope("export", str(nan_trace), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert out.read_text().lstrip().startswith(("<?xml", "<svg"))


@pytest.mark.skipif(importlib.util.find_spec("tracing.cli") is None, reason="no tracing.cli")
def test_opscope_info_runs_without_qt(nan_trace):
    result = run_python(
        "import sys; from gui.cli import main\n"
        f"code = main(['info', {str(nan_trace)!r}])\n"
        "assert not any(m.startswith('PySide6') for m in sys.modules)\n"
        "sys.exit(code)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "35" in result.stdout


def test_screenshot_waits_for_the_trace_and_the_goto(qapp, nan_trace, tmp_path, monkeypatch):
    from gui import app as app_module

    seen = []

    def record(window, path):
        graph = window.graph
        seen.append(
            (
                window.session.trace is not None,
                window.session.index,
                window.is_busy(),
                graph is None or graph.model is not None,
            )
        )
        return True

    monkeypatch.setattr(app_module, "save_screenshot", record)
    shot = tmp_path / "shot.png"
    assert cli.main(["view", str(nan_trace), "--screenshot", str(shot), "--goto", "20"]) == 0
    assert seen == [(True, 20, False, True)]  # read, moved, every panel done, graph laid out
    seen.clear()
    args = ["view", str(nan_trace), "--screenshot", str(shot), "--goto", "first-nonfinite"]
    assert cli.main(args) == 0
    assert seen == [(True, 24, False, True)]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_opscope_demo_records_the_torch_demo_in_a_subprocess_and_opens_it(tmp_path):
    shot = tmp_path / "demo.png"
    env_cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", **env_cache}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gui",
            "demo",
            "--screenshot",
            str(shot),
            "--goto",
            "first-nonfinite",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "recorded the PyTorch demo" in result.stderr
    recorded = tmp_path / "cache" / "opscope" / "demo-torch.opscope"
    trace = tracing.load(recorded)
    assert trace.framework == "torch" and trace.first_nonfinite() is not None
    assert shot.stat().st_size > 10_000


def test_the_shipped_demo_is_the_recorded_torch_demo_with_values():
    trace = tracing.load(demo.SHIPPED_DEMO)
    assert demo.SHIPPED_DEMO.stat().st_size < 1 << 20
    assert trace.framework == "torch" and trace.meta.option("values") == "true"
    bad = trace.first_nonfinite()
    assert bad is not None and trace.value(bad.seq, 0) is not None
    assert "TokenNorm" in trace.source(bad.file)
