"""The eager capture queues ops and replays them in batches: the trace must not show it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("tensorflow")

import numpy as np
import tensorflow as tf

import tracing
import tracing.tf_backend
from tests.subprocesses import killed_when_done
from tests.tf import programs
from tests.tf.summary_checks import assert_same_statistics
from tracing.summaries import summarize_array
from tracing.tf_backend import events
from tracing.tf_backend.tensors import batch_float32

ROOT = Path(__file__).resolve().parents[2]


def _record(path, model, batch, **options):
    with tracing.record(path, values=True, **options):
        output = model(batch)
        total = programs.eager_with_nan(batch)
        again = model(batch * 0.5)
    return tracing.load(path), (output.numpy(), total.numpy(), again.numpy())


def _content(trace):
    ops = [
        (
            op.seq,
            op.op_type,
            op.module_path,
            op.module_call,
            op.call_id,
            op.file,
            op.line,
            op.stack_id,
            op.inputs,
            op.outputs,
            op.mutates,
            op.kind,
        )
        for op in trace.ops
    ]
    values = [
        trace.value(op.seq, index).tobytes()
        for op in trace.ops
        for index, out in enumerate(op.outputs)
        if out.has_value
    ]
    first = trace.first_nonfinite()
    sources = sorted(trace.source_nodes, key=lambda node: node.node_id)  # declared in any order
    return ops, trace.module_calls, sources, trace.events, values, first.seq


def test_queued_recording_writes_the_same_trace_as_op_by_op(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "MAX_EVENTS", 16)  # several batches, some ending mid-layer
    model, batch = programs.subclassed_model(), programs.inputs()
    model(batch)  # variables exist before both recordings
    queued, queued_results = _record(tmp_path / "queued.opscope", model, batch)
    monkeypatch.setattr(tracing.tf_backend, "_other_backend_may_record", lambda _r: True)
    direct, direct_results = _record(tmp_path / "direct.opscope", model, batch)
    for a, b in zip(queued_results, direct_results, strict=True):
        assert a.tobytes() == b.tobytes()
    assert len(queued.ops) > 3 * events.MAX_EVENTS
    assert _content(queued) == _content(direct)


def test_ops_queued_before_the_block_raises_are_in_the_trace(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "MAX_EVENTS", 10_000)
    x = programs.inputs()
    with pytest.raises(ZeroDivisionError), tracing.record(tmp_path / "t.opscope"):
        y = tf.sin(x)
        tf.exp(y)
        1 / 0  # noqa: B018
    trace = tracing.load(tmp_path / "t.opscope")
    assert [op.op_type for op in trace.ops] == ["Sin", "Exp"]
    assert trace.ops[1].inputs[0].source == "op:0"


def test_queued_outputs_keep_their_values_when_a_variable_is_updated_in_place(tmp_path):
    variable = tf.Variable(tf.ones((8,)))
    with tracing.record(tmp_path / "t.opscope", values=True, frameworks=("tensorflow",)):
        variable.read_value()  # dropped at once: only the queue holds the value read
        variable.assign_add(tf.ones((8,)))
        variable.assign_sub(tf.fill((8,), 5.0))
        variable.read_value()
    trace = tracing.load(tmp_path / "t.opscope")
    reads = [op for op in trace.ops if op.op_type == "ReadVariableOp"]
    assert [op.outputs[0].mean for op in reads] == [1.0, -3.0]
    assert np.array_equal(trace.value(reads[0].seq), np.ones(8, np.float32))
    assert np.array_equal(trace.value(reads[1].seq), np.full(8, -3.0, np.float32))


def test_large_outputs_are_replayed_without_waiting_for_a_full_batch(tmp_path, monkeypatch):
    replays = []
    original = events.EventQueue.replay

    def counting(queue):
        replays.append(queue.queued_ops)
        original(queue)

    monkeypatch.setattr(events.EventQueue, "replay", counting)
    big = tf.ones((events.MAX_ELEMENTS,))
    with tracing.record(tmp_path / "t.opscope", frameworks=("tensorflow",)):
        tf.sin(big)
        tf.cos(big)
    assert replays[0] == 1  # the first big output was replayed at once
    trace = tracing.load(tmp_path / "t.opscope")
    assert trace.ops[0].outputs[0].mean == pytest.approx(np.sin(1.0))


def test_slow_ops_are_replayed_without_waiting_for_a_full_batch(tmp_path, monkeypatch):
    monkeypatch.setattr(events, "PENDING_SECONDS", 0.05)
    x = tf.ones((4,))
    recorded = []
    with tracing.record(tmp_path / "t.opscope", frameworks=("tensorflow",)):
        for _ in range(3):  # like slow training steps: far fewer events than MAX_EVENTS
            x = tf.sin(x)
            recorded.append(tracing.active().op_count)
            time.sleep(0.1)
    # the second op found the first waiting too long and replayed both; the third waits anew
    assert recorded == [0, 2, 2]
    assert len(tracing.load(tmp_path / "t.opscope").ops) == 3


def test_ops_stay_in_order_when_torch_is_imported_inside_the_block(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("tracing.torch_backend")
    script = textwrap.dedent(
        f"""
        import sys
        import tensorflow as tf
        import tracing
        assert "torch" not in sys.modules
        with tracing.record({str(tmp_path / "t.opscope")!r}):
            a = tf.constant([1.0, 2.0]) * 2.0
            import torch
            b = torch.ones(2) + 1
            c = a + 1.0
        trace = tracing.load({str(tmp_path / "t.opscope")!r})
        frameworks = [op.framework for op in trace.ops]
        print(frameworks)
        assert frameworks[0] == "tensorflow" and frameworks[-1] == "tensorflow"
        assert "torch" in frameworks[1:-1] and "tensorflow" not in frameworks[1:-1]
        assert trace.ops[-1].inputs[0].source == f"op:{{trace.ops[0].seq}}"
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]


