"""Fixtures for the viewer's tests: a window with private settings, and ways to check it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracing.synthetic import SOURCE_FILE


@pytest.fixture
def settings(tmp_path: Path):
    """QSettings in a temporary file, so tests never touch the user's recent files."""
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, settings):
    """A main window (not shown yet), closed after the test."""
    from gui.main_window import MainWindow

    win = MainWindow(settings=settings)
    qtbot.addWidget(win)
    win.resize(1400, 900)
    return win


@pytest.fixture
def shown(window, qtbot):
    """The window shown and active, so its keyboard shortcuts fire."""
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    window.raise_()
    qtbot.waitUntil(lambda: window.isActiveWindow(), timeout=2000)
    return window


@pytest.fixture
def nan_trace(synthetic_trace) -> Path:
    """Two transformer blocks (35 ops), values recorded, a NaN in block 1's softmax (op 24)."""
    return synthetic_trace("nan.opscope", blocks=2, nan_block=1, values=True)


def settle(window, timeout_s: float = 20.0) -> None:
    """Run the event loop until no panel works in the background (graph layout, plots)."""
    from gui.app import wait_until_settled

    assert wait_until_settled(window, timeout_s), "panels still busy"


def assert_all_panels_at(window, seq: int) -> None:
    """Every panel shows op ``seq``: session, timeline row, source line, inspector, stack, graph."""
    settle(window)
    op = window.session.trace.ops[seq]
    assert window.session.index == seq
    assert window.session.current is op
    assert window.timeline.selected_seq() == seq
    assert window.timeline.shown_seq == seq
    assert window.source.shown_seq == seq
    if op.file == SOURCE_FILE:
        assert window.source.shown_file == op.file
        assert window.source.editor.current_line == op.line
        assert window.source.editor.caret_line() == op.line
    assert window.inspector.shown_seq == seq
    assert window.inspector.title.suffix().startswith(f"op {seq} ")
    assert window.call_stack.shown_seq == seq
    assert window.status_position.text().startswith(f"op {seq} /")
    graph = window.graph
    if graph is not None:
        assert graph.current_node() == f"op:{seq}"
        shown = graph.model.visible.representative(f"op:{seq}", graph.shown_state)
        assert graph.scene.items_by_id[shown].current  # highlighted (the op, or what hides it)
