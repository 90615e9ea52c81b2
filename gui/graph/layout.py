"""Layered layout of the compound graph, one expanded group at a time (pure, no Qt).

The Model Explorer design: only the direct children of an expanded group are laid out, with
edges lifted to that level and ports where edges enter or leave the group. Layering and the
order inside each layer come from ``igraph.Graph.layout_sugiyama`` (C core, with dummy vertices
for long edges), cached per group and visible children. Coordinates are our own: nodes keep
igraph's order, get their real widths, and are pulled towards the median of their neighbours
(alternating down/up sweeps, each solved exactly for "closest to the wish, never overlapping"
by pool-adjacent-violators). Placements are cached per group, children and child sizes, so
expanding a group recomputes only that group and its ancestors.

Every coordinate is local to the enclosing group's box (origin at its top-left corner).
"""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import igraph

from gui.graph.drawing import Measure, estimate_width, node_look, node_size
from gui.graph.hierarchy import ROOT
from gui.graph.style import Style
from gui.graph.visible import IN_PORT, OUT_PORT, LiftedEdge, ViewState, VisibleGraph

Point = tuple[float, float]


@dataclass(frozen=True, slots=True, eq=False)
class NodeBox:
    """A visible child placed in its group (top-left corner, size)."""

    id: str
    x: float
    y: float
    w: float
    h: float
    content: GroupLayout | None = None
    """The child's own layout when it is an expanded group."""

    @property
    def cx(self) -> float:
        return self.x + self.w / 2


@dataclass(frozen=True, slots=True, eq=False)
class EdgeRoute:
    """A drawn edge: knots from the source's bottom to the target's top (local coordinates)."""

    src: str
    dst: str
    points: tuple[Point, ...]
    tensors: tuple[tuple[tuple[int, ...], str], ...]
    count: int

    @property
    def arrow(self) -> bool:
        """Edges into an output port continue outside the group and end there."""
        return self.dst != OUT_PORT


@dataclass(frozen=True, slots=True, eq=False)
class GroupLayout:
    """The laid-out content of one expanded group (or of the root).

    Identity matters: an unchanged group keeps the same object between layouts, so the view
    can skip it. ``eq=False`` makes hashing and comparison by identity.
    """

    id: str
    width: float
    height: float
    nodes: tuple[NodeBox, ...]
    edges: tuple[EdgeRoute, ...]
    in_port: float | None
    """x of the input port on the top border (None when nothing enters)."""
    out_port: float | None
    title_width: float = 0.0

    def box(self, node_id: str) -> NodeBox | None:
        for box in self.nodes:
            if box.id == node_id:
                return box
        return None


@dataclass(frozen=True, slots=True)
class _Ordering:
    """igraph's layering of one group's children: per node its layer, per layer the items."""

    layers: tuple[int, ...]
    rows: tuple[tuple[tuple[int, int], ...], ...]
    """Per layer, items in order: ``(node index, -1)`` or ``(edge index, dummy number)``."""
    desired: dict[tuple[int, int], float]
    """igraph's x for each item (a starting point for our placement)."""
    edges: tuple[tuple[int, int], ...]
    dummies: tuple[tuple[tuple[int, int], ...], ...]
    """Per edge, its dummy items top to bottom."""


@dataclass(slots=True)
class _Frame:
    """A group being laid out: its children, edges, and the parts laid out so far."""

    group_id: str
    children: tuple[str, ...]
    edges: tuple[LiftedEdge, ...]
    parts: list[object] = field(default_factory=list)
    next: int = 0
    """Index of the next child to lay out."""


