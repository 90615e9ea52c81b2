"""The graph panel driven like a user would: clicks, steps, search, export (pytest-qt)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor

import tracing
from gui.graph.export import ExportOptions
from gui.graph.items import GroupItem, NodeItem
from gui.graph.panel import GraphPanel
from tests.graph.session_double import FakeSession


def wait_idle(qtbot, panel: GraphPanel) -> None:
    qtbot.waitUntil(lambda: panel.model is not None and not panel.is_busy(), timeout=20_000)


@pytest.fixture
def open_panel(qtbot, synthetic_trace):
    def make(follow: bool = True, **trace_options) -> tuple[GraphPanel, FakeSession]:
        session = FakeSession(tracing.load(synthetic_trace(**trace_options)))
        panel = GraphPanel(session)
        qtbot.addWidget(panel)
        panel.resize(900, 700)
        panel.show()
        qtbot.waitExposed(panel)
        wait_idle(qtbot, panel)
        panel.follow_button.setChecked(follow)
        return panel, session

    return make


def seq_of(session: FakeSession, op_type: str, nth: int = 0) -> int:
    return [op.seq for op in session.trace.ops if op.op_type == op_type][nth]


def click_item(qtbot, panel: GraphPanel, node_id: str, header: bool = False) -> None:
    rect = panel.scene.item_rect(node_id)
    assert rect is not None, node_id
    panel.view.centerOn(rect.center())
    point = rect.center() if not header else rect.topLeft() + type(rect.center())(30, 12)
    pos = panel.view.mapFromScene(point)
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_first_view_shows_a_readable_number_of_nodes(open_panel):
    panel, _ = open_panel(blocks=40)
    assert 3 <= len(panel.scene.items_by_id) <= 60
    assert any(i in panel.model.visible.series for i in panel.scene.items_by_id)


def test_clicking_an_op_node_moves_the_session(qtbot, open_panel):
    panel, session = open_panel(blocks=1)
    target = seq_of(session, "torch.softmax")
    click_item(qtbot, panel, f"op:{target}")
    assert session.index == target
    assert session.visited == [target]


def test_stepping_highlights_the_op_and_keeps_it_in_view(qtbot, open_panel):
    panel, session = open_panel(blocks=12)
    target = seq_of(session, "torch.softmax", nth=7)
    session.go_to(target)
    wait_idle(qtbot, panel)
    item = panel.scene.items_by_id[f"op:{target}"]
    assert item.current
    view = panel.view.visible_scene_rect()
    assert view.contains(panel.scene.item_rect(f"op:{target}"))
    session.go_to(target + 1)
    wait_idle(qtbot, panel)
    assert not item.current and panel.scene.items_by_id[f"op:{target + 1}"].current


def test_following_opens_one_block_at_a_time(qtbot, open_panel):
    panel, session = open_panel(blocks=12)
    h = panel.model.hierarchy
    session.go_to(seq_of(session, "torch.softmax", nth=3))
    wait_idle(qtbot, panel)
    session.go_to(seq_of(session, "torch.softmax", nth=4))
    wait_idle(qtbot, panel)
    run = h.runs["root"][0]
    open_blocks = [m for m in run if isinstance(panel.scene.items_by_id.get(m), GroupItem)]
    assert open_blocks == [run[4]]


def test_without_follow_the_hiding_group_is_highlighted(qtbot, open_panel):
    panel, session = open_panel(follow=False, blocks=12)
    session.go_to(seq_of(session, "torch.softmax", nth=5))
    wait_idle(qtbot, panel)
    current = [i for i, item in panel.scene.items_by_id.items() if item.current]
    assert len(current) == 1 and current[0].startswith("series:")


def test_clicking_a_group_opens_it_and_its_title_bar_closes_it(qtbot, open_panel):
    panel, session = open_panel(follow=False, blocks=12)
    series = next(i for i in panel.scene.items_by_id if i.startswith("series:"))
    click_item(qtbot, panel, series)
    wait_idle(qtbot, panel)
    block = panel.model.hierarchy.runs["root"][0][0]
    assert isinstance(panel.scene.items_by_id[block], NodeItem)  # unfolded, still closed
    click_item(qtbot, panel, block)
    wait_idle(qtbot, panel)
    assert isinstance(panel.scene.items_by_id[block], GroupItem)
    assert session.visited == []  # opening groups does not move the cursor
    click_item(qtbot, panel, block, header=True)
    wait_idle(qtbot, panel)
    assert isinstance(panel.scene.items_by_id[block], NodeItem)


def test_search_opens_what_hides_the_match_and_selects_it(qtbot, open_panel):
    panel, _ = open_panel(follow=False, blocks=12)
    qtbot.keyClicks(panel.search_box, "gelu")
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    qtbot.keyClick(panel.search_box, Qt.Key.Key_Return)
    wait_idle(qtbot, panel)
    selected = [i for i, item in panel.scene.items_by_id.items() if item.selected]
    assert len(selected) == 1
    node = panel.model.hierarchy.nodes[selected[0]]
    assert node.label == "gelu" and node.module_path == "layers.1.mlp"
    assert panel.search_status.text() == "2/12"
    assert panel.view.visible_scene_rect().intersects(panel.scene.item_rect(selected[0]))


def test_hover_texts_show_op_module_shape_and_location(open_panel):
    panel, session = open_panel(blocks=1)
    seq = seq_of(session, "torch.softmax")
    text = panel.scene.node_tooltip(f"op:{seq}")
    assert "torch.softmax" in text and "layers.0.attn" in text
    assert "8×8 float32" in text and "synthetic_model.py:" in text
    layout = panel.scene.layout
    edges = [r for r in layout.edges]
    assert edges
    assert "8×16 float32" in panel.scene.edge_tooltip(edges[0])


def test_nan_nodes_are_drawn_in_the_alarm_colour(qtbot, open_panel):
    panel, session = open_panel(blocks=2, nan_block=1)
    seq = seq_of(session, "torch.softmax", nth=1)
    session.go_to(seq)
    wait_idle(qtbot, panel)
    item = panel.scene.items_by_id[f"op:{seq}"]
    assert item.look.nonfinite
    panel.view.set_zoom(1.0)
    panel.view.centerOn(item)
    image = panel.view.grab().toImage()
    rect = panel.view.mapFromScene(panel.scene.item_rect(f"op:{seq}")).boundingRect()
    alarm = QColor(panel.graph_style.palette.nonfinite)
    reds = 0
    for x in range(rect.left(), rect.right() + 1):
        for y in range(rect.top() - 8, rect.bottom() + 1):
            c = QColor(image.pixel(QPoint(x, y)))
            if (
                abs(c.red() - alarm.red())
                + abs(c.green() - alarm.green())
                + abs(c.blue() - alarm.blue())
                < 40
            ):
                reds += 1
    assert reds > 50


def test_export_from_the_panel_matches_what_is_shown(qtbot, open_panel, tmp_path, monkeypatch):
    from gui.graph import export_dialog

    panel, session = open_panel(blocks=8)
    session.go_to(seq_of(session, "torch.nn.functional.gelu", nth=2))
    wait_idle(qtbot, panel)

    def fake_exec(dialog):
        dialog.path_edit.setText(str(tmp_path / "shown.svg"))
        return export_dialog.QDialog.DialogCode.Accepted

    monkeypatch.setattr(export_dialog.ExportDialog, "exec", fake_exec)
    panel.export_graph_dialog()
    root = ET.parse(tmp_path / "shown.svg").getroot()
    words = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert words.count("gelu") == 1  # only the followed block is open, as on screen
    current = [
        r
        for r in root.iter("{http://www.w3.org/2000/svg}rect")
        if r.get("stroke") == panel.graph_style.palette.current
    ]
    assert len(current) == 1


def test_current_view_export_uses_the_visible_region(qtbot, open_panel, tmp_path):
    from gui.graph.export_dialog import export_with_progress

    panel, _ = open_panel(blocks=4)
    panel.view.set_zoom(1.0)
    rect = panel.view.visible_scene_rect().intersected(panel.content_rect())
    options = ExportOptions(
        tmp_path / "view.png",
        state=panel.shown_state,
        view=(rect.x(), rect.y(), rect.width(), rect.height()),
        scale=1.0,
    )
    assert export_with_progress(panel, options)
    from PySide6.QtGui import QImage

    image = QImage(str(tmp_path / "view.png"))
    assert abs(image.width() - rect.width()) <= 1 and abs(image.height() - rect.height()) <= 1


def test_loading_another_trace_rebuilds_the_graph(qtbot, open_panel, tmp_path):
    from tests.graph.builders import tiny_trace

    panel, session = open_panel(blocks=2)
    session.load(tracing.load(tiny_trace(tmp_path / "tiny.opscope")))
    wait_idle(qtbot, panel)
    labels = {panel.model.hierarchy.nodes[i].label for i in panel.scene.items_by_id}
    assert labels == {"x", "relu", "add", "sum"}
    assert panel.scene.items_by_id["op:0"].current


def test_dark_application_palette_gives_a_dark_graph(qtbot, open_panel):
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    panel, _ = open_panel(blocks=1)
    app = QApplication.instance()
    old = app.palette()
    dark = QPalette(old)
    dark.setColor(QPalette.ColorRole.Base, QColor("#202124"))
    dark.setColor(QPalette.ColorRole.Window, QColor("#202124"))
    try:
        app.setPalette(dark)
        qtbot.waitUntil(lambda: panel.graph_style.palette.name == "dark", timeout=2000)
        assert panel.scene.backgroundBrush().color().name() == panel.graph_style.palette.background
    finally:
        app.setPalette(old)


def test_an_empty_trace_shows_an_empty_graph(qtbot, tmp_path):
    from tracing.recorder import Recorder

    with Recorder(tmp_path / "empty.opscope", frameworks=()):
        pass
    session = FakeSession(tracing.load(tmp_path / "empty.opscope"))
    panel = GraphPanel(session)
    qtbot.addWidget(panel)
    wait_idle(qtbot, panel)
    assert panel.scene.items_by_id == {}
    panel.search_box.setText("relu")
    panel.search_next()
    assert panel.search_status.text() == "no match"


def test_more_menu_unfolds_and_opens_a_level(qtbot, open_panel):
    panel, _ = open_panel(follow=False, blocks=6)
    assert any(i.startswith("series:") for i in panel.scene.items_by_id)
    panel.unfold_all()
    wait_idle(qtbot, panel)
    run = panel.model.hierarchy.runs["root"][0]
    assert all(isinstance(panel.scene.items_by_id[m], NodeItem) for m in run)
    panel.open_next_level()
    wait_idle(qtbot, panel)
    assert all(isinstance(panel.scene.items_by_id[m], GroupItem) for m in run)
    panel.fold_all()
    wait_idle(qtbot, panel)
    assert not any(m in panel.scene.items_by_id for m in run)
    actions = [a.text() for a in panel.more_button.menu().actions() if a.text()]
    assert "Export graph…" in actions


def test_stepping_scrolls_only_when_the_op_leaves_the_view(qtbot, open_panel):
    panel, session = open_panel(blocks=12)
    panel.resize(700, 420)
    first = seq_of(session, "torch.nn.functional.layer_norm", nth=10)
    session.go_to(first)
    wait_idle(qtbot, panel)
    view = panel.view
    scrolled_down = 0
    layouts: list[int] = []
    panel.sig_layout_applied.connect(lambda: layouts.append(session.index))
    for seq in range(first + 1, first + 16):
        before = view.visible_scene_rect()
        session.go_to(seq)
        wait_idle(qtbot, panel)
        shown = panel.model.visible.representative(f"op:{seq}", panel.shown_state)
        rect = panel.scene.item_rect(shown)
        after = view.visible_scene_rect()
        assert after.contains(rect), seq
        if seq in layouts:
            continue  # a group opened or closed: the view kept its anchor instead
        if before.adjusted(24, 24, -24, -24).contains(rect):
            assert after == before, f"op {seq} was in view, yet the view moved"
        elif rect.bottom() > before.bottom() - 24 and rect.height() < after.height() / 3:
            scrolled_down += 1
            ahead = (after.bottom() - rect.bottom()) / after.height()
            assert ahead > 0.5, f"op {seq}: only {ahead:.0%} of the view left below it"
    assert scrolled_down >= 1
