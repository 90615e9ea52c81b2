"""``opscope info``: a readable, plain-text summary of a trace."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tracing.model import Op
from tracing.trace import Trace

MAX_TREE_DEPTH = 1000
"""The module tree is printed at most this many levels deep, whatever ``depth`` asks for.

Recorded recursive models nest a few hundred levels; a hostile trace can nest millions, and
each printed level is indented further (the output would grow with the square of the depth).
"""

_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_KEEP = frozenset("\u200c\u200d")  # zero-width (non-)joiners: emoji sequences, Indic/Persian


def printable(text: object) -> str:
    """``text`` safe to print on a terminal, on one line.

    Trace files may come from strangers: every string read from one (and every path) goes
    through here before it is printed. Control characters (C0, DEL, C1: escape sequences that
    retitle or clear a terminal), line breaks, tabs, bidirectional overrides and other
    characters Python does not count as printable are shown escaped (``\\x1b``, ``\\n``,
    ``\\u202e``); accents, CJK and emoji are kept as they are.
    """
    text = str(text)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch in _KEEP else _escape(ch) for ch in text)


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


@dataclass
class ModuleNode:
    """One module path in the module tree, aggregated over all its calls."""

    path: str
    type_name: str
    calls: int = 0
    ops: int = 0
    """Ops run inside this module's calls, nested modules included."""
    children: dict[str, ModuleNode] = field(default_factory=dict)


def module_tree(trace: Trace) -> list[ModuleNode]:
    """Top-level module paths with their nested paths; calls of one path are merged."""
    roots: dict[str, ModuleNode] = {}
    calls_by_id = {call.call_id: call for call in trace.module_calls}
    # The node of each call: a call's node is its parent call's node's child of the same path.
    # Linear in the number of calls however deep they nest (no ancestor paths are built).
    node_of: dict[int, ModuleNode] = {}
    for call in trace.module_calls:  # parents come before children (ids increase)
        parent_node = node_of.get(call.parent_id)
        siblings = roots if parent_node is None else parent_node.children
        node = siblings.get(call.path)
        if node is None:
            node = siblings[call.path] = ModuleNode(call.path, call.type_name)
        node_of[call.call_id] = node
        node.calls += 1
        parent = calls_by_id.get(call.parent_id) if call.parent_id >= 0 else None
        if parent is None or parent.path != call.path:
            node.ops += call.end_seq - call.start_seq
    return list(roots.values())


def tree_height(nodes: Sequence[ModuleNode]) -> int:
    """Levels in the tree under ``nodes`` (1 for nodes without children, 0 for none)."""
    height = 0
    level = list(nodes)
    while level:  # breadth first: no recursion, however deep the tree
        height += 1
        level = [child for node in level for child in node.children.values()]
    return height


def _label(node: ModuleNode, parent: ModuleNode | None) -> str:
    name = node.path or "(root)"
    if parent is not None and parent.path:
        for separator in (".", "/"):
            prefix = parent.path + separator
            if node.path.startswith(prefix):
                name = node.path[len(prefix) :]
                break
    return name


def _tree_lines(roots: list[ModuleNode], max_depth: int, limit: int) -> list[str]:
    """Depth first, ``limit`` children per node, ``max_depth`` levels; no recursion."""
    lines: list[str] = []
    # (siblings, their parent, their depth, index of the next sibling to print)
    stack: list[tuple[list[ModuleNode], ModuleNode | None, int, int]] = [(roots, None, 0, 0)]
    while stack:
        nodes, parent, depth, index = stack.pop()
        if index >= len(nodes):
            continue
        if index == limit:
            lines.append(f"{'  ' * (depth + 1)}… {len(nodes) - limit} more")
            continue
        node = nodes[index]
        stack.append((nodes, parent, depth, index + 1))
        label = f"{'  ' * (depth + 1)}{printable(_label(node, parent))}"
        calls = f"×{node.calls}" if node.calls > 1 else ""
        type_name = printable(node.type_name)
        lines.append(f"{label:<44} {type_name:<22} {node.ops:>8,} {calls}".rstrip())
        if node.children and depth + 1 < max_depth:
            stack.append((list(node.children.values()), node, depth + 1, 0))
    return lines


