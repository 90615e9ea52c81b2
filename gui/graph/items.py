"""Scene items of the graph: nodes, open groups and edges (Qt).

Each item draws one element of a ``GroupLayout`` in its parent group's coordinates, with the
same geometry and text as the SVG writer (``drawing.py``). Painting is level-of-detail aware:
text is skipped when it would be too small to read, so zooming out over thousands of nodes
stays smooth. Items never change the model; they call their host (the scene controller).
"""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneContextMenuEvent,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from gui.graph.drawing import (
    BASELINE,
    GLYPH_SPACE,
    NodeLook,
    arrowhead,
    edge_segments,
    font_of,
    line_height,
)
from gui.graph.layout import EdgeRoute
from gui.graph.qt_fonts import make_font
from gui.graph.style import Style

TEXT_LOD = 0.42
"""Below this zoom, node text is not drawn (it would be unreadable anyway)."""
DETAIL_LOD = 0.18
"""Below this zoom, nodes are plain boxes and edges plain lines."""


class ItemHost(Protocol):
    """What items ask of the scene controller."""

    style: Style

    def node_clicked(self, node_id: str) -> None: ...
    def node_toggled(self, node_id: str) -> None: ...
    def node_tooltip(self, node_id: str) -> str: ...
    def edge_tooltip(self, route: EdgeRoute) -> str: ...
    def node_menu(self, node_id: str, screen_pos: QPointF) -> None: ...


def _lod(painter: QPainter) -> float:
    return QStyleOptionGraphicsItem.levelOfDetailFromTransform(painter.worldTransform())


def _color(value: str) -> QColor:
    return QColor(value)


class _BoxItem(QGraphicsItem):
    """What node and group items share: a sized box that can be current or selected."""

    w: float
    h: float
    current: bool
    selected: bool
    _bounds: QRectF

    def boundingRect(self) -> QRectF:
        return self._bounds

    def set_size(self, width: float, height: float) -> None:
        if (width, height) != (self.w, self.h):
            self.prepareGeometryChange()
            self.w, self.h = width, height
            self._bounds = QRectF(-5, -9, width + 10, height + 14)

    def set_flags(self, current: bool | None = None, selected: bool | None = None) -> None:
        if current is not None:
            self.current = current
        if selected is not None:
            self.selected = selected
        self.update()


class NodeItem(_BoxItem):
    """A leaf op, an input, a collapsed group or a folded series."""

    def __init__(
        self,
        host: ItemHost,
        node_id: str,
        look: NodeLook,
        width: float,
        height: float,
        parent: QGraphicsItem | None = None,
    ) -> None:
        super().__init__(parent)
        self.host = host
        self.node_id = node_id
        self.look = look
        self.w = width
        self.h = height
        self._bounds = QRectF(-5, -9, width + 10, height + 14)
        self.current = False
        self.selected = False
        self._hover = False
        self._press: QPointF | None = None
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setZValue(1)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    # -- geometry ---

    def main_rect(self) -> QRectF:
        stack = self.look.stacks * self.host.style.spacing.stack_offset
        return QRectF(0, 0, self.w - stack, self.h - stack)

    # -- painting ---

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        style = self.host.style
        pal = style.palette
        sp = style.spacing
        look = self.look
        lod = _lod(painter)
        if look.category == "group":
            fill, border = pal.collapsed_fill, pal.collapsed_border
        else:
            fill, border = pal.category(look.category)
        rect = self.main_rect()
        if look.nonfinite:
            border = pal.nonfinite
        if lod < DETAIL_LOD:
            painter.fillRect(rect, _color(border if self.current else fill))
            return
        radius = rect.height() / 2 if look.pill else sp.node_radius
        pen = QPen(_color(border), 1.2)
        for k in range(look.stacks, 0, -1):
            offset = k * sp.stack_offset
            painter.setPen(pen)
            painter.setBrush(_color(fill))
            painter.drawRoundedRect(rect.translated(offset, offset), radius, radius)
        if self.current:
            painter.setPen(QPen(_color(pal.current), 3.0))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), radius + 3, radius + 3)
        if self.selected:
            sel = QPen(_color(pal.selection), 2.0, Qt.PenStyle.DashLine)
            painter.setPen(sel)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            grow = 6 if self.current else 3
            painter.drawRoundedRect(rect.adjusted(-grow, -grow, grow, grow), radius + 4, radius + 4)
        pen = QPen(_color(border), 2.2 if (self._hover or look.nonfinite) else 1.2)
        painter.setPen(pen)
        painter.setBrush(_color(fill))
        painter.drawRoundedRect(rect, radius, radius)
        if lod < TEXT_LOD:
            return
        self._paint_text(painter, rect)
        if look.expandable:
            self._paint_glyph(painter, rect)
        if look.nonfinite:
            paint_badge(painter, style, rect.right() - 4, rect.top(), "NaN/Inf")

    def _paint_text(self, painter: QPainter, rect: QRectF) -> None:
        style = self.host.style
        pal = style.palette
        look = self.look
        y = rect.top() + style.spacing.pad_y
        x_center = rect.center().x() + (GLYPH_SPACE / 2 if look.expandable else 0.0)
        for line in look.lines:
            size, bold = font_of(line.role, style)
            font = make_font(style.font_family, size, bold)
            painter.setFont(font)
            painter.setPen(_color(pal.text if line.role == "title" else pal.muted))
            lh = line_height(line.role, style)
            baseline = y + lh / 2 + BASELINE * size
            width = painter.fontMetrics().horizontalAdvance(line.text)
            painter.drawText(QPointF(x_center - width / 2, baseline), line.text)
            y += lh

    def _paint_glyph(self, painter: QPainter, rect: QRectF) -> None:
        paint_glyph(painter, self.host.style, rect.left() + 6, rect.center().y(), expanded=False)

    # -- events ---

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if not self.toolTip():
            self.setToolTip(self.host.node_tooltip(self.node_id))
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hover = False
        self.update()

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._press = event.scenePos()
            event.accept()
        else:
            event.ignore()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        press, self._press = self._press, None
        if press is None or event.button() != Qt.MouseButton.LeftButton:
            return
        moved = event.scenePos() - press
        if abs(moved.x()) + abs(moved.y()) > 6:
            return
        if (self.look.expandable and self.look.kind != "call") or (
            self.look.kind == "call" and event.pos().x() < GLYPH_SPACE + 6
        ):
            self.host.node_toggled(self.node_id)
        else:
            self.host.node_clicked(self.node_id)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        self.host.node_menu(self.node_id, event.screenPos())
        event.accept()


