"""Call stack panel: the module calls around the current op and the Python frames that issued it.

Innermost first, as debuggers list frames. Clicking a module call goes to its first op;
clicking a Python frame shows its line in the source view without moving the cursor.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from gui.formatting import file_name
from gui.session import DebugSession
from gui.theme import colors
from tracing.errors import TraceFileError

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
"""``"call"`` or ``"frame"``."""
TARGET_ROLE = Qt.ItemDataRole.UserRole + 2
"""For a call: the seq of its first op. For a frame: ``(file, line)``."""


class CallStackPanel(QWidget):
    """Module calls (innermost first) and Python frames of the current op."""

    def __init__(self, session: DebugSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("call_stack_panel")
        self.session = session
        self.shown_seq = -1
        """The seq whose stack is shown (for tests and the latency benchmark)."""
        self.tree = QTreeWidget()
        self.tree.setObjectName("call_stack_tree")
        self.tree.setHeaderLabels(["Frame", "Where"])
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setIndentation(10)
        self.tree.header().setStretchLastSection(False)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemClicked.connect(self._on_item_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tree)
        self.modules_header = self._section("MODULES")
        self.frames_header = self._section("PYTHON")
        session.sig_current_op_changed.connect(self._on_current_op_changed)
        self._on_current_op_changed(session.index)

    def _section(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([title, ""])
        item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() - 1)
        item.setFont(0, font)
        item.setFirstColumnSpanned(True)
        return item

    def _on_current_op_changed(self, seq: int) -> None:
        self.shown_seq = seq
        self.tree.clear()
        self.modules_header = self._section("MODULES")
        self.frames_header = self._section("PYTHON")
        trace = self.session.trace
        op = self.session.current
        if trace is None or op is None:
            return
        theme = colors(self.palette())
        self.tree.addTopLevelItem(self.modules_header)
        chain = trace.call_chain(op)
        bold = QFont(self.font())
        bold.setBold(True)
        for depth, call in enumerate(reversed(chain)):
            label = call.label or "<root>"
            where = f"{call.type_name} · ops {call.start_seq}–{call.end_seq - 1}"
            if call.exit_order < 0:
                where += " · never returned"
            item = QTreeWidgetItem([label, where])
            item.setData(0, KIND_ROLE, "call")
            item.setData(0, TARGET_ROLE, call.start_seq)
            item.setToolTip(0, f"{call.label} ({call.type_name})\nClick to go to its first op")
            item.setForeground(1, theme.muted)
            if depth == 0:
                item.setFont(0, bold)
            self.tree.addTopLevelItem(item)
        if not chain:
            item = QTreeWidgetItem(["(top level: no module call)", ""])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            item.setForeground(0, theme.muted)
            self.tree.addTopLevelItem(item)
        self.tree.addTopLevelItem(self.frames_header)
        try:
            frames = trace.stack(op)
        except TraceFileError:
            frames = ()
        for depth, frame in enumerate(reversed(frames)):
            item = QTreeWidgetItem([f"{frame.func}", f"{file_name(frame.file)}:{frame.line}"])
            item.setData(0, KIND_ROLE, "frame")
            item.setData(0, TARGET_ROLE, (frame.file, frame.line))
            item.setToolTip(0, f"{frame.file}:{frame.line}\nClick to show this line")
            item.setForeground(1, theme.muted)
            if depth == 0:
                item.setFont(0, bold)
            self.tree.addTopLevelItem(item)
        if not frames:
            where = f"{file_name(op.file)}:{op.line}" if op.file else "unknown location"
            item = QTreeWidgetItem([op.func or "(frames not recorded)", where])
            item.setData(0, KIND_ROLE, "frame")
            item.setData(0, TARGET_ROLE, (op.file, op.line))
            self.tree.addTopLevelItem(item)

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        kind = item.data(0, KIND_ROLE)
        target = item.data(0, TARGET_ROLE)
        if kind == "call":
            self.session.go_to(int(target))
        elif kind == "frame" and target and target[0]:
            self.session.request_location(str(target[0]), int(target[1]))

    def rows(self) -> list[tuple[str, str]]:
        """``(kind, text)`` of every clickable row, top to bottom (for tests)."""
        rows = []
        for index in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(index)
            kind = item.data(0, KIND_ROLE)
            if kind:
                rows.append((kind, item.text(0)))
        return rows
