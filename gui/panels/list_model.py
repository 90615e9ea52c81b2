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
    QFrame,
    QHeaderView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from gui.formatting import plain_tooltip
from gui.panels.cell_text import CellTexts

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
        self.bold_font = QFont()
        self.bold_font.setBold(True)
        self.header_font = QFont(self.bold_font)
        self.header_font.setPointSizeF(max(7.0, self.header_font.pointSizeF() - 1))
        self.current_background: QBrush | None = None
        """Background of bold rows (the current op), set by the view's owner."""

    def set_rows(self, rows: list[Row]) -> None:
        """Replace every row."""
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def update_rows(self, rows: list[Row], keep: int = 0) -> None:
        """Show ``rows``, repainting only the rows that differ.

        Rows are compared in place. When there are fewer rows than before, up to ``keep``
        rows stay as blank rows (pass the number of rows the view shows): inserting and
        removing rows costs more than the rest of a step, and a reset would repaint the whole
        view twice (now and after its delayed re-layout).
        """
        old_count = len(self.rows)
        count = max(len(rows), min(old_count, keep))
        if count < old_count:
            self.beginRemoveRows(QModelIndex(), count, old_count - 1)
            del self.rows[count:]
            self.endRemoveRows()
        if len(rows) < count:
            blank = Row(("",) * len(self.headers))
            rows = [*rows, *(blank for _ in range(count - len(rows)))]
        last = len(self.headers) - 1
        changed = [number for number, (old, new) in enumerate(zip(self.rows, rows)) if old != new]
        for number in changed:
            self.rows[number] = rows[number]
        if len(changed) > 4:  # one signal (the view repaints what it shows of the range)
            self.dataChanged.emit(self.index(changed[0], 0), self.index(changed[-1], last))
        else:
            for number in changed:
                self.dataChanged.emit(self.index(number, 0), self.index(number, last))
        if count > old_count:
            self.beginInsertRows(QModelIndex(), old_count, count - 1)
            self.rows.extend(rows[old_count:])
            self.endInsertRows()

    @property
    def filled_rows(self) -> list[Row]:
        """The rows shown, without the blank rows kept at the end."""
        rows = self.rows
        end = len(rows)
        while end and not any(rows[end - 1].texts) and rows[end - 1].target is None:
            end -= 1
        return rows[:end]

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
                return self.header_font
            return self.bold_font if row.bold else None
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
            return plain_tooltip(row.tooltip) or None  # shown as written, never as HTML
        return None


class RowsDelegate(QStyledItemDelegate):
    """Paints ``RowsModel`` cells from their ``Row`` in one call per cell.

    The default delegate asks the model for eight roles per cell (each a Python call), which
    dominates the cost of lists rebuilt on every step; texts are drawn prepared (``CellTexts``).
    """

    def __init__(self, model: RowsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.texts = CellTexts((QFont(), model.bold_font, model.header_font))
        if parent is not None:
            self.set_font(parent.font())

    def set_font(self, font: QFont) -> None:
        """Texts are laid out for the view's font (bold and header variants of it)."""
        bold = QFont(font)
        bold.setBold(True)
        header = QFont(bold)
        header.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        self.model.bold_font, self.model.header_font = bold, header
        self.texts.set_fonts((font, bold, header))

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
        text = row.texts[column] if column < len(row.texts) else ""
        if not text:
            return
        font = 2 if row.header else (1 if row.bold and column == 0 else 0)
        color = row.colors.get(column)
        if color is not None:
            painter.setPen(color)
        elif selected:
            painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        else:
            painter.setPen(palette.color(QPalette.ColorRole.Text))
        if font:
            painter.setFont(self.texts.fonts[font])
        self.texts.draw(
            painter,
            rect.adjusted(4, 0, -4, 0),
            text,
            font=font,
            right=column in row.align_right,
        )
        if font:
            painter.setFont(self.texts.fonts[0])


def compact_table(model: RowsModel) -> QTableView:
    """A list-like table over ``model``: row selection, no grid or row numbers, fixed rows.

    A table rather than a tree: its row geometry is arithmetic, so locating a row costs nothing.
    """
    view = QTableView()
    view.setFrameShape(QFrame.Shape.NoFrame)
    view.setModel(model)
    view.setItemDelegate(RowsDelegate(model, view))
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(False)  # blank rows kept at the end must not show
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


def visible_row_count(view: QTableView) -> int:
    """How many rows of ``view`` fit in its viewport (at least one)."""
    height = max(1, view.verticalHeader().defaultSectionSize())
    return max(1, view.viewport().height() // height + 1)
