"""Toolbar icons drawn from small inline SVGs, coloured for the light or dark palette.

The shapes follow the glyphs VS Code users know from its debug toolbar (continue, step over,
into, out...). Keeping them inline avoids shipping icon files and lets one shape serve both
palettes and a greyed-out disabled state.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer

from gui.theme import is_dark

_STROKE = (
    'fill="none" stroke="{c}" stroke-width="2.2" stroke-linecap="round" stroke-linejoin="round"'
)

_SHAPES: dict[str, str] = {
    "continue": '<rect x="4" y="5" width="2.6" height="14" rx="0.6" fill="{c}"/>'
    '<path d="M9.5 5.2 L20 12 L9.5 18.8 Z" fill="{c}"/>',
    "step_over": f'<path d="M4.5 14 A7.6 7.6 0 0 1 18.6 9.6" {_STROKE}/>'
    f'<path d="M19.6 4.6 V10.2 H14" {_STROKE}/>'
    '<circle cx="12" cy="19" r="2.6" fill="{c}"/>',
    "step_into": f'<path d="M12 3 V13.5" {_STROKE}/><path d="M7.4 9.2 L12 13.8 L16.6 9.2" '
    f'{_STROKE}/><circle cx="12" cy="19.4" r="2.6" fill="{{c}}"/>',
    "step_out": f'<path d="M12 14 V3.8" {_STROKE}/><path d="M7.4 8.2 L12 3.6 L16.6 8.2" '
    f'{_STROKE}/><circle cx="12" cy="19.4" r="2.6" fill="{{c}}"/>',
    "step_back": f'<g transform="translate(24 0) scale(-1 1)"><path d="M4.5 14 A7.6 7.6 0 0 1 '
    f'18.6 9.6" {_STROKE}/><path d="M19.6 4.6 V10.2 H14" {_STROKE}/>'
    '<circle cx="12" cy="19" r="2.6" fill="{c}"/></g>',
    "restart": f'<path d="M18.8 13 A7 7 0 1 1 16.6 6.9" {_STROKE}/>'
    f'<path d="M17.6 2.8 V7.6 H12.8" {_STROKE}/>',
    "run_to_nonfinite": '<path d="M12 2.8 L22 20.2 H2 Z" fill="{c}" stroke="{c}" '
    'stroke-width="1.2" stroke-linejoin="round"/>'
    '<rect x="10.9" y="8.4" width="2.2" height="6.6" rx="1" fill="{bg}"/>'
    '<circle cx="12" cy="17.4" r="1.25" fill="{bg}"/>',
    "breakpoint": '<circle cx="12" cy="12" r="6.5" fill="{c}"/>',
    "break_on_nonfinite": '<circle cx="12" cy="12" r="8.5" fill="{c}"/>'
    '<rect x="10.9" y="6.5" width="2.2" height="7.4" rx="1" fill="{bg}"/>'
    '<circle cx="12" cy="16.6" r="1.3" fill="{bg}"/>',
    "open": f'<path d="M3 6.5 V18.5 H21 V8.5 H11.5 L9.5 6 H3.5 Z" {_STROKE}/>',
    "reload": f'<path d="M19 12 A7 7 0 1 1 16.9 7" {_STROKE}/>'
    f'<path d="M17.8 2.8 V7.6 H13" {_STROKE}/>',
    "export": f'<path d="M13 4 H20 V11" {_STROKE}/><path d="M20 4 L11 13" {_STROKE}/>'
    f'<path d="M17 14.5 V20 H4 V7 H9.5" {_STROKE}/>',
    "keyboard": f'<rect x="2.5" y="6" width="19" height="12" rx="2" {_STROKE}/>'
    '<path d="M6 10h1.5M9.5 10h1.5M13 10h1.5M16.5 10h1.5M7 14.2h10" '
    'stroke="{c}" stroke-width="1.8" stroke-linecap="round"/>',
}

# (light, dark) colour of each icon; "text" means the palette's text colour.
_COLORS: dict[str, tuple[str, str]] = {
    "continue": ("#388a34", "#89d185"),
    "restart": ("#388a34", "#89d185"),
    "step_over": ("#007acc", "#75beff"),
    "step_into": ("#007acc", "#75beff"),
    "step_out": ("#007acc", "#75beff"),
    "step_back": ("#007acc", "#75beff"),
    "run_to_nonfinite": ("#d1242f", "#ff6b6b"),
    "breakpoint": ("#e51400", "#f14c4c"),
    "break_on_nonfinite": ("#e51400", "#f14c4c"),
}

ICON_NAMES = tuple(_SHAPES)


def svg(name: str, color: str, background: str = "#ffffff") -> str:
    """The SVG text of icon ``name`` drawn in ``color``."""
    body = _SHAPES[name].replace("{c}", color).replace("{bg}", background)
    return f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">{body}</svg>'


def _pixmap(text: str, size: int) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(text.encode()))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return pixmap


@cache
def _icon(name: str, dark: bool, text_color: str, disabled_color: str, base: str) -> QIcon:
    light_color, dark_color = _COLORS.get(name, (text_color, text_color))
    color = dark_color if dark else light_color
    icon = QIcon()
    for size in (16, 20, 24, 32, 48):
        icon.addPixmap(_pixmap(svg(name, color, base), size), QIcon.Mode.Normal)
        icon.addPixmap(_pixmap(svg(name, disabled_color, base), size), QIcon.Mode.Disabled)
    return icon


def icon(name: str, palette: QPalette) -> QIcon:
    """Icon ``name`` coloured for ``palette`` (with a greyed disabled state)."""
    role = QPalette.ColorRole
    return _icon(
        name,
        is_dark(palette),
        palette.color(role.WindowText).name(),
        palette.color(QPalette.ColorGroup.Disabled, role.WindowText).name(),
        palette.color(role.Window).name(),
    )
