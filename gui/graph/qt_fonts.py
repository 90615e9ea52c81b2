"""Qt font metrics as the layout's ``measure`` callable, and the matching QFonts."""

from __future__ import annotations

import threading
from functools import lru_cache

from PySide6.QtGui import QFont, QFontInfo, QFontMetricsF, QGuiApplication


def default_family() -> str:
    """The application's font family (what the screen and exports are measured with)."""
    app = QGuiApplication.instance()
    family = QFontInfo(app.font()).family() if app is not None else ""
    return family or "DejaVu Sans"


@lru_cache(maxsize=64)
def make_font(family: str, size: float, bold: bool) -> QFont:
    """A pixel-sized font (pixel sizes keep screen, SVG and PNG in agreement)."""
    font = QFont(family)
    font.setPixelSize(max(1, round(size)))
    font.setWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
    font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
    return font


class QtMeasure:
    """``measure(text, size_px, bold) -> width`` with real font metrics, cached.

    Font metrics are reentrant, not thread-safe, so each thread gets its own metrics objects.
    """

    def __init__(self, family: str | None = None) -> None:
        self.family = family or default_family()
        self._local = threading.local()
        self._widths: dict[tuple[str, float, bool], float] = {}

    def _metrics(self, size: float, bold: bool) -> QFontMetricsF:
        cache = getattr(self._local, "metrics", None)
        if cache is None:
            cache = self._local.metrics = {}
        metrics = cache.get((size, bold))
        if metrics is None:
            font = QFont(self.family)
            font.setPixelSize(max(1, round(size)))
            font.setWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
            metrics = cache[(size, bold)] = QFontMetricsF(font)
        return metrics

    def __call__(self, text: str, size: float, bold: bool = False) -> float:
        key = (text, size, bold)
        width = self._widths.get(key)
        if width is None:
            width = self._metrics(size, bold).horizontalAdvance(text)
            self._widths[key] = width
        return width
