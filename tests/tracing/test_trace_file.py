"""The trace file: round trips through the recorder API, the committed fixture, live traces."""

from __future__ import annotations

import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import tracing
from tests.subprocesses import killed_when_done
from tracing.model import TensorSummary
from tracing.recorder import Recorder

ROOT = Path(__file__).resolve().parents[2]


def _summary(shape=(2, 3), **kw) -> TensorSummary:
    return TensorSummary(shape, "float32", min=0.0, max=1.0, mean=0.5, std=0.25, **kw)


def test_committed_v1_fixture_keeps_loading(data_dir):
    trace = tracing.load(data_dir / "tiny_v1.opscope")
    trace.lint()
    assert trace.meta.format_version == 1
    assert trace.meta.complete
    assert trace.framework == "torch"
    assert len(trace.ops) == 19
    bad = trace.first_nonfinite()
    assert bad is not None and bad.op_type == "torch.softmax"
    assert bad.module_path == "layers.0.attn" and bad.line > 0
    assert trace.value(bad.seq, 0).shape == (8, 8)
    assert np.isnan(trace.value(bad.seq, 0)).any()
    assert trace.source(bad.file) is not None
    assert [f.func for f in trace.stack(bad)][-1] == "forward"
    assert trace.graph.number_of_nodes() == len(trace.ops) + len(trace.source_nodes)


def test_round_trip_of_every_record_field(tmp_path):
    path = tmp_path / "rt.opscope"
    with Recorder(path, values=True, frameworks=()) as rec:
        rec.add_source(
            "src:param:fc.weight", "param", "fc.weight", (3, 3), "float32", _summary((3, 3))
        )
        call = rec.enter_module("fc", "Linear", "torch")
        payload = np.arange(6, dtype=np.float32).reshape(2, 3)
        first = rec.add_op(
            "torch.nn.functional.linear",
            "torch",
            [(0, "weight", "src:param:fc.weight", 0, (3, 3), "float32", "data")],
            [_summary(has_value=True)],
            values={0: payload.tobytes()},
            duration_ns=1234,
            attrs=(("bias", "None"),),
        )
        rec.exit_module(call)
        second = rec.add_op(
            "Tensor.add_",
            "torch",
            [
                (0, "self", f"op:{first}", 0, (2, 3), "float32", "data"),
                (1, "other", f"op:{first}", 0, (2, 3), "float32", "data"),
            ],
            [_summary(nan_count=1)],
            mutates=(0,),
            error=None,
        )
    trace = tracing.load(path)
    trace.lint()
    op0, op1 = trace.ops
    assert (op0.seq, op1.seq) == (first, second)
    assert op0.module_path == "fc" and op0.module_call == 1 and op0.call_id == call
    assert op1.module_path == "" and op1.call_id == -1
    assert op0.duration_ns == 1234 and op0.attrs == (("bias", "None"),)
    assert op0.file == __file__ and op0.func == "test_round_trip_of_every_record_field"
    assert op1.mutates == (0,)
    np.testing.assert_array_equal(trace.value(0, 0), payload)
    with pytest.raises(LookupError, match="values=True"):
        trace.value(1, 0)
    with pytest.raises(KeyError):
        trace.value(7, 0)
    assert trace.first_nonfinite() is op1
    graph = trace.graph
    assert graph.number_of_edges("op:0", "op:1") == 2  # x + x: one edge per slot
    assert {d["slot"] for _, _, d in graph.in_edges("op:1", data=True)} == {0, 1}
    assert graph.nodes["op:0"]["seq"] == 0 and graph.nodes["op:0"]["module_path"] == "fc"
    assert graph.nodes["src:param:fc.weight"]["kind"] == "param"
    kinds = [e.kind for e in trace.events]
    assert kinds == ["enter", "op", "exit", "op"]


def test_bfloat16_and_float8_values_come_back_viewable(tmp_path):
    path = tmp_path / "bf.opscope"
    floats = np.array([1.5, -2.0, 0.25, np.inf], dtype=np.float32)
    bf16 = (floats.view(np.uint32) >> 16).astype("<u2").tobytes()
    with Recorder(path, values=True, frameworks=()) as rec:
        rec.add_op(
            "torch.ones",
            "torch",
            [],
            [TensorSummary((4,), "bfloat16", has_value=True)],
            values={0: bf16},
        )
        rec.add_op(
            "torch.ones",
            "torch",
            [],
            [TensorSummary((2,), "float16", has_value=True)],
            values={0: np.array([1, 2], np.float16).tobytes()},
        )
        rec.add_op(
            "torch.ones",
            "torch",
            [],
            [TensorSummary((2,), "float8_e4m3fn", has_value=True)],
            values={0: bytes([0x38, 0xB8])},
        )
    trace = tracing.load(path)
    np.testing.assert_array_equal(trace.value(0), floats)
    assert trace.value(0).dtype == np.float32
    assert trace.value(1).dtype == np.float16
    np.testing.assert_array_equal(trace.value(2), [1.0, -1.0])


def test_uninitialised_memory_never_counts_as_nan(tmp_path):
    path = tmp_path / "empty.opscope"
    with Recorder(path, frameworks=()) as rec:
        rec.add_op(
            "torch.empty",
            "torch",
            [],
            [TensorSummary((4,), "float32", nan_count=3, initialized=False)],
        )
        rec.add_op("torch.log", "torch", [], [TensorSummary((4,), "float32", inf_count=1)])
    assert tracing.load(path).first_nonfinite().seq == 1