class LayoutEngine:
    """Lays out a hierarchy for a view state; keeps per-group caches between calls."""

    def __init__(
        self, visible: VisibleGraph, style: Style | None = None, measure: Measure | None = None
    ) -> None:
        self.visible = visible
        self.style = style or Style()
        self.measure = measure or estimate_width
        self.stats: Counter[str] = Counter()
        """Cache hits and misses: ``order_hit``, ``order_miss``, ``place_hit``, ``place_miss``."""
        self._orders: dict[tuple[str, tuple[str, ...]], _Ordering] = {}
        self._places: dict[tuple, GroupLayout] = {}
        self._sizes: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    # -- public ---

    def layout(
        self,
        state: ViewState,
        root: str = ROOT,
        progress: Callable[[int], None] | None = None,
    ) -> GroupLayout:
        """The layout of ``root`` (the whole graph by default) with its expanded descendants.

        ``progress`` is called with the number of groups laid out so far (for big exports).
        """
        with self._lock:
            counter = [0]
            return self._group(root, state, counter, progress)

    def leaf_size(self, node_id: str) -> tuple[float, float]:
        """Size of a collapsed node (cached: labels never change)."""
        size = self._sizes.get(node_id)
        if size is None:
            size = node_size(node_look(self.visible, node_id), self.style, self.measure)
            self._sizes[node_id] = size
        return size

    # -- one group ---

    def _group(
        self,
        group_id: str,
        state: ViewState,
        counter: list[int],
        progress: Callable[[int], None] | None,
    ) -> GroupLayout:
        """Lay out ``group_id`` and its expanded descendants, innermost groups first.

        A loop with its own stack rather than recursion: module calls may nest thousands deep.
        """
        visible = self.visible

        def enter(gid: str) -> _Frame:
            return _Frame(gid, visible.children(gid, state), visible.edges(gid, state))

        stack = [enter(group_id)]
        while True:
            frame = stack[-1]
            children = frame.children
            while frame.next < len(children):
                child = children[frame.next]
                if child in visible.series or not visible.is_expanded(child, state):
                    frame.parts.append(self.leaf_size(child))
                    frame.next += 1
                    continue
                break
            if frame.next < len(children):  # an expanded child: lay it out first
                stack.append(enter(children[frame.next]))
                continue
            stack.pop()
            result = self._finish_group(frame, counter, progress)
            if not stack:
                return result
            stack[-1].parts.append(result)
            stack[-1].next += 1

    def _finish_group(
        self, frame: _Frame, counter: list[int], progress: Callable[[int], None] | None
    ) -> GroupLayout:
        group_id, children, edges, parts = frame.group_id, frame.children, frame.edges, frame.parts
        counter[0] += 1
        if progress is not None and counter[0] % 50 == 0:
            progress(counter[0])
        key = (group_id, children, tuple(parts))
        cached = self._places.get(key)
        if cached is not None:
            self.stats["place_hit"] += 1
            return cached
        self.stats["place_miss"] += 1
        ordering = self._ordering(group_id, children, edges)
        result = self._place(group_id, children, edges, parts, ordering)
        self._places[key] = result
        return result

    def _ordering(
        self, group_id: str, children: tuple[str, ...], edges: tuple[LiftedEdge, ...]
    ) -> _Ordering:
        key = (group_id, children)
        cached = self._orders.get(key)
        if cached is not None:
            self.stats["order_hit"] += 1
            return cached
        self.stats["order_miss"] += 1
        ordering = order_layers(children, edges)
        self._orders[key] = ordering
        return ordering

    def _place(
        self,
        group_id: str,
        children: tuple[str, ...],
        edges: tuple[LiftedEdge, ...],
        parts: Sequence[object],
        ordering: _Ordering,
    ) -> GroupLayout:
        sp = self.style.spacing
        n = len(children)
        sizes: list[tuple[float, float]] = []
        for part in parts:
            sizes.append((part.width, part.height) if isinstance(part, GroupLayout) else part)
        sizes.append((0.0, 0.0))  # input port
        sizes.append((0.0, 0.0))  # output port
        xs = place_rows(ordering, [w for w, _ in sizes], sp.node_gap, sp.dummy_gap)
        is_root = group_id == ROOT
        top = sp.root_margin if is_root else sp.header + sp.group_pad * 0.75
        side = sp.root_margin if is_root else sp.group_pad
        layer_count = len(ordering.rows)
        heights = [0.0] * layer_count
        for index, layer in enumerate(ordering.layers):
            if index < n + 2:
                heights[layer] = max(heights[layer], sizes[index][1])
        layer_y = [top]
        for layer in range(1, layer_count):
            port_only = heights[layer - 1] == 0 or heights[layer] == 0
            gap = sp.layer_gap * 0.5 if port_only else sp.layer_gap
            layer_y.append(layer_y[-1] + heights[layer - 1] + gap)
        content_bottom = layer_y[-1] + heights[-1] if layer_count else top
        # horizontal extent
        left = min((xs[item] - self._item_width(item, sizes) / 2 for item in xs), default=0.0)
        right = max((xs[item] + self._item_width(item, sizes) / 2 for item in xs), default=0.0)
        title_width = 0.0
        if not is_root:
            title_width = self._title_width(group_id)
        content_width = right - left
        inner = max(content_width, title_width - 2 * side + 8)
        shift = side - left + (inner - content_width) / 2
        width = inner + 2 * side
        height = max(content_bottom, top) + (sp.root_margin if is_root else sp.group_pad_bottom)
        boxes: list[NodeBox] = []
        centers: dict[int, tuple[float, float, float, float]] = {}
        for index in range(n):
            w, h = sizes[index]
            layer = ordering.layers[index]
            cx = xs[(index, -1)] + shift
            y0 = layer_y[layer] + (heights[layer] - h) / 2
            part = parts[index]
            boxes.append(
                NodeBox(
                    children[index],
                    cx - w / 2,
                    y0,
                    w,
                    h,
                    part if isinstance(part, GroupLayout) else None,
                )
            )
            centers[index] = (cx - w / 2, y0, w, h)
        in_x = xs[(n, -1)] + shift if any(e.src == IN_PORT for e in edges) else None
        out_x = xs[(n + 1, -1)] + shift if any(e.dst == OUT_PORT for e in edges) else None
        if in_x is not None:
            centers[n] = (in_x, 0.0, 0.0, 0.0)
        if out_x is not None:
            centers[n + 1] = (out_x, height, 0.0, 0.0)
        routes = self._route(
            children, edges, ordering, xs, shift, layer_y, heights, centers, boxes, n
        )
        return GroupLayout(
            group_id, width, height, tuple(boxes), tuple(routes), in_x, out_x, title_width
        )

    @staticmethod
    def _item_width(item: tuple[int, int], sizes: list[tuple[float, float]]) -> float:
        return sizes[item[0]][0] if item[1] < 0 else 0.0

    def _title_width(self, group_id: str) -> float:
        from gui.graph.drawing import GLYPH_SPACE

        node = self.visible.h.nodes.get(group_id)
        if node is None:
            return 0.0
        text = f"{node.label}  {node.type_name}" if node.type_name else node.label
        fonts = self.style.fonts
        return (
            self.measure(text, fonts.group_title, True) + GLYPH_SPACE + 2 * self.style.spacing.pad_x
        )

    def _route(
        self,
        children: tuple[str, ...],
        edges: tuple[LiftedEdge, ...],
        ordering: _Ordering,
        xs: dict[tuple[int, int], float],
        shift: float,
        layer_y: list[float],
        heights: list[float],
        frames: dict[int, tuple[float, float, float, float]],
        boxes: list[NodeBox],
        n: int,
    ) -> list[EdgeRoute]:
        index_of = {child: i for i, child in enumerate(children)}
        index_of[IN_PORT] = n
        index_of[OUT_PORT] = n + 1
        # knots between the end points: dummy rows, entered at the top and left at the bottom
        inner: list[list[Point]] = []
        for number, _ in enumerate(edges):
            knots: list[Point] = []
            for item in ordering.dummies[number] if number < len(ordering.dummies) else ():
                layer = self._dummy_layer(ordering, item)
                x = xs[item] + shift
                knots.append((x, layer_y[layer]))
                knots.append((x, layer_y[layer] + heights[layer]))
            s, d = index_of[edges[number].src], index_of[edges[number].dst]
            if ordering.layers[s] > ordering.layers[d]:
                knots.reverse()
            inner.append(knots)
        # spread the ends along each node's border, ordered by where the edges come from
        out_slots: dict[int, list[tuple[float, int]]] = {}
        in_slots: dict[int, list[tuple[float, int]]] = {}
        for number, edge in enumerate(edges):
            s, d = index_of[edge.src], index_of[edge.dst]
            d_frame, s_frame = frames.get(d), frames.get(s)
            if d_frame is None or s_frame is None:
                continue
            toward_d = inner[number][0][0] if inner[number] else d_frame[0] + d_frame[2] / 2
            toward_s = inner[number][-1][0] if inner[number] else s_frame[0] + s_frame[2] / 2
            out_slots.setdefault(s, []).append((toward_d, number))
            in_slots.setdefault(d, []).append((toward_s, number))
        starts = self._spread(out_slots, frames, boxes, n, bottom=True)
        ends = self._spread(in_slots, frames, boxes, n, bottom=False)
        routes = []
        for number, edge in enumerate(edges):
            if number not in starts or number not in ends:
                continue
            points = (starts[number], *inner[number], ends[number])
            routes.append(EdgeRoute(edge.src, edge.dst, points, edge.tensors, edge.count))
        return routes

    @staticmethod
    def _dummy_layer(ordering: _Ordering, item: tuple[int, int]) -> int:
        edge_index, k = item
        src = ordering.edges[edge_index][0]
        return ordering.layers[src] + 1 + k

    @staticmethod
    def _spread(
        slots: dict[int, list[tuple[float, int]]],
        frames: dict[int, tuple[float, float, float, float]],
        boxes: list[NodeBox],
        n: int,
        bottom: bool,
    ) -> dict[int, Point]:
        points: dict[int, Point] = {}
        for index, entries in slots.items():
            x0, y0, w, h = frames[index]
            if index >= n:  # a port: one point
                for _, number in entries:
                    points[number] = (x0, y0)
                continue
            y = y0 + h if bottom else y0
            content = boxes[index].content
            port = None
            if content is not None:
                port = content.out_port if bottom else content.in_port
            if port is not None:
                for _, number in entries:
                    points[number] = (x0 + port, y)
                continue
            entries.sort()
            count = len(entries)
            step = min(12.0, w * 0.6 / max(count - 1, 1))
            center = x0 + w / 2
            for k, (_, number) in enumerate(entries):
                points[number] = (center + (k - (count - 1) / 2) * step, y)
        return points


