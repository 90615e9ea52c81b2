"""The graph scene: turns a ``GroupLayout`` tree into items, updating only what changed (Qt).

Items mirror the group tree (a child's position is relative to its group), so opening a group
moves only that group's siblings and its ancestors' siblings; a group whose layout object is
unchanged is skipped entirely.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGraphicsItem, QGraphicsScene

from gui.graph.drawing import node_look
from gui.graph.hierarchy import ROOT
from gui.graph.items import EdgeItem, GroupItem, NodeItem
from gui.graph.layout import EdgeRoute, GroupLayout
from gui.graph.style import Style
from gui.graph.tooltips import edge_tooltip, node_tooltip
from gui.graph.visible import VisibleGraph


class GraphScene(QGraphicsScene):
    """Items for one trace's graph; the items' host."""

    sig_node_clicked = Signal(str)
    """A node was clicked (node id)."""
    sig_node_toggled = Signal(str)
    """The expand/collapse control of a group or series was clicked (node id)."""
    sig_node_menu_requested = Signal(str, QPointF)
    """A context menu was asked for on a node (node id, screen position)."""

    def __init__(self, style: Style, parent=None) -> None:
        super().__init__(parent)
        self.style = style
        self.visible: VisibleGraph | None = None
        self.layout: GroupLayout | None = None
        self.items_by_id: dict[str, QGraphicsItem] = {}
        self.root_item = GroupItem(self, ROOT, "", "", False, root=True)
        self.addItem(self.root_item)
        self._current: str | None = None
        self._selected: str | None = None
        self._hot_edges: list[EdgeItem] = []
        self.detail = True
        """False when zoomed so far out that open top-level groups draw only their box."""
        self.setBackgroundBrush(QColor(style.palette.background))
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.BspTreeIndex)

    # -- host API used by the items ---

    def node_clicked(self, node_id: str) -> None:
        self.sig_node_clicked.emit(node_id)

    def node_toggled(self, node_id: str) -> None:
        self.sig_node_toggled.emit(node_id)

    def node_menu(self, node_id: str, screen_pos: QPointF) -> None:
        self.sig_node_menu_requested.emit(node_id, screen_pos)

    def node_tooltip(self, node_id: str) -> str:
        return node_tooltip(self.visible, node_id) if self.visible else ""

    def edge_tooltip(self, route: EdgeRoute) -> str:
        return edge_tooltip(self.visible, route) if self.visible else ""

    # -- building ---

    def set_style(self, style: Style) -> None:
        self.style = style
        self.setBackgroundBrush(QColor(style.palette.background))
        self.update()

    def reset(self, visible: VisibleGraph | None) -> None:
        """Forget every item (a new trace)."""
        for item in [*self.root_item.child_nodes.values(), *self.root_item.edge_items]:
            self.removeItem(item)
        self.root_item.child_nodes.clear()
        self.root_item.edge_items.clear()
        self.root_item.layout = None
        self.items_by_id.clear()
        self._hot_edges.clear()
        self.visible = visible
        self.layout = None
        self._current = None
        self._selected = None

    def apply(self, layout: GroupLayout) -> None:
        """Show ``layout``, reusing items of unchanged groups and nodes."""
        self._apply_group(self.root_item, layout)
        self.layout = layout
        self._tune_index()
        current, self._current = self._current, None
        selected, self._selected = self._selected, None
        if current:
            self.set_current(current)
        if selected:
            self.set_selected(selected)

    def _apply_group(self, gitem: GroupItem, layout: GroupLayout) -> None:
        """Apply ``layout`` to ``gitem`` and then to its open groups, outermost first (a work
        list rather than recursion: module calls may nest thousands deep)."""
        pending = [(gitem, layout)]
        while pending:
            gitem, layout = pending.pop()
            pending.extend(self._apply_one_group(gitem, layout))

    def _apply_one_group(
        self, gitem: GroupItem, layout: GroupLayout
    ) -> list[tuple[GroupItem, GroupLayout]]:
        """Items for the nodes and edges of one group; returns its open child groups to do."""
        if gitem.layout is layout:
            return []
        inner: list[tuple[GroupItem, GroupLayout]] = []
        old = gitem.child_nodes
        new: dict[str, QGraphicsItem] = {}
        for box in layout.nodes:
            item = old.pop(box.id, None)
            is_group = box.content is not None
            if item is not None and isinstance(item, GroupItem) != is_group:
                self._drop(item)
                item = None
            if item is None:
                # top-level nodes are scene items of their own, so the scene's index (not a
                # walk over every descendant of one root item) finds what is in view
                holder = None if gitem is self.root_item else gitem.content
                item = (
                    self._make_group(box.id, holder) if is_group else self._make_node(box, holder)
                )
                if holder is None:
                    self.addItem(item)
                item.owner_group = gitem
                self.items_by_id[box.id] = item
                if is_group and gitem is self.root_item:
                    item.show_content(self.detail)
            elif isinstance(item, NodeItem):
                item.set_size(box.w, box.h)
            item.setPos(box.x, box.y)
            if is_group:
                item.set_size(box.w, box.h)
                inner.append((item, box.content))
            new[box.id] = item
        for item in old.values():
            self._drop(item)
        gitem.child_nodes = new
        for edge in gitem.edge_items:
            if edge in self._hot_edges:
                self._hot_edges.remove(edge)
            edge.setParentItem(None)
            self.removeItem(edge)
        holder = None if gitem is self.root_item else gitem.content
        gitem.edge_items = [EdgeItem(self, route, holder) for route in layout.edges]
        if holder is None:
            for edge in gitem.edge_items:
                self.addItem(edge)
        gitem.layout = layout
        return inner

    def _tune_index(self) -> None:
        """A BSP depth that fits the number of top-level items (Qt's automatic choice stays
        shallow after a scene grows, which made panning a 10k-node graph 4× slower)."""
        count = len(self.root_item.child_nodes) + len(self.root_item.edge_items)
        depth = min(16, max(5, math.ceil(math.log2(max(count, 1))) + 3))
        if depth != self.bspTreeDepth():
            self.setBspTreeDepth(depth)

    def _make_node(self, box, parent: QGraphicsItem) -> NodeItem:
        look = node_look(self.visible, box.id)
        return NodeItem(self, box.id, look, box.w, box.h, parent)

    def _make_group(self, node_id: str, parent: QGraphicsItem) -> GroupItem:
        node = self.visible.h.nodes[node_id]
        subtitle = node.type_name if node.type_name != node.label else ""
        if node.kind == "op":
            subtitle = "tf.function"
        return GroupItem(self, node_id, node.label, subtitle, node.nonfinite, parent)

    def _drop(self, item: QGraphicsItem) -> None:
        stack = [item]
        while stack:
            current = stack.pop()
            node_id = getattr(current, "node_id", None)
            if node_id is not None and self.items_by_id.get(node_id) is current:
                del self.items_by_id[node_id]
            if isinstance(current, GroupItem):
                stack.extend(current.child_nodes.values())
                for edge in current.edge_items:
                    if edge in self._hot_edges:
                        self._hot_edges.remove(edge)
        item.setParentItem(None)
        self.removeItem(item)

    def set_detail(self, on: bool) -> None:
        """Show (True) or hide (False) the inside of open top-level groups; hiding it keeps
        panning smooth over tens of thousands of items when they would be specks anyway."""
        if on == self.detail:
            return
        self.detail = on
        for item in self.root_item.child_nodes.values():
            if isinstance(item, GroupItem):
                item.show_content(on)

    # -- marks ---

    def set_current(self, node_id: str | None) -> QGraphicsItem | None:
        """Mark ``node_id`` as the current node (and its edges); returns its item."""
        if self._current == node_id:
            return self.items_by_id.get(node_id) if node_id else None
        old = self.items_by_id.get(self._current) if self._current else None
        if old is not None:
            old.set_flags(current=False)
        for edge in self._hot_edges:
            edge.set_highlight(False)
        self._hot_edges = []
        self._current = node_id
        item = self.items_by_id.get(node_id) if node_id else None
        if item is not None:
            item.set_flags(current=True)
            parent = getattr(item, "owner_group", None)
            if isinstance(parent, GroupItem):
                for edge in parent.edge_items:
                    if node_id in (edge.route.src, edge.route.dst):
                        edge.set_highlight(True)
                        self._hot_edges.append(edge)
        return item

    def set_selected(self, node_id: str | None) -> QGraphicsItem | None:
        """Mark a search hit or a chosen node (dashed ring)."""
        old = self.items_by_id.get(self._selected) if self._selected else None
        if old is not None:
            old.set_flags(selected=False)
        self._selected = node_id
        item = self.items_by_id.get(node_id) if node_id else None
        if item is not None:
            item.set_flags(selected=True)
        return item

    def item_rect(self, node_id: str) -> QRectF | None:
        """The scene rectangle of a visible node."""
        item = self.items_by_id.get(node_id)
        if item is None:
            return None
        if isinstance(item, NodeItem):
            return item.mapRectToScene(item.main_rect())
        return item.mapRectToScene(QRectF(0, 0, item.w, item.h))

    def count_items(self, kind: Callable[[QGraphicsItem], bool] | None = None) -> int:
        return sum(1 for i in self.items_by_id.values() if kind is None or kind(i))