class GroupItem(_BoxItem):
    """An open group: a framed box with a title bar; its children are child items."""

    def __init__(
        self,
        host: ItemHost,
        node_id: str,
        title: str,
        subtitle: str,
        nonfinite: bool,
        parent: QGraphicsItem | None = None,
        *,
        root: bool = False,
    ) -> None:
        super().__init__(parent)
        self.host = host
        self.node_id = node_id
        self.title = title
        self.subtitle = subtitle
        self.nonfinite = nonfinite
        self.root = root
        self.w = 0.0
        self.h = 0.0
        self._bounds = QRectF()
        self._header: tuple[float, QPainterPath] | None = None
        self.current = False
        self.selected = False
        self.layout = None
        self.child_nodes: dict[str, QGraphicsItem] = {}
        self.edge_items: list[EdgeItem] = []
        self._press: QPointF | None = None
        if root:
            self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)
            self.content: QGraphicsItem = self
        else:
            self.setAcceptHoverEvents(True)
            self.content = ContentItem(self)

    def show_content(self, on: bool) -> None:
        """Draw the children (True) or only this box (False, when zoomed far out)."""
        if self.content is not self and self.content.isVisible() != on:
            self.content.setVisible(on)
            self.update()

    def header_rect(self) -> QRectF:
        return QRectF(0, 0, self.w, self.host.style.spacing.header)

    def _header_path(self) -> QPainterPath:
        """The title bar: rounded on top, square below (the same outline as the SVG)."""
        if self._header is None or self._header[0] != self.w:
            sp = self.host.style.spacing
            r, w, hh = sp.group_radius, self.w, sp.header
            path = QPainterPath()
            path.moveTo(0, hh)
            path.lineTo(0, r)
            path.quadTo(0, 0, r, 0)
            path.lineTo(w - r, 0)
            path.quadTo(w, 0, w, r)
            path.lineTo(w, hh)
            path.closeSubpath()
            self._header = (w, path)
        return self._header[1]

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        if self.root:
            return
        style = self.host.style
        pal = style.palette
        sp = style.spacing
        lod = _lod(painter)
        rect = QRectF(0, 0, self.w, self.h)
        border = pal.nonfinite if self.nonfinite else pal.group_border
        painter.setPen(QPen(_color(border), 1.2))
        painter.setBrush(_color(pal.group_fill))
        painter.drawRoundedRect(rect, sp.group_radius, sp.group_radius)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_color(pal.group_header))
        painter.drawPath(self._header_path())
        painter.setPen(QPen(_color(border), 1.2))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect, sp.group_radius, sp.group_radius)
        if self.current:
            painter.setPen(QPen(_color(pal.current), 3.0))
            painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), sp.group_radius + 3, 12)
        if self.selected:
            painter.setPen(QPen(_color(pal.selection), 2.0, Qt.PenStyle.DashLine))
            painter.drawRoundedRect(rect.adjusted(-5, -5, 5, 5), sp.group_radius + 5, 14)
        if not self.content.isVisible():
            painter.fillRect(rect.adjusted(8, sp.header + 6, -8, -8), _color(pal.collapsed_fill))
        if lod < TEXT_LOD * 0.7:
            return
        paint_glyph(painter, style, 8, sp.header / 2, expanded=True)
        x = 8 + GLYPH_SPACE
        baseline = sp.header / 2 + BASELINE * style.fonts.group_title
        font = make_font(style.font_family, style.fonts.group_title, True)
        painter.setFont(font)
        painter.setPen(_color(pal.text))
        painter.drawText(QPointF(x, baseline), self.title)
        x += painter.fontMetrics().horizontalAdvance(self.title) + 8
        if self.subtitle:
            painter.setFont(make_font(style.font_family, style.fonts.caption, False))
            painter.setPen(_color(pal.muted))
            painter.drawText(QPointF(x, baseline), self.subtitle)
        if self.nonfinite:
            paint_badge(painter, style, self.w - 6, 0, "NaN/Inf")

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if not self.toolTip():
            self.setToolTip(self.host.node_tooltip(self.node_id))

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if not self.root and self.header_rect().contains(event.pos()):
            self._press = event.scenePos()
            event.accept()
        else:
            event.ignore()

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        press, self._press = self._press, None
        if press is None:
            return
        moved = event.scenePos() - press
        if abs(moved.x()) + abs(moved.y()) <= 6:
            self.host.node_toggled(self.node_id)

    def contextMenuEvent(self, event: QGraphicsSceneContextMenuEvent) -> None:
        if self.root or not self.header_rect().contains(event.pos()):
            event.ignore()
            return
        self.host.node_menu(self.node_id, event.screenPos())
        event.accept()


