"""Build the networkx ``MultiDiGraph`` of a trace from its records.

Node ids: ``op:{seq}`` for executed ops, ``src:{kind}:{name}`` for sources (parameters,
buffers, inputs, constants, variables) and the recorder's own ids for function-graph nodes
(which have a location but no ``seq``). One edge per input slot, so ``x + x`` has two edges.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    from tracing.trace import Trace


def build_graph(trace: Trace) -> nx.MultiDiGraph:
    """The op graph of ``trace``; see the module docstring for the id and attribute schema."""
    graph = nx.MultiDiGraph(framework=trace.framework, path=str(trace.path))
    for node in trace.source_nodes:
        graph.add_node(
            node.node_id,
            kind=node.kind,
            name=node.name,
            op_type=node.kind,
            shape=node.shape,
            dtype=node.dtype,
            module_path="",
        )
    for fn in trace.functions:
        graph.graph.setdefault("functions", {})[fn.graph_id] = {
            "name": fn.name,
            "parent_id": fn.parent_id,
            "file": fn.file,
            "line": fn.line,
        }
    for node in trace.graph_nodes:
        graph.add_node(
            node.node_id,
            kind="graph_op",
            name=node.name,
            op_type=node.op_type,
            graph_id=node.graph_id,
            module_path=node.module_path,
            file=node.file,
            line=node.line,
            func=node.func,
            shapes=tuple(o.shape for o in node.outputs),
        )
    for op in trace.ops:
        graph.add_node(
            op.node_id,
            kind=op.kind,
            seq=op.seq,
            op_type=op.op_type,
            framework=op.framework,
            module_path=op.module_path,
            module_call=op.module_call,
            file=op.file,
            line=op.line,
            col=op.col,
            func=op.func,
            mutates=op.mutates,
            graph_id=op.graph_id,
            shapes=tuple(o.shape for o in op.outputs),
            nonfinite=op.nonfinite,
        )
    for op in trace.ops:
        for ref in op.inputs:
            if ref.source not in graph:  # defensive: the reader already checked references
                continue
            graph.add_edge(
                ref.source,
                op.node_id,
                slot=ref.slot,
                name=ref.name,
                out_index=ref.out_index,
                shape=ref.shape,
                dtype=ref.dtype,
                kind=ref.kind,
            )
    for edge in trace.graph_edges:
        if edge.src in graph and edge.dst in graph:
            graph.add_edge(
                edge.src,
                edge.dst,
                slot=edge.slot,
                name="",
                out_index=edge.out_index,
                shape=edge.shape,
                dtype=edge.dtype,
                kind=edge.kind,
            )
    return graph