# -- layering and ordering ---


def order_layers(children: Sequence[str], edges: Sequence[LiftedEdge]) -> _Ordering:
    """Layer the children (longest path, inputs pushed down next to their first consumer) and
    order each layer with igraph's Sugiyama crossing reduction.

    Only vertices that have edges go to igraph: with isolated vertices present, igraph 1.0
    hands the dummy points of long edges to the wrong edges. The routing is checked anyway and
    replaced by straight interpolation for any edge whose points do not fit its layers.
    """
    n = len(children)
    index_of = {child: i for i, child in enumerate(children)}
    index_of[IN_PORT] = n
    index_of[OUT_PORT] = n + 1
    pairs = tuple((index_of[e.src], index_of[e.dst]) for e in edges)
    total = n + 2
    layers = _longest_path_layers(total, pairs, n)
    connected = sorted({i for pair in pairs for i in pair})
    local = {vertex: k for k, vertex in enumerate(connected)}
    graph = igraph.Graph(
        n=len(connected), edges=[(local[s], local[d]) for s, d in pairs], directed=True
    )
    if layers is None:
        result = graph.layout_sugiyama()
        coords = result.coords  # a fresh copy on every access: read it once
        layers = [0] * total
        for vertex, k in local.items():
            layers[vertex] = round(coords[k][1])
    else:
        result = graph.layout_sugiyama(layers=[layers[v] for v in connected])
        coords = result.coords
    x_of = {vertex: coords[k][0] for vertex, k in local.items()}
    routing = result.edge_routing
    rows: dict[int, list[tuple[float, tuple[int, int]]]] = {}
    desired: dict[tuple[int, int], float] = {}
    right = max(x_of.values(), default=-1.0)
    for index in range(total):
        if index >= n and index not in local:
            continue  # an unused port
        if index not in x_of:  # an isolated child: at the right end of its layer
            right += 1.0
            x_of[index] = right
        item = (index, -1)
        rows.setdefault(layers[index], []).append((x_of[index], item))
        desired[item] = x_of[index]
    dummies: list[tuple[tuple[int, int], ...]] = []
    fixed_edges = []
    for number, (s, d) in enumerate(pairs):
        lo, hi = layers[s], layers[d]
        if hi < lo:
            s, d, lo, hi = d, s, hi, lo  # a reversed edge of a cycle: route it downwards
        points = [tuple(p) for p in (routing[number] if number < len(routing) else [])]
        points.sort(key=lambda p: p[1])
        wanted = list(range(lo + 1, hi))
        if [round(y) for _, y in points] != wanted:
            x0, x1 = x_of[s], x_of[d]
            points = [(x0 + (x1 - x0) * (y - lo) / (hi - lo), y) for y in wanted]
        items = []
        for k, (x, y) in enumerate(points):
            item = (number, k)
            rows.setdefault(round(y), []).append((x, item))
            desired[item] = x
            items.append(item)
        dummies.append(tuple(items))
        fixed_edges.append((s, d))
    depth = max(rows) + 1 if rows else 1
    ordered_rows = tuple(
        tuple(item for _, item in sorted(rows.get(layer, []), key=lambda t: t[0]))
        for layer in range(depth)
    )
    return _Ordering(tuple(layers), ordered_rows, desired, tuple(fixed_edges), tuple(dummies))


