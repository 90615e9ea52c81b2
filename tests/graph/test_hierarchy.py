"""The compound graph built from module calls (pure, no Qt)."""

from __future__ import annotations

import pytest

import tracing
from gui.graph.hierarchy import ROOT, Hierarchy
from gui.graph.labels import param_label
from tests.graph.builders import function_trace, keras_trace, repeated_call_trace, tiny_trace


@pytest.fixture
def blocks3(synthetic_trace):
    return Hierarchy.from_trace(tracing.load(synthetic_trace(blocks=3)))


def labels(h: Hierarchy, group: str) -> list[str]:
    return [h.nodes[c].label for c in h.children(group)]


def test_module_calls_become_nested_groups_in_execution_order(blocks3):
    h = blocks3
    assert labels(h, ROOT) == [
        "tokens",
        "linear",
        "layers.0",
        "layers.1",
        "layers.2",
        "linear",
        "mean",
    ]
    block = h.node("call:1")
    assert block.label == "layers.0" and block.type_name == "Block"
    assert labels(h, "call:1") == ["layer_norm", "attn", "add", "layer_norm", "mlp", "add"]
    attn = next(c for c in h.children("call:1") if h.nodes[c].label == "attn")
    assert h.nodes[attn].type_name == "Attention"
    assert h.nodes[attn].op_count == 9


def test_one_op_modules_show_as_their_op_with_the_module_name(blocks3):
    h = blocks3
    embed = h.node("call:0")  # the ``embed`` Linear call is aliased to its only op
    assert embed.kind == "op" and embed.caption == "embed"
    assert h.alias["call:0"] == embed.id
    q = next(h.nodes[c] for c in h.children("call:3") if h.nodes[c].caption == "q")
    assert q.label == "linear" and q.module_path == "layers.0.attn.q"


def test_parameters_are_annotations_not_nodes(blocks3):
    h = blocks3
    assert not any(node_id.startswith("src:param") for node_id in h.nodes)
    embed = h.node("call:0")
    assert [param_label(*p) for p in embed.params] == ["W ⟨16×16⟩", "B ⟨16⟩"]
    assert all(not e.src.startswith("src:param") for edges in h.in_edges.values() for e in edges)


def test_program_inputs_are_nodes_at_top_level(blocks3):
    node = blocks3.nodes["src:input:0"]
    assert node.kind == "source" and node.parent == ROOT and node.label == "tokens"


def test_identical_indexed_blocks_form_one_run(blocks3):
    h = blocks3
    assert h.runs[ROOT] == [("call:1", "call:12", "call:23")]
    inner_signatures = {h.nodes[m].signature for m in h.runs[ROOT][0]}
    assert len(inner_signatures) == 1


def test_blocks_with_different_structure_do_not_fold(tmp_path):
    from tests.graph.builders import LOC, _in, _out
    from tracing.recorder import Recorder

    path = tmp_path / "mixed.opscope"
    with Recorder(path, frameworks=()) as rec:
        rec.add_source("src:input:0", "input", "x")
        prev = "src:input:0"
        for index, op_types in enumerate((["torch.relu"], ["torch.relu", "torch.tanh"])):
            call = rec.enter_module(f"layers.{index}", "Block", "torch")
            for op_type in op_types:
                prev = f"op:{rec.add_op(op_type, 'torch', [_in(0, prev)], _out(), location=LOC)}"
            rec.exit_module(call)
    h = Hierarchy.from_trace(tracing.load(path))
    assert ROOT not in h.runs


def test_repeated_calls_of_one_module_form_a_run(tmp_path):
    h = Hierarchy.from_trace(tracing.load(repeated_call_trace(tmp_path / "rnn.opscope", 4)))
    (run,) = h.runs[ROOT]
    assert [h.nodes[m].label for m in run] == ["cell", "cell:2", "cell:3", "cell:4"]


def test_keras_scope_paths_use_slash_relative_names(tmp_path):
    h = Hierarchy.from_trace(tracing.load(keras_trace(tmp_path / "k.opscope")))
    (model,) = [c for c in h.children(ROOT) if h.nodes[c].kind == "group"]
    assert h.nodes[model].label == "model"
    inner = [h.nodes[c] for c in h.children(model)]
    assert inner[0].label == "dense" and inner[0].kind == "group"
    assert inner[1].label == "MatMul" and inner[1].caption == "dense_1"
    matmul = h.nodes[h.children(inner[0].id)[0]]
    assert [param_label(*p) for p in matmul.params] == ["kernel ⟨4×4⟩"]


def test_empty_module_calls_are_dropped(tmp_path):
    from tests.graph.builders import LOC, _in, _out
    from tracing.recorder import Recorder

    path = tmp_path / "empty.opscope"
    with Recorder(path, frameworks=()) as rec:
        rec.add_source("src:input:0", "input", "x")
        rec.exit_module(rec.enter_module("identity", "Identity", "torch"))
        rec.add_op("torch.relu", "torch", [_in(0, "src:input:0")], _out(), location=LOC)
    h = Hierarchy.from_trace(tracing.load(path))
    assert not any(n.kind == "group" for n in h.nodes.values())


def test_ops_outside_modules_sit_at_top_level(tmp_path):
    h = Hierarchy.from_trace(tracing.load(tiny_trace(tmp_path / "t.opscope")))
    assert labels(h, ROOT) == ["x", "relu", "add", "sum"]
    assert [e.src for e in h.in_edges["op:1"]] == ["op:0", "src:input:0"]


def test_nan_flags_propagate_to_enclosing_groups(synthetic_trace):
    h = Hierarchy.from_trace(tracing.load(synthetic_trace(blocks=3, nan_block=1)))
    assert [h.nodes[m].nonfinite for m in ("call:1", "call:12", "call:23")] == [False, True, False]
    assert h.nodes[ROOT].nonfinite


def test_function_calls_materialise_their_graph_per_call(tmp_path):
    h = Hierarchy.from_trace(tracing.load(function_trace(tmp_path / "f.opscope", calls=2)))
    call = h.nodes["op:0"]
    assert call.expandable and call.kind == "op"
    assert "op:0/g:mm" not in h.nodes  # not built before it is needed
    children = [h.nodes[c] for c in h.children("op:0")]
    assert [c.label for c in children] == ["x", "dense", "Identity", "while_body"]
    dense = children[1]
    assert dense.kind == "scope"
    assert [h.nodes[c].label for c in h.children(dense.id)] == ["MatMul", "Relu"]
    assert [e.src for e in h.in_edges["op:0/g:relu"]] == ["op:0/g:mm"]
    assert next(h.nodes[c].label for c in h.children("op:1")) == "x"
    assert "op:1/g:mm" in h.nodes and h.nodes["op:1/g:mm"].parent == "op:1/scope:dense"


def test_edges_into_nested_function_graphs_are_kept(tmp_path):
    h = Hierarchy.from_trace(tracing.load(function_trace(tmp_path / "f.opscope", calls=1)))
    h.children("op:0")
    assert [e.src for e in h.in_edges["op:0/fn:fn:body/g:b1"]] == ["op:0/g:relu"]
