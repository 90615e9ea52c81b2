"""Which groups are open: user toggles, "reveal", depth limits and following the cursor (pure).

``Expansion`` is the mutable state the panel edits on the UI thread; ``snapshot()`` hands an
immutable ``ViewState`` to the layout thread. Groups opened automatically to follow the current
op are remembered separately and closed again when the cursor leaves them, so stepping through
a 48-block model keeps showing one open block, not all of them.
"""

from __future__ import annotations

from collections import deque

from gui.graph.hierarchy import ROOT
from gui.graph.visible import MAX_OPEN_DEPTH, ViewState, VisibleGraph

DEFAULT_BUDGET = 48
"""Visible nodes the first view aims for."""
AUTO_UNFOLD_MAX = 4
"""Longest run the first view shows block by block; longer runs stay one "×N" node."""


class Expansion:
    """Open groups and unfolded run members, with the automatic ones tracked apart."""

    def __init__(self, visible: VisibleGraph) -> None:
        self.visible = visible
        self.expanded: set[str] = set()
        self.unfolded: set[str] = set()
        self._auto_expanded: set[str] = set()
        self._auto_unfolded: set[str] = set()

    def snapshot(self) -> ViewState:
        """The state as an immutable value; opened ``tf.function`` calls are built first."""
        self.visible.h.materialize(self.expanded)
        return ViewState(frozenset(self.expanded), frozenset(self.unfolded))

    # -- user actions ---

    def is_expanded(self, node_id: str) -> bool:
        return node_id in self.expanded

    def expand(self, node_id: str) -> bool:
        """Open a group, or unfold a whole series; True when something changed."""
        series = self.visible.series.get(node_id)
        if series is not None:
            before = len(self.unfolded)
            self.unfolded.update(series.members)
            self._auto_unfolded.difference_update(series.members)
            return len(self.unfolded) != before
        node = self.visible.h.nodes.get(node_id)
        if node is None or not node.expandable or node_id in self.expanded:
            return False
        self.expanded.add(node_id)
        self._auto_expanded.discard(node_id)
        self._pin_path(node_id)
        return True

    def collapse(self, node_id: str) -> bool:
        """Close a group (its inner state is kept for when it opens again)."""
        if node_id not in self.expanded:
            return False
        self.expanded.discard(node_id)
        self._auto_expanded.discard(node_id)
        return True

    def toggle(self, node_id: str) -> bool:
        return self.collapse(node_id) if node_id in self.expanded else self.expand(node_id)

    def fold_run(self, member: str) -> bool:
        """Fold the run that ``member`` belongs to back into one series node."""
        run = self.visible.h.run_of.get(member)
        if run is None:
            return False
        changed = any(m in self.unfolded for m in run)
        self.unfolded.difference_update(run)
        self._auto_unfolded.difference_update(run)
        return changed

    def reveal(self, node_id: str) -> bool:
        """Open everything that hides ``node_id`` (kept open: the user asked for it)."""
        changed = False
        for hidden in self.visible.hidden_by(node_id, self.snapshot()):
            if hidden in self.visible.h.run_of and hidden not in self.unfolded:
                self.unfolded.add(hidden)
                changed = True
            if hidden in self.visible.h.nodes and self.visible.h.nodes[hidden].is_group:
                changed |= hidden not in self.expanded
                self.expanded.add(hidden)
        self._pin_path(node_id)
        return changed

    def _pin_path(self, node_id: str) -> None:
        """Groups on the path to something the user opened stop being automatic."""
        h = self.visible.h
        node_id = h.alias.get(node_id, node_id)
        if node_id not in h.nodes:
            return
        for ancestor in [node_id, *h.ancestors(node_id)]:
            self._auto_expanded.discard(ancestor)
            self._auto_unfolded.discard(ancestor)

    # -- following the cursor ---

    def follow(self, node_id: str) -> bool:
        """Open what hides ``node_id`` and close what was opened only to show earlier ops."""
        h = self.visible.h
        node_id = h.alias.get(node_id, node_id)
        path = {node_id, *h.ancestors(node_id)}
        changed = False
        for group in list(self._auto_expanded - path):
            self.expanded.discard(group)
            self._auto_expanded.discard(group)
            changed = True
        for member in list(self._auto_unfolded - path):
            self.unfolded.discard(member)
            self._auto_unfolded.discard(member)
            changed = True
        for hidden in self.visible.hidden_by(node_id, self.snapshot()):
            if hidden in h.run_of and hidden not in self.unfolded:
                self.unfolded.add(hidden)
                self._auto_unfolded.add(hidden)
                changed = True
            node = h.nodes.get(hidden)
            if node is not None and node.expandable and hidden not in self.expanded:
                self.expanded.add(hidden)
                self._auto_expanded.add(hidden)
                changed = True
        return changed

    # -- bulk settings ---

    def set_depth(self, depth: int | None, root: str = ROOT) -> None:
        """Open every group at most ``depth`` levels below ``root`` (0: all closed, None: all
        open, ``tf.function`` calls included); runs stay folded."""
        h = self.visible.h
        self.expanded.clear()
        self._auto_expanded.clear()
        base = h.nodes[root].depth
        if root != ROOT:
            self.expanded.add(root)
        for node in h.groups():
            if node.kind == "op" and depth is not None:
                continue  # tf.function calls open only when asked, or with "all"
            if depth is not None and node.depth - base > depth:
                continue
            if root == ROOT or h.is_inside(node.id, root):
                self.expanded.add(node.id)

    def unfold_all(self) -> None:
        self.unfolded = set(self.visible.h.run_of)
        self._auto_unfolded.clear()

    def auto_open(self, budget: int = DEFAULT_BUDGET, root: str = ROOT) -> None:
        """Open groups breadth first (and unfold short runs) while the view stays under
        ``budget`` visible nodes: the readable first view of a big trace."""
        visible = self.visible
        state = self.snapshot()  # children depend on the unfolded members only
        count = len(visible.children(root, state))
        queue = deque(visible.children(root, state))
        while queue:
            node_id = queue.popleft()
            series = visible.series.get(node_id)
            if series is not None:
                grow = len(series.members) - 1
                if len(series.members) > AUTO_UNFOLD_MAX or count + grow > budget:
                    continue
                self.unfolded.update(series.members)
                state = ViewState(state.expanded, frozenset(self.unfolded))
                count += grow
                queue.extend(series.members)
                continue
            node = visible.h.nodes.get(node_id)
            if node is None or not node.expandable or node.kind == "op":
                continue
            if node.depth > MAX_OPEN_DEPTH:
                continue  # drawn closed anyway
            self.expanded.add(node_id)
            inner = visible.children(node_id, state)
            if count - 1 + len(inner) > budget:
                self.expanded.discard(node_id)
                continue
            count += len(inner) - 1
            queue.extend(inner)
