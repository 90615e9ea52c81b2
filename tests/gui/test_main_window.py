"""The real window, driven with the real keys and clicks: every panel follows the cursor."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from gui.actions import ActionId
from tests.gui.conftest import assert_all_panels_at, settle
from tracing.model import TensorSummary
from tracing.recorder import Recorder
from tracing.synthetic import SOURCE_FILE


def press(qtbot, window, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window, key, modifier)


def test_opening_a_trace_puts_every_panel_on_op_zero(shown, nan_trace):
    assert shown.open_trace(nan_trace)
    assert_all_panels_at(shown, 0)
    assert shown.last_error is None
    assert nan_trace.name in shown.windowTitle()


def test_vs_code_keys_step_and_every_panel_moves(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    press(qtbot, shown, Qt.Key.Key_F11)  # step into: op 1 (layers.0.norm1)
    assert_all_panels_at(shown, 1)
    press(qtbot, shown, Qt.Key.Key_F11)  # op 2: layers.0.attn.q
    assert_all_panels_at(shown, 2)
    press(qtbot, shown, Qt.Key.Key_F11, Qt.KeyboardModifier.ShiftModifier)  # out of q: op 3
    assert_all_panels_at(shown, 3)
    press(qtbot, shown, Qt.Key.Key_F10)  # k's call returns: op 4
    assert_all_panels_at(shown, 4)
    press(qtbot, shown, Qt.Key.Key_F10)  # v returns: op 5 (transpose, line 12 of attn)
    assert_all_panels_at(shown, 5)
    press(qtbot, shown, Qt.Key.Key_F10)  # op 6 is on line 12 too: the next line is op 7
    assert_all_panels_at(shown, 7)
    press(qtbot, shown, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier)  # step back
    assert_all_panels_at(shown, 6)


def test_continue_runs_to_a_line_breakpoint_then_to_the_end(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.set_breakpoint(SOURCE_FILE, 13)  # softmax line: ops 7-8 and 23-24
    press(qtbot, shown, Qt.Key.Key_F5)
    assert_all_panels_at(shown, 7)
    press(qtbot, shown, Qt.Key.Key_F5)
    assert_all_panels_at(shown, 23)
    press(qtbot, shown, Qt.Key.Key_F5)
    last = len(shown.session.trace.ops) - 1
    assert_all_panels_at(shown, last)
    assert not shown.commands[ActionId.CONTINUE].isEnabled()
    assert not shown.commands[ActionId.STEP_INTO].isEnabled()


def test_run_to_first_nan_and_restart(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    press(
        qtbot,
        shown,
        Qt.Key.Key_N,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert_all_panels_at(shown, 24)
    assert shown.session.current.nonfinite
    assert "NaN" in shown.status_nonfinite.text()
    assert shown.inspector.fields["nan"].text() != "0"
    press(
        qtbot,
        shown,
        Qt.Key.Key_F5,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert_all_panels_at(shown, 0)


def test_break_on_nan_toolbar_toggle_makes_continue_stop_at_the_nan(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.commands[ActionId.BREAK_ON_NONFINITE].trigger()
    assert shown.session.break_on_nonfinite
    assert shown.breakpoints.nonfinite.isChecked()
    press(qtbot, shown, Qt.Key.Key_F5)
    assert_all_panels_at(shown, 24)


def test_op_type_breakpoint_from_the_breakpoints_panel(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    panel = shown.breakpoints
    panel.op_type.setEditText("torch.nn.functional.gelu")
    qtbot.keyClick(panel.op_type.lineEdit(), Qt.Key.Key_Return)
    assert shown.session.op_type_breakpoints == ["torch.nn.functional.gelu"]
    press(qtbot, shown, Qt.Key.Key_F5)
    assert shown.session.current.op_type == "torch.nn.functional.gelu"
    assert_all_panels_at(shown, shown.session.index)


def test_actions_follow_the_cursor(shown, qtbot, nan_trace):
    commands = shown.commands
    assert not commands[ActionId.STEP_INTO].isEnabled()  # no trace yet
    shown.open_trace(nan_trace)
    assert not commands[ActionId.STEP_BACK].isEnabled()
    assert not commands[ActionId.RESTART].isEnabled()
    assert commands[ActionId.STEP_INTO].isEnabled()
    assert commands[ActionId.STEP_OUT].isEnabled()  # op 0 runs inside the embed call
    press(qtbot, shown, Qt.Key.Key_F11)
    assert commands[ActionId.STEP_BACK].isEnabled()
    shown.session.go_to(len(shown.session.trace.ops) - 1)  # the top-level mean
    assert not commands[ActionId.STEP_OUT].isEnabled()
    assert not commands[ActionId.STEP_INTO].isEnabled()


def test_clicking_a_timeline_row_moves_every_panel(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    table = shown.timeline.table
    index = shown.timeline.proxy.index(9, 0)
    table.scrollTo(index)
    qtbot.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualRect(index).center()
    )
    assert_all_panels_at(shown, 9)


def test_timeline_filter_keeps_matching_ops_and_the_cursor_row(shown, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(8)  # a softmax
    shown.timeline.set_filter("softmax")
    proxy = shown.timeline.proxy
    assert proxy.rowCount() == 2
    assert shown.timeline.selected_seq() == 8
    shown.timeline.nonfinite_only.setChecked(True)
    assert proxy.rowCount() == 1
    assert shown.timeline.selected_seq() is None  # op 8 is finite: filtered out
    shown.timeline.set_filter("")
    shown.timeline.nonfinite_only.setChecked(False)
    assert proxy.rowCount() == len(shown.session.trace.ops)


def test_scrubbing_the_flame_chart_moves_the_cursor(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    scrub = shown.timeline.scrub
    x = scrub.width() * (20.5 / len(shown.session.trace.ops))
    qtbot.mouseClick(scrub, Qt.MouseButton.LeftButton, pos=QPoint(int(x), 20))
    assert_all_panels_at(shown, 20)


def gutter_point(editor, line: int) -> QPoint:
    block = editor.document().findBlockByNumber(line - 1)
    geometry = editor.blockBoundingGeometry(block).translated(editor.contentOffset())
    return QPoint(8, int(geometry.center().y()))


def test_clicking_the_gutter_toggles_a_line_breakpoint(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(5)  # attention, line 12: line 14 is on screen
    editor = shown.source.editor
    qtbot.mouseClick(editor.gutter, Qt.MouseButton.LeftButton, pos=gutter_point(editor, 14))
    assert shown.session.has_breakpoint(SOURCE_FILE, 14)
    assert 14 in editor.breakpoints
    press(qtbot, shown, Qt.Key.Key_F5)
    assert_all_panels_at(shown, 9)  # weights @ v
    qtbot.mouseClick(editor.gutter, Qt.MouseButton.LeftButton, pos=gutter_point(editor, 14))
    assert not shown.session.has_breakpoint(SOURCE_FILE, 14)
    assert 14 not in editor.breakpoints


def test_f9_toggles_a_breakpoint_on_the_current_line(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(7)
    press(qtbot, shown, Qt.Key.Key_F9)
    assert shown.session.line_breakpoints == [(SOURCE_FILE, 13)]
    assert (
        len(shown.breakpoints.tree.findItems("synthetic_model.py:13", Qt.MatchFlag.MatchStartsWith))
        == 1
    )
    press(qtbot, shown, Qt.Key.Key_F9)
    assert shown.session.line_breakpoints == []


def click_row(qtbot, view, index) -> None:
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_clicking_a_call_stack_module_goes_to_the_start_of_that_call(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(7)  # inside layers.0.attn (ops 2-10) inside layers.0 (ops 1-16)
    panel = shown.call_stack
    click_row(qtbot, panel.tree, panel.row_index("layers.0.attn"))
    assert_all_panels_at(shown, 2)


def test_clicking_a_python_frame_shows_its_line_without_moving(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(7)
    panel = shown.call_stack
    click_row(qtbot, panel.tree, panel.row_index("synthetic_model.py:35", column=1))
    assert shown.session.index == 7
    assert shown.source.editor.viewed_line == 35
    assert shown.source.editor.caret_line() == 35


def test_clicking_an_op_of_the_line_list_moves_the_cursor(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(8)
    panel = shown.source
    row = panel.line_op_seqs().index(24)
    click_row(qtbot, panel.line_ops, panel.line_ops_model.index(row, 0))
    assert_all_panels_at(shown, 24)


def test_keyboard_shortcuts_dialog_lists_the_debugger_keys(shown):
    dialog = shown.show_shortcuts()
    commands = dict(dialog.commands())
    assert commands["Step Over"] == "F10"
    assert commands["Step Into"] == "F11"
    assert commands["Step Out"] == "Shift+F11"
    assert commands["Continue"] == "F5"
    assert commands["Toggle Breakpoint"] == "F9"


def test_a_damaged_file_shows_an_error_and_keeps_the_window_usable(
    shown, qtbot, nan_trace, tmp_path
):
    shown.open_trace(nan_trace)
    shown.session.go_to(3)
    bad = tmp_path / "bad.opscope"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    assert not shown.open_trace(bad)
    assert "bad.opscope" in shown.last_error
    assert shown.error_dialog is not None and shown.error_dialog.isVisible()
    assert shown.session.trace.path == nan_trace  # the previous trace stays open
    shown.error_dialog.close()
    press(qtbot, shown, Qt.Key.Key_F11)
    assert_all_panels_at(shown, 4)


@pytest.mark.parametrize(
    "content", [b"", b"not a trace at all", b"PK\x03\x04 a zip file" + b"\x00" * 200]
)
def test_foreign_files_give_a_clear_error(window, tmp_path, content):
    path = tmp_path / "foreign.opscope"
    path.write_bytes(content)
    assert not window.open_trace(path)
    assert "foreign.opscope" in window.last_error
    assert window.session.trace is None


def test_a_missing_file_is_reported_and_dropped_from_recent_files(window, nan_trace, tmp_path):
    gone = tmp_path / "gone.opscope"
    gone.write_bytes(nan_trace.read_bytes())
    assert window.open_trace(gone)
    assert str(gone.resolve()) in window.recent.paths()
    gone.unlink()
    assert not window.open_trace(gone)
    assert "no such file" in window.last_error
    assert str(gone.resolve()) not in window.recent.paths()


def test_dropping_a_trace_on_the_window_opens_it(shown, nan_trace):
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(nan_trace))])
    event = QDropEvent(
        QPointF(100, 100),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    shown.dropEvent(event)
    settle(shown)  # dropped files open in a worker thread
    assert shown.session.trace is not None and shown.session.trace.path == nan_trace
    assert_all_panels_at(shown, 0)


def test_opening_in_the_background_shows_errors_and_ignores_stale_results(
    window, tmp_path, nan_trace
):
    bad = tmp_path / "bad.opscope"
    bad.write_bytes(b"junk")
    window.open_trace(bad, background=True)
    window.open_trace(nan_trace, background=True)  # replaces the first: its error is dropped
    settle(window)
    assert window.last_error is None
    assert window.session.trace.path == nan_trace
    window.open_trace(bad, background=True)
    settle(window)
    assert "bad.opscope" in window.last_error
    assert window.session.trace.path == nan_trace


def test_a_trace_opened_in_the_background_shows_a_busy_bar_until_it_is_shown(shown, nan_trace):
    done = []
    assert shown.open_trace(nan_trace, background=True, then=done.append)
    assert shown.is_busy() and shown.load_progress.isVisible()
    assert shown.windowTitle().startswith(f"Opening {nan_trace.name}")
    assert shown.session.trace is None  # read in a worker: the window stays responsive
    settle(shown)
    assert done == [True]
    assert not shown.load_progress.isVisible()
    assert shown.windowTitle().startswith(nan_trace.name)
    assert_all_panels_at(shown, 0)


def test_reload_in_the_background_keeps_the_cursor(shown, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(12)
    shown.commands[ActionId.RELOAD].trigger()
    assert shown.is_busy()
    settle(shown)
    assert_all_panels_at(shown, 12)


def test_ctrl_o_opens_the_chosen_trace(shown, qtbot, nan_trace, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    asked = []

    def choose(parent, caption, folder, filters):
        asked.append((caption, filters))
        return str(nan_trace), filters

    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(choose))
    press(qtbot, shown, Qt.Key.Key_O, Qt.KeyboardModifier.ControlModifier)
    assert asked and "*.opscope" in asked[0][1]
    settle(shown)
    assert shown.session.trace.path == nan_trace
    assert_all_panels_at(shown, 0)


def test_choosing_a_recent_file_opens_it(window, nan_trace, tmp_path, synthetic_trace):
    other = synthetic_trace("other.opscope", blocks=1)
    window.open_trace(nan_trace)
    window.open_trace(other)
    window._fill_recent_menu()
    entry = next(a for a in window.recent_menu.actions() if a.text() == str(nan_trace.resolve()))
    entry.trigger()
    settle(window)
    assert window.session.trace.path.resolve() == nan_trace.resolve()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PySide6 flags Qt's only constructor
def test_dragging_a_file_over_the_window_is_accepted(shown, nan_trace):
    from PySide6.QtGui import QDragEnterEvent

    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(nan_trace))])
    event = QDragEnterEvent(
        QPoint(50, 50),
        Qt.DropAction.CopyAction,
        data,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    shown.dragEnterEvent(event)
    assert event.isAccepted()


def test_status_bar_shows_position_module_location_and_nan(shown, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(24)
    op = shown.session.current
    assert shown.status_position.text() == f"op 24 / {shown.session.op_count}"
    assert shown.status_module.text() == op.module_path
    assert shown.status_location.text().endswith(f":{op.line}")
    assert "NaN" in shown.status_nonfinite.text()
    shown.session.go_to(0)
    assert shown.status_nonfinite.text() == ""


def test_recent_files_menu_lists_opened_traces(window, nan_trace):
    window.open_trace(nan_trace)
    window._fill_recent_menu()
    texts = [action.text() for action in window.recent_menu.actions()]
    assert str(nan_trace.resolve()) in texts


def test_reload_shows_the_ops_of_a_trace_still_being_written(window, qtbot, tmp_path):
    path = tmp_path / "live.opscope"
    summary = TensorSummary((2,), "float32")
    location = ("live.py", 1, -1, -1, "main", -1)
    ops = lambda: len(window.session.trace.ops) if window.session.trace else -1  # noqa: E731
    with Recorder(path, frameworks=()) as recorder:
        for _ in range(3):
            recorder.add_op("torch.add", "torch", [], [summary], location=location)
        qtbot.waitUntil(lambda: window.open_trace(path) and ops() == 3, timeout=5000)
        assert "incomplete" in window.windowTitle()
        window.session.go_to(2)
        for _ in range(4):
            recorder.add_op("torch.mul", "torch", [], [summary], location=location)
        qtbot.waitUntil(lambda: window.reload() and ops() == 7, timeout=5000)
        assert window.session.index == 2  # the cursor stays
        live = window.session.trace
        window.session.load(None)
        live.close()  # an open reader would keep the recorder from folding its log on exit
    assert window.reload()
    assert "incomplete" not in window.windowTitle()
    assert ops() == 7


def test_theme_switch_repaints_panels_in_the_dark_palette(window, qtbot, nan_trace):
    from PySide6.QtWidgets import QApplication

    from gui.theme import is_dark

    window.open_trace(nan_trace)
    app = QApplication.instance()
    try:
        window.set_theme("dark")
        assert is_dark(app.palette())
        qtbot.waitUntil(lambda: is_dark(window.source.editor.palette()), timeout=2000)
        qtbot.waitUntil(lambda: is_dark(window.timeline.table.palette()), timeout=2000)
        window.set_theme("light")
        qtbot.waitUntil(lambda: not is_dark(window.source.editor.palette()), timeout=2000)
    finally:
        app.setPalette(app.style().standardPalette())


def test_screenshot_of_the_window_is_not_blank(shown, nan_trace, tmp_path):
    shown.open_trace(nan_trace)
    shown.session.run_to_nonfinite()
    image = shown.grab().toImage()
    assert image.width() >= 1000 and image.height() >= 600
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)
    }
    assert len(colours) > 20


def test_reset_layout_shows_every_dock_again(shown):
    shown.docks["call_stack"].close()
    shown.reset_layout()
    assert all(dock.isVisible() for dock in shown.docks.values())


def test_window_opens_without_a_trace(shown, qtbot):
    assert shown.session.trace is None
    assert "no trace" in shown.status_position.text()
    press(qtbot, shown, Qt.Key.Key_F11)  # nothing to step: nothing breaks
    assert shown.session.index == -1


def test_dead_trace_file_path_type(window, nan_trace):
    assert window.open_trace(str(nan_trace))
    assert isinstance(window.trace_path, Path)


needs_graph = pytest.mark.skipif(
    not __import__("gui.main_window").main_window.graph_panel_available(),
    reason="the graph panel is not in this build",
)


@needs_graph
def test_clicking_a_graph_node_moves_every_panel(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(20)  # inside layers.1.attn: following opens that group
    settle(shown)
    graph = shown.graph
    rect = graph.scene.item_rect("op:24")
    assert rect is not None
    graph.view.centerOn(rect.center())
    pos = graph.view.mapFromScene(rect.center())
    qtbot.mouseClick(graph.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert_all_panels_at(shown, 24)
    assert graph.scene.items_by_id["op:24"].current


@needs_graph
def test_stepping_moves_the_graph_highlight(shown, qtbot, nan_trace):
    shown.open_trace(nan_trace)
    shown.session.go_to(21)
    settle(shown)
    press(qtbot, shown, Qt.Key.Key_F11)
    assert_all_panels_at(shown, 22)
    press(qtbot, shown, Qt.Key.Key_F10)
    assert_all_panels_at(shown, 23)


@needs_graph
def test_file_export_graph_opens_the_graph_panels_dialog(shown, nan_trace, monkeypatch):
    calls = []
    shown.open_trace(nan_trace)
    monkeypatch.setattr(shown.graph, "export_graph_dialog", lambda: calls.append(True))
    assert shown.commands[ActionId.EXPORT_GRAPH].isEnabled()
    shown.commands[ActionId.EXPORT_GRAPH].trigger()
    assert calls == [True]


def test_choosing_a_theme_before_the_window_is_shown_does_not_crash(tmp_path):
    """`opscope view` applies the saved theme, then shows the window: Qt 6.12 crashed when the
    style sheet was re-applied inside that palette change (run in a subprocess: a crash)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    code = (
        "import sys; from PySide6.QtCore import QSettings\n"
        "from gui.app import create_app\n"
        "from gui.main_window import MainWindow\n"
        "app = create_app(offscreen=True)\n"
        f"settings = QSettings({str(tmp_path / 's.ini')!r}, QSettings.Format.IniFormat)\n"
        "w = MainWindow(settings=settings)\n"
        "for mode in ('dark', 'light'):\n"
        "    w.set_theme(mode)\n"
        "w.show(); app.processEvents(); w.set_theme('dark'); app.processEvents()\n"
        "print('alive')\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr[-800:]
    assert done.stdout.strip() == "alive"
