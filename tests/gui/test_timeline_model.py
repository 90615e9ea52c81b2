"""The timeline's Qt item models follow Qt's rules and expose seqs through a data role."""

from __future__ import annotations

from PySide6.QtCore import Qt

import tracing
from gui.panels.timeline_model import NONFINITE_ROLE, SEQ_ROLE, TimelineFilter, TimelineModel


def test_timeline_model_passes_qt_model_tester(qtmodeltester, nan_trace):
    model = TimelineModel()
    model.set_ops(tracing.load(nan_trace).ops)
    qtmodeltester.check(model)


def test_filtered_timeline_passes_qt_model_tester(qtmodeltester, nan_trace):
    model = TimelineModel()
    model.set_ops(tracing.load(nan_trace).ops)
    proxy = TimelineFilter()
    proxy.setSourceModel(model)
    proxy.set_text("linear")
    qtmodeltester.check(proxy)
    assert 0 < proxy.rowCount() < model.rowCount()


def test_rows_are_ops_in_order_with_their_seq_in_a_role(nan_trace):
    trace = tracing.load(nan_trace)
    model = TimelineModel()
    model.set_ops(trace.ops)
    assert model.rowCount() == len(trace.ops)
    for row in (0, 7, len(trace.ops) - 1):
        assert model.index(row, TimelineModel.OP).data(SEQ_ROLE) == row
    softmax = trace.first_nonfinite().seq
    index = model.index(softmax, TimelineModel.OP)
    assert index.data(NONFINITE_ROLE) is True
    assert "softmax" in index.data()
    assert index.data(Qt.ItemDataRole.ForegroundRole) is not None
    assert "NaN" in model.index(softmax, TimelineModel.OUTPUT).data()


def test_filter_matches_op_type_or_module_case_insensitively(nan_trace):
    trace = tracing.load(nan_trace)
    model = TimelineModel()
    model.set_ops(trace.ops)
    proxy = TimelineFilter()
    proxy.setSourceModel(model)
    proxy.set_text("LAYERS.1.ATTN")
    seqs = [proxy.index(r, 0).data(SEQ_ROLE) for r in range(proxy.rowCount())]
    assert seqs and all(trace.ops[s].module_path.startswith("layers.1.attn") for s in seqs)
    proxy.set_text("")
    proxy.set_nonfinite_only(True)
    assert [proxy.index(r, 0).data(SEQ_ROLE) for r in range(proxy.rowCount())] == [24]
