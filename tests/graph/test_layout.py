"""Visible graph, folding and the per-group layered layout (pure, no Qt)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tracing
from gui.graph.expansion import Expansion
from gui.graph.hierarchy import ROOT, Hierarchy
from gui.graph.layout import GroupLayout, LayoutEngine
from gui.graph.visible import IN_PORT, OUT_PORT, ViewState, VisibleGraph
from tests.graph.builders import function_trace


def build(path):
    h = Hierarchy.from_trace(tracing.load(path))
    visible = VisibleGraph(h)
    return h, visible, LayoutEngine(visible), Expansion(visible)


@pytest.fixture
def blocks6(synthetic_trace):
    return build(synthetic_trace(blocks=6))


def walk(layout: GroupLayout):
    yield layout
    for box in layout.nodes:
        if box.content is not None:
            yield from walk(box.content)


def everything_open(h: Hierarchy, visible: VisibleGraph) -> ViewState:
    expansion = Expansion(visible)
    expansion.set_depth(None)
    expansion.unfold_all()
    return expansion.snapshot()


def test_repeated_blocks_fold_into_one_series_node(blocks6):
    _h, visible, _, _ = blocks6
    children = visible.children(ROOT, ViewState())
    series = [c for c in children if c in visible.series]
    assert len(series) == 1
    assert len(visible.series[series[0]].members) == 6
    assert len(children) == 5  # input, embed, series, head, mean


def test_unfolding_one_member_splits_the_series_around_it(blocks6):
    h, visible, _, _ = blocks6
    run = h.runs[ROOT][0]
    state = ViewState(unfolded=frozenset({run[2]}))
    children = visible.children(ROOT, state)
    pieces = [visible.series[c].members if c in visible.series else (c,) for c in children[2:5]]
    assert pieces == [run[:2], (run[2],), run[3:]]


def test_edges_are_lifted_to_visible_children_with_ports(blocks6):
    h, visible, _, _ = blocks6
    block = h.runs[ROOT][0][0]
    state = ViewState(expanded=frozenset({block}), unfolded=frozenset({block}))
    edges = {(e.src, e.dst): e for e in visible.edges(block, state)}
    inside = visible.children(block, state)
    assert all(s in (*inside, IN_PORT) and d in (*inside, OUT_PORT) for s, d in edges)
    assert sum(1 for s, _ in edges if s == IN_PORT) == 2  # norm1 and the residual add
    assert sum(1 for _, d in edges if d == OUT_PORT) == 1
    top = visible.edges(ROOT, state)
    assert all(IN_PORT not in (e.src, e.dst) and OUT_PORT not in (e.src, e.dst) for e in top)
    residual = [e for e in edges.values() if e.src == IN_PORT]
    assert all(e.tensors == (((8, 16), "float32"),) for e in residual)


def test_representative_is_the_outermost_thing_hiding_a_node(blocks6):
    h, visible, _, _ = blocks6
    softmax = next(n.id for n in h.nodes.values() if n.label == "softmax")
    series = visible.children(ROOT, ViewState())[2]
    assert visible.representative(softmax, ViewState()) == series
    block = h.runs[ROOT][0][0]
    state = ViewState(expanded=frozenset({block}), unfolded=frozenset({block}))
    attn = h.nodes[softmax].parent
    assert visible.representative(softmax, state) == attn
    open_all = ViewState(expanded=frozenset({block, attn}), unfolded=frozenset({block}))
    assert visible.representative(softmax, open_all) == softmax


def boxes_overlap(a, b, gap=1.0) -> bool:
    return not (
        a.x + a.w <= b.x + gap
        or b.x + b.w <= a.x + gap
        or a.y + a.h <= b.y + gap
        or b.y + b.h <= a.y + gap
    )


def test_nodes_never_overlap_and_fit_inside_their_group(blocks6):
    h, visible, engine, _ = blocks6
    layout = engine.layout(everything_open(h, visible))
    groups = list(walk(layout))
    assert len(groups) == 1 + 6 * 3  # root, and each block with its attn and mlp
    for group in groups:
        for a, b in itertools.combinations(group.nodes, 2):
            assert not boxes_overlap(a, b), (group.id, a.id, b.id)
        for box in group.nodes:
            assert box.x >= 0 and box.y >= 0
            assert box.x + box.w <= group.width + 0.5 and box.y + box.h <= group.height + 0.5


def test_edges_point_down_from_producer_to_consumer(blocks6):
    h, visible, engine, _ = blocks6
    layout = engine.layout(everything_open(h, visible))
    checked = 0
    for group in walk(layout):
        boxes = {box.id: box for box in group.nodes}
        for route in group.edges:
            ys = [y for _, y in route.points]
            assert ys == sorted(ys), (group.id, route.src, route.dst)
            if route.src in boxes and route.dst in boxes:
                src, dst = boxes[route.src], boxes[route.dst]
                assert src.y + src.h <= dst.y
                assert route.points[0][1] == pytest.approx(src.y + src.h)
                assert route.points[-1][1] == pytest.approx(dst.y)
                checked += 1
    assert checked > 100


def test_every_tensor_edge_is_drawn_between_the_groups_it_connects(blocks6):
    h, visible, engine, _ = blocks6
    layout = engine.layout(everything_open(h, visible))
    routes = {g.id: {(r.src, r.dst) for r in g.edges} for g in walk(layout)}
    checked = 0
    for edges in h.in_edges.values():
        for edge in edges:
            src_chain = [edge.src, *h.ancestors(edge.src)]
            dst_chain = [edge.dst, *h.ancestors(edge.dst)]
            common = next(g for g in dst_chain if g in src_chain)
            a = src_chain[src_chain.index(common) - 1]
            b = dst_chain[dst_chain.index(common) - 1]
            assert (a, b) in routes[common], (edge, common)
            checked += 1
    assert checked == sum(len(e) for e in h.in_edges.values()) > 100


def test_relayout_reuses_every_cached_group(blocks6):
    _h, _visible, engine, expansion = blocks6
    expansion.auto_open(30)
    first = engine.layout(expansion.snapshot())
    misses = engine.stats["place_miss"]
    again = engine.layout(expansion.snapshot())
    assert again is first
    assert engine.stats["place_miss"] == misses


def test_expanding_a_group_lays_out_only_it_and_its_ancestors(blocks6):
    h, visible, engine, expansion = blocks6
    run = h.runs[ROOT][0]
    expansion.expand(visible.children(ROOT, ViewState())[2])  # unfold the series
    for block in run:
        expansion.expand(block)
    before = engine.layout(expansion.snapshot())
    old_blocks = {box.id: box.content for box in before.nodes if box.content is not None}
    attn = next(c for c in h.children(run[3]) if h.nodes[c].label == "attn")
    orders = engine.stats["order_miss"]
    expansion.expand(attn)
    after = engine.layout(expansion.snapshot())
    assert engine.stats["order_miss"] == orders + 1  # only attn's children were layered
    new_blocks = {box.id: box.content for box in after.nodes if box.content is not None}
    for block in run:
        if block == run[3]:
            assert new_blocks[block] is not old_blocks[block]
        else:
            assert new_blocks[block] is old_blocks[block]


def test_collapsing_again_hits_the_ordering_cache(blocks6):
    h, visible, engine, expansion = blocks6
    series = visible.children(ROOT, ViewState())[2]
    first = engine.layout(expansion.snapshot())
    expansion.expand(series)
    engine.layout(expansion.snapshot())
    expansion.fold_run(h.runs[ROOT][0][0])
    hits = engine.stats["order_hit"]
    assert engine.layout(expansion.snapshot()) is first
    assert engine.stats["order_hit"] == hits


def test_ports_sit_on_the_group_border(blocks6):
    h, _visible, engine, expansion = blocks6
    block = h.runs[ROOT][0][1]
    expansion.reveal(block)
    expansion.expand(block)
    layout = engine.layout(expansion.snapshot())
    box = next(b for b in layout.nodes if b.id == block)
    inner = box.content
    assert inner.in_port is not None and inner.out_port is not None
    assert 0 < inner.in_port < inner.width
    for route in inner.edges:
        if route.src == IN_PORT:
            assert route.points[0] == (inner.in_port, 0.0)
        if route.dst == OUT_PORT:
            assert route.points[-1] == (inner.out_port, inner.height)
            assert not route.arrow
    into = [r for r in layout.edges if r.dst == block]
    assert into and all(r.points[-1] == (box.x + inner.in_port, box.y) for r in into)


def test_function_call_opens_into_its_graph(tmp_path):
    h, _visible, engine, expansion = build(function_trace(tmp_path / "f.opscope"))
    expansion.expand("op:0")
    layout = engine.layout(expansion.snapshot())
    call = next(b for b in layout.nodes if b.id == "op:0")
    assert call.content is not None
    labels = {h.nodes[b.id].label for b in call.content.nodes}
    assert labels == {"x", "dense", "Identity", "while_body"}
    other = next(b for b in layout.nodes if b.id == "op:1")
    assert other.content is None


def test_cycles_and_isolated_nodes_still_get_a_clean_layout():
    from gui.graph.layout import order_layers, place_rows
    from gui.graph.visible import LiftedEdge

    t = (((2,), "float32"),)
    children = ("a", "b", "c", "lonely", "d")
    edges = [
        LiftedEdge("a", "b", t, 1),
        LiftedEdge("b", "c", t, 1),
        LiftedEdge("c", "a", t, 1),
        LiftedEdge("a", "d", t, 1),
        LiftedEdge("b", "d", t, 1),
    ]
    ordering = order_layers(children, edges)
    placed = [item for row in ordering.rows for item in row]
    assert {i for i, k in placed if k < 0} == {0, 1, 2, 3, 4}
    for number, (s, d) in enumerate(ordering.edges):
        lo, hi = ordering.layers[s], ordering.layers[d]
        assert lo <= hi and len(ordering.dummies[number]) == max(hi - lo - 1, 0)
    xs = place_rows(ordering, [50.0] * 7, 20.0, 8.0)
    for row in ordering.rows:
        centres = [xs[item] for item in row]
        assert centres == sorted(centres)


def _random_dag_layout(n, pairs, widths):
    from gui.graph.layout import order_layers, place_rows
    from gui.graph.visible import LiftedEdge

    children = tuple(f"n{i}" for i in range(n))
    edges = [LiftedEdge(f"n{a}", f"n{b}", (((1,), "f"),), 1) for a, b in pairs]
    ordering = order_layers(children, edges)
    xs = place_rows(ordering, [*widths, 0.0, 0.0], 24.0, 8.0)
    return ordering, xs


@settings(max_examples=40, deadline=None)
@given(
    st.integers(min_value=1, max_value=14).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.sets(
                st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(
                    lambda p: p[0] < p[1]
                ),
                max_size=30,
            ),
            st.lists(st.floats(10, 200), min_size=n, max_size=n),
        )
    )
)
def test_any_dag_is_layered_downwards_without_overlaps(case):
    n, pairs, widths = case
    ordering, xs = _random_dag_layout(n, sorted(pairs), widths)
    for a, b in pairs:
        assert ordering.layers[a] < ordering.layers[b]
    for row in ordering.rows:
        for left, right in itertools.pairwise(row):
            wl = widths[left[0]] if left[1] < 0 and left[0] < n else 0.0
            wr = widths[right[0]] if right[1] < 0 and right[0] < n else 0.0
            assert xs[right] - xs[left] >= (wl + wr) / 2 + 8.0 * 0.8 - 1e-6
