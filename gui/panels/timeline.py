"""Timeline panel: every op in execution order, module spans, NaN/Inf marks and a filter."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QCompleter,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.panels.scrub_bar import ScrubBar
from gui.panels.timeline_delegate import TimelineDelegate
from gui.panels.timeline_model import SEQ_ROLE, TimelineFilter, TimelineModel
from gui.session import DebugSession
from gui.theme import colors

_WIDTHS = {
    TimelineModel.SEQ: 56,
    TimelineModel.OP: 170,
    TimelineModel.MODULE: 200,  # stretches to what the others leave
    TimelineModel.OUTPUT: 200,
    TimelineModel.LOCATION: 160,
    TimelineModel.TIME: 76,
}


MODULE_ROOM = 170
"""Width the Module column keeps before the others shrink."""


class TimelinePanel(QWidget):
    """Table of ops with a flame-chart scrub bar; selecting a row moves the session's cursor."""

    def __init__(self, session: DebugSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline_panel")
        self.session = session
        self.shown_seq = -1
        """The seq this panel currently shows (for tests and the latency benchmark)."""
        self._syncing = False
        self._user_moved = False

        self.model = TimelineModel(self)
        self.proxy = TimelineFilter(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(
            "Filter by op type or module  (e.g. softmax, layers.1.attn)"
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.nonfinite_only = QCheckBox("Only NaN/Inf")
        self.summary = QLabel()
        self.summary.setObjectName("muted")
        self._filter_timer = QTimer(self, singleShot=True, interval=120)
        self._filter_timer.timeout.connect(self._apply_filter)
        self.filter_edit.textChanged.connect(lambda _text: self._filter_timer.start())
        self.nonfinite_only.toggled.connect(self._on_nonfinite_only_toggled)

        self.scrub = ScrubBar(session)
        self.table = QTableView()
        self.table.setFrameShape(QFrame.Shape.NoFrame)
        self.table.setObjectName("timeline_table")
        self.table.setModel(self.proxy)
        self.delegate = TimelineDelegate(self.model, self.proxy, self.table)
        self.table.setItemDelegate(self.delegate)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().hide()
        vertical = self.table.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 6)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        for column, width in _WIDTHS.items():
            self.table.setColumnWidth(column, width)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(TimelineModel.MODULE, QHeaderView.ResizeMode.Stretch)
        self.table.installEventFilter(self)  # narrow tables shrink the columns (eventFilter)
        self.table.selectionModel().currentRowChanged.connect(self._on_row_changed)
        # The header would repaint itself on every selection change (to highlight sections,
        # which it does not do here): give it a selection model of its own.
        header.setSelectionModel(QItemSelectionModel(self.proxy, header))

        top = QHBoxLayout()
        top.setContentsMargins(6, 4, 6, 2)
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.nonfinite_only)
        top.addSpacing(8)
        top.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.scrub)
        layout.addWidget(self.table, 1)

        session.sig_trace_loaded.connect(self._on_trace_loaded)
        session.sig_current_op_changed.connect(self._on_current_op_changed)
        self.model.set_palette(self.palette())
        self._on_trace_loaded()
        self._on_current_op_changed(session.index)

    # -- session events ---

    def _on_trace_loaded(self) -> None:
        trace = self.session.trace
        self.model.set_ops(trace.ops if trace is not None else ())
        if trace is None:
            self.summary.setText("")
            self.filter_edit.setCompleter(None)
            return
        bad = len(self.session.timeline.nonfinite)
        text = f"{len(trace.ops):,} ops · {len(trace.module_calls):,} module calls"
        if bad:
            color = colors(self.palette()).nonfinite.name()
            text += f" · <span style='color:{color}'>{bad:,} with NaN/Inf</span>"
        self.summary.setText(text)
        words = sorted(set(trace.op_type_counts()) | {c.path for c in trace.module_calls})
        completer = QCompleter(words, self.filter_edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.filter_edit.setCompleter(completer)

    def _on_current_op_changed(self, seq: int) -> None:
        self.shown_seq = seq
        self.delegate.current_row = seq
        selection = self.table.selectionModel()
        self._syncing = True
        try:
            index = self.proxy.mapFromSource(self.model.index(seq, 0)) if seq >= 0 else None
            if index is None or not index.isValid():
                selection.clearSelection()
                return
            selection.setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            # Re-centre when the row nears an edge, so the rows after it stay in view; never
            # under a click of the table itself (the row would slide away under the mouse).
            rect = self.table.visualRect(index)
            margin = 2 * rect.height()
            near_edge = (
                rect.top() < margin or rect.bottom() > self.table.viewport().height() - margin
            )
            if self._user_moved:
                self.table.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
            elif near_edge:
                self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
        finally:
            self._syncing = False

    # -- user input ---

    def _on_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._syncing or not current.isValid():
            return
        seq = current.data(SEQ_ROLE)
        if seq is not None:
            self._user_moved = True
            try:
                self.session.go_to(int(seq))
            finally:
                self._user_moved = False

    def _apply_filter(self) -> None:
        self._refilter(lambda: self.proxy.set_text(self.filter_edit.text()))

    def _on_nonfinite_only_toggled(self, enabled: bool) -> None:
        self._refilter(lambda: self.proxy.set_nonfinite_only(enabled))

    def _refilter(self, change: Callable[[], None]) -> None:
        # Filtering moves the view's current row; that must not move the session's cursor.
        self._syncing = True
        try:
            change()
        finally:
            self._syncing = False
        self._on_current_op_changed(self.session.index)

    def set_filter(self, text: str) -> None:
        """Filter now (without the typing delay)."""
        self.filter_edit.setText(text)
        self._filter_timer.stop()
        self._apply_filter()

    def selected_seq(self) -> int | None:
        """The seq of the selected row, or None."""
        rows = self.table.selectionModel().selectedRows()
        return int(rows[0].data(SEQ_ROLE)) if rows else None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.Resize:
            self._fit_columns(
                self.table.width() - self.table.verticalScrollBar().sizeHint().width()
            )
        return super().eventFilter(watched, event)

    def _fit_columns(self, available: int) -> None:
        """Shrink the columns around Module (down to 55 %) so Module keeps room to read."""
        others = [c for c in _WIDTHS if c not in (TimelineModel.MODULE, TimelineModel.SEQ)]
        fixed = sum(_WIDTHS[c] for c in others) + _WIDTHS[TimelineModel.SEQ]
        scale = min(
            1.0,
            max(
                0.55,
                (available - MODULE_ROOM - _WIDTHS[TimelineModel.SEQ])
                / (fixed - _WIDTHS[TimelineModel.SEQ]),
            ),
        )
        for column in others:
            self.table.setColumnWidth(column, int(_WIDTHS[column] * scale))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.model.set_palette(self.palette())
            self.delegate.set_palette(self.palette())
        elif event.type() == QEvent.Type.FontChange:
            self.delegate.set_font(self.table.font())
        super().changeEvent(event)
