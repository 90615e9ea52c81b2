"""The compound graph of a trace: module calls as nested groups, ops and inputs as leaves.

Pure logic, no Qt. Built once per trace (``Hierarchy.from_trace``):

* every ``ModuleCall`` becomes a group ``call:{id}`` inside its parent call (PyTorch paths use
  ``.``, Keras/TF scopes ``/``); ops without a call but with a module path get path-based scope
  groups ``scope:{path}``; empty calls are dropped;
* a group whose whole content is one op is shown as that op (its module name as a caption),
  the way Netron shows a ``Linear`` as one node;
* parameters, buffers, constants and variables are not nodes: they become annotations of the op
  that reads them (``W ⟨16×16⟩``), so they do not tangle the graph; program inputs are nodes,
  placed in the innermost group that holds all their consumers;
* consecutive sibling calls with the same structure and indexed names (``layers.0`` …
  ``layers.11``) or repeated calls of one module form *runs* that the view can fold into one
  "×N" series node;
* a ``tf.function`` call op (``kind == "call"``) is expandable; its inner graph (name scopes as
  groups, nested function graphs as subgroups) is materialised on first use.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NamedTuple

from gui.graph.labels import relative_name, short_op_name, split_index

if TYPE_CHECKING:
    from tracing import Trace
    from tracing.model import FunctionGraph, GraphNode

NodeKind = Literal["root", "op", "group", "source", "fn_node", "function", "scope"]

ROOT = "root"
ANNOTATION_SOURCES = frozenset({"param", "buffer", "const", "variable"})
"""Source kinds drawn as annotations of their consumer instead of as nodes."""

MIN_RUN = 2
"""Fewest identical consecutive calls that form a foldable run."""


@dataclass(slots=True, eq=False)
class HNode:
    """One node of the compound graph: the root, a group, or a leaf (op, input, function op)."""

    id: str
    kind: NodeKind
    parent: str | None
    label: str
    """Title: short op name, or the module's name relative to its parent."""
    type_name: str = ""
    """Full op type (``torch.nn.functional.linear``) or module class (``Linear``)."""
    depth: int = 0
    children: list[str] = field(default_factory=list)
    seq: int = -1
    """Op seq; for groups the first seq in the group (-1 when it has no op)."""
    last_seq: int = -1
    op_count: int = 0
    module_path: str = ""
    caption: str = ""
    """For an op shown in place of a one-op module: that module's name (``q``)."""
    params: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)
    """Parameters, buffers and constants read by an op: ``(name, shape)`` (see
    ``labels.param_label``)."""
    shape: tuple[int, ...] | None = None
    dtype: str = ""
    nonfinite: bool = False
    expandable: bool = False
    signature: int = 0
    category_kind: str = "op"
    """``op``/``call``/``opaque`` for ops, used to pick the colour."""
    ref: object = None
    """The record behind the node: ``Op``, ``ModuleCall``, ``SourceNode``, ``GraphNode``..."""

    @property
    def is_group(self) -> bool:
        return self.kind in ("root", "group", "function", "scope")


class FlowEdge(NamedTuple):
    """A tensor flowing from one leaf to another (parameters excluded)."""

    src: str
    dst: str
    shape: tuple[int, ...]
    dtype: str
    kind: str = "data"


@dataclass(slots=True)
class _Walk:
    """One walk over the whole tree (the order ``Hierarchy.leaves`` yields in), so that "the
    leaves under a group" and "which child of a group holds a node" cost no walk up or down
    the tree: with module calls nested thousands deep, those walks made opening quadratic."""

    version: int
    enter: dict[str, int]
    """Position of each node in the walk; its subtree follows it, up to ``leave``."""
    leave: dict[str, int]
    leaf_positions: list[int]
    leaf_ids: list[str]
    child_starts: dict[str, tuple[list[int], list[str]]] = field(default_factory=dict)
    """Per group (filled on demand): its children's ``enter`` positions, increasing."""


