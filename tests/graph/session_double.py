"""A tiny stand-in for ``gui.session.DebugSession`` with the names the graph panel uses."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class FakeSession(QObject):
    """``trace``, ``current``, ``index``, ``go_to(seq)`` and the two signals the panel follows."""

    sig_trace_loaded = Signal()
    sig_current_op_changed = Signal(int)

    def __init__(self, trace=None) -> None:
        super().__init__()
        self.trace = trace
        self.index = 0
        self.visited: list[int] = []

    @property
    def current(self):
        if self.trace is None or not self.trace.ops:
            return None
        return self.trace.ops[self.index]

    def load(self, trace) -> None:
        self.trace = trace
        self.index = 0
        self.sig_trace_loaded.emit()

    def go_to(self, seq: int) -> None:
        if self.trace is None or not 0 <= seq < len(self.trace.ops):
            raise IndexError(seq)
        self.index = seq
        self.visited.append(seq)
        self.sig_current_op_changed.emit(seq)

    def step(self) -> None:
        self.go_to(min(self.index + 1, len(self.trace.ops) - 1))