def _longest_path_layers(total: int, pairs: Sequence[tuple[int, int]], n: int) -> list[int] | None:
    """Layers by longest path from the sources (None when the graph has a cycle).

    The input port sits alone on top, the output port below everything, and a node without
    inputs moves down to just above its first consumer so constants do not float at the top.
    """
    succs: list[list[int]] = [[] for _ in range(total)]
    preds: list[list[int]] = [[] for _ in range(total)]
    for s, d in pairs:
        succs[s].append(d)
        preds[d].append(s)
    indeg = [len(p) for p in preds]
    queue = [i for i in range(total) if indeg[i] == 0 and i != n + 1]
    topo: list[int] = []
    while queue:
        node = queue.pop()
        topo.append(node)
        for d in succs[node]:
            indeg[d] -= 1
            if indeg[d] == 0 and d != n + 1:
                queue.append(d)
    if len(topo) != total - 1:
        return None
    has_in = bool(succs[n])
    layers = [0] * total
    for node in topo:
        base = 1 if (has_in and node != n) else 0
        layers[node] = max([layers[p] + 1 for p in preds[node]] + [base])
    for node in reversed(topo):
        if node < n and not preds[node] and succs[node]:
            layers[node] = max(min(layers[d] for d in succs[node]) - 1, 1 if has_in else 0)
    layers[n + 1] = max([*layers[:n], 0]) + 1 if preds[n + 1] else 0
    if not has_in:
        layers[n] = 0
    return layers


