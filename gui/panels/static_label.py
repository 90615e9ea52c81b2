"""``StaticLabel``: one line of text that changes on every step without re-laying out the window.

A ``QLabel`` asks its parent layouts to recompute on every ``setText``, which runs the whole
main window's layout again; this label keeps a fixed size hint and only repaints itself.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QSizePolicy, QWidget


class StaticLabel(QWidget):
    """Plain single-line text, elided to fit, in the palette's text colour or a chosen one."""

    def __init__(
        self,
        sample: str = "",
        *,
        align: Qt.AlignmentFlag = Qt.AlignmentFlag.AlignLeft,
        bold: bool = False,
        font: QFont | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if font is not None:
            self.setFont(font)
        if bold:
            bolder = QFont(self.font())
            bolder.setBold(True)
            self.setFont(bolder)
        self._text = ""
        self._color: QColor | None = None
        self._bold = False
        self._hint: QSize | None = None
        self._suffix = ""
        self._suffix_color: QColor | None = None
        self._align = align | Qt.AlignmentFlag.AlignVCenter
        self._sample = sample
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        # Opaque: a text change repaints this label only, not the panel behind it.
        self.setAutoFillBackground(True)

    def text(self) -> str:
        """The text shown."""
        return self._text

    def setText(self, text: str) -> None:
        """Show ``text``; repaints this label only."""
        if text != self._text:
            self._text = text
            self.update()

    def set_suffix(self, suffix: str, color: QColor | None = None) -> None:
        """Text drawn after the main text in ``color``, never bold (``op 24 · layers.1``)."""
        if suffix != self._suffix or color != self._suffix_color:
            self._suffix = suffix
            self._suffix_color = QColor(color) if color is not None else None
            self.update()

    def suffix(self) -> str:
        """The text shown after the main text."""
        return self._suffix

    def set_color(self, color: QColor | None, bold: bool | None = None) -> None:
        """Draw in ``color`` (None: the palette's text colour), bold or not (None: as is).

        Bold here changes only how the text is drawn, never the widget's size.
        """
        changed = color != self._color or (bold is not None and bold != self._bold)
        self._color = QColor(color) if color is not None else None
        if bold is not None:
            self._bold = bold
        if changed:
            self.update()

    def sizeHint(self) -> QSize:
        if self._hint is None:  # layouts ask often; the answer only changes with the font
            metrics = self.fontMetrics()
            self._hint = QSize(metrics.horizontalAdvance(self._sample) + 8, metrics.height() + 4)
        return self._hint

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._hint = None
        super().changeEvent(event)

    def minimumSizeHint(self) -> QSize:
        return QSize(self.fontMetrics().horizontalAdvance("…") + 8, self.fontMetrics().height() + 4)

    def paintEvent(self, event: QPaintEvent) -> None:
        if not self._text and not self._suffix:
            return
        painter = QPainter(self)
        color = self._color or self.palette().color(QPalette.ColorRole.WindowText)
        painter.setPen(color)
        if self._bold:
            font = QFont(self.font())
            font.setBold(True)
            painter.setFont(font)
        rect = QRectF(self.rect()).adjusted(2, 0, -2, 0)
        metrics = painter.fontMetrics()
        text = metrics.elidedText(self._text, Qt.TextElideMode.ElideRight, int(rect.width()))
        painter.drawText(rect, self._align, text)
        if self._suffix:
            used = metrics.horizontalAdvance(text) + metrics.horizontalAdvance("  ")
            painter.setFont(self.font())
            if self._suffix_color is not None:
                painter.setPen(self._suffix_color)
            rest = rect.adjusted(used, 0, 0, 0)
            suffix_metrics = painter.fontMetrics()
            room = int(rest.width())
            if room < min(suffix_metrics.horizontalAdvance(self._suffix), 8 * metrics.height()):
                painter.end()  # a few letters of a path say nothing: leave it to the tooltip
                return
            suffix = suffix_metrics.elidedText(  # middle: keeps both ends of paths
                self._suffix, Qt.TextElideMode.ElideMiddle, room
            )
            painter.drawText(
                rest, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, suffix
            )
        painter.end()
