"""``CellTexts``: table cell texts laid out once and drawn as ``QStaticText``.

``QPainter.drawText`` with a rectangle and alignment flags shapes the text again on every call
(about 30 µs a cell here); a prepared ``QStaticText`` draws in a fifth of that. The delegates
that repaint rows on every step keep their elided texts here.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics, QPainter, QStaticText, QTransform

MAX_ENTRIES = 20_000
"""The cache is emptied when it grows past this many texts (a long scroll of a big trace)."""


class CellTexts:
    """Elided, prepared texts by ``(text, width, elide mode, font)``; draws them in a cell."""

    def __init__(self, fonts: tuple[QFont, ...]) -> None:
        self._cache: dict[tuple[str, int, int, int], tuple[QStaticText, float, float]] = {}
        self.set_fonts(fonts)

    def set_fonts(self, fonts: tuple[QFont, ...]) -> None:
        """The fonts texts are drawn in, by index (a font change drops every prepared text)."""
        self.fonts = tuple(QFont(font) for font in fonts)
        self._metrics = tuple(QFontMetrics(font) for font in self.fonts)
        self._cache.clear()

    def draw(
        self,
        painter: QPainter,
        rect: QRect,
        text: str,
        *,
        font: int = 0,
        elide: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
        right: bool = False,
    ) -> None:
        """Draw ``text`` in ``rect`` (vertically centred, elided to fit) with font ``font``.

        The painter's font must be ``fonts[font]`` (a prepared text is laid out for it).
        """
        width = rect.width()
        key = (text, width, int(elide.value), font)
        entry = self._cache.get(key)
        if entry is None:
            if len(self._cache) >= MAX_ENTRIES:
                self._cache.clear()
            shown = self._metrics[font].elidedText(text, elide, width)
            static = QStaticText(shown)
            static.setTextFormat(Qt.TextFormat.PlainText)
            static.prepare(QTransform(), self.fonts[font])
            size = static.size()
            entry = self._cache[key] = (static, size.width(), size.height())
        static, text_width, text_height = entry
        x = rect.x() + width - text_width if right else rect.x()
        painter.drawStaticText(QPointF(x, rect.y() + (rect.height() - text_height) / 2), static)
