"""What the view shows for an expansion state: visible children, series, lifted edges.

Pure logic, no Qt. A ``ViewState`` says which groups are expanded and which members of
foldable runs are shown one by one; every other run of consecutive identical calls is folded
into one series node (``series:{first}:{last}``, drawn "×N"). Edges between leaves are lifted
to the visible children of each expanded group; an edge that enters or leaves the group goes to
its ``IN_PORT`` / ``OUT_PORT``. Results are cached per group and state of that group.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

from gui.graph.hierarchy import ROOT, Hierarchy

IN_PORT = "<in>"
OUT_PORT = "<out>"
MAX_EDGE_TENSORS = 4
"""Distinct (shape, dtype) pairs kept per lifted edge for its tooltip."""
MAX_OPEN_DEPTH = 200
"""Groups nested deeper than this are drawn closed even when expanded. Each open level is a
box inside a box (two nested scene items); Qt's cost grows faster than linearly with the
nesting (1,000 levels take seconds to draw, 5,000 minutes), while recorded recursive models
nest a few hundred module calls at most. What is hidden below is still searchable, and the
current op is shown by the closed group that holds it."""


@dataclass(frozen=True, slots=True)
class ViewState:
    """An immutable snapshot of what is expanded (safe to hand to a layout thread)."""

    expanded: frozenset[str] = frozenset()
    unfolded: frozenset[str] = frozenset()
    """Members of foldable runs shown individually (the rest of their run stays folded)."""


@dataclass(frozen=True, slots=True)
class Series:
    """A folded run of identical consecutive module calls."""

    id: str
    parent: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LiftedEdge:
    """Tensors flowing between two visible children of one group."""

    src: str
    dst: str
    tensors: tuple[tuple[tuple[int, ...], str], ...]
    """Distinct ``(shape, dtype)`` pairs (at most ``MAX_EDGE_TENSORS``)."""
    count: int
    """How many leaf-to-leaf edges this edge stands for."""


@dataclass(slots=True)
class _Children:
    ids: tuple[str, ...]
    series_of: dict[str, str] = field(default_factory=dict)


class VisibleGraph:
    """Answers "what is drawn inside this group" for a hierarchy and a view state."""

    def __init__(self, hierarchy: Hierarchy) -> None:
        self.h = hierarchy
        self.series: dict[str, Series] = {}
        self._children: dict[tuple[str, frozenset[str]], _Children] = {}
        self._edges: dict[tuple[str, tuple[str, ...]], tuple[LiftedEdge, ...]] = {}
        self._base_edges: dict[str, dict[tuple[str, str], tuple[list, int]]] = {}
        self._run_nonfinite: dict[tuple[str, ...], list[int]] = {}

    # -- state helpers ---

    def node_exists(self, node_id: str) -> bool:
        return node_id in self.series or node_id in self.h.nodes or node_id in self.h.alias

    def is_expanded(self, node_id: str, state: ViewState) -> bool:
        """True when ``node_id`` is an expandable node drawn open."""
        if node_id == ROOT:
            return True
        node = self.h.nodes.get(node_id)
        return (
            node is not None
            and node.expandable
            and node_id in state.expanded
            and node.depth <= MAX_OPEN_DEPTH
        )

    def _unfolded_key(self, group_id: str, state: ViewState) -> frozenset[str]:
        if not state.unfolded or group_id not in self.h.runs:
            return frozenset()
        nodes, run_of = self.h.nodes, self.h.run_of
        return frozenset(m for m in state.unfolded if m in run_of and nodes[m].parent == group_id)

    # -- children ---

    def _children_of(self, group_id: str, state: ViewState) -> _Children:
        key = (group_id, self._unfolded_key(group_id, state))
        cached = self._children.get(key)
        if cached is not None:
            return cached
        shown: list[str] = []
        series_of: dict[str, str] = {}
        pending: list[str] = []
        pending_run: tuple[str, ...] | None = None

        def flush() -> None:
            if len(pending) == 1:
                shown.append(pending[0])
            elif pending:
                series_id = f"series:{pending[0]}:{pending[-1]}"
                if series_id not in self.series:
                    self.series[series_id] = Series(series_id, group_id, tuple(pending))
                shown.append(series_id)
                for member in pending:
                    series_of[member] = series_id
            pending.clear()

        for child in self.h.children(group_id):
            run = self.h.run_of.get(child)
            if run is None or child in key[1]:
                flush()
                pending_run = None
                shown.append(child)
                continue
            if run is not pending_run:
                flush()
                pending_run = run
            pending.append(child)
        flush()
        result = _Children(tuple(shown), series_of)
        self._children[key] = result
        return result

    def children(self, group_id: str, state: ViewState) -> tuple[str, ...]:
        """Visible children of an expanded group, in execution order."""
        return self._children_of(group_id, state).ids

    # -- edges ---

    def edges(self, group_id: str, state: ViewState) -> tuple[LiftedEdge, ...]:
        """Edges among the visible children of ``group_id`` (and to its ports).

        Derived from the group's edges between *all* its children (computed once, by one walk
        over the group's leaves) by mapping folded members to their series, so folding and
        unfolding costs the number of child-level edges, not the size of the trace.
        """
        info = self._children_of(group_id, state)
        key = (group_id, info.ids)
        cached = self._edges.get(key)
        if cached is not None:
            return cached
        series_of = info.series_of
        acc: dict[tuple[str, str], list] = {}
        for (src, dst), (tensors, count) in self._child_edges(group_id).items():
            src = series_of.get(src, src)
            dst = series_of.get(dst, dst)
            if src == dst:
                continue
            entry = acc.get((src, dst))
            if entry is None:
                acc[(src, dst)] = [list(tensors), count]
                continue
            entry[1] += count
            for tensor in tensors:
                if len(entry[0]) < MAX_EDGE_TENSORS and tensor not in entry[0]:
                    entry[0].append(tensor)
        result = tuple(
            LiftedEdge(src, dst, tuple(tensors), count)
            for (src, dst), (tensors, count) in acc.items()
        )
        self._edges[key] = result
        return result

    def _child_edges(self, group_id: str) -> dict[tuple[str, str], tuple[list, int]]:
        """Leaf edges lifted to the group's hierarchy children (no folding), with ports."""
        cached = self._base_edges.get(group_id)
        if cached is not None:
            return cached
        h = self.h
        child_of = h.child_finder(group_id)  # the child holding a node (None: outside)
        acc: dict[tuple[str, str], list] = {}

        def add(src: str, dst: str, shape: tuple[int, ...], dtype: str) -> None:
            if src == dst:
                return
            entry = acc.get((src, dst))
            if entry is None:
                acc[(src, dst)] = [[(shape, dtype)], 1]
                return
            entry[1] += 1
            if len(entry[0]) < MAX_EDGE_TENSORS and (shape, dtype) not in entry[0]:
                entry[0].append((shape, dtype))

        is_root = group_id == ROOT
        in_edges, out_edges = h.in_edges, h.out_edges
        for leaf in h.subtree_leaves(group_id):
            if leaf == group_id or (leaf not in in_edges and leaf not in out_edges):
                continue
            mine = child_of(leaf)
            if mine is None:
                continue
            for edge in in_edges.get(leaf, ()):
                src = child_of(edge.src)
                if src is None:
                    if is_root:
                        continue
                    src = IN_PORT
                add(src, mine, edge.shape, edge.dtype)
            if is_root:
                continue
            for edge in out_edges.get(leaf, ()):
                if child_of(edge.dst) is None:
                    add(mine, OUT_PORT, edge.shape, edge.dtype)
        result = {pair: (tensors, count) for pair, (tensors, count) in acc.items()}
        self._base_edges[group_id] = result
        return result

    # -- where a node is drawn ---

    def representative(self, node_id: str, state: ViewState) -> str:
        """The visible node that shows ``node_id``: itself, or the collapsed group / folded
        series that hides it."""
        h = self.h
        node_id = h.alias.get(node_id, node_id)
        if node_id in self.series:
            chain = [node_id, self.series[node_id].parent]
        else:
            chain = [node_id, *h.ancestors(node_id)]
        chain.reverse()  # root first
        for parent, child in itertools.pairwise(chain):
            info = self._children_of(parent, state)
            shown = info.series_of.get(child, child)
            if shown != child or not self.is_expanded(child, state):
                return shown
        return chain[-1]

    def hidden_by(self, node_id: str, state: ViewState) -> list[str]:
        """Groups to expand and run members to unfold so that ``node_id`` becomes visible."""
        h = self.h
        node_id = h.alias.get(node_id, node_id)
        needed = []
        for ancestor in h.ancestors(node_id):
            if ancestor != ROOT and ancestor not in state.expanded:
                needed.append(ancestor)
        needed.extend(
            m for m in (node_id, *h.ancestors(node_id)) if m in h.run_of and m not in state.unfolded
        )
        return needed

    def nonfinite(self, node_id: str) -> bool:
        """True when the node, or any member of the series, saw NaN/Inf (cheap for long runs)."""
        series = self.series.get(node_id)
        if series is None:
            node = self.h.nodes.get(node_id)
            return bool(node and node.nonfinite)
        run = self.h.run_of[series.members[0]]
        flagged = self._run_nonfinite.get(run)
        if flagged is None:
            flagged = [i for i, m in enumerate(run) if self.h.nodes[m].nonfinite]
            self._run_nonfinite[run] = flagged
        if not flagged:
            return False
        first = self.h.run_position[series.members[0]]
        last = first + len(series.members) - 1
        k = bisect.bisect_left(flagged, first)
        return k < len(flagged) and flagged[k] <= last

    def members(self, node_id: str) -> Iterable[str]:
        """Run members a series node stands for (the node itself for other nodes)."""
        series = self.series.get(node_id)
        return series.members if series else (node_id,)
