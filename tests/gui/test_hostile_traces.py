"""Trace files a viewer must survive: sizes Qt cannot hold, text that looks like HTML, module
calls nested thousands deep. Each test drives the real widgets over a (doctored) trace file."""

from __future__ import annotations

import sqlite3
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtGui
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QTextDocument
from PySide6.QtWidgets import QLabel

import tracing
from gui import tensor_data
from gui.graph.hierarchy import Hierarchy
from gui.graph.model import GraphModel
from gui.graph.visible import MAX_OPEN_DEPTH
from gui.panels import scrub_bar
from gui.panels.tensor_inspector import TensorInspectorPanel
from gui.panels.tensor_views import (
    HEATMAP_MAX_SIDE,
    VALUES_MAX_COLUMNS,
    VALUES_MAX_ROWS,
    ValuesModel,
)
from gui.session import DebugSession
from tests.gui.conftest import settle
from tracing.model import TensorSummary
from tracing.recorder import Recorder
from tracing.summaries import summarize_array

QT_INT_MAX = 2**31 - 1
LOC = ("model.py", 1, -1, -1, "f", -1)


# -- helpers ---


def record_value(path: Path, array: np.ndarray) -> Path:
    """A trace of one op whose output ``array`` is stored with its values."""
    with Recorder(path, values=True, frameworks=()) as recorder:
        recorder.add_op(
            "torch.arange",
            "torch",
            [],
            [summarize_array(array, has_value=True)],
            location=LOC,
            values={0: array.tobytes()},
        )
    return path


