"""Expansion state, following the cursor, search and labels (pure, no Qt)."""

from __future__ import annotations

import pytest

import tracing
from gui.graph.expansion import Expansion
from gui.graph.hierarchy import ROOT, Hierarchy
from gui.graph.labels import format_shape, op_category, short_op_name
from gui.graph.search import search
from gui.graph.visible import VisibleGraph


@pytest.fixture
def model(synthetic_trace):
    h = Hierarchy.from_trace(tracing.load(synthetic_trace(blocks=8)))
    visible = VisibleGraph(h)
    return h, visible, Expansion(visible)


def op_in_block(h: Hierarchy, block: int, label: str = "softmax") -> str:
    member = h.runs[ROOT][0][block]
    return next(leaf for leaf in h.leaves(member) if h.nodes[leaf].label == label)


def test_first_view_stays_under_the_node_budget(model):
    _h, visible, expansion = model
    expansion.auto_open(budget=10)
    state = expansion.snapshot()
    count = 0
    stack = [ROOT]
    while stack:
        for child in visible.children(stack.pop(), state):
            if visible.is_expanded(child, state) and child not in visible.series:
                stack.append(child)
            else:
                count += 1
    assert 4 <= count <= 10
    assert any(c in visible.series for c in visible.children(ROOT, state))  # 8 blocks stay folded


def test_small_traces_open_completely(synthetic_trace):
    h = Hierarchy.from_trace(tracing.load(synthetic_trace(blocks=1)))
    visible = VisibleGraph(h)
    expansion = Expansion(visible)
    expansion.auto_open(budget=60)
    state = expansion.snapshot()
    for leaf in h.leaves(ROOT):
        assert visible.representative(leaf, state) == leaf


def test_following_opens_the_path_and_closes_the_previous_block(model):
    h, visible, expansion = model
    first = op_in_block(h, 2)
    assert expansion.follow(first)
    assert visible.representative(first, expansion.snapshot()) == first
    second = op_in_block(h, 3)
    assert expansion.follow(second)
    state = expansion.snapshot()
    assert visible.representative(second, state) == second
    block2 = h.runs[ROOT][0][2]
    assert block2 not in state.expanded and block2 not in state.unfolded
    assert visible.representative(first, state) != first
    assert not expansion.follow(second)  # already visible: nothing to do


def test_groups_the_user_opened_stay_open_while_following(model):
    h, _visible, expansion = model
    block2 = h.runs[ROOT][0][2]
    expansion.reveal(block2)
    expansion.expand(block2)
    expansion.follow(op_in_block(h, 5))
    state = expansion.snapshot()
    assert block2 in state.expanded and block2 in state.unfolded


def test_depth_limits_which_groups_open(model):
    h, _visible, expansion = model
    expansion.set_depth(1)
    assert expansion.expanded == {n.id for n in h.groups() if n.depth == 1}
    expansion.set_depth(0)
    assert not expansion.expanded
    expansion.set_depth(None)
    assert expansion.expanded == {n.id for n in h.groups()}


def test_collapse_keeps_inner_state_for_reopening(model):
    h, visible, expansion = model
    block = h.runs[ROOT][0][0]
    attn = h.nodes[op_in_block(h, 0)].parent
    expansion.reveal(op_in_block(h, 0))
    assert expansion.collapse(block)
    assert attn in expansion.expanded
    expansion.expand(block)
    assert visible.representative(op_in_block(h, 0), expansion.snapshot()) == op_in_block(h, 0)


def test_search_finds_ops_types_and_modules_best_first(model):
    h, _, _ = model
    hits = search(h, "softmax")
    assert len(hits) == 8 and all(h.nodes[x].label == "softmax" for x in hits)
    assert [h.nodes[x].seq for x in hits] == sorted(h.nodes[x].seq for x in hits)
    module_hits = search(h, "layers.3.attn")
    assert h.nodes[module_hits[0]].kind == "group" and h.nodes[module_hits[0]].label == "attn"
    assert search(h, "torch.nn.functional.gelu")[0] == next(
        n.id for n in h.nodes.values() if n.label == "gelu"
    )
    assert search(h, "  ") == [] and search(h, "no-such-op") == []


def test_revealing_a_search_hit_makes_it_visible(model):
    h, visible, expansion = model
    hit = search(h, "gelu")[5]
    assert visible.representative(hit, expansion.snapshot()) != hit
    assert expansion.reveal(hit)
    assert visible.representative(hit, expansion.snapshot()) == hit


@pytest.mark.parametrize(
    ("op_type", "short", "category"),
    [
        ("torch.nn.functional.linear", "linear", "layer"),
        ("Tensor.__matmul__", "matmul", "layer"),
        ("Tensor.__radd__", "add", "math"),
        ("torch.softmax", "softmax", "activation"),
        ("torch.nn.functional.layer_norm", "layer_norm", "normalization"),
        ("Tensor.transpose", "transpose", "shape"),
        ("MatMul", "MatMul", "layer"),
        ("FusedBatchNormV3", "FusedBatchNormV3", "normalization"),
        (
            "torch.nn.functional.scaled_dot_product_attention",
            "scaled_dot_product_attention",
            "attention",
        ),
        ("MaxPool2D", "MaxPool2D", "pooling"),
        ("Tensor.mean", "mean", "reduction"),
    ],
)
def test_op_names_are_shortened_and_categorised(op_type, short, category):
    assert short_op_name(op_type) == short
    assert op_category(op_type) == category


def test_shapes_read_like_netron():
    assert format_shape((8, 16)) == "8×16"
    assert format_shape(()) == "scalar"
    assert format_shape((-1, 3)) == "?×3"
