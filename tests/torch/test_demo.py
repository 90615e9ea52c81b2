"""The demo behind ``opscope demo`` and the example scripts record what they promise."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

pytest.importorskip("torch")

import tracing
from tracing.torch_backend import demo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_demo_records_a_training_run_whose_first_nan_is_the_division(tmp_path: Path) -> None:
    path = demo.record(tmp_path / "demo.opscope")
    trace = tracing.load(path)
    trace.lint()
    assert trace.meta.complete and trace.meta.option("values") == "true"
    bad = trace.first_nonfinite()
    assert bad is not None and bad.op_type == "Tensor.div"
    assert bad.module_path == "blocks.0.norm1"
    assert Path(bad.file).name == demo.SCRIPT_NAME
    line = trace.source(bad.file).splitlines()[bad.line - 1]
    assert "/ spread" in line
    assert bad.module_call == 2  # the second batch, with the padded sentence
    value = trace.value(bad.seq, 0)
    assert value.shape == bad.outputs[0].shape and bad.outputs[0].nan_count > 0
    assert any(op.op_type == "Tensor.backward" for op in trace.ops)


def test_demo_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([]) == 2
    assert demo.main([str(tmp_path / "cli.opscope")]) == 0
    assert "recorded the PyTorch demo" in capsys.readouterr().out
    assert tracing.load(tmp_path / "cli.opscope").first_nonfinite() is not None


@pytest.mark.parametrize(
    ("script", "nan_op"),
    [
        ("attention_nan.py", "torch.log"),
        ("transformer_inference.py", None),
        ("cnn_training.py", None),
    ],
)
def test_examples_record(script: str, nan_op: str | None, tmp_path: Path) -> None:
    path = tmp_path / "example.opscope"
    with tracing.record(path):
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    trace = tracing.load(path)
    trace.lint()
    bad = trace.first_nonfinite()
    assert (bad.op_type if bad else None) == nan_op
    assert all(op.file.endswith(script) for op in trace.ops)
