"""Expensive panel work runs at once for a lone step and once after a burst of steps."""

from __future__ import annotations

from gui import coalesce
from gui.coalesce import CoalescedCall


def test_a_lone_request_runs_at_once(qtbot):
    runs = []
    call = CoalescedCall(lambda: runs.append(1))
    call.request()
    assert runs == [1] and not call.pending


def test_a_burst_of_requests_runs_the_work_once_after_it(qtbot, monkeypatch):
    monkeypatch.setattr(coalesce, "RAPID_STEP_S", 10.0)  # every request after the first is rapid
    runs = []
    call = CoalescedCall(lambda: runs.append(1))
    for _ in range(20):
        call.request()
    assert runs == [1]  # the first ran at once; the other nineteen wait for the rest
    assert call.pending
    qtbot.waitUntil(lambda: not call.pending, timeout=2000)
    assert runs == [1, 1]


def test_cancel_drops_the_pending_run(qtbot, monkeypatch):
    monkeypatch.setattr(coalesce, "RAPID_STEP_S", 10.0)
    runs = []
    call = CoalescedCall(lambda: runs.append(1))
    call.request()
    call.request()
    call.cancel()
    qtbot.wait(coalesce.REST_DELAY_MS * 2)
    assert runs == [1]
