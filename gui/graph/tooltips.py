"""Hover text for nodes and edges (pure: small HTML strings Qt tooltips render)."""

from __future__ import annotations

from html import escape
from pathlib import Path

from gui.graph.drawing import series_title
from gui.graph.labels import format_shape, format_tensor
from gui.graph.layout import EdgeRoute
from gui.graph.visible import IN_PORT, MAX_OPEN_DEPTH, OUT_PORT, VisibleGraph

MAX_LISTED = 6


def _row(name: str, value: str) -> str:
    return f"<tr><td style='color:gray;padding-right:8px'>{escape(name)}</td><td>{value}</td></tr>"


def node_tooltip(visible: VisibleGraph, node_id: str) -> str:
    """Op type, module, output shapes and dtype, file:line, NaN/Inf counts."""
    series = visible.series.get(node_id)
    if series is not None:
        first = visible.h.nodes[series.members[0]]
        rows = [
            _row("modules", escape(series_title(visible, series))),
            _row("type", f"{escape(first.type_name)} ×{len(series.members)}"),
            _row("ops", str(sum(visible.h.nodes[m].op_count for m in series.members))),
        ]
        hint = "Click to unfold the repeated blocks"
        return _table(f"{escape(first.type_name)} ×{len(series.members)}", rows, hint)
    node = visible.h.nodes[node_id]
    ref = node.ref
    rows = []
    if node.kind == "op":
        rows.append(_row("op", f"<code>{escape(node.type_name)}</code>"))
        rows.append(_row("seq", str(node.seq)))
        if node.module_path:
            rows.append(_row("module", f"<code>{escape(node.module_path)}</code>"))
        for index, out in enumerate(getattr(ref, "outputs", ())[:MAX_LISTED]):
            text = escape(format_tensor(out.shape, out.dtype))
            if out.nonfinite:
                text += f" <b style='color:#cf222e'>NaN {out.nan_count}, Inf {out.inf_count}</b>"
            rows.append(_row(f"output {index}" if index else "output", text))
        for name, shape in node.params[:MAX_LISTED]:
            rows.append(_row("param", escape(f"{name} {format_shape(shape)}")))
        file = getattr(ref, "file", "")
        if file:
            rows.append(_row("source", escape(f"{Path(file).name}:{ref.line}")))
        attrs = getattr(ref, "attrs", ())
        for key, value in attrs[:MAX_LISTED]:
            rows.append(_row(key, escape(value)))
        error = getattr(ref, "error", None)
        if error:
            rows.append(_row("error", f"<span style='color:#cf222e'>{escape(error)}</span>"))
        hint = "Click to jump here" + (" · click + to open the function" if node.expandable else "")
        return _table(escape(node.label), rows, hint)
    if node.kind == "source":
        rows.append(_row("kind", escape(node.type_name)))
        rows.append(_row("tensor", escape(format_tensor(node.shape, node.dtype))))
        return _table(escape(node.label), rows, "")
    if node.kind == "fn_node":
        rows.append(_row("op", f"<code>{escape(node.type_name)}</code>"))
        if node.module_path:
            rows.append(_row("scope", f"<code>{escape(node.module_path)}</code>"))
        if node.shape is not None:
            rows.append(_row("output", escape(format_tensor(node.shape, node.dtype))))
        file = getattr(ref, "file", "")
        if file:
            rows.append(_row("source", escape(f"{Path(file).name}:{ref.line}")))
        return _table(escape(node.label), rows, "Inside a tf.function graph (not a timeline step)")
    rows.append(_row("type", escape(node.type_name)))
    if node.module_path:
        rows.append(_row("module", f"<code>{escape(node.module_path)}</code>"))
    rows.append(_row("ops", str(node.op_count)))
    if node.seq >= 0:
        rows.append(_row("seq", f"{node.seq} – {node.last_seq}"))
    if node.nonfinite:
        rows.append(_row("values", "<b style='color:#cf222e'>an op inside produced NaN/Inf</b>"))
    hint = "Click to open or close"
    if node.depth > MAX_OPEN_DEPTH:
        hint = f"Nested more than {MAX_OPEN_DEPTH} groups deep: drawn closed"
    return _table(escape(node.label), rows, hint)


def _table(title: str, rows: list[str], hint: str) -> str:
    foot = f"<div style='color:gray'>{escape(hint)}</div>" if hint else ""
    return f"<b>{title}</b><table cellspacing=0>{''.join(rows)}</table>{foot}"


def _end_name(visible: VisibleGraph, node_id: str) -> str:
    if node_id in (IN_PORT, OUT_PORT):
        return "outside the group"
    series = visible.series.get(node_id)
    if series is not None:
        return series_title(visible, series)
    node = visible.h.nodes.get(node_id)
    return node.label if node else node_id


def edge_tooltip(visible: VisibleGraph, route: EdgeRoute) -> str:
    """Shapes and dtypes of the tensors an edge carries."""
    title = f"{escape(_end_name(visible, route.src))} → {escape(_end_name(visible, route.dst))}"
    rows = [
        _row("tensor", escape(format_tensor(shape, dtype)) or "?") for shape, dtype in route.tensors
    ]
    if route.count > 1:
        rows.append(_row("edges", str(route.count)))
    return _table(title, rows, "")


def edge_label(route: EdgeRoute) -> str:
    """Short text for an edge label in exports: the first tensor's shape."""
    return format_shape(route.tensors[0][0]) if route.tensors else ""