def test_nested_records_give_a_clear_error(tmp_path):
    with Recorder(tmp_path / "a.opscope", frameworks=()):
        with pytest.raises(tracing.RecordingError, match="already running"):
            with Recorder(tmp_path / "b.opscope", frameworks=()):
                pass
    # the outer recording was not disturbed, and a new one may start afterwards
    with Recorder(tmp_path / "c.opscope", frameworks=()):
        pass
    assert tracing.load(tmp_path / "a.opscope").meta.complete


def test_unwritable_path_fails_at_start_with_a_clear_error(tmp_path):
    with pytest.raises(tracing.TraceWriteError, match="does not exist"):
        with tracing.record(tmp_path / "missing" / "run.opscope"):
            pytest.fail("the block must not run")
    with pytest.raises(tracing.TraceWriteError, match="directory"):
        with tracing.record(tmp_path):
            pytest.fail("the block must not run")
    assert tracing.active() is None


def test_exception_in_block_propagates_and_trace_is_closed(tmp_path):
    path = tmp_path / "raise.opscope"

    class Boom(Exception):
        pass

    with pytest.raises(Boom, match="bang"):
        with Recorder(path, frameworks=()) as rec:
            call = rec.enter_module("model", "Model", "torch")
            rec.add_op("torch.relu", "torch", [], [_summary()])
            raise Boom("bang")
    trace = tracing.load(path)
    assert trace.meta.complete and trace.meta.error == "Boom: bang"
    assert len(trace.ops) == 1
    assert trace.module_calls[0].call_id == call and trace.module_calls[0].end_seq == 1


def test_keyboard_interrupt_and_sys_exit_close_the_trace(tmp_path):
    for exc in (KeyboardInterrupt(), SystemExit(3)):
        path = tmp_path / f"{type(exc).__name__}.opscope"
        with pytest.raises(type(exc)):
            with Recorder(path, frameworks=()) as rec:
                rec.add_op("torch.relu", "torch", [], [_summary()])
                raise exc
        trace = tracing.load(path)
        assert trace.meta.complete and len(trace.ops) == 1
        assert type(exc).__name__ in trace.meta.error


KILLED_SCRIPT = textwrap.dedent(
    """
    import sys, time
    sys.path.insert(0, {root!r})
    from tracing.model import TensorSummary
    from tracing.recorder import Recorder
    with Recorder({path!r}, frameworks=()) as rec:
        for i in range(10**9):
            rec.add_op("torch.relu", "torch", [], [TensorSummary((2,), "float32")])
            if i == 500:
                print("ready", flush=True)
            if i % 100 == 0:
                time.sleep(0.005)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_trace_of_a_killed_recording_opens_with_what_it_had(tmp_path):
    path = tmp_path / "killed.opscope"
    with killed_when_done(KILLED_SCRIPT.format(root=str(ROOT), path=str(path))):
        time.sleep(1.5)
        # While it runs, a reader sees a consistent prefix (a trace still being written).
        live = tracing.load(path)
        recorded_a_second_ago = len(live.ops)
        live.close()
        time.sleep(1.2)
    trace = tracing.load(path)
    assert not trace.meta.complete
    assert len(trace.ops) >= recorded_a_second_ago > 500
    assert [op.seq for op in trace.ops] == list(range(len(trace.ops)))


def test_values_stream_to_disk_without_growing_memory(tmp_path):
    import tracemalloc

    path = tmp_path / "stream.opscope"
    block = np.ones((256, 256), np.float32)  # 256 KiB per value
    tracemalloc.start()
    with Recorder(path, values=True, frameworks=()) as rec:
        rec.writer._max_pending_bytes = 8 << 20
        for _ in range(400):  # 100 MiB of values
            rec.add_op(
                "torch.ones",
                "torch",
                [],
                [TensorSummary((256, 256), "float32", has_value=True)],
                values={0: block.tobytes()},
            )
        _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 40 << 20, f"peak {peak / 2**20:.0f} MiB while recording 100 MiB of values"
    trace = tracing.load(path)
    np.testing.assert_array_equal(trace.value(399), block)


def test_flush_commits_what_was_recorded_so_far(tmp_path):
    path = tmp_path / "flush.opscope"
    with Recorder(path, frameworks=()) as rec:
        rec.add_op("torch.relu", "torch", [], [_summary()])
        assert rec.writer.flush(timeout=10)
        with tracing.load(path) as live:
            assert len(live.ops) == 1 and not live.meta.complete


def test_closing_while_a_viewer_has_the_trace_open_keeps_everything(tmp_path):
    import warnings

    path = tmp_path / "open.opscope"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "incomplete" warning: nothing was lost
        with Recorder(path, frameworks=()) as rec:
            rec.add_op("torch.relu", "torch", [], [_summary()])
            rec.writer.flush(timeout=10)
            viewer = tracing.load(path)
            rec.add_op("torch.relu", "torch", [], [_summary()])
        assert len(viewer.ops) == 1  # the viewer keeps its snapshot until it reloads
    viewer.close()
    reloaded = tracing.load(path)
    assert len(reloaded.ops) == 2 and reloaded.meta.complete
