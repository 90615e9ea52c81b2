"""Summaries of small outputs computed later, many at once (``values=False``): same meaning, same
order, nothing lost when the program stops issuing ops or is killed."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("torch")

import numpy as np
import torch
from torch import nn

import tracing
from tests.subprocesses import killed_when_done
from tests.torch.helpers import record_linted
from tracing.recorder import PENDING_OPS
from tracing.summaries import summarize_array

ROOT = Path(__file__).resolve().parents[2]


_record = record_linted


def _mlp(width: int = 16, depth: int = 6) -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(*[m for _ in range(depth) for m in (nn.Linear(width, width), nn.GELU())])


def test_deferred_summaries_equal_summaries_taken_at_op_time(tmp_path: Path) -> None:
    model = _mlp()
    x = torch.randn(4, 16)
    outputs: list[torch.Tensor] = []

    def run():
        h = x
        for layer in model:
            h = layer(h)
            outputs.append(h.clone())

    deferred = _record(tmp_path / "deferred.opscope", run)
    outputs.clear()
    stored = _record(tmp_path / "values.opscope", run, values=True)  # summarised at op time
    layer_ops = [op for op in deferred.ops if op.op_type != "Tensor.clone"]
    assert len(layer_ops) == len(outputs) == 12
    assert len(deferred.ops) == len(stored.ops) == 24
    for op, stored_op in zip(deferred.ops, stored.ops):
        a, b = op.outputs[0], stored_op.outputs[0]
        assert (op.op_type, op.line) == (stored_op.op_type, stored_op.line)
        assert (a.shape, a.dtype, a.device, a.initialized) == (b.shape, b.dtype, b.device, True)
        assert (a.nan_count, a.inf_count, a.min, a.max) == (b.nan_count, b.inf_count, b.min, b.max)
        # op-time summaries of small float32 tensors sum in float32, deferred ones in float64
        assert a.mean == pytest.approx(b.mean, rel=1e-5, abs=1e-6)
        assert a.std == pytest.approx(b.std, rel=1e-5, abs=1e-6)
    for op, out in zip(layer_ops, outputs):
        reference = summarize_array(out.detach().numpy())
        assert (op.outputs[0].min, op.outputs[0].max) == (reference.min, reference.max)
        assert op.outputs[0].mean == pytest.approx(reference.mean, rel=1e-9, abs=1e-12)


def test_a_deferred_nan_after_many_ops_is_the_first_nonfinite_op(tmp_path: Path) -> None:
    """The NaN op waits in the queue past a flush boundary; ops stay in seq order."""
    x = torch.ones(3, 5)
    steps = PENDING_OPS + 40

    def run():
        h = x
        for i in range(steps):
            h = h * 1.0 if i != PENDING_OPS - 3 else h * float("nan")
        torch.relu(h)

    trace = _record(tmp_path / "nan.opscope", run)
    assert [op.seq for op in trace.ops] == list(range(steps + 1))
    bad = trace.first_nonfinite()
    assert bad is not None and bad.seq == PENDING_OPS - 3
    assert bad.outputs[0].nan_count == 15 and bad.outputs[0].min is None
    assert all(op.nonfinite for op in trace.ops[bad.seq :])
    assert not any(op.nonfinite for op in trace.ops[: bad.seq])


def test_the_first_nan_keeps_its_values_and_its_inputs_under_a_budget(tmp_path: Path) -> None:
    """With values, the first NaN op must be known when it runs: small outputs are then
    summarised at op time, and the budget keeps the NaN op's values and its input's."""
    x = torch.ones(8, 8)
    steps = 3 * PENDING_OPS

    def run():
        h = x
        for i in range(steps):
            h = h + 1.0 if i != PENDING_OPS + 10 else h * float("nan")

    path = tmp_path / "budget.opscope"
    trace = _record(path, run, values=True, max_value_bytes=256 * 40)
    bad = trace.first_nonfinite()
    assert bad is not None and bad.seq == PENDING_OPS + 10
    assert bad.outputs[0].has_value and np.isnan(trace.value(bad.seq)).all()
    producer = trace.ops[bad.seq - 1]
    assert producer.outputs[0].has_value
    np.testing.assert_array_equal(trace.value(producer.seq), np.full((8, 8), PENDING_OPS + 11.0))
    kept = [op.seq for op in trace.ops if op.outputs and op.outputs[0].has_value]
    assert len(kept) < steps // 4  # the budget evicted the rest


def test_ops_reach_the_file_while_the_program_pauses(tmp_path: Path) -> None:
    """Fewer than PENDING_OPS ops, then a long pause: the writer thread hands them over."""
    path = tmp_path / "pause.opscope"
    seen = []
    with tracing.record(path):
        h = torch.ones(4)
        for _ in range(20):
            h = h * 2.0
        time.sleep(1.2)
        live = tracing.load(path)
        seen = [op.seq for op in live.ops]
        live.close()
    assert seen == list(range(21))
    assert tracing.load(path).ops[-1].outputs[0].max == 2.0**20


KILLED_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    import torch
    import tracing
    with tracing.record({path!r}):
        h = torch.ones(4, 4)
        for i in range(10**9):
            h = torch.tanh(h * 1.0001)
            if i == 2000:
                print("ready", flush=True)
            if i % 50 == 0:
                time.sleep(0.002)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_killed_recording_keeps_the_ops_of_more_than_a_second_ago(tmp_path: Path) -> None:
    path = tmp_path / "killed.opscope"
    with killed_when_done(KILLED_SCRIPT.format(root=str(ROOT), path=str(path))):
        time.sleep(1.0)
        live = tracing.load(path)
        count = len(live.ops)
        live.close()
        time.sleep(1.2)
    trace = tracing.load(path)
    assert not trace.meta.complete
    assert len(trace.ops) >= count > 4000
    assert [op.seq for op in trace.ops] == list(range(len(trace.ops)))
    assert all(op.outputs[0].min is not None for op in trace.ops[1:])


def _mixed_program() -> None:
    """Common ops (the one-pass path) mixed with in-place writes, views, lists, several
    outputs, a parameter used twice and a module called in a loop."""
    torch.manual_seed(1)
    model = _mlp(width=8, depth=2)
    shared = nn.Linear(8, 8)
    x = torch.randn(3, 8)
    h = model(x)
    for _ in range(2):
        h = shared(h)
    h.view(-1)[2:5].mul_(2)
    y = torch.relu(h) + h
    parts = torch.split(torch.cat([y, h], dim=1), 4, dim=1)
    (parts[0] @ parts[1].T).sum()


def test_the_one_pass_path_records_what_the_general_path_records(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``values=False`` takes the one-pass path for common ops; a ``ValueFilter`` that keeps
    nothing records every op through the general path. Everything but the last digits of the
    statistics must be the same."""
    from tracing.recorder import Recorder

    one_pass_ops = []
    original = Recorder.add_pending_op

    def counted(self, op_type, *args):
        one_pass_ops.append(op_type)
        return original(self, op_type, *args)

    monkeypatch.setattr(Recorder, "add_pending_op", counted)
    one_pass = _record(tmp_path / "lean.opscope", _mixed_program)
    assert {"torch.relu", "torch.nn.functional.linear", "Tensor.add"} <= set(one_pass_ops)
    assert len(one_pass_ops) > len(one_pass.ops) // 2
    general = _record(
        tmp_path / "general.opscope", _mixed_program, values=tracing.ValueFilter(op_types=["-"])
    )
    assert len(one_pass.ops) == len(general.ops) > 20

    def shape_of(op: tracing.Op) -> tuple:
        return (op.op_type, op.module_path, op.module_call, op.call_id, op.line, op.col,
                op.func, op.inputs, op.mutates, op.kind, op.attrs,
                [(o.shape, o.dtype, o.initialized, o.nan_count, o.min, o.max)
                 for o in op.outputs])  # fmt: skip

    for a, b in zip(one_pass.ops, general.ops):
        assert shape_of(a) == shape_of(b)
    assert [
        (c.path, c.call_index, c.start_seq, c.end_seq, c.enter_order, c.exit_order)
        for c in one_pass.module_calls
    ] == [
        (c.path, c.call_index, c.start_seq, c.end_seq, c.enter_order, c.exit_order)
        for c in general.module_calls
    ]
    assert sorted(one_pass.graph.edges(data=True, keys=True), key=repr) == sorted(
        general.graph.edges(data=True, keys=True), key=repr
    )
