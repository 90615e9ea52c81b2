"""Colours, fonts and spacing of the graph, for the screen and for exported images (pure)."""

from __future__ import annotations

from dataclasses import dataclass, field

FONT_FAMILIES = (
    "Inter",
    "Segoe UI",
    "Roboto",
    "Helvetica Neue",
    "Arial",
    "DejaVu Sans",
    "sans-serif",
)
"""SVG ``font-family`` fallbacks; widths are measured with the font Qt picks (usually wider)."""


@dataclass(frozen=True, slots=True)
class Fonts:
    """Font sizes (pixels) and line heights of each text role."""

    title: float = 12.0
    caption: float = 10.5
    param: float = 10.0
    group_title: float = 12.0
    badge: float = 9.0
    line_title: float = 16.0
    line_caption: float = 14.0
    line_param: float = 13.0


@dataclass(frozen=True, slots=True)
class Spacing:
    """Geometry of nodes, groups and layers (pixels at zoom 1)."""

    pad_x: float = 12.0
    pad_y: float = 7.0
    min_node_width: float = 64.0
    node_radius: float = 7.0
    group_radius: float = 9.0
    header: float = 26.0
    group_pad: float = 16.0
    group_pad_bottom: float = 18.0
    node_gap: float = 26.0
    dummy_gap: float = 9.0
    layer_gap: float = 40.0
    stack_offset: float = 4.0
    """Offset of the stacked outlines drawn behind a collapsed group (1) or a series (2)."""
    root_margin: float = 24.0
    arrow_length: float = 7.0
    arrow_width: float = 6.0


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of one theme, as ``#rrggbb`` (or ``#rrggbbaa``) strings."""

    name: str
    background: str
    text: str
    muted: str
    edge: str
    edge_hover: str
    group_fill: str
    group_border: str
    group_header: str
    collapsed_fill: str
    collapsed_border: str
    current: str
    selection: str
    nonfinite: str
    port: str
    categories: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Op category → (fill, border)."""

    def category(self, name: str) -> tuple[str, str]:
        return self.categories.get(name, self.categories["other"])


LIGHT = Palette(
    name="light",
    background="#ffffff",
    text="#1f2328",
    muted="#59636e",
    edge="#8c959f",
    edge_hover="#0969da",
    group_fill="#f6f8fa",
    group_border="#c5ccd4",
    group_header="#e9edf1",
    collapsed_fill="#eef2f7",
    collapsed_border="#7d8896",
    current="#f08c00",
    selection="#0969da",
    nonfinite="#cf222e",
    port="#8c959f",
    categories={
        "layer": ("#dcebfd", "#3b7ddd"),
        "activation": ("#fde4e2", "#d9534f"),
        "normalization": ("#dcf5e4", "#2f9e5b"),
        "attention": ("#ece8fd", "#7c5ce0"),
        "pooling": ("#d7f5f8", "#1798ad"),
        "shape": ("#f3eee5", "#a38b62"),
        "math": ("#eef1f5", "#8793a3"),
        "reduction": ("#fcf5d2", "#b8900b"),
        "data": ("#fff4d9", "#c99a1c"),
        "call": ("#ffe9d6", "#e8701a"),
        "other": ("#f2f2f4", "#9b9ba5"),
    },
)

DARK = Palette(
    name="dark",
    background="#1e1f22",
    text="#e3e5e8",
    muted="#a2a8b0",
    edge="#7d8590",
    edge_hover="#58a6ff",
    group_fill="#25272b",
    group_border="#464b53",
    group_header="#2e3137",
    collapsed_fill="#2c3038",
    collapsed_border="#8b949e",
    current="#ffa828",
    selection="#58a6ff",
    nonfinite="#ff6b6b",
    port="#7d8590",
    categories={
        "layer": ("#1d3557", "#5b9cf0"),
        "activation": ("#4a2020", "#f07171"),
        "normalization": ("#173d28", "#4cc27a"),
        "attention": ("#33285a", "#a48ff5"),
        "pooling": ("#12434a", "#34c3d6"),
        "shape": ("#3b3327", "#c7ad80"),
        "math": ("#2d333b", "#98a3b3"),
        "reduction": ("#403813", "#e0b92a"),
        "data": ("#403719", "#e3b341"),
        "call": ("#4a2c14", "#f68f3e"),
        "other": ("#303136", "#a1a1aa"),
    },
)

PALETTES = {"light": LIGHT, "dark": DARK}


@dataclass(frozen=True, slots=True)
class Style:
    """Everything that decides how the graph looks."""

    palette: Palette = LIGHT
    fonts: Fonts = Fonts()
    spacing: Spacing = Spacing()
    font_family: str = "DejaVu Sans"
    """The family the text was measured with (first in the SVG font list)."""


def style_named(name: str, font_family: str = "DejaVu Sans") -> Style:
    """``light`` or ``dark`` (``ValueError`` for anything else)."""
    if name not in PALETTES:
        raise ValueError(f"unknown style {name!r}; choose light or dark")
    return Style(palette=PALETTES[name], font_family=font_family)


def is_dark_color(hex_color: str) -> bool:
    """True when a ``#rrggbb`` colour is dark (used to follow the application palette)."""
    value = hex_color.lstrip("#")[:6]
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return 0.299 * r + 0.587 * g + 0.114 * b < 128
