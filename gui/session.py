"""``DebugSession``: the debugger's cursor over a loaded trace, and its breakpoints.

The session is the one object every panel follows. Panels connect to its ``sig_*`` signals and
push what the user asks for back through its methods (``go_to``, ``step_over``...); they never
talk to each other. The stepping rules themselves are the pure functions of ``gui.stepping``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from gui import stepping
from gui.stepping import Breakpoints, Timeline, normalize_file
from tracing.model import Op
from tracing.trace import Trace


class DebugSession(QObject):
    """The loaded trace, the current op and the breakpoints.

    Stepping methods return True when the cursor moved and do nothing (returning False) when
    there is nowhere to go, so they are safe at either end of the trace.
    """

    sig_trace_loaded = Signal()
    """A trace was loaded (or unloaded: ``trace`` is None). Emitted before the cursor moves."""

    sig_current_op_changed = Signal(int)
    """The cursor moved.

    Parameters
    ----------
    seq: int
        The new current op's seq, -1 when there is none (no trace, or a trace without ops).
    """

    sig_breakpoints_changed = Signal()
    """A line or op-type breakpoint was set or cleared, or the NaN/Inf flag changed."""

    sig_location_requested = Signal(str, int)
    """A panel asked to show a source location without moving the cursor (a call-stack frame).

    Parameters
    ----------
    file: str
        The source file as the trace names it.
    line: int
        1-based line number.
    """

    def __init__(self, trace: Trace | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.trace: Trace | None = None
        self.timeline: Timeline = Timeline(())
        self.index: int = -1
        self._lines: set[tuple[str, int]] = set()
        self._op_types: set[str] = set()
        self._break_on_nonfinite = False
        if trace is not None:
            self.load(trace)

    # -- the trace ---

    @property
    def current(self) -> Op | None:
        """The current op, or None."""
        if self.trace is None or not 0 <= self.index < len(self.trace.ops):
            return None
        return self.trace.ops[self.index]

    @property
    def op_count(self) -> int:
        """Number of ops in the loaded trace (0 without one)."""
        return len(self.trace.ops) if self.trace is not None else 0

    def load(
        self, trace: Trace | None, keep_position: bool = False, timeline: Timeline | None = None
    ) -> None:
        """Follow ``trace`` (None unloads); the cursor goes to op 0, or stays with keep_position.

        Breakpoints are kept, as an editor keeps them between debugging runs. ``timeline``:
        the trace's ``Timeline`` when it was built already (off the UI thread).
        """
        previous = self.index
        self.trace = trace
        if trace is None:
            self.timeline = Timeline(())
        else:
            self.timeline = timeline if timeline is not None else Timeline.from_trace(trace)
        count = self.op_count
        if count == 0:
            self.index = -1
        elif keep_position and previous >= 0:
            self.index = min(previous, count - 1)
        else:
            self.index = 0
        self.sig_trace_loaded.emit()
        self.sig_current_op_changed.emit(self.index)

    # -- moving the cursor ---

    def go_to(self, seq: int) -> bool:
        """Make op ``seq`` current; False (and no change) when it is not in the trace."""
        if not 0 <= seq < self.op_count or seq == self.index:
            return False
        self.index = seq
        self.sig_current_op_changed.emit(seq)
        return True

    def _move(self, rule: Callable[[Timeline, int], int | None]) -> bool:
        target = rule(self.timeline, self.index)
        return target is not None and self.go_to(target)

    def target(self, command: str) -> int | None:
        """Where a stepping command would move the cursor now, without moving it.

        ``command`` is one of ``step``, ``step_back``, ``step_over``, ``step_out``,
        ``continue``, ``run_to_nonfinite`` and ``restart``. Used to enable the actions.
        """
        rules: dict[str, Callable[[Timeline, int], int | None]] = {
            "step": stepping.step_into,
            "step_back": stepping.step_back,
            "step_over": stepping.step_over,
            "step_out": stepping.step_out,
            "continue": self._continue_rule,
            "run_to_nonfinite": stepping.first_nonfinite,
            "restart": stepping.restart,
        }
        return rules[command](self.timeline, self.index)

    def step(self) -> bool:
        """Step Into (F11): the next op, entering module calls."""
        return self._move(stepping.step_into)

    def step_back(self) -> bool:
        """Step Back: the previous op."""
        return self._move(stepping.step_back)

    def step_over(self) -> bool:
        """Step Over (F10): the next line of the current module call, running child calls."""
        return self._move(stepping.step_over)

    def step_out(self) -> bool:
        """Step Out (Shift+F11): the first op after the current module call returns."""
        return self._move(stepping.step_out)

    def continue_(self) -> bool:
        """Continue (F5): to the next breakpoint stop, or to the last op."""
        return self._move(self._continue_rule)

    def run_to_nonfinite(self) -> bool:
        """Run to the first op whose output holds NaN or Inf (False when there is none)."""
        return self._move(stepping.first_nonfinite)

    def restart(self) -> bool:
        """Back to op 0."""
        return self._move(stepping.restart)

    def _continue_rule(self, timeline: Timeline, seq: int) -> int | None:
        return stepping.continue_(timeline, seq, self.breakpoints)

    # -- breakpoints ---

    @property
    def breakpoints(self) -> Breakpoints:
        """All breakpoints as one immutable value."""
        return Breakpoints(
            frozenset(self._lines), frozenset(self._op_types), self._break_on_nonfinite
        )

    @property
    def line_breakpoints(self) -> list[tuple[str, int]]:
        """Line breakpoints as ``(file, line)``, sorted."""
        return sorted(self._lines)

    @property
    def op_type_breakpoints(self) -> list[str]:
        """Op types that stop Continue, sorted."""
        return sorted(self._op_types)

    def has_breakpoint(self, file: str, line: int) -> bool:
        """True when a breakpoint is set on ``file:line``."""
        return (normalize_file(file), line) in self._lines

    def set_breakpoint(self, file: str, line: int) -> None:
        """Stop Continue at ``file:line`` (file as the trace names it)."""
        key = (normalize_file(file), int(line))
        if key not in self._lines:
            self._lines.add(key)
            self.sig_breakpoints_changed.emit()

    def clear_breakpoint(self, file: str, line: int) -> None:
        """Remove the breakpoint on ``file:line`` if there is one."""
        key = (normalize_file(file), int(line))
        if key in self._lines:
            self._lines.discard(key)
            self.sig_breakpoints_changed.emit()

    def toggle_breakpoint(self, file: str, line: int) -> bool:
        """Set or clear the breakpoint on ``file:line``; returns True when it is now set."""
        if self.has_breakpoint(file, line):
            self.clear_breakpoint(file, line)
            return False
        self.set_breakpoint(file, line)
        return True

    def set_op_type_breakpoint(self, op_type: str, enabled: bool = True) -> None:
        """Stop Continue at every op of ``op_type`` (``torch.softmax``, ``MatMul``)."""
        if enabled == (op_type in self._op_types):
            return
        if enabled:
            self._op_types.add(op_type)
        else:
            self._op_types.discard(op_type)
        self.sig_breakpoints_changed.emit()

    def clear_op_type_breakpoint(self, op_type: str) -> None:
        """Remove an op-type breakpoint."""
        self.set_op_type_breakpoint(op_type, False)

    @property
    def break_on_nonfinite(self) -> bool:
        """True when Continue stops at every op whose output holds NaN or Inf."""
        return self._break_on_nonfinite

    def set_break_on_nonfinite(self, enabled: bool) -> None:
        """Turn the "stop when an output holds NaN/Inf" breakpoint on or off."""
        if bool(enabled) != self._break_on_nonfinite:
            self._break_on_nonfinite = bool(enabled)
            self.sig_breakpoints_changed.emit()

    def clear_all_breakpoints(self) -> None:
        """Remove every breakpoint, including the NaN/Inf flag."""
        if self.breakpoints:
            self._lines.clear()
            self._op_types.clear()
            self._break_on_nonfinite = False
            self.sig_breakpoints_changed.emit()

    def request_location(self, file: str, line: int) -> None:
        """Ask the source view to show ``file:line`` without moving the cursor."""
        self.sig_location_requested.emit(file, line)
