"""Light and dark palettes, fonts and the few semantic colours panels draw with.

The application palette follows the system's colour scheme (Qt 6.5+ reports it) unless the
user picks one. Panels never store colours: they ask ``colors(self.palette())`` when they paint,
and Qt sends them a palette-change event when the scheme changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

ThemeMode = Literal["system", "light", "dark"]
THEME_MODES: tuple[ThemeMode, ...] = ("system", "light", "dark")

UI_POINT_SIZE = 10
CODE_POINT_SIZE = 10


@dataclass(frozen=True)
class ThemeColors:
    """Semantic colours for one palette."""

    dark: bool
    accent: QColor
    """Current op / selection accent (VS Code's blue)."""
    current_line: QColor
    """Background of the current source line."""
    current_marker: QColor
    """The arrow in the gutter and the cursor in the timeline."""
    breakpoint: QColor
    nonfinite: QColor
    """NaN/Inf markers and counts."""
    nonfinite_background: QColor
    muted: QColor
    """Secondary text (module paths, locations)."""
    gutter_background: QColor
    gutter_text: QColor
    border: QColor
    code_style: str
    """The pygments style for source highlighting."""
    spans: tuple[QColor, ...]
    """Module span colours, one per depth (cycled)."""


_LIGHT = ThemeColors(
    dark=False,
    accent=QColor("#005fb8"),
    current_line=QColor("#fff3bf"),
    current_marker=QColor("#d18616"),
    breakpoint=QColor("#e51400"),
    nonfinite=QColor("#d1242f"),
    nonfinite_background=QColor("#ffe1e1"),
    muted=QColor("#6e7781"),
    gutter_background=QColor("#f6f8fa"),
    gutter_text=QColor("#8c959f"),
    border=QColor("#d0d7de"),
    code_style="vs",
    spans=tuple(
        QColor(c) for c in ("#b6d4f2", "#c5e4c1", "#f4d9a6", "#dccbf0", "#f2c1cf", "#bfe3e0")
    ),
)

_DARK = ThemeColors(
    dark=True,
    accent=QColor("#3794ff"),
    current_line=QColor("#4b4217"),
    current_marker=QColor("#ffcc00"),
    breakpoint=QColor("#f14c4c"),
    nonfinite=QColor("#ff6b6b"),
    nonfinite_background=QColor("#5a1d1d"),
    muted=QColor("#9da5b4"),
    gutter_background=QColor("#1e1e1e"),
    gutter_text=QColor("#6e7681"),
    border=QColor("#3c3c3c"),
    code_style="github-dark",
    spans=tuple(
        QColor(c) for c in ("#264f78", "#2f5a33", "#6b4f1d", "#4b3a6b", "#6b2f45", "#1f5a57")
    ),
)


def is_dark(palette: QPalette) -> bool:
    """True for a palette whose window colour is dark."""
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def colors(palette: QPalette) -> ThemeColors:
    """The semantic colours that go with ``palette``."""
    return _DARK if is_dark(palette) else _LIGHT


def light_palette() -> QPalette:
    """A clean light palette (VS Code Light-like greys, blue accent)."""
    return _palette(
        window="#f3f3f3",
        base="#ffffff",
        alternate="#f7f7f7",
        text="#1f2328",
        disabled="#a0a0a0",
        button="#f3f3f3",
        highlight="#cce4ff",
        highlighted_text="#1f2328",
        mid="#d0d7de",
        link="#005fb8",
        tooltip="#ffffff",
    )


def dark_palette() -> QPalette:
    """A dark palette (VS Code Dark-like)."""
    return _palette(
        window="#252526",
        base="#1e1e1e",
        alternate="#232323",
        text="#d4d4d4",
        disabled="#6b6b6b",
        button="#2d2d30",
        highlight="#04395e",
        highlighted_text="#ffffff",
        mid="#3c3c3c",
        link="#3794ff",
        tooltip="#252526",
    )


def _palette(**c: str) -> QPalette:
    p = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    p.setColor(role.Window, QColor(c["window"]))
    p.setColor(role.WindowText, QColor(c["text"]))
    p.setColor(role.Base, QColor(c["base"]))
    p.setColor(role.AlternateBase, QColor(c["alternate"]))
    p.setColor(role.Text, QColor(c["text"]))
    p.setColor(role.Button, QColor(c["button"]))
    p.setColor(role.ButtonText, QColor(c["text"]))
    p.setColor(role.Highlight, QColor(c["highlight"]))
    p.setColor(role.HighlightedText, QColor(c["highlighted_text"]))
    p.setColor(role.ToolTipBase, QColor(c["tooltip"]))
    p.setColor(role.ToolTipText, QColor(c["text"]))
    p.setColor(role.PlaceholderText, QColor(c["disabled"]))
    p.setColor(role.Link, QColor(c["link"]))
    p.setColor(role.Mid, QColor(c["mid"]))
    p.setColor(role.Midlight, QColor(c["mid"]))
    p.setColor(role.Light, QColor(c["base"]))
    p.setColor(role.Dark, QColor(c["mid"]))
    p.setColor(role.Shadow, QColor(c["mid"]))
    for disabled_role in (role.WindowText, role.Text, role.ButtonText):
        p.setColor(group.Disabled, disabled_role, QColor(c["disabled"]))
    return p


def system_prefers_dark() -> bool:
    """True when the platform reports a dark colour scheme."""
    app = QGuiApplication.instance()
    if app is None:
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, mode: ThemeMode = "system") -> None:
    """Use the Fusion style with the light or dark palette that ``mode`` selects."""
    if mode not in THEME_MODES:
        raise ValueError(f"theme must be one of {THEME_MODES}, not {mode!r}")
    if app.style().name().lower() != "fusion":
        # Replacing the style while widgets exist crashed Qt 6.12 at the next show (a widget
        # polished with the deleted style): set it once, before the window (see create_app).
        app.setStyle("Fusion")
    dark = system_prefers_dark() if mode == "system" else mode == "dark"
    app.setPalette(dark_palette() if dark else light_palette())
    app.setProperty("opscope_theme", mode)


def follow_system_theme(app: QApplication) -> None:
    """Re-apply the palette when the system scheme changes and the user chose "system"."""

    def on_change(_scheme: object) -> None:
        if app.property("opscope_theme") == "system":
            apply_theme(app, "system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(on_change)


def ui_font() -> QFont:
    """The application font: the system UI font at a readable size."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    if font.pointSizeF() < UI_POINT_SIZE:
        font.setPointSizeF(UI_POINT_SIZE)
    return font


def code_font() -> QFont:
    """The monospace font for source code and numbers."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setPointSizeF(CODE_POINT_SIZE)
    return font
