"""``opscope record`` / ``opscope info`` (the Qt-free half of the CLI), run for real."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tracing
from tracing.cli import split_record_args

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import sys
    import tracing
    from tracing.model import TensorSummary
    assert __name__ == "__main__"
    print("argv", sys.argv)
    rec = tracing.active()
    assert rec is not None, "the script runs inside a recording"
    rec.add_op("torch.relu", "torch", [], [TensorSummary((2,), "float32", nan_count=1)])
    if "--fail" in sys.argv:
        raise RuntimeError("script failed on purpose")
    sys.exit(int(sys.argv[-1]) if sys.argv[-1].isdigit() else 0)
    """
)


def _opscope(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tracing.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "train.py"
    path.write_text(SCRIPT)
    return path


def test_record_runs_the_script_as_main_with_its_argv_and_keeps_the_exit_code(tmp_path, script):
    result = _opscope(
        "record", str(script), "--epochs", "1", "7", "-o", "run.opscope", cwd=tmp_path
    )
    assert result.returncode == 7, result.stderr
    assert "argv ['" + str(script) + "', '--epochs', '1', '7']" in result.stdout
    trace = tracing.load(tmp_path / "run.opscope")
    assert len(trace.ops) == 1 and trace.meta.complete
    assert trace.ops[0].file == str(script) and trace.ops[0].line == 9
    assert trace.meta.argv == (str(script), "--epochs", "1", "7")
    assert "recorded 1 ops" in result.stderr


def test_record_reports_the_script_error_and_closes_the_trace(tmp_path, script):
    result = _opscope("record", "-o", "fail.opscope", str(script), "--fail", cwd=tmp_path)
    assert result.returncode == 1
    assert "RuntimeError: script failed on purpose" in result.stderr
    assert "tracing/cli.py" not in result.stderr  # the script's traceback, not ours
    trace = tracing.load(tmp_path / "fail.opscope")
    assert trace.meta.error.startswith("RuntimeError") and len(trace.ops) == 1


def test_info_prints_a_readable_summary(tmp_path, script, data_dir):
    result = _opscope("info", str(data_dir / "tiny_v1.opscope"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "framework      torch" in out
    assert "ops            19" in out
    assert "first NaN/Inf  op 8 torch.softmax in layers.0.attn at synthetic_model.py:13" in out
    assert "Top op types" in out and "torch.nn.functional.linear" in out
    assert "Module tree" in out and "attn" in out


def test_info_piped_into_a_reader_that_stops_early_is_not_an_error(data_dir):
    process = subprocess.Popen(
        [sys.executable, "-m", "tracing.cli", "info", str(data_dir / "tiny_v1.opscope")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    process.stdout.close()  # like `opscope info run.opscope | head -0`
    stderr = process.stderr.read().decode()
    assert process.wait(timeout=120) == 0
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("info", "missing.opscope"), "no such file"),
        (("info", "notes.txt"), "not an OpScope trace"),
        (("record", "nope.py"), "no such script"),
        (("record", "-o", "no/such/dir/x.opscope", "train.py"), "does not exist"),
    ],
)
def test_bad_paths_and_files_give_one_clear_line(tmp_path, script, args, message):
    (tmp_path / "notes.txt").write_text("hello, this is not a trace" * 10)
    result = _opscope(*args, cwd=script.parent)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.stderr


def test_options_may_follow_the_script_arguments():
    assert split_record_args(["t.py", "--lr", "3", "-o", "r.opscope", "--values"]) == (
        ["t.py", "-o", "r.opscope", "--values"],
        ["--lr", "3"],
    )
    # with -o before the script, everything after the script belongs to the script
    assert split_record_args(["-o", "r.opscope", "t.py", "-o", "mine"]) == (
        ["-o", "r.opscope", "t.py"],
        ["-o", "mine"],
    )
