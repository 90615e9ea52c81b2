"""Panels on their own, each built over a session: what they show for what the trace holds."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

import tracing
from gui.panels import tensor_inspector
from gui.panels.call_stack import CallStackPanel
from gui.panels.source_view import SourcePanel
from gui.panels.tensor_inspector import TensorInspectorPanel
from gui.session import DebugSession
from tracing.model import TensorSummary
from tracing.recorder import Recorder
from tracing.summaries import summarize_array


def write_located_ops(path, file: str, lines: list[int], *, embed: str | None = None):
    with Recorder(path, frameworks=()) as recorder:
        if embed is not None:
            recorder.writer.put("sources", (file, embed))
        for line in lines:
            recorder.add_op(
                "torch.relu",
                "torch",
                [],
                [TensorSummary((3,), "float32")],
                location=(file, line, -1, -1, "step", -1),
            )
    return tracing.load(path)


@pytest.fixture
def session_on(qtbot):
    def make(trace, panel_class):
        session = DebugSession(trace)
        panel = panel_class(session)
        qtbot.addWidget(panel)
        panel.resize(700, 500)
        return session, panel

    return make


def test_source_shows_the_recorded_file_with_the_current_line(session_on, nan_trace):
    session, panel = session_on(tracing.load(nan_trace), SourcePanel)
    session.go_to(8)
    assert panel.stack.currentWidget() is panel.editor
    assert panel.editor.current_line == session.current.line
    assert "softmax" in panel.editor.document().findBlockByNumber(session.current.line - 1).text()
    assert panel.line_op_seqs() == [7, 8, 23, 24]


def test_source_falls_back_to_the_file_on_disk(session_on, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("a = 1\nb = relu(a)\n")
    trace = write_located_ops(tmp_path / "t.opscope", str(script), [2])
    _session, panel = session_on(trace, SourcePanel)
    assert panel.stack.currentWidget() is panel.editor
    assert "Read from disk" in panel.notice.text()
    assert panel.editor.current_line == 2


def test_missing_source_shows_a_clear_placeholder_with_the_recorded_line(session_on, tmp_path):
    trace = write_located_ops(tmp_path / "t.opscope", "/nowhere/model.py", [42, 43])
    session, panel = session_on(trace, SourcePanel)
    assert panel.stack.currentWidget() is panel.placeholder
    text = panel.placeholder.text()
    assert "model.py" in text and "not stored in the trace" in text and "line 42" in text
    session.step()
    assert "line 43" in panel.placeholder.text()
    assert not panel.toggle_breakpoint_at_caret()  # no file shown: nothing to toggle


def settle(qtbot, panel) -> None:
    """Wait for plots deferred while the cursor moved quickly."""
    qtbot.waitUntil(lambda: not panel.busy, timeout=5000)


def test_inspector_draws_values_and_marks_nan(session_on, nan_trace, qtbot):
    session, panel = session_on(tracing.load(nan_trace), TensorInspectorPanel)
    session.go_to(24)
    settle(qtbot, panel)
    assert panel.stack.currentWidget() is panel.content_page
    assert panel.fields["nan"].text() == "8"
    assert panel.histogram.counts.sum() == 64 - 8
    assert "8 NaN" in panel.histogram.nonfinite.text()
    panel.tabs.setCurrentIndex(panel.HEATMAP)
    assert panel.heatmap.overlay.isVisible()
    assert np.isnan(panel.heatmap.data).sum() == 8
    panel.tabs.setCurrentIndex(panel.VALUES)
    model = panel.values.values
    cells = [(r, c) for r in range(model.rowCount()) for c in range(model.columnCount())]
    nan_cells = [rc for rc in cells if model.index(*rc).data() == "nan"]
    assert len(nan_cells) == 8
    assert model.index(*nan_cells[0]).data(Qt.ItemDataRole.BackgroundRole) is not None


def test_inspector_shows_an_input_from_its_producer(session_on, nan_trace, qtbot):
    trace = tracing.load(nan_trace)
    session, panel = session_on(trace, TensorInspectorPanel)
    session.go_to(6)
    labels = [panel.chooser.itemText(i) for i in range(panel.chooser.count())]
    panel.chooser.setCurrentIndex(labels.index(next(x for x in labels if "op 5" in x)))
    assert panel.ref.seq == 5
    np.testing.assert_array_equal(panel.array, trace.value(5, 0))
    settle(qtbot, panel)
    assert panel.histogram.counts.sum() == trace.value(5, 0).size


def test_inspector_says_how_to_record_values_when_there_are_none(session_on, synthetic_trace):
    trace = tracing.load(synthetic_trace(values=False))
    _session, panel = session_on(trace, TensorInspectorPanel)
    assert panel.stack.currentWidget() is panel.message
    text = panel.message.text()
    assert "values=True" in text and "opscope record --values" in text
    assert panel.fields["shape"].text() == "8×16"


def test_inspector_says_uninitialised_memory_has_no_values(session_on, tmp_path):
    with Recorder(tmp_path / "e.opscope", values=True, frameworks=()) as recorder:
        recorder.add_op(
            "torch.empty",
            "torch",
            [],
            [TensorSummary((2, 3), "float32", initialized=False)],
            location=("m.py", 1, -1, -1, "f", -1),
        )
    _session, panel = session_on(tracing.load(tmp_path / "e.opscope"), TensorInspectorPanel)
    assert panel.stack.currentWidget() is panel.message
    assert "Uninitialised memory" in panel.message.text()
    assert panel.fields["nan"].text() == "n/a"


def test_inspector_slices_a_3d_tensor_with_a_slider(session_on, tmp_path, qtbot):
    array = np.arange(4 * 3 * 5, dtype=np.float32).reshape(4, 3, 5)
    with Recorder(tmp_path / "t.opscope", values=True, frameworks=()) as recorder:
        recorder.add_op(
            "torch.arange",
            "torch",
            [],
            [summarize_array(array, has_value=True)],
            location=("m.py", 1, -1, -1, "f", -1),
            values={0: array.tobytes()},
        )
    _session, panel = session_on(tracing.load(tmp_path / "t.opscope"), TensorInspectorPanel)
    settle(qtbot, panel)
    panel.tabs.setCurrentIndex(panel.HEATMAP)
    assert panel.slicer.isVisibleTo(panel)
    np.testing.assert_array_equal(panel.heatmap.data, array[0])
    slider = panel.slicer.findChild(type(panel.slicer._sliders[0]), "slice_dim_0")
    slider.setValue(3)
    np.testing.assert_array_equal(panel.heatmap.data, array[3])


def test_inspector_reads_big_tensors_off_the_ui_thread(session_on, nan_trace, monkeypatch, qtbot):
    monkeypatch.setattr(tensor_inspector, "SYNC_BYTES", 0)
    session, panel = session_on(tracing.load(nan_trace), TensorInspectorPanel)
    session.go_to(24)
    qtbot.waitUntil(lambda: not panel.busy and panel.shown_seq == 24, timeout=5000)
    assert panel.array is not None and np.isnan(panel.array).sum() == 8
    session.go_to(3)
    session.go_to(4)  # the read for op 3 comes back late: it must not be shown
    qtbot.waitUntil(lambda: not panel.busy and panel.shown_seq == 4, timeout=5000)
    np.testing.assert_array_equal(panel.array, session.trace.value(4, 0))


def test_call_stack_lists_modules_innermost_first_then_frames(session_on, nan_trace):
    session, panel = session_on(tracing.load(nan_trace), CallStackPanel)
    session.go_to(2)  # layers.0.attn.q inside layers.0.attn inside layers.0
    rows = panel.rows()
    calls = [text for kind, text in rows if kind == "call"]
    assert calls == ["layers.0.attn.q", "layers.0.attn", "layers.0"]
    frames = [text for kind, text in rows if kind == "frame"]
    assert frames[-1] == "<module>" and len(frames) == 4


def test_call_stack_of_a_top_level_op_says_so(session_on, nan_trace):
    session, panel = session_on(tracing.load(nan_trace), CallStackPanel)
    session.go_to(len(session.trace.ops) - 1)
    texts = [row.texts[0] for row in panel.model.rows]
    assert any("top level" in text for text in texts)


def test_source_from_disk_says_so_in_the_panel(session_on, tmp_path):
    script = tmp_path / "train.py"
    script.write_text("a = 1\nb = relu(a)\n")
    trace = write_located_ops(tmp_path / "t.opscope", str(script), [2])
    _session, panel = session_on(trace, SourcePanel)
    assert not panel.notice.isHidden()
    assert "Read from disk" in panel.notice.text() and "may differ" in panel.notice.text()


def test_stored_source_shows_no_disk_notice(session_on, nan_trace):
    _session, panel = session_on(tracing.load(nan_trace), SourcePanel)
    assert panel.notice.isHidden()


def test_a_big_source_colours_only_the_lines_on_screen(session_on, tmp_path, qtbot):
    line = "    x = torch.relu(self.layer(x))  # a comment\n"
    text = "import torch\n" + line * 50_000  # about 2.3 MB
    trace = write_located_ops(tmp_path / "t.opscope", "big.py", [2, 40_000], embed=text)
    session, panel = session_on(trace, SourcePanel)
    panel.show()
    qtbot.waitExposed(panel)
    highlighter = panel.editor.highlighter()
    assert 0 < highlighter.highlighted < 500
    far = panel.editor.document().findBlockByNumber(40_000 - 1)
    assert not far.layout().formats()
    session.step()
    assert panel.editor.current_line == 40_000
    assert far.layout().formats()  # coloured once it came into view
    assert highlighter.highlighted < 1_000


def test_very_long_lines_are_cut_with_a_note(session_on, tmp_path):
    text = "a = 1\n" + "b = [" + "1, " * 100_000 + "]\n"
    trace = write_located_ops(tmp_path / "t.opscope", "gen.py", [2], embed=text)
    _session, panel = session_on(trace, SourcePanel)
    shown = panel.editor.document().findBlockByNumber(1).text()
    assert len(shown) < 5_000 and "more characters not shown" in shown
    assert "cut short" in panel.notice.text() and not panel.notice.isHidden()


def test_call_stack_shows_why_a_damaged_stack_cannot_be_read(session_on, tmp_path):
    corpus = Path(__file__).resolve().parents[1] / "fuzz" / "corpus"
    trace = tracing.load(corpus / "stack_of_missing_frames.opscope")  # op 0's stack is damaged
    session, panel = session_on(trace, CallStackPanel)
    texts = [row.texts[0] for row in panel.model.rows]
    error = next(text for text in texts if "frames cannot be read" in text)
    assert "missing frame 900" in error
    session.step()  # op 1's stack is fine: the error goes
    assert not any("cannot be read" in row.texts[0] for row in panel.model.rows)


def test_a_line_with_many_ops_lists_the_ones_around_the_current_op(
    session_on, tmp_path, monkeypatch
):
    from gui.panels import source_view

    monkeypatch.setattr(source_view, "MAX_LINE_OPS", 10)
    trace = write_located_ops(tmp_path / "t.opscope", "loop.py", [5] * 30, embed="\n" * 9)
    session, panel = session_on(trace, SourcePanel)
    assert panel.line_op_seqs() == list(range(10))
    session.go_to(25)
    listed = panel.line_op_seqs()
    assert 25 in listed and len(listed) == 10
    texts = [row.texts[1] for row in panel.line_ops_model.filled_rows]
    assert texts[0].startswith("… ") and "earlier" in texts[0]
    assert "(30)" in panel.line_ops_model.headers[1]
