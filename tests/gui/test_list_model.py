"""The compact list model updates rows in place and keeps blank rows instead of resizing."""

from __future__ import annotations

from gui.panels.list_model import Row, RowsModel


def rows(*names: str) -> list[Row]:
    return [Row((name, ""), target=name) for name in names]


def test_rows_model_passes_qt_model_tester(qtmodeltester):
    model = RowsModel(("Frame", "Where"))
    model.update_rows(rows("a", "b", "c"), keep=2)
    qtmodeltester.check(model)


def test_fewer_rows_leave_blank_rows_up_to_what_the_view_shows(qtbot):
    model = RowsModel(("Frame", "Where"))
    model.update_rows(rows("a", "b", "c", "d", "e"))
    removed = []
    model.rowsRemoved.connect(lambda *_args: removed.append(True))
    model.update_rows(rows("x", "y"), keep=4)
    assert model.rowCount() == 4  # two blank rows stay: no row removal for the view to redo
    assert [row.target for row in model.filled_rows] == ["x", "y"]
    assert model.index(3, 0).data() == ""
    assert removed == [True]  # the fifth row went: it was beyond what the view shows
    model.update_rows(rows("x", "y", "z"), keep=4)
    assert model.rowCount() == 4 and len(model.filled_rows) == 3


def test_only_rows_that_differ_are_reported_changed(qtbot):
    model = RowsModel(("Frame", "Where"))
    model.update_rows(rows("a", "b", "c"))
    changed = []
    model.dataChanged.connect(
        lambda top, bottom, _roles=(): changed.append((top.row(), bottom.row()))
    )
    model.update_rows(rows("a", "B", "c"))
    assert changed == [(1, 1)]


def test_more_rows_are_inserted_at_the_end(qtbot):
    model = RowsModel(("Frame", "Where"))
    model.update_rows(rows("a"))
    inserted = []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.update_rows(rows("a", "b", "c"))
    assert inserted == [(1, 2)] and model.rowCount() == 3