# -- horizontal placement ---


def place_rows(
    ordering: _Ordering, widths: Sequence[float], node_gap: float, dummy_gap: float
) -> dict[tuple[int, int], float]:
    """Centre x of every item: igraph's order kept, real widths, no overlaps, and each node
    as close as possible to the median of its neighbours in the next/previous layer."""
    rows = ordering.rows

    def width(item: tuple[int, int]) -> float:
        return widths[item[0]] if item[1] < 0 else 0.0

    def gap(a: tuple[int, int], b: tuple[int, int]) -> float:
        real = (a[1] < 0) + (b[1] < 0)
        return node_gap if real == 2 else dummy_gap if real == 1 else dummy_gap * 0.8

    unit = max((sum(widths) / max(len(widths), 1)) + node_gap, 40.0)
    xs: dict[tuple[int, int], float] = {}
    for row in rows:
        wishes = [ordering.desired.get(item, 0.0) * unit for item in row]
        xs.update(_pack(row, wishes, width, gap))
    up: dict[tuple[int, int], list[tuple[int, int]]] = {}
    down: dict[tuple[int, int], list[tuple[int, int]]] = {}
    layers = ordering.layers
    for number, (s, d) in enumerate(ordering.edges):
        chain = [(s, -1), *ordering.dummies[number], (d, -1)]
        if len(chain) == 2 and layers[d] - layers[s] != 1:
            continue
        for a, b in itertools.pairwise(chain):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    sweeps = [range(1, len(rows)), range(len(rows) - 2, -1, -1)] * 3
    sweeps.append(range(1, len(rows)))
    for number, sweep in enumerate(sweeps):
        neighbours = up if number % 2 == 0 else down
        for layer in sweep:
            row = rows[layer]
            wishes = []
            for item in row:
                near = neighbours.get(item)
                if near:
                    values = sorted(xs[o] for o in near)
                    mid = len(values) // 2
                    wish = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
                else:
                    wish = xs[item]
                wishes.append(wish)
            xs.update(_pack(row, wishes, width, gap))
    return xs


def _pack(
    row: Sequence[tuple[int, int]],
    wishes: Sequence[float],
    width: Callable[[tuple[int, int]], float],
    gap: Callable[[tuple[int, int], tuple[int, int]], float],
) -> dict[tuple[int, int], float]:
    """Positions closest (least squares) to ``wishes`` that keep the row's order and gaps.

    With offsets ``S_i`` (the minimum distance from the first item), ``x_i - S_i`` must be
    non-decreasing: an isotonic regression, solved by pool-adjacent-violators.
    """
    if not row:
        return {}
    offsets = [0.0]
    for a, b in itertools.pairwise(row):
        offsets.append(offsets[-1] + (width(a) + width(b)) / 2 + gap(a, b))
    targets = [w - s for w, s in zip(wishes, offsets)]
    weights = [1.0 if item[1] < 0 else 0.4 for item in row]
    blocks: list[list[float]] = []  # [mean, weight, count]
    for t, wt in zip(targets, weights):
        blocks.append([t, wt, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, w2, c2 = blocks.pop()
            m1, w1, c1 = blocks.pop()
            total = w1 + w2
            blocks.append([(m1 * w1 + m2 * w2) / total, total, c1 + c2])
    result: dict[tuple[int, int], float] = {}
    i = 0
    for mean, _, count in blocks:
        for _ in range(count):
            result[row[i]] = mean + offsets[i]
            i += 1
    return result