ARRAYS = [
    np.random.default_rng(0).standard_normal((4, 64)).astype(np.float32),
    np.array(3.5, np.float32),
    np.zeros(64, np.float32),
    np.full(100, 3.3, np.float32),
    np.array([1e8 + 1, 1e8 + 2, 1e8 + 3], np.float32),
    np.float32(1e4) + np.float32(1e-3) * np.random.default_rng(4).standard_normal(1000, np.float32),
    np.array([np.nan, 1.0, -np.inf, 2.0], np.float32),
    np.array([np.inf, np.inf], np.float32),
    (np.random.default_rng(2).standard_normal((3, 7, 5)) * 1e3 + 7).astype(np.float32),
    np.array([-0.0, 0.0, 5.0], np.float32),
]


def test_batched_float32_summaries_match_the_reference_summary():
    summaries = batch_float32(ARRAYS, ["cpu"] * len(ARRAYS))
    for array, fast in zip(ARRAYS, summaries, strict=True):
        reference = summarize_array(array)
        assert (fast.shape, fast.dtype, fast.device) == (array.shape, "float32", "cpu")
        assert_same_statistics(fast, reference)


def test_ops_reach_the_file_while_the_program_pauses(tmp_path):
    """A few ops and a layer call, then a long pause without TensorFlow ops: the writer thread
    replays the queue, on the recording thread's behalf."""
    path = tmp_path / "pause.opscope"
    layer = tf.keras.layers.Dense(3)
    x = tf.ones((2, 4))
    with tracing.record(path, frameworks=("tensorflow",)):
        y = tf.tanh(layer(x))
        time.sleep(1.2)
        live = tracing.load(path)
        seen = [(op.op_type, op.module_path, op.thread_id) for op in live.ops]
        calls = [(call.path, call.type_name) for call in live.module_calls]
        live.close()
    final = tracing.load(path)
    assert len(seen) == len(final.ops) > 1
    assert seen == [(op.op_type, op.module_path, op.thread_id) for op in final.ops]
    assert seen[-1][0] == "Tanh"
    assert {thread for _, _, thread in seen} == {threading.get_ident()}
    assert (
        calls
        == [(call.path, call.type_name) for call in final.module_calls]
        == [(layer.name, "Dense")]
    )
    np.testing.assert_allclose(final.ops[-1].outputs[0].max, float(tf.reduce_max(y)), rtol=1e-6)


PAUSED_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    import tensorflow as tf
    import tracing
    with tracing.record({path!r}, frameworks=("tensorflow",)):
        x = tf.ones((4, 4))
        for _ in range(10):  # fewer events than a batch
            x = tf.tanh(x * 1.5)
        print("ready", flush=True)
        time.sleep(600)  # killed here
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_a_recording_killed_during_a_pause_keeps_the_ops_before_it(tmp_path):
    path = tmp_path / "paused.opscope"
    with killed_when_done(PAUSED_SCRIPT.format(root=str(ROOT), path=str(path))):
        time.sleep(1.5)
    trace = tracing.load(path)
    assert not trace.meta.complete
    assert [op.op_type for op in trace.ops if op.op_type == "Tanh"] == ["Tanh"] * 10
    assert trace.ops[-1].outputs[0].min is not None
