"""A small read-only table model over a list of rows: the line-ops and call-stack lists.

Qt's item widgets (``QTreeWidget``) create an object per cell and clear slowly; these lists are
rebuilt on every step, so they use a model whose reset costs nothing until rows are painted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
)

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
"""The row's ``target`` (what a click on it does, for the panel to interpret)."""

_Index = QModelIndex | QPersistentModelIndex
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_ROW = int(ROW_ROLE)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


@dataclass
class Row:
    """One row: texts by column, and how to show and use it."""

    texts: tuple[str, ...]
    target: Any = None
    """What a click means (a seq, a ``(file, line)``...); None: not clickable."""
    tooltip: str = ""
    bold: bool = False
    colors: dict[int, QColor] = field(default_factory=dict)
    """Text colour by column."""
    header: bool = False
    """A section title spanning the row (not selectable)."""
    align_right: frozenset[int] = frozenset()


class RowsModel(QAbstractTableModel):
    """Adapts a list of ``Row`` to Qt's table interface."""

    def __init__(self, headers: tuple[str, ...], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.headers = headers
        self.rows: list[Row] = []
        self._bold = QFont()
        self._bold.setBold(True)
        self._small_bold = QFont()
        self._small_bold.setBold(True)
        self._small_bold.setPointSizeF(max(7.0, self._small_bold.pointSizeF() - 1))
        self.bold_font = self._bold
        self.header_font = self._small_bold
        self.current_background: QBrush | None = None
        """Background of bold rows (the current op), set by the view's owner."""

    def set_rows(self, rows: list[Row]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def update_rows(self, rows: list[Row]) -> None:
        """Show ``rows``, repainting only the rows that differ when the count is the same."""
        if len(rows) != len(self.rows):
            self.set_rows(rows)
            return
        last = len(self.headers) - 1
        for number, (old, new) in enumerate(zip(self.rows, rows)):
            if old != new:
                self.rows[number] = new
                self.dataChanged.emit(self.index(number, 0), self.index(number, last))

    def set_bold(self, predicate: Any) -> None:
        """Re-evaluate which rows are bold (``predicate(row) -> bool``) without a reset."""
        for number, row in enumerate(self.rows):
            bold = bool(predicate(row))
            if bold != row.bold:
                row.bold = bold
                self.dataChanged.emit(
                    self.index(number, 0), self.index(number, len(self.headers) - 1)
                )

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self.headers)
        ):
            return self.headers[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        number = index.row()
        if not 0 <= number < len(self.rows):
            return None
        row = self.rows[number]
        column = index.column()
        role = int(role)
        if role == _DISPLAY:
            return row.texts[column] if column < len(row.texts) else ""
        if role == _FONT:
            if row.header:
                return self._small_bold
            return self._bold if row.bold else None
        if role == _BACKGROUND:
            return self.current_background if row.bold and not row.header else None
        if role == _FOREGROUND:
            color = row.colors.get(column)
            return QBrush(color) if color is not None else None
        if role == _ALIGNMENT:
            return _RIGHT if column in row.align_right else _LEFT
        if role == _ROW:
            return row.target
        if role == _TOOLTIP:
            return row.tooltip or None
        return None


class RowsDelegate(QStyledItemDelegate):
    """Paints ``RowsModel`` cells from their ``Row`` in one call per cell.

    The default delegate asks the model for eight roles per cell (each a Python call), which
    dominates the cost of lists rebuilt on every step.
    """

    def __init__(self, model: RowsModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        number = index.row()
        if not 0 <= number < len(self.model.rows):
            return
        row = self.model.rows[number]
        column = index.column()
        rect = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.brush(QPalette.ColorRole.Highlight))
        elif row.bold and not row.header and self.model.current_background is not None:
            painter.fillRect(rect, self.model.current_background)
        elif option.features & QStyleOptionViewItem.ViewItemFeature.Alternate:
            painter.fillRect(rect, palette.brush(QPalette.ColorRole.AlternateBase))
        text = row.texts[column] if column < len(row.texts) else ""
        if not text:
            return
        painter.save()
        if row.header:
            painter.setFont(self.model.header_font)
        elif row.bold and column == 0:
            painter.setFont(self.model.bold_font)
        color = row.colors.get(column)
        if color is not None:
            painter.setPen(color)
        elif selected:
            painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        else:
            painter.setPen(palette.color(QPalette.ColorRole.Text))
        area = rect.adjusted(4, 0, -4, 0)
        shown = painter.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, area.width())
        horizontal = (
            Qt.AlignmentFlag.AlignRight if column in row.align_right else Qt.AlignmentFlag.AlignLeft
        )
        painter.drawText(area, horizontal | Qt.AlignmentFlag.AlignVCenter, shown)
        painter.restore()


def compact_table(model: RowsModel) -> QTableView:
    """A list-like table over ``model``: row selection, no grid or row numbers, fixed rows.

    A table rather than a tree: its row geometry is arithmetic, so locating a row costs nothing.
    """
    view = QTableView()
    view.setModel(model)
    view.setItemDelegate(RowsDelegate(model, view))
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 6)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    header.setStretchLastSection(True)
    header.setSelectionModel(QItemSelectionModel(model, header))  # see TimelinePanel
    return view