def _size(path: Path) -> str:
    size = float(os.path.getsize(path))
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover


def format_info(trace: Trace, *, top: int = 10, depth: int = 4, children: int = 12) -> str:
    """The summary ``opscope info`` prints: every string from the trace made ``printable``."""
    meta = trace.meta
    ops = trace.ops
    state = (
        "complete" if meta.complete else "incomplete: still being written, or the run was killed"
    )
    versions = ", ".join(
        f"{printable(name)} {printable(version)}" for name, version in meta.versions if version
    )
    lines = [
        f"{printable(trace.path)}  ({_size(trace.path)}, "
        f"OpScope trace format {printable(meta.format_version)}, {state})",
        f"  framework      {printable(trace.framework)}  ({versions})",
    ]
    if meta.argv:
        lines.append(f"  command        {' '.join(printable(arg) for arg in meta.argv)}")
    if meta.created:
        created = printable(meta.created[:19].replace("T", " "))
        lines.append(f"  recorded       {created} UTC in {printable(meta.cwd)}")
    if meta.option("tf_function_mode") and trace.framework in ("tensorflow", "mixed"):
        lines.append(f"  tf.function    {printable(meta.option('tf_function_mode'))} mode")
    stored = sum(o.has_value for op in ops for o in op.outputs)
    outputs = sum(len(op.outputs) for op in ops)
    lines.append(
        f"  ops            {len(ops):,}   module calls {len(trace.module_calls):,}   "
        f"values stored for {stored:,} of {outputs:,} outputs"
    )
    if meta.error:
        lines.append(f"  ended with     {printable(meta.error)}")
    errors = [op for op in ops if op.error]
    if errors:
        op = errors[0]
        lines.append(
            f"  raised         op {op.seq} {printable(op.op_type)} at {printable(op.location)}: "
            f"{printable(op.error)}"
        )
    bad = trace.first_nonfinite()
    if bad is None:
        lines.append("  first NaN/Inf  none")
    else:
        nan = sum(o.nan_count for o in bad.outputs)
        inf = sum(o.inf_count for o in bad.outputs)
        where = f" in {printable(bad.module_path)}" if bad.module_path else ""
        lines.append(
            f"  first NaN/Inf  op {bad.seq} {printable(bad.op_type)}{where} "
            f"at {printable(bad.location)} ({nan:,} NaN, {inf:,} Inf)"
        )
    lines.append("")
    lines.append("Top op types")
    counts = trace.op_type_counts().most_common()
    for op_type, count in counts[:top]:
        lines.append(f"  {printable(op_type):<48} {count:>8,}")
    if len(counts) > top:
        rest = sum(count for _, count in counts[top:])
        lines.append(f"  … {len(counts) - top} more types{'':<30} {rest:>8,}")
    tree = module_tree(trace)
    if tree:
        shown = min(depth, MAX_TREE_DEPTH)
        lines.append("")
        lines.append(f"{'Module tree':<44} {'type':<22} {'ops':>8} calls")
        lines.extend(_tree_lines(tree, shown, children))
        hidden = tree_height(tree) - shown
        if hidden > 0:
            why = (
                "raise --depth to see them"
                if depth < MAX_TREE_DEPTH
                else f"at most {MAX_TREE_DEPTH} levels are printed"
            )
            levels = "level" if hidden == 1 else "levels"
            lines.append(f"  … {hidden:,} deeper {levels} left out ({why})")
    # Every field above is already printable; this keeps any later one from slipping through.
    return "\n".join(printable(line) for line in lines)


def format_ops(trace: Trace, ops: Sequence[Op]) -> str:
    """``Trace.format_table`` of ``ops`` (``opscope info --ops``), its strings made printable."""
    clean = [
        replace(
            op,
            op_type=printable(op.op_type),
            module_path=printable(op.module_path),
            file=printable(op.file),
            outputs=tuple(replace(out, dtype=printable(out.dtype)) for out in op.outputs[:1]),
        )
        for op in ops
    ]
    return "\n".join(printable(line) for line in trace.format_table(clean).split("\n"))