def _inside(walk: _Walk, node_id: str, group_id: str) -> bool:
    start, position = walk.enter.get(group_id), walk.enter.get(node_id)
    if start is None or position is None:
        return False
    return start < position < walk.leave[group_id]


class Hierarchy:
    """Nodes, parent/child links, leaf-to-leaf edges and foldable runs of one trace."""

    def __init__(self) -> None:
        self.nodes: dict[str, HNode] = {}
        self.in_edges: dict[str, list[FlowEdge]] = defaultdict(list)
        self.out_edges: dict[str, list[FlowEdge]] = defaultdict(list)
        self.runs: dict[str, list[tuple[str, ...]]] = {}
        """Group id → runs of foldable consecutive children (each at least ``MIN_RUN`` long)."""
        self.run_of: dict[str, tuple[str, ...]] = {}
        """Run member id → its run."""
        self.run_position: dict[str, int] = {}
        """Run member id → its index in its run."""
        self.alias: dict[str, str] = {}
        """Ids of groups shown as their single op (``call:7`` → ``op:12``)."""
        self.op_ids: list[str] = []
        """Node id of each op by seq (``op:{seq}``)."""
        self._functions: dict[str, FunctionGraph] = {}
        self._fn_nodes: dict[str, list[GraphNode]] = defaultdict(list)
        self._fn_edges: dict[str, list] = defaultdict(list)
        self._fn_children: dict[str, list[FunctionGraph]] = defaultdict(list)
        self._pending_calls: dict[str, str] = {}
        """Call op id → graph id of a function not materialised yet."""
        self._lock = threading.RLock()
        self._version = 0
        """Bumped whenever nodes are added after building (a materialised function call)."""
        self._walk: _Walk | None = None

    # -- building ---

    @classmethod
    def from_trace(cls, trace: Trace) -> Hierarchy:
        """Build the compound graph of ``trace`` (see the module docstring)."""
        h = cls()
        h._build(trace)
        return h

    def _add(self, node: HNode) -> HNode:
        self.nodes[node.id] = node
        return node

    def _build(self, trace: Trace) -> None:
        root = self._add(HNode(ROOT, "root", None, "(top)"))
        root.expandable = True
        calls = {c.call_id: c for c in trace.module_calls}
        order: dict[str, tuple[int, int, int]] = {}
        for call in sorted(calls.values(), key=lambda c: (c.start_seq, c.enter_order)):
            parent_call = calls.get(call.parent_id)
            parent = f"call:{call.parent_id}" if parent_call else ROOT
            label = relative_name(call.path, parent_call.path if parent_call else "")
            if not call.path:
                label = call.type_name or "(top)"
            if call.call_index > 1:
                label = f"{label}:{call.call_index}"
            self._add(
                HNode(
                    f"call:{call.call_id}",
                    "group",
                    parent,
                    label,
                    call.type_name,
                    module_path=call.path,
                    expandable=True,
                    ref=call,
                )
            )
            order[f"call:{call.call_id}"] = (call.start_seq, 0, call.enter_order)
        sources = {s.node_id: s for s in trace.source_nodes}
        self._functions = {f.graph_id: f for f in trace.functions}
        for fn in trace.functions:
            if fn.parent_id:
                self._fn_children[fn.parent_id].append(fn)
        for gnode in trace.graph_nodes:
            self._fn_nodes[gnode.graph_id].append(gnode)
        for edge in trace.graph_edges:
            self._fn_edges[edge.src].append(edge)
            self._fn_edges[edge.dst].append(edge)
        consumers: dict[str, list[str]] = defaultdict(list)
        self.op_ids = [f"op:{op.seq}" for op in trace.ops]
        call_nodes = {call_id: f"call:{call_id}" for call_id in calls}
        short_names: dict[str, str] = {}
        in_edges, out_edges = self.in_edges, self.out_edges
        for op, node_id in zip(trace.ops, self.op_ids):
            parent = call_nodes.get(op.call_id)
            if parent is None:
                parent = self._scope_group(op.module_path) if op.module_path else ROOT
            outputs = op.outputs
            out = outputs[0] if outputs else None
            label = short_names.get(op.op_type)
            if label is None:
                label = short_names[op.op_type] = short_op_name(op.op_type)
            nonfinite = False
            for summary in outputs:
                if (summary.nan_count or summary.inf_count) and summary.initialized:
                    nonfinite = True
                    break
            node = HNode(
                node_id,
                "op",
                parent,
                label,
                op.op_type,
                seq=op.seq,
                last_seq=op.seq,
                op_count=1,
                module_path=op.module_path,
                shape=out.shape if out else None,
                dtype=out.dtype if out else "",
                nonfinite=nonfinite,
                category_kind=op.kind,
                ref=op,
            )
            self.nodes[node_id] = node
            order[node_id] = (op.seq, 1, 0)
            if op.kind == "call" and op.graph_id in self._functions:
                node.expandable = True
                self._pending_calls[node_id] = op.graph_id
            for ref in op.inputs:
                source = sources.get(ref.source)
                if source is not None and source.kind in ANNOTATION_SOURCES:
                    node.params.append((source.name, source.shape or ref.shape))
                    continue
                edge = FlowEdge(ref.source, node_id, ref.shape, ref.dtype, ref.kind)
                in_edges[node_id].append(edge)
                out_edges[ref.source].append(edge)
                if source is not None:
                    consumers[ref.source].append(parent)
        for node_id, source in sources.items():
            if node_id not in consumers:
                continue
            self._add(
                HNode(
                    node_id,
                    "source",
                    ROOT if source.kind == "input" else self._common_ancestor(consumers[node_id]),
                    source.name or source.kind,
                    source.kind,
                    shape=source.shape,
                    dtype=source.dtype,
                    nonfinite=bool(source.summary and source.summary.nonfinite),
                    ref=source,
                )
            )
            order[node_id] = (-1, 0, 0)
        for node in list(self.nodes.values()):
            if node.parent is not None:
                self.nodes[node.parent].children.append(node.id)
        for node in self.nodes.values():
            if len(node.children) > 1:
                node.children.sort(key=lambda c: order.get(c, (0, 0, 0)))
        self._finish_groups(ROOT)
        self._find_runs(ROOT)

    def _scope_group(self, path: str) -> str:
        """The group of a module path that has no recorded call (created on demand)."""
        sep = "/" if "/" in path else "."
        parent, label = ROOT, path
        prefix = ""
        for part in path.split(sep):
            prefix = f"{prefix}{sep}{part}" if prefix else part
            node_id = f"scope:{prefix}"
            if node_id not in self.nodes:
                self._add(
                    HNode(
                        node_id, "scope", parent, part, "scope", module_path=prefix, expandable=True
                    )
                )
            parent, label = node_id, part
        del label
        return parent

    def _common_ancestor(self, groups: list[str]) -> str:
        chains = []
        for group in set(groups):
            chain = [group]
            while self.nodes[chain[-1]].parent is not None:
                chain.append(self.nodes[chain[-1]].parent)
            chains.append(chain[::-1])
        common = ROOT
        for level in zip(*chains):
            if len(set(level)) != 1:
                break
            common = level[0]
        return common

    def _finish_groups(self, root: str) -> None:
        """Depths, op counts, seq ranges and NaN flags; drop empty groups, inline one-op ones."""
        post: list[HNode] = []
        stack = [(root, 0)]
        while stack:
            node_id, depth = stack.pop()
            node = self.nodes[node_id]
            node.depth = depth
            post.append(node)
            stack.extend((child, depth + 1) for child in node.children)
        for node in reversed(post):  # children before parents
            if not node.is_group:
                continue
            kept = []
            for child_id in node.children:
                child = self.nodes[child_id]
                if child.is_group and child.op_count == 0 and not child.children:
                    del self.nodes[child_id]
                    continue
                if child.kind in ("group", "scope") and len(child.children) == 1:
                    only = self.nodes[child.children[0]]
                    if only.kind == "op":
                        only.caption = (
                            f"{child.label}.{only.caption}" if only.caption else child.label
                        )
                        only.parent = node.id
                        only.module_path = child.module_path
                        only.depth = child.depth
                        self.alias[child_id] = only.id
                        del self.nodes[child_id]
                        child = only
                        child_id = only.id
                kept.append(child_id)
                node.op_count += child.op_count
                node.nonfinite = node.nonfinite or child.nonfinite
                if child.seq >= 0 and (node.seq < 0 or child.seq < node.seq):
                    node.seq = child.seq
                node.last_seq = max(node.last_seq, child.last_seq)
            node.children = kept
        self._fix_depths(root)

    def _fix_depths(self, root: str) -> None:
        stack = [(root, self.nodes[root].depth)]
        while stack:
            node_id, depth = stack.pop()
            node = self.nodes[node_id]
            node.depth = depth
            stack.extend((child, depth + 1) for child in node.children)

    # -- foldable runs ---

    def _signature(self, node: HNode) -> int:
        if node.is_group:
            return hash(
                (node.kind, node.type_name, tuple(self.nodes[c].signature for c in node.children))
            )
        parent = self.nodes[node.parent] if node.parent else None
        low, high = (parent.seq, parent.last_seq) if parent else (0, -1)
        shape = []
        for edge in self.in_edges.get(node.id, ()):
            src = self.nodes.get(edge.src)
            if src is not None and src.kind == "op" and low <= src.seq <= high:
                shape.append(node.seq - src.seq)
            else:
                shape.append(-1)
        return hash((node.type_name, node.caption, len(node.params), tuple(shape)))

    def _find_runs(self, root: str) -> None:
        order: list[HNode] = []
        stack = [root]
        while stack:
            node = self.nodes[stack.pop()]
            order.append(node)
            stack.extend(node.children)
        for node in reversed(order):
            node.signature = self._signature(node)
        for node in order:
            if not node.is_group or len(node.children) < MIN_RUN:
                continue
            runs = list(self._runs_among(node.children))
            if runs:
                self.runs[node.id] = runs
                for run in runs:
                    for position, member in enumerate(run):
                        self.run_of[member] = run
                        self.run_position[member] = position

    def _runs_among(self, children: list[str]) -> Iterator[tuple[str, ...]]:
        run: list[HNode] = []
        for child_id in [*children, None]:
            child = self.nodes[child_id] if child_id else None
            if run and child is not None and self._continues(run[-1], child):
                run.append(child)
                continue
            if len(run) >= MIN_RUN:
                yield tuple(n.id for n in run)
            run = [child] if child is not None and child.kind == "group" else []

    @staticmethod
    def _continues(last: HNode, child: HNode) -> bool:
        if child.kind != "group" or child.signature != last.signature:
            return False
        if child.module_path == last.module_path:
            return True  # the same module called again
        a, b = split_index(last.module_path), split_index(child.module_path)
        return a is not None and b is not None and a[0] == b[0] and b[1] == a[1] + 1

    # -- queries ---

    def node(self, node_id: str) -> HNode:
        """The node with this id (``KeyError`` when there is none)."""
        return self.nodes[self.alias.get(node_id, node_id)]

    def children(self, node_id: str) -> list[str]:
        """Children of a group in execution order (materialises a function call's graph)."""
        if node_id in self._pending_calls:
            self._materialize_call(node_id)
        return self.nodes[node_id].children

    def parent(self, node_id: str) -> str | None:
        return self.nodes[node_id].parent

    def ancestors(self, node_id: str) -> list[str]:
        """Groups enclosing ``node_id``, innermost first (the root last)."""
        chain = []
        parent = self.nodes[node_id].parent
        while parent is not None:
            chain.append(parent)
            parent = self.nodes[parent].parent
        return chain

    def leaves(self, group_id: str) -> Iterator[str]:
        """Leaf ids under ``group_id`` (ops, inputs, function ops), not descending into
        function calls that were never materialised."""
        stack = [group_id]
        while stack:
            node = self.nodes[stack.pop()]
            if node.children:
                stack.extend(node.children)
            elif node.kind != "root":
                yield node.id
            if node.kind == "op" and node.children:
                yield node.id

    def subtree_leaves(self, group_id: str) -> list[str]:
        """``list(leaves(group_id))``, in the same order, without walking the groups on the
        way (a chain of nested groups costs nothing per level)."""
        walk = self._current_walk()
        start = walk.enter.get(group_id)
        if start is None:
            return list(self.leaves(group_id))
        positions = walk.leaf_positions
        low = bisect.bisect_left(positions, start)
        high = bisect.bisect_left(positions, walk.leave[group_id])
        return walk.leaf_ids[low:high]

    def child_holding(self, group_id: str, node_id: str) -> str | None:
        """The child of ``group_id`` whose subtree holds ``node_id`` (None when ``node_id`` is
        not strictly inside the group)."""
        return self.child_finder(group_id)(node_id)

    def child_finder(self, group_id: str) -> Callable[[str], str | None]:
        """``child_holding(group_id, ·)`` for many nodes: a lookup and a bisection each."""
        walk = self._current_walk()
        start = walk.enter.get(group_id)
        if start is None:
            return lambda _node_id: None
        end = walk.leave[group_id]
        enter = walk.enter
        starts = walk.child_starts.get(group_id)
        if starts is None:
            pairs = sorted((enter[c], c) for c in self.nodes[group_id].children)
            starts = ([p for p, _ in pairs], [c for _, c in pairs])
            walk.child_starts[group_id] = starts
        positions, ids = starts
        bisect_right = bisect.bisect_right

        def child_of(node_id: str) -> str | None:
            position = enter.get(node_id)
            if position is None or not start < position < end:
                return None
            index = bisect_right(positions, position) - 1
            return ids[index] if index >= 0 else None

        return child_of

    def is_inside(self, node_id: str, group_id: str) -> bool:
        """True when ``node_id`` is strictly inside ``group_id``."""
        return _inside(self._current_walk(), node_id, group_id)

    def _current_walk(self) -> _Walk:
        with self._lock:
            walk = self._walk
            if walk is not None and walk.version == self._version:
                return walk
            enter: dict[str, int] = {}
            leave: dict[str, int] = {}
            leaf_positions: list[int] = []
            leaf_ids: list[str] = []
            position = 0
            stack: list[tuple[str, bool]] = [(ROOT, False)]
            while stack:  # the order of ``leaves``: children pushed, popped last first
                node_id, done = stack.pop()
                if done:
                    leave[node_id] = position
                    continue
                node = self.nodes[node_id]
                enter[node_id] = position
                if (node.children and node.kind == "op") or (
                    not node.children and node.kind != "root"
                ):
                    leaf_positions.append(position)
                    leaf_ids.append(node_id)
                position += 1
                stack.append((node_id, True))
                stack.extend((child, False) for child in node.children)
            self._walk = _Walk(self._version, enter, leave, leaf_positions, leaf_ids)
            return self._walk

    def groups(self) -> Iterable[HNode]:
        """Every expandable node (groups and materialised or not function calls)."""
        return (n for n in self.nodes.values() if n.expandable and n.kind != "root")

    def op_node_id(self, seq: int) -> str:
        return self.op_ids[seq]

    def __len__(self) -> int:
        return len(self.nodes)

    # -- tf.function graphs ---

    def materialize(self, node_ids) -> None:
        """Build the function graphs of these call ops now (call on the UI thread before a
        layout, so the layout thread never changes the hierarchy)."""
        pending = self._pending_calls
        for node_id in [n for n in node_ids if n in pending]:
            self._materialize_call(node_id)

    def function_for(self, node_id: str) -> str | None:
        """Graph id of the function a call op runs (None for other nodes)."""
        node = self.nodes[node_id]
        if node.kind == "op" and node.expandable:
            return getattr(node.ref, "graph_id", None)
        return None

    def _materialize_call(self, call_id: str) -> None:
        with self._lock:
            graph_id = self._pending_calls.pop(call_id, None)
            if graph_id is None:
                return
            self._version += 1
            call = self.nodes[call_id]
            local: dict[str, str] = {}
            self._materialize_function(call, graph_id, f"{call_id}/", local)
            self._connect_function(local)
            self._finish_fn_subtree(call)

    def _materialize_function(
        self, container: HNode, graph_id: str, prefix: str, local: dict[str, str]
    ) -> None:
        """Nodes of one function graph (and its nested graphs) under ``container``;
        ``local`` collects recorded node id → node id of this call's copy.

        Nested graphs are done depth first in order with a work list (no recursion: they may
        nest deep), each graph once (a damaged trace may make a function its own ancestor).
        """
        seen = {graph_id}
        pending: list[tuple[HNode, str, str]] = [(container, graph_id, prefix)]
        while pending:
            container, graph_id, prefix = pending.pop()
            if container.kind == "function" and container.id not in self.nodes:
                self._add(container)
                self.nodes[container.parent].children.append(container.id)  # type: ignore[index]
            scopes: dict[str, str] = {}
            for gnode in self._fn_nodes.get(graph_id, ()):
                parent = self._fn_scope(container, gnode.module_path, prefix, scopes)
                node_id = prefix + gnode.node_id
                out = gnode.outputs[0] if gnode.outputs else None
                self._add(
                    HNode(
                        node_id,
                        "fn_node",
                        parent,
                        gnode.name.rsplit("/", 1)[-1] or short_op_name(gnode.op_type),
                        gnode.op_type,
                        module_path=gnode.module_path,
                        shape=out.shape if out else None,
                        dtype=out.dtype if out else "",
                        nonfinite=any(o.nonfinite for o in gnode.outputs),
                        caption=short_op_name(gnode.op_type),
                        ref=gnode,
                    )
                )
                self.nodes[parent].children.append(node_id)
                local[gnode.node_id] = node_id
            subs = []
            for sub in self._fn_children.get(graph_id, ()):
                if sub.graph_id in seen:
                    continue
                seen.add(sub.graph_id)
                sub_id = f"{prefix}fn:{sub.graph_id}"
                group = HNode(
                    sub_id, "function", container.id, sub.name, "function", expandable=True
                )
                subs.append((group, sub.graph_id, f"{sub_id}/"))
            pending.extend(reversed(subs))  # the first nested graph is done next

    def _connect_function(self, local: dict[str, str]) -> None:
        """Edges among a materialised call's nodes, and from outer nodes into them."""
        inner = set(local.values())
        seen: set[int] = set()
        for recorded in local:
            for edge in self._fn_edges.get(recorded, ()):
                if id(edge) in seen:
                    continue
                seen.add(id(edge))
                src = local.get(edge.src, edge.src if edge.src in self.nodes else None)
                dst = local.get(edge.dst, edge.dst if edge.dst in self.nodes else None)
                if src is None or dst is None:
                    continue
                flow = FlowEdge(src, dst, tuple(edge.shape), edge.dtype, edge.kind)
                if dst in inner:
                    self.in_edges[dst].append(flow)
                if src in inner:
                    self.out_edges[src].append(flow)

    def _fn_scope(self, container: HNode, path: str, prefix: str, scopes: dict[str, str]) -> str:
        parent = container.id
        if not path:
            return parent
        key = ""
        for part in path.split("/"):
            key = f"{key}/{part}" if key else part
            if key not in scopes:
                scope_id = f"{prefix}scope:{key}"
                self._add(HNode(scope_id, "scope", parent, part, "name scope", expandable=True))
                self.nodes[parent].children.append(scope_id)
                scopes[key] = scope_id
            parent = scopes[key]
        return parent

    def _finish_fn_subtree(self, call: HNode) -> None:
        stack = [call.id]
        post = []
        while stack:
            node = self.nodes[stack.pop()]
            post.append(node)
            for child in node.children:
                self.nodes[child].depth = node.depth + 1
                stack.append(child)
        for node in reversed(post):
            if node is call or not node.is_group:
                continue
            node.nonfinite = any(self.nodes[c].nonfinite for c in node.children)
