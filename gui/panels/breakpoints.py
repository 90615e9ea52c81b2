"""Breakpoints panel: line and op-type breakpoints, and "stop when an output holds NaN/Inf"."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui import icons
from gui.formatting import file_name, plain_tooltip, short_op_name
from gui.session import DebugSession
from gui.theme import colors

KIND_ROLE = Qt.ItemDataRole.UserRole + 1
TARGET_ROLE = Qt.ItemDataRole.UserRole + 2


class BreakpointsPanel(QWidget):
    """Lists breakpoints; adds op-type breakpoints; toggles the NaN/Inf breakpoint."""

    def __init__(self, session: DebugSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("breakpoints_panel")
        self.session = session
        self.nonfinite = QCheckBox("Stop on NaN/Inf outputs")
        self.nonfinite.setToolTip("Continue stops at every op whose output holds NaN or Inf")
        self.nonfinite.setObjectName("break_on_nonfinite")
        self.nonfinite.toggled.connect(session.set_break_on_nonfinite)
        self.op_type = QComboBox()
        self.op_type.setObjectName("op_type_breakpoint")
        self.op_type.setEditable(True)
        self.op_type.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        # as narrow as the panel needs: long op names would set the whole column's width
        self.op_type.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.op_type.setMinimumContentsLength(8)
        self.op_type.lineEdit().setPlaceholderText("Break on op type…")
        self.op_type.lineEdit().returnPressed.connect(self._add_op_type)
        add = QPushButton("Add")
        add.clicked.connect(self._add_op_type)
        self.tree = QTreeWidget()
        self.tree.setFrameShape(QFrame.Shape.NoFrame)
        self.tree.setObjectName("breakpoints_tree")
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.itemClicked.connect(self._on_item_clicked)
        self.tree.itemChanged.connect(self._on_item_changed)
        remove = QPushButton("Remove All")
        remove.clicked.connect(session.clear_all_breakpoints)
        row = QHBoxLayout()
        row.addWidget(self.op_type, 1)
        row.addWidget(add)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.nonfinite)
        layout.addLayout(row)
        layout.addWidget(self.tree, 1)
        layout.addWidget(remove, 0, Qt.AlignmentFlag.AlignRight)
        session.sig_trace_loaded.connect(self._on_trace_loaded)
        session.sig_breakpoints_changed.connect(self._on_breakpoints_changed)
        self._on_trace_loaded()

    def _on_trace_loaded(self) -> None:
        self.op_type.clear()
        trace = self.session.trace
        if trace is not None:
            for op_type, count in trace.op_type_counts().most_common():
                self.op_type.addItem(f"{op_type}", op_type)
                self.op_type.setItemData(
                    self.op_type.count() - 1, f"{count:,} ops", Qt.ItemDataRole.ToolTipRole
                )
        self.op_type.setCurrentIndex(-1)
        self._on_breakpoints_changed()

    def _add_op_type(self) -> None:
        text = self.op_type.currentText().strip()
        if text:
            self.session.set_op_type_breakpoint(text)
            self.op_type.setCurrentIndex(-1)
            self.op_type.clearEditText()

    def _on_breakpoints_changed(self) -> None:
        session = self.session
        self.nonfinite.blockSignals(True)
        self.nonfinite.setChecked(session.break_on_nonfinite)
        self.nonfinite.blockSignals(False)
        self.tree.blockSignals(True)
        self.tree.clear()
        dot = icons.icon("breakpoint", self.palette())
        muted = colors(self.palette()).muted
        for file, line in session.line_breakpoints:
            stops = len(session.timeline.line_stops(file, line))
            item = QTreeWidgetItem([f"{file_name(file)}:{line}   ({stops} stops)"])
            item.setIcon(0, dot)
            item.setToolTip(0, plain_tooltip(f"{file}:{line}\nClick to show; uncheck to remove"))
            item.setData(0, KIND_ROLE, "line")
            item.setData(0, TARGET_ROLE, (file, line))
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            if not stops:
                item.setForeground(0, muted)
            self.tree.addTopLevelItem(item)
        for op_type in session.op_type_breakpoints:
            count = len(session.timeline.op_type_seqs(op_type))
            item = QTreeWidgetItem([f"op type {short_op_name(op_type)}   ({count} ops)"])
            item.setIcon(0, dot)
            item.setToolTip(
                0, plain_tooltip(f"Continue stops at every {op_type}; uncheck to remove")
            )
            item.setData(0, KIND_ROLE, "op_type")
            item.setData(0, TARGET_ROLE, op_type)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Checked)
            self.tree.addTopLevelItem(item)
        self.tree.blockSignals(False)

    def _on_item_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.data(0, KIND_ROLE) == "line":
            file, line = item.data(0, TARGET_ROLE)
            self.session.request_location(file, int(line))

    def _on_item_changed(self, item: QTreeWidgetItem, _column: int) -> None:
        if item.checkState(0) == Qt.CheckState.Checked:
            return
        kind, target = item.data(0, KIND_ROLE), item.data(0, TARGET_ROLE)
        # The list is rebuilt when the session changes: not inside the item's own signal.
        if kind == "line":
            QTimer.singleShot(0, lambda: self.session.clear_breakpoint(target[0], int(target[1])))
        elif kind == "op_type":
            QTimer.singleShot(0, lambda: self.session.clear_op_type_breakpoint(str(target)))