class ContentItem(QGraphicsItem):
    """An invisible holder of a group's children, hidden as one when zoomed far out."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)

    def boundingRect(self) -> QRectF:
        return QRectF()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        return


class EdgeItem(QGraphicsItem):
    """A routed edge with its arrowhead; hovering shows the tensors it carries."""

    def __init__(self, host: ItemHost, route: EdgeRoute, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.host = host
        self.route = route
        style = host.style
        self.path = QPainterPath()
        segments = edge_segments(route.points, route.arrow, style)
        if segments:
            self.path.moveTo(*segments[0].p0)
            for seg in segments:
                if seg.c1 is None or seg.c2 is None:
                    self.path.lineTo(*seg.p3)
                else:
                    self.path.cubicTo(QPointF(*seg.c1), QPointF(*seg.c2), QPointF(*seg.p3))
        self.arrow = QPolygonF()
        if route.arrow and len(route.points) >= 2:
            self.arrow = QPolygonF([QPointF(*p) for p in arrowhead(route.points, style)])
        self.highlight = False
        self._hover = False
        self._shape: QPainterPath | None = None
        self._bounds = (
            self.path.boundingRect().united(self.arrow.boundingRect()).adjusted(-4, -4, 4, 4)
        )
        self.setAcceptHoverEvents(True)
        self.setZValue(0)

    def boundingRect(self) -> QRectF:
        return self._bounds

    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(8)
            self._shape = stroker.createStroke(self.path)
        return self._shape

    def set_highlight(self, on: bool) -> None:
        if on != self.highlight:
            self.highlight = on
            self.update()

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        pal = self.host.style.palette
        hot = self._hover or self.highlight
        color = _color(pal.edge_hover if hot else pal.edge)
        width = 2.2 if hot else (1.3 if self.route.count == 1 else 1.8)
        painter.setPen(QPen(color, width))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self.path)
        if not self.arrow.isEmpty() and _lod(painter) >= DETAIL_LOD:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QBrush(color))
            painter.drawPolygon(self.arrow)

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if not self.toolTip():
            self.setToolTip(self.host.edge_tooltip(self.route))
        self._hover = True
        self.update()

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self._hover = False
        self.update()


def paint_glyph(painter: QPainter, style: Style, x: float, cy: float, expanded: bool) -> None:
    """The expand (+) / collapse (−) box at ``x`` (left edge), centred on ``cy``."""
    pal = style.palette
    size = 10.0
    box = QRectF(x, cy - size / 2, size, size)
    painter.setPen(QPen(_color(pal.muted), 1.1))
    painter.setBrush(_color(pal.background))
    painter.drawRoundedRect(box, 2, 2)
    painter.drawLine(QPointF(box.left() + 2.5, cy), QPointF(box.right() - 2.5, cy))
    if not expanded:
        painter.drawLine(
            QPointF(box.center().x(), box.top() + 2.5),
            QPointF(box.center().x(), box.bottom() - 2.5),
        )


def paint_badge(painter: QPainter, style: Style, right: float, cy: float, text: str) -> None:
    """A red pill with ``text``, right-aligned at ``right`` and centred on ``cy``."""
    pal = style.palette
    font = make_font(style.font_family, style.fonts.badge, True)
    painter.setFont(font)
    width = painter.fontMetrics().horizontalAdvance(text) + 10
    height = style.fonts.badge + 6
    rect = QRectF(right - width, cy - height / 2, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(_color(pal.nonfinite))
    painter.drawRoundedRect(rect, height / 2, height / 2)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(QPointF(rect.left() + 5, cy + BASELINE * style.fonts.badge), text)
