"""Paints timeline cells straight from the model's cached row texts.

Qt's default delegate asks the model for eight roles per cell, each a Python call; repainting
the rows a step touches then costs more than everything else the step does. This delegate makes
one call per cell and draws what the default delegate would: background, selection, text.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSortFilterProxyModel, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from gui.panels.timeline_model import TimelineModel

_PADDING = 6
_ELIDE = {
    TimelineModel.OP: Qt.TextElideMode.ElideRight,
    TimelineModel.MODULE: Qt.TextElideMode.ElideMiddle,
    TimelineModel.OUTPUT: Qt.TextElideMode.ElideRight,
    TimelineModel.LOCATION: Qt.TextElideMode.ElideMiddle,
}


class TimelineDelegate(QStyledItemDelegate):
    """Draws one timeline cell from ``TimelineModel.cell`` (text, colours, weight)."""

    def __init__(
        self, model: TimelineModel, proxy: QSortFilterProxyModel, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.proxy = proxy
        self._elided: dict[tuple[str, int, bool, int], str] = {}

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row = self.proxy.mapToSource(index).row()
        column = index.column()
        text, foreground, background, bold, right = self.model.cell(row, column)
        rect: QRect = option.rect
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.fillRect(rect, palette.brush(QPalette.ColorRole.Highlight))
        elif background is not None:
            painter.fillRect(rect, background)
        elif option.features & QStyleOptionViewItem.ViewItemFeature.Alternate:
            painter.fillRect(rect, palette.brush(QPalette.ColorRole.AlternateBase))
        if not text:
            return
        painter.save()
        if bold:
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
        if selected and foreground is None:
            painter.setPen(palette.color(QPalette.ColorRole.HighlightedText))
        else:
            painter.setPen(
                foreground.color()
                if foreground is not None
                else palette.color(QPalette.ColorRole.Text)
            )
        area = rect.adjusted(_PADDING, 0, -_PADDING, 0)
        key = (text, area.width(), bold, column)
        shown = self._elided.get(key)
        if shown is None:
            if len(self._elided) > 20_000:
                self._elided.clear()
            shown = self._elided[key] = painter.fontMetrics().elidedText(
                text, _ELIDE.get(column, Qt.TextElideMode.ElideRight), area.width()
            )
        align = Qt.AlignmentFlag.AlignRight if right else Qt.AlignmentFlag.AlignLeft
        painter.drawText(area, align | Qt.AlignmentFlag.AlignVCenter, shown)
        painter.restore()
