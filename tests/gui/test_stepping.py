"""Stepping rules on hand-built timelines (no Qt, no display)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gui import stepping
from gui.stepping import Breakpoints, Timeline
from tests.gui.timelines import TimelineBuilder


def encoder_trace() -> tuple[TimelineBuilder, dict[str, int]]:
    """A top-level op, then ``enc`` called twice (each with two child calls), then a head.

    line 10: x = prep(x)         -> op a (top level)
    line 11: x = enc(x)          -> enc call 1: line 20 norm (child), 21 own, 21 own, 22 child lin
    line 12: x = enc(x)          -> enc call 2: same shape
    line 13: y = head(x).sum()   -> head call (line 13), then top-level sum on line 13
    """
    b = TimelineBuilder()
    seqs = {}
    seqs["prep"] = b.op(10)
    for n in (1, 2):
        b.enter("enc", "Encoder")
        b.enter("enc.norm", "LayerNorm")
        seqs[f"norm{n}"] = b.op(20, "layer_norm")
        b.exit()
        seqs[f"mul{n}"] = b.op(21, "mul")
        seqs[f"add{n}"] = b.op(21, "add")
        b.enter("enc.lin", "Linear")
        seqs[f"lin{n}"] = b.op(22, "linear")
        b.exit()
        b.exit()
    b.enter("head", "Linear")
    seqs["head"] = b.op(13, "linear")
    b.exit()
    seqs["sum"] = b.op(13, "sum")
    return b, seqs


def test_step_into_visits_every_op_and_stops_at_the_end():
    b, _ = encoder_trace()
    tl = b.build()
    path = [0]
    while (nxt := stepping.step_into(tl, path[-1])) is not None:
        path.append(nxt)
    assert path == list(range(len(b.ops)))


def test_step_back_goes_to_the_previous_op_and_stops_at_the_start():
    tl = encoder_trace()[0].build()
    assert stepping.step_back(tl, 3) == 2
    assert stepping.step_back(tl, 0) is None


def test_step_over_runs_child_calls_and_stops_on_the_next_line_of_the_frame():
    b, s = encoder_trace()
    tl = b.build()
    # In enc's own frame line 21 is one stop (two ops); the child Linear call is run, and then
    # enc call 1 returns, so the cursor lands on the first op after it.
    assert stepping.step_over(tl, s["mul1"]) == s["norm2"]


def test_step_over_treats_ops_of_one_line_as_one_stop():
    b = TimelineBuilder()
    b.enter("m")
    b.op(5)
    b.op(5)
    b.enter("m.child")
    b.op(30)
    b.exit()
    b.op(5)
    target = b.op(6)
    b.exit()
    tl = b.build()
    assert stepping.step_over(tl, 0) == target


def test_step_over_leaves_a_call_that_returns_at_its_first_op_after():
    b, s = encoder_trace()
    tl = b.build()
    # norm runs one op; stepping over it returns to enc's frame at the next op.
    assert stepping.step_over(tl, s["norm1"]) == s["mul1"]
    # the last op of enc call 1 (in child lin) -> lin returns -> first op after it (call 2 norm).
    assert stepping.step_over(tl, s["lin1"]) == s["norm2"]


def test_step_over_at_top_level_skips_module_calls():
    b, s = encoder_trace()
    tl = b.build()
    assert stepping.step_over(tl, s["prep"]) == s["sum"]


def test_step_over_with_nothing_left_in_the_top_frame_stays_put():
    b, s = encoder_trace()
    tl = b.build()
    assert stepping.step_over(tl, s["sum"]) is None


def test_step_over_stops_at_each_op_of_unknown_location():
    b = TimelineBuilder()
    b.op(0, file="")
    b.op(0, file="")
    tl = b.build()
    assert stepping.step_over(tl, 0) == 1


def test_step_out_of_the_first_of_several_calls_lands_after_that_call():
    b, s = encoder_trace()
    tl = b.build()
    assert stepping.step_out(tl, s["mul1"]) == s["norm2"]
    assert stepping.step_out(tl, s["add2"]) == s["head"]


def test_step_out_of_a_nested_call_lands_in_its_parent():
    b, s = encoder_trace()
    tl = b.build()
    assert stepping.step_out(tl, s["norm1"]) == s["mul1"]


def test_step_out_at_top_level_or_of_an_unfinished_call_stays_put():
    b, s = encoder_trace()
    tl = b.build()
    assert stepping.step_out(tl, s["prep"]) is None
    unfinished = TimelineBuilder()
    unfinished.enter("model")
    unfinished.op(1)
    unfinished.op(2)  # the run was killed: the call never returned
    assert stepping.step_out(unfinished.build(), 0) is None


def test_calls_that_issue_no_ops_do_not_disturb_stepping():
    b = TimelineBuilder()
    b.enter("outer")
    b.op(1)
    b.enter("outer.identity")  # runs no op
    b.exit()
    b.enter("outer.dropout")  # runs no op either
    b.exit()
    b.op(2)
    b.exit()
    after = b.op(3)
    tl = b.build()
    assert stepping.step_over(tl, 0) == 1
    assert stepping.step_out(tl, 0) == after
    assert stepping.step_out(tl, 1) == after


def test_step_out_ignores_a_call_range_that_points_backwards():
    b = TimelineBuilder()
    b.enter("m")
    b.op(1)
    b.op(2)
    b.exit()
    ops = b.ops
    calls = [c.__class__(**{**_fields(c), "end_seq": 0}) for c in b.module_calls()]
    tl = Timeline(ops, calls)
    assert stepping.step_out(tl, 1) is None
    assert stepping.step_over(tl, 1) is None


def _fields(call):
    return {name: getattr(call, name) for name in call.__slots__}


def test_continue_without_breakpoints_runs_to_the_last_op():
    b, _ = encoder_trace()
    tl = b.build()
    assert stepping.continue_(tl, 0, Breakpoints()) == len(b.ops) - 1
    assert stepping.continue_(tl, len(b.ops) - 1, Breakpoints()) is None


def test_continue_to_a_line_breakpoint_stops_at_the_first_op_of_each_execution():
    b, s = encoder_trace()
    tl = b.build()
    bps = Breakpoints(lines=frozenset({("model.py", 21)}))
    assert stepping.continue_(tl, 0, bps) == s["mul1"]
    # add1 is on the same line in the same run: not a new stop.
    assert stepping.continue_(tl, s["mul1"], bps) == s["mul2"]
    # from inside the run (reached by stepping), the next stop is the next execution.
    assert stepping.continue_(tl, s["add1"], bps) == s["mul2"]
    assert stepping.continue_(tl, s["mul2"], bps) == len(b.ops) - 1


def test_breakpoint_file_names_are_compared_normalised():
    b, s = encoder_trace()
    tl = b.build()
    assert tl.line_stops("./model.py", 21) == [s["mul1"], s["mul2"]]


def test_one_line_loop_over_a_module_list_stops_once_per_iteration():
    # for layer in self.layers: x = torch.relu(layer(x))   (all on line 7)
    b = TimelineBuilder()
    starts = []
    for index in range(3):
        b.enter(f"layers.{index}", "Linear")
        starts.append(b.op(7, "linear"))
        b.exit()
        b.op(7, "relu")
    tl = b.build()
    assert tl.line_stops("model.py", 7) == starts


def test_one_line_chain_of_different_modules_is_one_stop():
    # x = self.fc2(self.act(self.fc1(x)))   (line 7)
    b = TimelineBuilder()
    for path, kind in (("fc1", "Linear"), ("act", "GELU"), ("fc2", "Linear")):
        b.enter(path, kind)
        b.op(7)
        b.exit()
    tl = b.build()
    assert tl.line_stops("model.py", 7) == [0]


def test_breakpoint_on_a_line_that_only_calls_modules_stops_in_each_call():
    # Model.forward line 40: for layer in self.layers: x = layer(x) -- the ops are in Block.
    b = TimelineBuilder()
    b.op(39, frames=(("main.py", 3),))
    starts = []
    for index in range(3):
        b.enter(f"layers.{index}", "Block")
        starts.append(b.op(50, frames=(("main.py", 3), ("model.py", 40))))
        b.op(51, frames=(("main.py", 3), ("model.py", 40)))
        b.exit()
    b.op(41, frames=(("main.py", 3),))
    tl = b.build()
    bps = Breakpoints(lines=frozenset({("model.py", 40)}))
    assert stepping.continue_(tl, 0, bps) == starts[0]
    assert stepping.continue_(tl, starts[0], bps) == starts[1]
    assert stepping.continue_(tl, starts[1] + 1, bps) == starts[2]


def test_breakpoint_on_a_line_without_ops_or_frames_never_stops():
    b, _ = encoder_trace()
    tl = b.build()
    assert tl.line_stops("model.py", 99) == []
    assert stepping.next_breakpoint(tl, 0, Breakpoints(lines=frozenset({("x.py", 1)}))) is None


def test_continue_to_an_op_type_breakpoint():
    b, s = encoder_trace()
    tl = b.build()
    bps = Breakpoints(op_types=frozenset({"linear"}))
    assert stepping.continue_(tl, 0, bps) == s["lin1"]
    assert stepping.continue_(tl, s["lin1"], bps) == s["lin2"]
    assert stepping.continue_(tl, s["lin2"], bps) == s["head"]


def test_continue_stops_where_an_output_holds_nan_when_asked():
    b = TimelineBuilder()
    for index in range(6):
        b.op(index + 1, nan=index in (3, 4))
    tl = b.build()
    assert stepping.continue_(tl, 0, Breakpoints(nonfinite=True)) == 3
    assert stepping.continue_(tl, 3, Breakpoints(nonfinite=True)) == 4
    assert stepping.continue_(tl, 4, Breakpoints(nonfinite=True)) == 5  # the end
    assert stepping.continue_(tl, 0, Breakpoints()) == 5


def test_continue_stops_at_the_nearest_of_several_breakpoints():
    b, s = encoder_trace()
    tl = b.build()
    bps = Breakpoints(lines=frozenset({("model.py", 13)}), op_types=frozenset({"add"}))
    assert stepping.continue_(tl, 0, bps) == s["add1"]
    assert stepping.continue_(tl, s["add2"], bps) == s["head"]


def test_run_to_first_nonfinite_goes_to_the_first_nan_from_anywhere():
    b = TimelineBuilder()
    for index in range(6):
        b.op(index, nan=index >= 2)
    tl = b.build()
    assert stepping.first_nonfinite(tl, 0) == 2
    assert stepping.first_nonfinite(tl, 5) == 2
    assert stepping.first_nonfinite(tl, 2) is None
    clean = TimelineBuilder()
    clean.op(1)
    assert stepping.first_nonfinite(clean.build(), 0) is None


def test_restart_goes_to_op_zero():
    tl = encoder_trace()[0].build()
    assert stepping.restart(tl, 5) == 0
    assert stepping.restart(tl, 0) is None


def test_every_rule_is_safe_on_an_empty_timeline_and_out_of_range_seqs():
    empty = Timeline(())
    one = TimelineBuilder()
    one.op(1)
    single = one.build()
    for tl, seq in ((empty, -1), (empty, 0), (single, -1), (single, 7), (single, 0)):
        assert stepping.step_into(tl, seq) is None
        assert stepping.step_over(tl, seq) is None
        assert stepping.step_out(tl, seq) is None
        assert stepping.continue_(tl, seq, Breakpoints(nonfinite=True)) is None
        assert stepping.step_back(tl, seq) is None


def test_timeline_rejects_ops_out_of_seq_order():
    b = TimelineBuilder()
    b.op(1)
    b.op(2)
    with pytest.raises(ValueError, match="seq order"):
        Timeline(list(reversed(b.ops)))


# -- properties over random well-formed timelines ---

events = st.lists(
    st.one_of(
        st.tuples(st.just("op"), st.integers(1, 4)),
        st.tuples(st.just("enter"), st.sampled_from(["a", "b", "c"])),
        st.just(("exit", 0)),
    ),
    max_size=40,
)


def random_timeline(script) -> TimelineBuilder:
    b = TimelineBuilder()
    for kind, arg in script:
        if kind == "op":
            b.op(arg)
        elif kind == "enter":
            b.enter(f"{b.calls[b.open[-1]]['path']}.{arg}" if b.open else arg)
        elif b.open:
            b.exit()
    while b.open:
        b.exit()
    return b


@settings(max_examples=300, deadline=None)
@given(events)
def test_step_over_never_stops_inside_a_child_call_or_on_the_same_line(script):
    b = random_timeline(script)
    tl = b.build()
    for seq, op in enumerate(b.ops):
        target = stepping.step_over(tl, seq)
        if target is None:
            continue
        assert target > seq
        call = tl.call_of(seq)
        landed = b.ops[target]
        if call is not None and target == call.end_seq:
            between = range(seq + 1, target)
        else:
            assert landed.call_id == op.call_id and landed.line != op.line
            between = range(seq + 1, target)
        for skipped in between:
            other = b.ops[skipped]
            assert other.call_id != op.call_id or other.line == op.line


@settings(max_examples=300, deadline=None)
@given(events)
def test_step_out_lands_on_the_first_op_after_the_current_call(script):
    b = random_timeline(script)
    tl = b.build()
    for seq in range(len(b.ops)):
        target = stepping.step_out(tl, seq)
        call = tl.call_of(seq)
        if target is None:
            assert call is None or call.end_seq >= len(b.ops)
            continue
        assert target == call.end_seq > seq
        assert all(call.call_id in _chain(tl, s) for s in range(call.start_seq, target))
        assert call.call_id not in _chain(tl, target)


def _chain(tl: Timeline, seq: int) -> set[int]:
    ids = set()
    call = tl.call_of(seq)
    while call is not None:
        ids.add(call.call_id)
        call = tl.calls.get(call.parent_id)
    return ids


@settings(max_examples=200, deadline=None)
@given(events, st.integers(1, 4))
def test_continue_to_a_line_stops_only_on_that_line_and_misses_no_execution(script, line):
    b = random_timeline(script)
    tl = b.build()
    bps = Breakpoints(lines=frozenset({("model.py", line)}))
    seq, visited = 0, [0]
    while (nxt := stepping.next_breakpoint(tl, seq, bps)) is not None:
        assert nxt > seq and b.ops[nxt].line == line
        seq = nxt
        visited.append(nxt)
    on_line = [s for s, op in enumerate(b.ops) if op.line == line]
    starts = [s for s in on_line if s == 0 or b.ops[s - 1].line != line]
    assert set(starts) - {0} <= set(visited)


def test_stepping_module_imports_no_qt():
    import subprocess

    code = "import gui.stepping, sys; assert not any(m.startswith('PySide6') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=_root())


def _root() -> str:
    from pathlib import Path

    return str(Path(__file__).resolve().parents[2])
