"""``max_value_bytes``: recent values within the budget, plus the first NaN and its inputs."""

from __future__ import annotations

import numpy as np

import tracing
from tracing.model import TensorSummary
from tracing.recorder import Recorder

MIB = 1 << 20


def _value_op(rec: Recorder, fill: float, source: str | None = None, nan: bool = False) -> int:
    block = np.full((512, 512), fill, np.float32)  # 1 MiB
    if nan:
        block[0, 0] = np.nan
    summary = TensorSummary((512, 512), "float32", nan_count=int(nan), has_value=True)
    inputs = [(0, "input", source, 0, (512, 512), "float32", "data")] if source else []
    input_values = {0: np.full((512, 512), fill - 1, np.float32).tobytes()} if source else None
    return rec.add_op(
        "torch.mul",
        "torch",
        inputs,
        [summary],
        values={0: block.tobytes()},
        input_values=input_values,
    )


def test_budget_keeps_recent_values_and_the_first_nan_with_its_inputs(tmp_path):
    path = tmp_path / "budget.opscope"
    with Recorder(path, values=True, max_value_bytes=8 * MIB, frameworks=()) as rec:
        for i in range(30):
            _value_op(rec, float(i))
        nan_seq = _value_op(rec, 30.0, source="op:29", nan=True)
        for i in range(31, 80):
            _value_op(rec, float(i))
    trace = tracing.load(path)
    kept = [op.seq for op in trace.ops if op.outputs[0].has_value]
    assert kept[-8:] == list(range(72, 80))
    assert nan_seq in kept and 29 in kept  # the NaN op and the op its input came from
    assert len(kept) <= 8 + 2
    assert trace.first_nonfinite().seq == nan_seq
    assert np.isnan(trace.value(nan_seq)[0, 0])
    np.testing.assert_array_equal(trace.value(29), np.full((512, 512), 29, np.float32))
    assert all(len(op.outputs) == 1 for op in trace.ops)  # summaries of every op remain
    # budget + the two pinned values + values in flight (the writer's 8 MiB minimum) + tables
    assert path.stat().st_size < (8 + 2 + 8 + 2) * MIB


def test_budget_restores_an_evicted_input_of_the_first_nan(tmp_path):
    path = tmp_path / "restore.opscope"
    with Recorder(path, values=True, max_value_bytes=4 * MIB, frameworks=()) as rec:
        for i in range(10):
            _value_op(rec, float(i))
        nan_seq = _value_op(rec, 10.0, source="op:0", nan=True)  # op 0 was evicted long ago
    trace = tracing.load(path)
    assert trace.ops[0].outputs[0].has_value
    np.testing.assert_array_equal(trace.value(0), np.full((512, 512), 9.0, np.float32))
    assert trace.ops[nan_seq].outputs[0].has_value


def test_file_stays_near_the_budget_on_a_long_run(tmp_path):
    path = tmp_path / "long.opscope"
    with Recorder(path, values=True, max_value_bytes=16 * MIB, frameworks=()) as rec:
        for i in range(400):  # 400 MiB of outputs
            _value_op(rec, float(i))
    assert path.stat().st_size < (16 + 8 + 4) * MIB
    trace = tracing.load(path)
    assert sum(op.outputs[0].has_value for op in trace.ops) == 16
