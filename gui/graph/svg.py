"""SVG writer: a laid-out graph as a standalone SVG with real, selectable text (pure).

The same ``GroupLayout`` and ``drawing`` helpers that the screen items use: nodes are rounded
rectangles with ``<text>`` for op names, module names, shapes and parameters; each node and
edge carries a ``<title>`` (shown as a tooltip by browsers) with op type, module, shape and
dtype. Only SVG Tiny features are used (no CSS, no markers), so Qt's renderer draws the same
picture for PNG export.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html import unescape
from xml.sax.saxutils import escape, quoteattr

from gui.graph.drawing import (
    BASELINE,
    GLYPH_SPACE,
    Measure,
    arrowhead,
    edge_segments,
    font_of,
    line_height,
    node_look,
    svg_path_data,
)
from gui.graph.layout import EdgeRoute, GroupLayout, NodeBox
from gui.graph.style import FONT_FAMILIES, Style
from gui.graph.tooltips import edge_tooltip, node_tooltip
from gui.graph.visible import VisibleGraph

_TAG = re.compile(r"<[^>]+>")
_ID_CHARS = re.compile(r"[^A-Za-z0-9_.-]")


def _plain(html: str) -> str:
    """Tooltip HTML as plain text lines for an SVG ``<title>``."""
    text = html.replace("</tr>", "\n").replace("</td><td>", ": ").replace("</b>", "\n")
    text = text.replace("<div", "\n<div")
    lines = [unescape(_TAG.sub("", line)).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _num(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


class SvgWriter:
    """Writes one layout; call ``write(layout)`` for the document text."""

    def __init__(
        self,
        visible: VisibleGraph,
        style: Style,
        measure: Measure,
        *,
        current: str | None = None,
        title: str = "OpScope graph",
        progress: Callable[[int], None] | None = None,
    ) -> None:
        self.visible = visible
        self.style = style
        self.measure = measure
        self.current = current
        self.title = title
        self.progress = progress
        self._out: list[str] = []
        self._ids: set[str] = set()
        self._count = 0

    # -- document ---

    def write(
        self, layout: GroupLayout, view: tuple[float, float, float, float] | None = None
    ) -> str:
        """The SVG text of ``layout``; ``view`` = (x, y, w, h) crops to a region."""
        x, y, w, h = view if view else (0.0, 0.0, layout.width, layout.height)
        pal = self.style.palette
        families = [
            self.style.font_family,
            *[f for f in FONT_FAMILIES if f != self.style.font_family],
        ]
        family = ", ".join(f"'{f}'" if " " in f else f for f in families)
        out = self._out = []
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
        out.append(
            f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" '
            f'width="{_num(w)}" height="{_num(h)}" '
            f'viewBox="{_num(x)} {_num(y)} {_num(w)} {_num(h)}" '
            f"font-family={quoteattr(family)}>\n"
        )
        out.append(f"<title>{escape(self.title)}</title>\n")
        out.append(
            f'<rect x="{_num(x)}" y="{_num(y)}" width="{_num(w)}" height="{_num(h)}" '
            f'fill="{pal.background}"/>\n'
        )
        self._group_content(layout)
        out.append("</svg>\n")
        return "".join(out)

    def _id(self, node_id: str) -> str:
        base = "n-" + _ID_CHARS.sub("_", node_id)
        candidate, k = base, 1
        while candidate in self._ids:
            k += 1
            candidate = f"{base}-{k}"
        self._ids.add(candidate)
        return candidate

    def _tick(self) -> None:
        self._count += 1
        if self.progress is not None and self._count % 500 == 0:
            self.progress(self._count)

    # -- groups ---

    def _group_content(self, layout: GroupLayout) -> None:
        for route in layout.edges:
            self._edge(route)
        for box in layout.nodes:
            if box.content is not None:
                self._open_group(box)
            else:
                self._node(box)

    def _open_group(self, box: NodeBox) -> None:
        style, out = self.style, self._out
        pal, sp = style.palette, style.spacing
        node = self.visible.h.nodes[box.id]
        border = pal.nonfinite if node.nonfinite else pal.group_border
        r = sp.group_radius
        w, h = box.w, box.h
        out.append(
            f'<g id="{self._id(box.id)}" class="group" '
            f'transform="translate({_num(box.x)},{_num(box.y)})">\n'
        )
        out.append(f"<title>{escape(_plain(node_tooltip(self.visible, box.id)))}</title>\n")
        out.append(
            f'<rect width="{_num(w)}" height="{_num(h)}" rx="{_num(r)}" '
            f'fill="{pal.group_fill}" stroke="{border}" stroke-width="1.2"/>\n'
        )
        hh = sp.header
        out.append(
            f'<path d="M0,{_num(hh)}V{_num(r)}Q0,0 {_num(r)},0H{_num(w - r)}'
            f'Q{_num(w)},0 {_num(w)},{_num(r)}V{_num(hh)}Z" fill="{pal.group_header}"/>\n'
        )
        out.append(
            f'<rect width="{_num(w)}" height="{_num(h)}" rx="{_num(r)}" fill="none" '
            f'stroke="{border}" stroke-width="1.2"/>\n'
        )
        self._glyph(8, hh / 2, expanded=True)
        baseline = hh / 2 + BASELINE * style.fonts.group_title
        x = 8 + GLYPH_SPACE
        out.append(
            f'<text x="{_num(x)}" y="{_num(baseline)}" font-size="{_num(style.fonts.group_title)}" '
            f'font-weight="bold" fill="{pal.text}">{escape(node.label)}</text>\n'
        )
        subtitle = node.type_name if node.type_name != node.label else ""
        if node.kind == "op":
            subtitle = "tf.function"
        if subtitle:
            x += self.measure(node.label, style.fonts.group_title, True) + 8
            out.append(
                f'<text x="{_num(x)}" y="{_num(baseline)}" font-size="{_num(style.fonts.caption)}" '
                f'fill="{pal.muted}">{escape(subtitle)}</text>\n'
            )
        if node.nonfinite:
            self._badge(w - 6, 0, "NaN/Inf")
        self._tick()
        self._group_content(box.content)
        out.append("</g>\n")

    # -- nodes ---

    def _node(self, box: NodeBox) -> None:
        style, out = self.style, self._out
        pal, sp = style.palette, style.spacing
        look = node_look(self.visible, box.id)
        if look.category == "group":
            fill, border = pal.collapsed_fill, pal.collapsed_border
        else:
            fill, border = pal.category(look.category)
        if look.nonfinite:
            border = pal.nonfinite
        stack = look.stacks * sp.stack_offset
        w, h = box.w - stack, box.h - stack
        radius = h / 2 if look.pill else sp.node_radius
        out.append(
            f'<g id="{self._id(box.id)}" class="node" '
            f'transform="translate({_num(box.x)},{_num(box.y)})">\n'
        )
        out.append(f"<title>{escape(_plain(node_tooltip(self.visible, box.id)))}</title>\n")
        rect = (
            f'width="{_num(w)}" height="{_num(h)}" rx="{_num(radius)}" fill="{fill}" '
            f'stroke="{border}"'
        )
        for k in range(look.stacks, 0, -1):
            offset = k * sp.stack_offset
            out.append(f'<rect x="{_num(offset)}" y="{_num(offset)}" {rect} stroke-width="1.2"/>\n')
        width = 2.2 if look.nonfinite else 1.2
        out.append(f'<rect {rect} stroke-width="{width}"/>\n')
        if box.id == self.current:
            out.append(
                f'<rect x="-3" y="-3" width="{_num(w + 6)}" height="{_num(h + 6)}" '
                f'rx="{_num(radius + 3)}" fill="none" stroke="{pal.current}" stroke-width="3"/>\n'
            )
        y = sp.pad_y
        cx = w / 2 + (GLYPH_SPACE / 2 if look.expandable else 0.0)
        for line in look.lines:
            size, bold = font_of(line.role, style)
            lh = line_height(line.role, style)
            color = pal.text if line.role == "title" else pal.muted
            weight = ' font-weight="bold"' if bold else ""
            out.append(
                f'<text x="{_num(cx)}" y="{_num(y + lh / 2 + BASELINE * size)}" '
                f'font-size="{_num(size)}"{weight} fill="{color}" text-anchor="middle">'
                f"{escape(line.text)}</text>\n"
            )
            y += lh
        if look.expandable:
            self._glyph(6, h / 2, expanded=False)
        if look.nonfinite:
            self._badge(w - 4, 0, "NaN/Inf")
        out.append("</g>\n")
        self._tick()

    def _glyph(self, x: float, cy: float, expanded: bool) -> None:
        pal = self.style.palette
        size = 10.0
        top = cy - size / 2
        d = f"M{_num(x + 2.5)},{_num(cy)}H{_num(x + size - 2.5)}"
        if not expanded:
            d += f"M{_num(x + size / 2)},{_num(top + 2.5)}V{_num(top + size - 2.5)}"
        self._out.append(
            f'<rect x="{_num(x)}" y="{_num(top)}" width="{_num(size)}" height="{_num(size)}" '
            f'rx="2" fill="{pal.background}" stroke="{pal.muted}" stroke-width="1.1"/>'
            f'<path d="{d}" stroke="{pal.muted}" stroke-width="1.1" fill="none"/>\n'
        )

    def _badge(self, right: float, cy: float, text: str) -> None:
        style = self.style
        size = style.fonts.badge
        width = self.measure(text, size, True) + 10
        height = size + 6
        left = right - width
        self._out.append(
            f'<rect x="{_num(left)}" y="{_num(cy - height / 2)}" width="{_num(width)}" '
            f'height="{_num(height)}" rx="{_num(height / 2)}" fill="{style.palette.nonfinite}"/>'
            f'<text x="{_num(left + 5)}" y="{_num(cy + BASELINE * size)}" font-size="{_num(size)}" '
            f'font-weight="bold" fill="#ffffff">{escape(text)}</text>\n'
        )

    # -- edges ---

    def _edge(self, route: EdgeRoute) -> None:
        style = self.style
        pal = style.palette
        segments = edge_segments(route.points, route.arrow, style)
        if not segments:
            return
        width = 1.3 if route.count == 1 else 1.8
        out = self._out
        out.append('<g class="edge">')
        out.append(f"<title>{escape(_plain(edge_tooltip(self.visible, route)))}</title>")
        out.append(
            f'<path d="{svg_path_data(segments)}" fill="none" stroke="{pal.edge}" '
            f'stroke-width="{width}"/>'
        )
        if route.arrow:
            tip, left, right = arrowhead(route.points, style)
            out.append(
                f'<path d="M{_num(tip[0])},{_num(tip[1])}L{_num(left[0])},{_num(left[1])}'
                f'L{_num(right[0])},{_num(right[1])}Z" fill="{pal.edge}"/>'
            )
        out.append("</g>\n")


def write_svg(
    visible: VisibleGraph,
    layout: GroupLayout,
    style: Style,
    measure: Measure,
    *,
    view: tuple[float, float, float, float] | None = None,
    current: str | None = None,
    title: str = "OpScope graph",
    progress: Callable[[int], None] | None = None,
) -> str:
    """The SVG document of a laid-out graph (see the module docstring)."""
    writer = SvgWriter(visible, style, measure, current=current, title=title, progress=progress)
    return writer.write(layout, view)
