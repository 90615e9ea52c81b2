"""``CoalescedCall``: expensive panel work that runs once the cursor rests (Qt).

A lone step runs the work at once, so a single key press shows everything in one frame. When
steps come faster than ``RAPID_STEP_S`` apart (a held key, scrubbing), the work waits on one
single-shot timer that every new step restarts: it runs once, after the last step, and a held
key never queues redraws behind it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer

RAPID_STEP_S = 0.1
"""Requests closer together than this are coalesced (benchmarks set 0 to time every redraw)."""

REST_DELAY_MS = 60
"""How long the cursor must rest before coalesced work runs."""


class CoalescedCall(QObject):
    """Calls ``work`` now for a lone request, or once after a burst of rapid requests."""

    def __init__(self, work: Callable[[], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._last = 0.0
        self._timer = QTimer(self, singleShot=True, interval=REST_DELAY_MS)
        self._timer.timeout.connect(self._run)

    @property
    def pending(self) -> bool:
        """True while the work waits for the cursor to rest."""
        return self._timer.isActive()

    def request(self) -> None:
        """Run the work now, or (in a burst of requests) once the burst ends."""
        now = time.monotonic()
        rapid = now - self._last < RAPID_STEP_S
        self._last = now
        if rapid:
            self._timer.start()  # restarts: only the last request of a burst runs
        else:
            self._timer.stop()
            self._work()

    def cancel(self) -> None:
        """Drop a pending run."""
        self._timer.stop()

    def _run(self) -> None:
        self._work()