def claim_shape(path: Path, shape: str) -> Path:
    """Make op 0's output claim ``shape`` (``"0,4294967296"``) with no stored bytes, as a
    hostile or damaged file can."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("UPDATE tensors SET shape = ? WHERE seq = 0", (shape,))
        db.execute("UPDATE blobs SET data = x'' WHERE seq = 0")
    finally:
        db.close()
    return path


def hostile_value(tmp_path: Path, shape: str) -> Path:
    return claim_shape(record_value(tmp_path / "t.opscope", np.zeros((2, 4), np.float32)), shape)


@pytest.fixture
def inspector(qtbot):
    """A tensor inspector over a session on the trace at a path, settled on op 0."""

    def make(path: Path) -> TensorInspectorPanel:
        session = DebugSession(tracing.load(path))
        panel = TensorInspectorPanel(session)
        qtbot.addWidget(panel)
        panel.resize(500, 600)
        panel.show()
        qtbot.waitUntil(lambda: not panel.busy and panel.shown_seq == 0, timeout=5000)
        return panel

    return make


def show_tab(qtbot, panel: TensorInspectorPanel, tab: int) -> None:
    panel.tabs.setCurrentIndex(tab)
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)
    panel.grab()  # paint it: the crash was in the views' painting and header code


def displayed(text: str) -> str:
    """What Qt shows for a tooltip or auto-format label text (rich text is rendered)."""
    if QtGui.Qt.mightBeRichText(text):
        document = QTextDocument()
        document.setHtml(text)
        return document.toPlainText()
    return text


# -- 1. sizes Qt cannot hold ---


@pytest.mark.parametrize("shape", [(0, 2**32), (2**31, 0), (0, QT_INT_MAX), (0, 100_000_000)])
def test_values_model_counts_stay_small_for_any_claimed_shape(shape):
    model = ValuesModel()
    model.set_data(np.zeros(shape, np.float32))
    assert model.rowCount() == 0 and model.columnCount() == 0
    assert model.note.startswith("Empty") and f"{max(shape):,}" in model.note


@pytest.mark.parametrize("shape", ["0,4294967296", "2147483648,0", "0,2147483648"])
def test_an_empty_tensor_with_a_huge_dimension_shows_empty(tmp_path, inspector, qtbot, shape):
    panel = inspector(hostile_value(tmp_path, shape))
    assert panel.stack.currentWidget() is panel.content_page
    show_tab(qtbot, panel, panel.VALUES)
    model = panel.values.values
    assert (model.rowCount(), model.columnCount()) == (0, 0)
    rows, columns = (int(n) for n in shape.split(","))
    assert panel.values.note.isVisibleTo(panel)
    assert panel.values.note.text() == f"Empty ({rows:,} × {columns:,}): no values"
    show_tab(qtbot, panel, panel.HEATMAP)
    assert panel.heatmap.note.isVisibleTo(panel)
    assert panel.heatmap.note.text().startswith("Empty")
    show_tab(qtbot, panel, panel.HISTOGRAM)
    assert panel.histogram.caption.text() == "no finite values"


def test_a_wide_tensor_shows_its_first_columns_with_a_note(tmp_path, inspector, qtbot):
    array = np.arange(20_000, dtype=np.float32).reshape(1, -1)
    panel = inspector(record_value(tmp_path / "wide.opscope", array))
    show_tab(qtbot, panel, panel.VALUES)
    model = panel.values.values
    assert (model.rowCount(), model.columnCount()) == (1, VALUES_MAX_COLUMNS)
    assert model.index(0, VALUES_MAX_COLUMNS - 1).data() == f"{VALUES_MAX_COLUMNS - 1}"
    assert panel.values.note.isVisibleTo(panel)
    assert panel.values.note.text() == f"Showing the first {VALUES_MAX_COLUMNS:,} of 20,000 columns"
    show_tab(qtbot, panel, panel.HEATMAP)
    assert panel.heatmap.data.shape == (1, HEATMAP_MAX_SIDE)
    assert panel.heatmap.note.text() == f"Showing the first {HEATMAP_MAX_SIDE:,} of 20,000 columns"
    assert panel.heatmap.hover.text() == "1 × 20000"
    show_tab(qtbot, panel, panel.HISTOGRAM)
    assert panel.histogram.counts.sum() == 20_000  # the histogram still counts every value


def test_a_long_tensor_shows_its_first_rows_with_a_note(tmp_path, inspector, qtbot):
    array = np.arange(VALUES_MAX_ROWS + 5, dtype=np.uint8).reshape(-1, 1)
    panel = inspector(record_value(tmp_path / "long.opscope", array))
    show_tab(qtbot, panel, panel.VALUES)
    assert panel.values.values.rowCount() == VALUES_MAX_ROWS
    assert f"the first {VALUES_MAX_ROWS:,} of {VALUES_MAX_ROWS + 5:,} rows" in (
        panel.values.note.text()
    )


def test_a_normal_tensor_shows_whole_with_no_note(tmp_path, inspector, qtbot):
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    panel = inspector(record_value(tmp_path / "t.opscope", array))
    show_tab(qtbot, panel, panel.VALUES)
    model = panel.values.values
    assert (model.rowCount(), model.columnCount()) == (3, 4)
    assert not panel.values.note.isVisibleTo(panel)
    assert panel.values.table.geometry().top() == 0  # the table fills the tab as before
    show_tab(qtbot, panel, panel.HEATMAP)
    assert not panel.heatmap.note.isVisibleTo(panel)
    np.testing.assert_array_equal(panel.heatmap.data, array)


def test_a_leading_dimension_beyond_a_c_int_clamps_the_slider(tmp_path, inspector, qtbot):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        panel = inspector(hostile_value(tmp_path, f"{2**48},0,4"))
        show_tab(qtbot, panel, panel.VALUES)
    assert not [w for w in caught if "Overflow" in str(w.message)], caught
    slider = panel.slicer._sliders[0]
    assert slider.maximum() == QT_INT_MAX
    assert panel.slicer._labels[0].text() == f"0 / {2**48 - 1}"
    slider.setValue(QT_INT_MAX)  # a slice index past the (empty) data must not fail
    show_tab(qtbot, panel, panel.HEATMAP)
    assert panel.values.note.text() == "Empty (0 × 4): no values"


def test_an_empty_leading_dimension_shows_empty(tmp_path, inspector, qtbot):
    panel = inspector(hostile_value(tmp_path, "0,3,4"))
    show_tab(qtbot, panel, panel.VALUES)
    assert panel.values.values.columnCount() == 0
    assert panel.values.note.text().startswith("Empty")
    assert panel.slicer._labels[0].text() == "empty"
    assert not panel.slicer._sliders[0].isEnabled()


def test_histogram_counts_big_arrays_in_chunks_exactly(monkeypatch):
    monkeypatch.setattr(tensor_data, "HISTOGRAM_CHUNK", 7)
    rng = np.random.default_rng(0)
    values = rng.normal(size=1000)
    values[[3, 500]] = np.nan
    values[77] = np.inf
    for array in (values, values.astype(np.float16), rng.integers(0, 9, 50), np.array([2.0])):
        counts, edges = tensor_data.histogram(array)
        finite = array[np.isfinite(array)].astype(np.float64)
        low, high = finite.min(), finite.max()
        if low == high:
            low, high = low - 0.5, high + 0.5
        bins = int(min(64, max(8, 2 * np.sqrt(finite.size))))
        want_counts, want_edges = np.histogram(finite, bins=bins, range=(low, high))
        np.testing.assert_array_equal(counts, want_counts)
        np.testing.assert_array_equal(edges, want_edges)


# -- 2. text from the trace that looks like HTML ---

HTML_FILE = '<img src="x.png"><b>model</b>.py'
HTML_MODULE = "<b>enc</b>"
HTML_OP = "torch.<i>relu</i>"


@pytest.fixture
def html_trace(tmp_path) -> Path:
    path = tmp_path / "html.opscope"
    with Recorder(path, frameworks=()) as recorder:
        recorder.writer.put("sources", (HTML_FILE, "a = 1\nb = 2\nc = 3\nx = relu(x)\n"))
        call = recorder.enter_module(HTML_MODULE, "<u>Block</u>", "torch")
        for _ in range(2):
            recorder.add_op(
                HTML_OP,
                "torch",
                [],
                [TensorSummary((3,), "float32")],
                location=(HTML_FILE, 4, -1, -1, "<s>forward</s>", -1),
            )
        recorder.exit_module(call)
    return path


def test_names_from_the_trace_show_literally_in_tooltips(window, qtbot, html_trace, monkeypatch):
    assert window.open_trace(html_trace)
    settle(window)
    where = f"{HTML_FILE}:4"
    assert where in displayed(window.status_location.toolTip())
    assert HTML_FILE in displayed(window.source.title.toolTip())
    tip = window.timeline.model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    for text in (HTML_OP, HTML_MODULE, where, "<s>forward</s>"):
        assert text in displayed(tip)
    stack = window.call_stack.model
    tips = [displayed(stack.index(r, 0).data(Qt.ItemDataRole.ToolTipRole) or "") for r in range(3)]
    assert any(HTML_MODULE in t for t in tips), tips
    line_tip = window.source.line_ops_model.index(0, 1).data(Qt.ItemDataRole.ToolTipRole)
    assert f"{HTML_OP} in {HTML_MODULE}" in displayed(line_tip)
    window.session.set_breakpoint(HTML_FILE, 4)
    window.session.set_op_type_breakpoint(HTML_OP)
    tree = window.breakpoints.tree
    items = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    item_tips = [displayed(item.toolTip(0)) for item in items]
    assert any(where in t for t in item_tips) and any(HTML_OP in t for t in item_tips), item_tips
    shown_tips: list[str] = []

    class Tips:
        @staticmethod
        def showText(_position, text, _widget=None):
            shown_tips.append(text)

    monkeypatch.setattr(scrub_bar, "QToolTip", Tips)
    scrub = window.timeline.scrub
    scrub.resize(400, 60)
    point = QPointF(5, 5)
    move = QMouseEvent(
        QEvent.Type.MouseMove,
        point,
        scrub.mapToGlobal(point),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    scrub.mouseMoveEvent(move)
    assert shown_tips and HTML_MODULE in displayed(shown_tips[-1])
    if window.graph is not None:
        assert HTML_MODULE in displayed(window.graph.scene.node_tooltip("op:0"))


def test_an_error_naming_an_html_like_file_shows_it_as_written(window, tmp_path):
    bad = tmp_path / "<b>bad<i>.opscope"  # a file name holds no "/"
    bad.write_bytes(b"not a trace at all" * 10)
    assert not window.open_trace(bad)
    box = window.error_dialog
    assert box is not None
    label = box.findChild(QLabel, "qt_msgbox_informativelabel")
    assert label.textFormat() == Qt.TextFormat.PlainText
    assert "<b>bad<i>.opscope" in label.text()


# -- 3. module calls nested thousands deep ---


def nested_trace(path: Path, depth: int) -> Path:
    """Module calls ``m0`` ⊃ ``m1`` ⊃ … ``depth`` deep, with three ops in the innermost."""
    with Recorder(path, frameworks=()) as recorder:
        calls = [recorder.enter_module(f"m{i}", "M", "torch") for i in range(depth)]
        previous = None
        for _ in range(3):
            inputs = []
            if previous is not None:
                inputs = [(0, "x", f"op:{previous}", 0, (2,), "float32", "data")]
            previous = recorder.add_op(
                "torch.relu", "torch", inputs, [TensorSummary((2,), "float32")], location=LOC
            )
        recorder.exit_module(calls[0])
    return path


def test_the_graph_shows_module_calls_nested_1000_deep(window, qtbot, tmp_path):
    assert window.open_trace(nested_trace(tmp_path / "deep.opscope", 1000))
    settle(window)
    graph = window.graph
    if graph is None:
        pytest.skip("no graph panel")
    assert graph.search_status.text() != "layout failed"
    assert graph.model is not None and graph.shown_state is not None
    # open groups down to MAX_OPEN_DEPTH, then the closed group that holds the current op
    shown = graph.model.visible.representative("op:0", graph.shown_state)
    assert graph.model.hierarchy.nodes[shown].depth == MAX_OPEN_DEPTH + 1
    assert graph.scene.items_by_id[shown].current
    assert len(graph.scene.items_by_id) == MAX_OPEN_DEPTH + 1
    assert "drawn closed" in graph.scene.node_tooltip(shown)
    for seq in (1, 2, 0):
        window.session.go_to(seq)
        settle(window)
        assert graph.scene.items_by_id[shown].current
    window.grab()
    assert window.call_stack.model.rowCount() > 1000


def test_a_trace_nested_20000_deep_opens_in_seconds(window, qtbot, tmp_path):
    path = nested_trace(tmp_path / "deeper.opscope", 20_000)
    started = time.perf_counter()
    assert window.open_trace(path)
    settle(window, timeout_s=60)
    elapsed = time.perf_counter() - started
    assert elapsed < 10, f"{elapsed:.1f} s"  # 30-50 s before: per-group walks of the chain
    if window.graph is not None:
        assert window.graph.search_status.text() != "layout failed"


def test_graph_model_of_a_deep_chain_does_not_walk_the_chain_per_group(tmp_path):
    trace = tracing.load(nested_trace(tmp_path / "deep.opscope", 5000))
    calls = {"leaves": 0}
    original = Hierarchy.leaves

    def counted(self, group_id):
        calls["leaves"] += 1
        return original(self, group_id)

    Hierarchy.leaves = counted  # type: ignore[method-assign]
    try:
        model = GraphModel(trace)
        model.expansion.follow(model.op_node(2))
        layout = model.layout()
    finally:
        Hierarchy.leaves = original  # type: ignore[method-assign]
    assert calls["leaves"] == 0
    depth = 0
    while layout.nodes and layout.nodes[0].content is not None:
        layout, depth = layout.nodes[0].content, depth + 1
    assert depth == MAX_OPEN_DEPTH


def test_subtree_queries_match_walking_the_tree():
    demo = Path(__file__).resolve().parents[2] / "gui" / "resources" / "demo.opscope"
    h = Hierarchy.from_trace(tracing.load(demo))
    groups = [node.id for node in h.nodes.values() if node.children]
    assert len(groups) > 20
    for group in groups:
        assert h.subtree_leaves(group) == list(h.leaves(group))
        for leaf in h.subtree_leaves(group)[:50]:
            chain = [leaf, *h.ancestors(leaf)]
            want = chain[chain.index(group) - 1] if group in chain[1:] else None
            assert h.child_holding(group, leaf) == want
        assert h.child_holding(group, group) is None


def test_function_graphs_that_contain_each_other_are_built_once(tmp_path):
    from tests.graph.builders import function_trace

    path = function_trace(tmp_path / "fn.opscope")
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=DELETE")
        db.execute("UPDATE functions SET parent_id = 'fn:body' WHERE graph_id = 'fn:step'")
    finally:
        db.close()
    model = GraphModel(tracing.load(path))
    calls = [node.id for node in model.hierarchy.groups() if node.kind == "op"]
    assert calls
    model.hierarchy.materialize(calls)  # fn:step ⊃ fn:body ⊃ fn:step …: recursed forever
    model.expansion.set_depth(None)
    assert model.layout().nodes
