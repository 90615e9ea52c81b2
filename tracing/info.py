"""``opscope info``: a readable, plain-text summary of a trace."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tracing.trace import Trace


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
    nodes: dict[tuple[str, ...], ModuleNode] = {}
    roots: dict[str, ModuleNode] = {}
    calls_by_id = {call.call_id: call for call in trace.module_calls}
    path_key: dict[int, tuple[str, ...]] = {}
    for call in trace.module_calls:  # parents come before children (ids increase)
        parent_key = path_key.get(call.parent_id, ())
        key = (*parent_key, call.path)
        path_key[call.call_id] = key
        node = nodes.get(key)
        if node is None:
            node = nodes[key] = ModuleNode(call.path, call.type_name)
            siblings = nodes[parent_key].children if parent_key in nodes else roots
            siblings[call.path] = node
        node.calls += 1
        if call.parent_id < 0 or calls_by_id[call.parent_id].path != call.path:
            node.ops += call.end_seq - call.start_seq
    return list(roots.values())


def _label(node: ModuleNode, parent: ModuleNode | None) -> str:
    name = node.path or "(root)"
    if parent is not None and parent.path:
        for separator in (".", "/"):
            prefix = parent.path + separator
            if node.path.startswith(prefix):
                name = node.path[len(prefix) :]
                break
    return name


def _tree_lines(
    nodes: list[ModuleNode], parent: ModuleNode | None, depth: int, max_depth: int, limit: int
) -> list[str]:
    lines: list[str] = []
    for index, node in enumerate(nodes):
        if index == limit:
            lines.append(f"{'  ' * (depth + 1)}… {len(nodes) - limit} more")
            break
        label = f"{'  ' * (depth + 1)}{_label(node, parent)}"
        calls = f"×{node.calls}" if node.calls > 1 else ""
        lines.append(f"{label:<44} {node.type_name:<22} {node.ops:>8,} {calls}".rstrip())
        if node.children and depth + 1 < max_depth:
            children = list(node.children.values())
            lines.extend(_tree_lines(children, node, depth + 1, max_depth, limit))
    return lines


def _size(path: Path) -> str:
    size = float(os.path.getsize(path))
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover


def format_info(trace: Trace, *, top: int = 10, depth: int = 4, children: int = 12) -> str:
    """The summary ``opscope info`` prints."""
    meta = trace.meta
    ops = trace.ops
    state = (
        "complete" if meta.complete else "incomplete: still being written, or the run was killed"
    )
    versions = ", ".join(f"{name} {version}" for name, version in meta.versions if version)
    lines = [
        f"{trace.path}  ({_size(trace.path)}, OpScope trace format {meta.format_version}, {state})",
        f"  framework      {trace.framework}  ({versions})",
    ]
    if meta.argv:
        lines.append(f"  command        {' '.join(meta.argv)}")
    if meta.created:
        lines.append(f"  recorded       {meta.created[:19].replace('T', ' ')} UTC in {meta.cwd}")
    if meta.option("tf_function_mode") and trace.framework in ("tensorflow", "mixed"):
        lines.append(f"  tf.function    {meta.option('tf_function_mode')} mode")
    stored = sum(o.has_value for op in ops for o in op.outputs)
    outputs = sum(len(op.outputs) for op in ops)
    lines.append(
        f"  ops            {len(ops):,}   module calls {len(trace.module_calls):,}   "
        f"values stored for {stored:,} of {outputs:,} outputs"
    )
    if meta.error:
        lines.append(f"  ended with     {meta.error}")
    errors = [op for op in ops if op.error]
    if errors:
        op = errors[0]
        lines.append(f"  raised         op {op.seq} {op.op_type} at {op.location}: {op.error}")
    bad = trace.first_nonfinite()
    if bad is None:
        lines.append("  first NaN/Inf  none")
    else:
        nan = sum(o.nan_count for o in bad.outputs)
        inf = sum(o.inf_count for o in bad.outputs)
        where = f" in {bad.module_path}" if bad.module_path else ""
        lines.append(
            f"  first NaN/Inf  op {bad.seq} {bad.op_type}{where} at {bad.location} "
            f"({nan:,} NaN, {inf:,} Inf)"
        )
    lines.append("")
    lines.append("Top op types")
    counts = trace.op_type_counts().most_common()
    for op_type, count in counts[:top]:
        lines.append(f"  {op_type:<48} {count:>8,}")
    if len(counts) > top:
        rest = sum(count for _, count in counts[top:])
        lines.append(f"  … {len(counts) - top} more types{'':<30} {rest:>8,}")
    tree = module_tree(trace)
    if tree:
        lines.append("")
        lines.append(f"{'Module tree':<44} {'type':<22} {'ops':>8} calls")
        lines.extend(_tree_lines(tree, None, 0, depth, children))
    return "\n".join(lines)
