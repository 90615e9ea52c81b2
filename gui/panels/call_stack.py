"""Call stack panel: the module calls around the current op and the Python frames that issued it.

Innermost first, as debuggers list frames. Clicking a module call goes to its first op;
clicking a Python frame shows its line in the source view without moving the cursor.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHeaderView, QVBoxLayout, QWidget

from gui.formatting import file_name
from gui.panels.list_model import ROW_ROLE, Row, RowsModel, compact_table, visible_row_count
from gui.session import DebugSession
from gui.theme import colors
from tracing.errors import TraceFileError


class CallStackPanel(QWidget):
    """Module calls (innermost first) and Python frames of the current op."""

    def __init__(self, session: DebugSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("call_stack_panel")
        self.session = session
        self.shown_seq = -1
        """The seq whose stack is shown (for tests and the latency benchmark)."""
        self._shown_key: tuple[int, int] | None = None
        self.model = RowsModel(("Frame", "Where"), self)
        self.tree = compact_table(self.model)
        self.tree.setObjectName("call_stack_tree")
        # Fixed widths: sizing columns to their contents would query every row on each step.
        header = self.tree.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        self._where_width = self.fontMetrics().horizontalAdvance("synthetic_model.py:000") + 16
        self.tree.setColumnWidth(1, self._where_width)
        self.tree.clicked.connect(self._on_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        session.sig_trace_loaded.connect(self._on_trace_loaded)
        session.sig_current_op_changed.connect(self._on_current_op_changed)
        self._on_current_op_changed(session.index)

    def _on_trace_loaded(self) -> None:
        self._shown_key = None

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # "Where" keeps room for file:line, but never more than half a narrow panel
        self.tree.setColumnWidth(1, min(self._where_width, self.tree.viewport().width() // 2))

    def _on_current_op_changed(self, seq: int) -> None:
        self.shown_seq = seq
        trace = self.session.trace
        op = self.session.current
        if trace is None or op is None:
            self._shown_key = None
            self.model.set_rows([])
            return
        key = (op.call_id, op.stack_id if op.stack_id >= 0 else -2 - op.seq)
        if key == self._shown_key:
            return  # same calls and frames as the previous op: nothing to redraw
        self._shown_key = key
        muted = colors(self.palette()).muted
        rows = [Row(("MODULES", ""), header=True)]
        chain = trace.call_chain(op)
        for depth, call in enumerate(reversed(chain)):
            name = call.path or call.type_name  # the model itself has an empty path
            where = call.type_name if call.path else "model"
            if call.call_index > 1:
                where += f" · call {call.call_index}"
            where += f" · ops {call.start_seq}–{call.end_seq - 1}"
            if call.exit_order < 0:
                where += " · never returned"
            rows.append(
                Row(
                    (name, where),
                    target=("call", call.start_seq),
                    tooltip=f"{name} ({where})\nClick to go to its first op",
                    bold=depth == 0,
                    colors={1: muted},
                )
            )
        if not chain:
            rows.append(
                Row(
                    ("(top level)", ""),
                    tooltip="This op ran outside any module call",
                    colors={0: muted},
                )
            )
        rows.append(Row(("PYTHON", ""), header=True))
        try:
            frames = trace.stack(op)
        except TraceFileError as exc:
            bad = colors(self.palette()).nonfinite
            rows.append(
                Row(
                    (f"⚠ frames cannot be read: {exc.problem}", ""),
                    tooltip=str(exc),
                    colors={0: bad},
                )
            )
            frames = ()
        for depth, frame in enumerate(reversed(frames)):
            rows.append(
                Row(
                    (frame.func, f"{file_name(frame.file)}:{frame.line}"),
                    target=("frame", (frame.file, frame.line)),
                    tooltip=f"{frame.file}:{frame.line}\nClick to show this line",
                    bold=depth == 0,
                    colors={1: muted},
                )
            )
        if not frames:  # the op's own line (recorded with the op) stands in for the stack
            where = f"{file_name(op.file)}:{op.line}" if op.file else "unknown location"
            target = ("frame", (op.file, op.line)) if op.file else None
            rows.append(Row((op.func or "(frames not recorded)", where), target=target))
        self.model.update_rows(rows, keep=visible_row_count(self.tree))

    def _on_clicked(self, index: QModelIndex) -> None:
        target = index.data(ROW_ROLE)
        if not target:
            return
        kind, where = target
        if kind == "call":
            self.session.go_to(int(where))
        elif kind == "frame" and where[0]:
            self.session.request_location(str(where[0]), int(where[1]))

    def rows(self) -> list[tuple[str, str]]:
        """``(kind, text)`` of every clickable row, top to bottom (for tests)."""
        return [(row.target[0], row.texts[0]) for row in self.model.rows if row.target]

    def row_index(self, text: str, column: int = 0) -> QModelIndex:
        """The model index of the first row whose ``column`` text is ``text`` (for tests)."""
        for number, row in enumerate(self.model.rows):
            if row.texts[column] == text:
                return self.model.index(number, 0)
        return QModelIndex()
