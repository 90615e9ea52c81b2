"""A byte budget for stored tensor values (``record(..., max_value_bytes=N)``).

Policy: keep the most recent values whose sizes add up to at most the budget, and always keep
the values of the first op whose output holds a NaN or an Inf together with the values of the
ops that produced its inputs (those are "pinned" and never evicted, even past the budget).
Summaries of every op are recorded regardless. Evicted values are deleted from the trace file,
whose freed pages SQLite reuses, so the file stays near the budget on long runs.
"""

from __future__ import annotations

import collections
from collections.abc import Callable

_REMEMBER_EVICTED = 100_000


class ValueBudget:
    """Tracks stored values in recording order and evicts the oldest beyond ``limit`` bytes."""

    def __init__(self, limit: int, delete: Callable[[int, int], None]) -> None:
        self.limit = limit
        self._delete = delete
        self._kept: collections.OrderedDict[tuple[int, int], int] = collections.OrderedDict()
        self._pinned: dict[tuple[int, int], int] = {}
        self._evicted: collections.OrderedDict[tuple[int, int], None] = collections.OrderedDict()
        self.kept_bytes = 0
        self.pinned_bytes = 0

    def add(self, seq: int, index: int, size: int) -> None:
        """A value was stored; evict the oldest unpinned values while over the budget."""
        self._kept[(seq, index)] = size
        self.kept_bytes += size
        while self.kept_bytes > self.limit and self._kept:
            key, old = self._kept.popitem(last=False)
            self.kept_bytes -= old
            self._delete(*key)
            self._evicted[key] = None
            if len(self._evicted) > _REMEMBER_EVICTED:
                self._evicted.popitem(last=False)

    def pin(self, seq: int, index: int) -> bool:
        """Keep this value whatever happens next; False when it is no longer stored."""
        key = (seq, index)
        if key in self._pinned:
            return True
        size = self._kept.pop(key, None)
        if size is None:
            return False
        self.kept_bytes -= size
        self._pinned[key] = size
        self.pinned_bytes += size
        return True

    def was_evicted(self, seq: int, index: int) -> bool:
        """True when this value was stored and later evicted (recently enough to remember)."""
        return (seq, index) in self._evicted

    def add_pinned(self, seq: int, index: int, size: int) -> None:
        """Store a value that is never evicted (also how an evicted value is restored)."""
        self._evicted.pop((seq, index), None)
        self._pinned[(seq, index)] = size
        self.pinned_bytes += size
