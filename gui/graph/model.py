"""``GraphModel``: one trace's compound graph, expansion state and layout engine (pure).

The panel and the exporter both start here, so the screen and the exported images are laid out
by the same code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gui.graph.drawing import Measure
from gui.graph.expansion import DEFAULT_BUDGET, Expansion
from gui.graph.hierarchy import ROOT, Hierarchy
from gui.graph.layout import GroupLayout, LayoutEngine
from gui.graph.style import Style
from gui.graph.visible import ViewState, VisibleGraph

if TYPE_CHECKING:
    from tracing import Trace


class GraphModel:
    """Everything the graph view knows about one trace, without Qt."""

    def __init__(
        self,
        trace: Trace,
        style: Style | None = None,
        measure: Measure | None = None,
        *,
        budget: int | None = DEFAULT_BUDGET,
    ) -> None:
        self.trace = trace
        self.hierarchy = Hierarchy.from_trace(trace)
        self.visible = VisibleGraph(self.hierarchy)
        self.engine = LayoutEngine(self.visible, style, measure)
        self.expansion = Expansion(self.visible)
        if budget:
            self.expansion.auto_open(budget)

    def layout(self, state: ViewState | None = None, root: str = ROOT) -> GroupLayout:
        """Lay out the current (or the given) expansion state."""
        return self.engine.layout(state or self.expansion.snapshot(), root)

    def op_node(self, seq: int) -> str:
        """Node id of op ``seq``."""
        return self.hierarchy.op_node_id(seq)

    def module_root(self, path: str) -> str:
        """The group of module ``path`` (``encoder.layers.0``; ``path:2`` for a second call).

        Raises ``KeyError`` with the closest known paths when there is no such module.
        """
        wanted_call = 1
        base = path
        if ":" in path and path.rsplit(":", 1)[1].isdigit():
            base, index = path.rsplit(":", 1)
            wanted_call = int(index)
        for node in self.hierarchy.nodes.values():
            if node.kind in ("group", "scope") and node.module_path == base:
                call = getattr(node.ref, "call_index", 1)
                if call == wanted_call:
                    return node.id
        for _alias, target in self.hierarchy.alias.items():
            if self.hierarchy.nodes[target].module_path == base:
                raise KeyError(
                    f"module {path!r} ran a single op ({target}); choose the module around it"
                )
        known = sorted({n.module_path for n in self.hierarchy.nodes.values() if n.kind == "group"})
        close = [k for k in known if base in k or k in base][:5] or known[:5]
        raise KeyError(f"no module {path!r} in this trace; modules include: {', '.join(close)}")
