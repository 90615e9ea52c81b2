"""What each node shows and how edges bend: shared by the screen items and the SVG writer.

Pure, no Qt. Text widths come from a ``measure(text, size_px, bold) -> width`` callable: Qt
font metrics on screen and in exports, an estimate in tests.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from gui.graph.hierarchy import HNode
from gui.graph.labels import (
    elide,
    format_shape,
    op_category,
    param_label,
    short_op_name,
    split_index,
)
from gui.graph.style import Style
from gui.graph.visible import Series, VisibleGraph

Measure = Callable[[str, float, bool], float]
TextRole = Literal["title", "caption", "param"]
Point = tuple[float, float]
MAX_PARAM_LINES = 3
MAX_LABEL_CHARS = 40
BASELINE = 0.36
"""Baseline below a text line's centre, in font sizes (screen and SVG use the same)."""


def estimate_width(text: str, size: float, bold: bool = False) -> float:
    """A font-free width estimate (used when no font metrics are at hand, e.g. in tests)."""
    return len(text) * size * (0.64 if bold else 0.6)


@dataclass(frozen=True, slots=True)
class TextLine:
    text: str
    role: TextRole


@dataclass(frozen=True, slots=True)
class NodeLook:
    """Everything drawn for a leaf, a collapsed group or a series."""

    kind: str
    """``op``, ``source``, ``fn_node``, ``group``, ``series`` (``call`` for tf.function calls)."""
    lines: tuple[TextLine, ...]
    category: str
    stacks: int
    """Outlines drawn behind the node: 0 for ops, 1 for a collapsed group, 2 for a series."""
    nonfinite: bool
    expandable: bool
    pill: bool = False
    """Drawn as a pill (program inputs)."""


def node_look(visible: VisibleGraph, node_id: str) -> NodeLook:
    """The look of the visible node ``node_id`` when it is not expanded."""
    series = visible.series.get(node_id)
    if series is not None:
        return _series_look(visible, series)
    node = visible.h.nodes[node_id]
    if node.kind == "op":
        return _op_look(node)
    if node.kind == "source":
        caption = " ".join(p for p in (format_shape(node.shape), node.dtype) if p)
        return NodeLook(
            "source",
            (TextLine(elide(node.label, MAX_LABEL_CHARS), "title"), TextLine(caption, "caption")),
            "data",
            0,
            node.nonfinite,
            False,
            pill=True,
        )
    if node.kind == "fn_node":
        lines = [TextLine(elide(node.label, MAX_LABEL_CHARS), "title")]
        caption = [node.caption] if node.caption and node.caption != node.label else []
        if node.shape is not None:
            caption.append(format_shape(node.shape))
        if caption:
            lines.append(TextLine(" · ".join(caption), "caption"))
        return NodeLook(
            "fn_node", tuple(lines), op_category(node.type_name), 0, node.nonfinite, False
        )
    caption = node.type_name if node.type_name and node.type_name != node.label else ""
    lines = [TextLine(elide(node.label, MAX_LABEL_CHARS), "title")]
    if caption:
        lines.append(TextLine(elide(caption, MAX_LABEL_CHARS), "caption"))
    return NodeLook("group", tuple(lines), "group", 1, node.nonfinite, True)


def _op_look(node: HNode) -> NodeLook:
    lines = [TextLine(elide(node.label, MAX_LABEL_CHARS), "title")]
    caption = [elide(node.caption, 28)] if node.caption else []
    if node.shape is not None:
        caption.append(format_shape(node.shape))
    if caption:
        lines.append(TextLine(" · ".join(caption), "caption"))
    params = node.params
    for name, shape in params[:MAX_PARAM_LINES]:
        lines.append(TextLine(elide(param_label(name, shape), MAX_LABEL_CHARS), "param"))
    if len(params) > MAX_PARAM_LINES:
        lines[-1] = TextLine(f"+{len(params) - MAX_PARAM_LINES + 1} more inputs", "param")
    kind = "call" if node.expandable else "op"
    return NodeLook(
        kind,
        tuple(lines),
        op_category(node.type_name, node.category_kind),
        1 if node.expandable else 0,
        node.nonfinite,
        node.expandable,
    )


def series_title(visible: VisibleGraph, series: Series) -> str:
    """``layers.0–11`` for indexed members, ``cell ×5`` style names for repeated calls."""
    first = visible.h.nodes[series.members[0]]
    last = visible.h.nodes[series.members[-1]]
    a, b = split_index(first.label), split_index(last.label)
    if a and b and a[0] == b[0]:
        return f"{first.label}–{b[1]}"
    if first.module_path == last.module_path:
        return first.label.split(":", 1)[0]
    return f"{first.label} … {last.label}"


