"""DebugSession over real trace files written with the Recorder API (no framework)."""

from __future__ import annotations

from pathlib import Path

import pytest

import tracing
from gui.session import DebugSession
from tracing.model import TensorSummary
from tracing.recorder import Recorder

FINITE = TensorSummary((2, 2), "float32", min=0.0, max=1.0, mean=0.5, std=0.1)
NAN = TensorSummary((2, 2), "float32", nan_count=1)


def write_trace(path: Path, script: list[tuple]) -> tracing.Trace:
    """Write ops (``("op", line, op_type, nan)``), ``("enter", path)`` and ``("exit",)``."""
    with Recorder(path, frameworks=()) as recorder:
        calls = []
        for step in script:
            if step[0] == "enter":
                calls.append(recorder.enter_module(step[1], "Block", "torch"))
            elif step[0] == "exit":
                recorder.exit_module(calls.pop())
            else:
                _, line, op_type, nan = step
                recorder.add_op(
                    op_type,
                    "torch",
                    [],
                    [NAN if nan else FINITE],
                    location=("model.py", line, -1, -1, "forward", -1),
                )
    return tracing.load(path)


def op(line: int, op_type: str = "torch.add", nan: bool = False) -> tuple:
    return ("op", line, op_type, nan)


@pytest.fixture
def repeated(tmp_path) -> tracing.Trace:
    """``enc`` called three times from a loop, one op at top level before and after."""
    script = [op(1)]
    for _ in range(3):
        script += [("enter", "enc"), op(10, "torch.mul"), op(11), ("exit",)]
    script += [op(2, "torch.sum", nan=True)]
    return write_trace(tmp_path / "repeated.opscope", script)


def test_a_new_session_has_no_cursor():
    session = DebugSession()
    assert session.trace is None and session.current is None and session.index == -1
    assert not session.step() and not session.step_back() and not session.continue_()


def test_loading_puts_the_cursor_on_op_zero(qtbot, repeated):
    session = DebugSession()
    with qtbot.waitSignals([session.sig_trace_loaded, session.sig_current_op_changed]):
        session.load(repeated)
    assert session.index == 0 and session.current is repeated.ops[0]


def test_step_out_of_the_first_of_several_calls_lands_after_that_call(repeated):
    session = DebugSession(repeated)
    session.go_to(1)  # first op of the first enc call
    assert session.trace.call(session.current.call_id).call_index == 1
    assert session.step_out()
    assert session.index == 3  # first op of the second call, not after the last one
    assert session.trace.call(session.current.call_id).call_index == 2


def test_step_over_runs_through_repeated_calls_at_top_level(repeated):
    session = DebugSession(repeated)
    assert session.step_over()
    assert session.current.op_type == "torch.sum"


def test_stepping_signals_carry_the_new_seq(qtbot, repeated):
    session = DebugSession(repeated)
    with qtbot.waitSignal(session.sig_current_op_changed) as blocker:
        assert session.step()
    assert blocker.args == [1]


def test_nothing_moves_and_nothing_is_signalled_at_the_ends(qtbot, repeated):
    session = DebugSession(repeated)
    with qtbot.assertNotEmitted(session.sig_current_op_changed):
        assert not session.step_back()
        assert not session.restart()
        assert not session.step_out()  # op 0 is at top level
        assert not session.go_to(-1)
        assert not session.go_to(len(repeated.ops))
        assert not session.go_to(0)  # already there
    session.go_to(len(repeated.ops) - 1)
    with qtbot.assertNotEmitted(session.sig_current_op_changed):
        assert not session.step()
        assert not session.step_over()
        assert not session.continue_()


def test_continue_to_a_line_breakpoint_in_each_call(repeated):
    session = DebugSession(repeated)
    session.set_breakpoint("model.py", 11)
    stops = []
    while session.continue_():
        stops.append(session.index)
    assert stops == [2, 4, 6, 7]  # three calls, then the end


def test_continue_to_an_op_type_breakpoint(repeated):
    session = DebugSession(repeated)
    session.set_op_type_breakpoint("torch.mul")
    assert session.continue_() and session.index == 1
    session.clear_op_type_breakpoint("torch.mul")
    assert session.continue_() and session.index == len(repeated.ops) - 1


def test_nan_breakpoint_and_run_to_first_nonfinite(repeated):
    session = DebugSession(repeated)
    session.set_break_on_nonfinite(True)
    assert session.continue_() and session.current.nonfinite
    session.restart()
    assert session.run_to_nonfinite() and session.index == 7
    assert not session.run_to_nonfinite()  # already there


def test_breakpoint_changes_are_signalled_once(qtbot, repeated):
    session = DebugSession(repeated)
    with qtbot.waitSignal(session.sig_breakpoints_changed):
        session.set_breakpoint("model.py", 10)
    with qtbot.assertNotEmitted(session.sig_breakpoints_changed):
        session.set_breakpoint("model.py", 10)
        session.clear_breakpoint("model.py", 99)
        session.set_break_on_nonfinite(False)
    assert session.toggle_breakpoint("model.py", 10) is False
    assert session.toggle_breakpoint("./model.py", 10) is True
    assert session.has_breakpoint("model.py", 10)
    session.clear_all_breakpoints()
    assert not session.breakpoints


def test_target_previews_a_command_without_moving(repeated):
    session = DebugSession(repeated)
    assert session.target("step_over") == 7
    assert session.target("step_back") is None
    assert session.index == 0


def test_reload_keeps_position_and_breakpoints(repeated, tmp_path):
    session = DebugSession(repeated)
    session.set_breakpoint("model.py", 11)
    session.go_to(5)
    session.load(tracing.load(repeated.path), keep_position=True)
    assert session.index == 5
    assert session.has_breakpoint("model.py", 11)
    session.load(None)
    assert session.index == -1 and session.current is None


def test_a_trace_without_ops_has_no_cursor(tmp_path):
    trace = write_trace(tmp_path / "empty.opscope", [])
    session = DebugSession(trace)
    assert session.index == -1 and session.current is None
    assert not session.step() and not session.run_to_nonfinite()
