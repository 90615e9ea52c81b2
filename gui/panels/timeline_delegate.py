"""Paints timeline cells straight from the model's cached row texts.

Qt's default delegate asks the model for eight roles per cell, each a Python call; repainting
the rows a step touches then costs more than everything else the step does. This delegate makes
one model call per cell, reads the selection from the cursor it is told about, keeps colours
per palette and draws prepared texts (``CellTexts``).
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget

from gui.panels.cell_text import CellTexts
from gui.panels.timeline_model import TimelineModel

_PADDING = 6
_ELIDE = {
    TimelineModel.OP: Qt.TextElideMode.ElideRight,
    TimelineModel.MODULE: Qt.TextElideMode.ElideMiddle,
    TimelineModel.OUTPUT: Qt.TextElideMode.ElideRight,
    TimelineModel.LOCATION: Qt.TextElideMode.ElideMiddle,
}
_ELIDE_BY_COLUMN = tuple(_ELIDE.get(c, Qt.TextElideMode.ElideRight) for c in range(6))


class TimelineDelegate(QStyledItemDelegate):
    """Draws one timeline cell from ``TimelineModel.cell`` (text, colours, weight)."""

    def __init__(
        self, model: TimelineModel, proxy: QSortFilterProxyModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = proxy
        self.current_row = -1
        """The model row of the current op, drawn selected (the view selects it too)."""
        font = parent.font() if parent is not None else QFont()
        self.texts = CellTexts((font, _bold(font)))
        self.set_palette(parent.palette() if parent is not None else QPalette())

    def set_palette(self, palette: QPalette) -> None:
        """Selection and text colours follow the view's palette."""
        role = QPalette.ColorRole
        self._highlight = palette.brush(role.Highlight)
        self._highlighted_text = palette.color(role.HighlightedText)
        self._text = palette.color(role.Text)
        self._alternate = palette.brush(role.AlternateBase)

    def set_font(self, font: QFont) -> None:
        """Texts are laid out for the view's font."""
        self.texts.set_fonts((font, _bold(font)))

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        view_row = index.row()
        row = self.proxy.mapToSource(index).row() if self.proxy.active else view_row
        column = index.column()
        text, foreground, background, bold, right = self.model.cell(row, column)
        rect = option.rect
        selected = row == self.current_row
        if selected:
            painter.fillRect(rect, self._highlight)
        elif background is not None:
            painter.fillRect(rect, background)
        elif view_row & 1:
            painter.fillRect(rect, self._alternate)
        if not text:
            return
        if selected and foreground is None:
            painter.setPen(self._highlighted_text)
        else:
            painter.setPen(foreground.color() if foreground is not None else self._text)
        if bold:
            painter.setFont(self.texts.fonts[1])
        self.texts.draw(
            painter,
            rect.adjusted(_PADDING, 0, -_PADDING, 0),
            text,
            font=1 if bold else 0,
            elide=_ELIDE_BY_COLUMN[column],
            right=right,
        )
        if bold:
            painter.setFont(self.texts.fonts[0])


def _bold(font: QFont) -> QFont:
    bold = QFont(font)
    bold.setBold(True)
    return bold
