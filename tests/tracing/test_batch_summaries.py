"""``tracing.batch_summaries``: summaries computed together mean what ``summarize_array`` says."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tracing.batch_summaries import NO_STATS, is_pending, pending_summary, resolve_summaries
from tracing.model import TensorSummary
from tracing.summaries import summarize_array


def _segments() -> list[np.ndarray]:
    rng = np.random.default_rng(7)
    nan_and_inf = rng.normal(size=50).astype(np.float32)
    nan_and_inf[[3, 9]] = np.nan
    nan_and_inf[11] = np.inf
    nan_and_inf[12] = -np.inf
    all_nan = np.full(4, np.nan, np.float32)
    return [
        rng.normal(size=(4, 64)).astype(np.float32) * 3 + 300,
        np.array([2.5], np.float32),
        nan_and_inf,
        np.zeros(7, np.float64),
        all_nan,
        (rng.normal(size=100) * 1000).astype(np.float16),
        np.array([1e308, 1e308, -1e308], np.float64),  # sums overflow float64
        np.array([65504, 65504], np.float16),  # the largest float16: finite
        rng.normal(size=33).astype(np.float64),
    ]


def test_batched_summaries_match_one_by_one_summaries() -> None:
    segments = _segments()
    pending = [pending_summary(s, s.shape, str(s.dtype), "cpu") for s in segments]
    assert all(is_pending(p) for p in pending)
    assert not is_pending(TensorSummary((2,), "float32"))
    stats = resolve_summaries(pending)
    assert len(stats) == len(segments)
    for data, (lo, hi, mean, std, nans, infs) in zip(segments, stats):
        with np.errstate(over="ignore"):  # the 1e308 segment overflows float64 sums
            alone = summarize_array(data, str(data.dtype))
        assert (nans, infs) == (alone.nan_count, alone.inf_count)
        assert (lo, hi) == (alone.min, alone.max)
        for got, want in ((mean, alone.mean), (std, alone.std)):
            if want is None or not math.isfinite(want):
                assert got is None  # all NaN, or overflowed float64: unknown
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_a_nan_or_inf_in_one_segment_leaves_its_neighbours_exact() -> None:
    clean = np.arange(6, dtype=np.float32)
    bad = np.array([1.0, np.nan, np.inf, 3.0], np.float32)
    stats = resolve_summaries(
        [pending_summary(a, a.shape, "float32", "cpu") for a in (clean, bad, clean)]
    )
    assert stats[0] == stats[2] == (0.0, 5.0, 2.5, float(np.std(clean, dtype=np.float64)), 0, 0)
    assert stats[1] == (1.0, 3.0, 2.0, 1.0, 1, 1)


def test_nothing_pending_gives_nothing() -> None:
    assert resolve_summaries([]) == []
    assert NO_STATS == (None, None, None, None, 0, 0)


def test_pending_and_ready_summaries_from_several_threads_keep_seq_order(tmp_path) -> None:
    import threading

    import tracing
    from tracing.recorder import Recorder

    path = tmp_path / "threads.opscope"
    per_thread = 400

    def work(rec: Recorder, fill: float) -> None:
        for i in range(per_thread):
            data = np.full(6, fill + i, np.float32)
            out = (
                pending_summary(data, (6,), "float32", "cpu")
                if i % 3
                else TensorSummary((6,), "float32", "cpu", fill + i, fill + i, fill + i, 0.0)
            )
            rec.add_op("torch.add", "torch", [], [out], attrs=[("fill", str(fill + i))])

    with Recorder(path, frameworks=()) as rec:
        assert rec.defers_summaries
        threads = [threading.Thread(target=work, args=(rec, f)) for f in (0.0, 10_000.0)]
        for thread in threads:
            thread.start()
        work(rec, 20_000.0)
        for thread in threads:
            thread.join()
    trace = tracing.load(path)
    assert [op.seq for op in trace.ops] == list(range(3 * per_thread))
    assert len({op.thread_id for op in trace.ops}) == 3
    for op in trace.ops:
        fill = float(dict(op.attrs)["fill"])
        out = op.outputs[0]
        assert (out.min, out.max, out.mean, out.std) == (fill, fill, fill, 0.0)