def _series_look(visible: VisibleGraph, series: Series) -> NodeLook:
    first = visible.h.nodes[series.members[0]]
    nonfinite = visible.nonfinite(series.id)
    caption = f"{first.type_name} ×{len(series.members)}"
    return NodeLook(
        "series",
        (
            TextLine(elide(series_title(visible, series), MAX_LABEL_CHARS), "title"),
            TextLine(caption, "caption"),
        ),
        "group",
        2,
        nonfinite,
        True,
    )


def op_display_name(op_type: str) -> str:
    return short_op_name(op_type)


# -- sizes ---


def font_of(role: TextRole, style: Style) -> tuple[float, bool]:
    """``(size_px, bold)`` of a text role."""
    fonts = style.fonts
    if role == "title":
        return fonts.title, True
    if role == "caption":
        return fonts.caption, False
    return fonts.param, False


def line_height(role: TextRole, style: Style) -> float:
    fonts = style.fonts
    return {"title": fonts.line_title, "caption": fonts.line_caption}.get(role, fonts.line_param)


GLYPH_SPACE = 16.0
"""Room left of the title for the expand (+) glyph."""


def node_size(look: NodeLook, style: Style, measure: Measure) -> tuple[float, float]:
    """Width and height of a leaf / collapsed node, stacked outlines included."""
    sp = style.spacing
    width = 0.0
    height = 2 * sp.pad_y
    for line in look.lines:
        size, bold = font_of(line.role, style)
        width = max(width, measure(line.text, size, bold))
        height += line_height(line.role, style)
    width += 2 * sp.pad_x + (GLYPH_SPACE if look.expandable else 0.0)
    if look.pill:
        width += height * 0.4
    width = max(width, sp.min_node_width)
    stack = look.stacks * sp.stack_offset
    return math.ceil(width + stack), math.ceil(height + stack)


# -- edges ---


@dataclass(frozen=True, slots=True)
class Segment:
    """A straight line (``c1``/``c2`` None) or a cubic Bézier from ``p0`` to ``p3``."""

    p0: Point
    p3: Point
    c1: Point | None = None
    c2: Point | None = None


def edge_segments(points: Sequence[Point], arrow: bool, style: Style) -> list[Segment]:
    """Smooth vertical S-curves through the knots of a routed edge.

    The last segment stops at the arrowhead's base so the line does not poke through its tip.
    """
    segments: list[Segment] = []
    pts = list(points)
    if len(pts) < 2:
        return segments
    if arrow:
        (x0, y0), (x1, y1) = pts[-2], pts[-1]
        back = min(style.spacing.arrow_length, abs(y1 - y0) * 0.5)
        pts[-1] = (x1, y1 - back if y1 >= y0 else y1 + back)
    for (x0, y0), (x1, y1) in itertools.pairwise(pts):
        if abs(x1 - x0) < 0.5:
            segments.append(Segment((x0, y0), (x1, y1)))
            continue
        bend = max(abs(y1 - y0) * 0.5, 12.0)
        sign = 1.0 if y1 >= y0 else -1.0
        segments.append(Segment((x0, y0), (x1, y1), (x0, y0 + sign * bend), (x1, y1 - sign * bend)))
    return segments


def arrowhead(points: Sequence[Point], style: Style) -> tuple[Point, Point, Point]:
    """The triangle at the end of an edge: tip, left base corner, right base corner."""
    (_x0, y0), (x1, y1) = points[-2], points[-1]
    direction = 1.0 if y1 >= y0 else -1.0
    length, width = style.spacing.arrow_length, style.spacing.arrow_width
    base_y = y1 - direction * length
    return (x1, y1), (x1 - width / 2, base_y), (x1 + width / 2, base_y)


def svg_path_data(segments: Sequence[Segment]) -> str:
    """The ``d`` attribute of an SVG path for these segments."""
    if not segments:
        return ""
    parts = [f"M{segments[0].p0[0]:.1f},{segments[0].p0[1]:.1f}"]
    for seg in segments:
        if seg.c1 is None or seg.c2 is None:
            parts.append(f"L{seg.p3[0]:.1f},{seg.p3[1]:.1f}")
        else:
            parts.append(
                f"C{seg.c1[0]:.1f},{seg.c1[1]:.1f} {seg.c2[0]:.1f},{seg.c2[1]:.1f} "
                f"{seg.p3[0]:.1f},{seg.p3[1]:.1f}"
            )
    return "".join(parts)
