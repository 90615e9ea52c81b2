"""A guard against a reference-counting bug of PySide6 6.12.0 on Python 3.11.

Measured here: with PySide6 6.12.0 on CPython 3.11, every Qt method that returns nothing
(``QPainter.setPen``, ``QGraphicsItem.setPos``, ``QColor.setRed``…) drops one reference to
``None``. After some tens of thousands of such calls — a few seconds of painting a graph — the
count reaches zero and the interpreter aborts with "Fatal Python error: none_dealloc". PySide6
6.11.2 does not do this, and on Python 3.12+ ``None`` is immortal, so the bug is harmless there.

``protect_none_refcount()`` probes for the bug once and, only when it is present, gives
``None`` the effectively endless reference count that Python 3.12 gives it. The real fix is a
PySide6 version without the bug (pin ``PySide6-Essentials!=6.12.0``).
"""

from __future__ import annotations

import sys

_checked = False
_applied = False


def leaks_none_references() -> bool:
    """True when void Qt calls drop references to ``None`` in this process."""
    from PySide6.QtGui import QColor

    color = QColor()
    before = sys.getrefcount(None)
    for _ in range(64):
        color.setRed(1)
    return before - sys.getrefcount(None) >= 48


def protect_none_refcount() -> bool:
    """Apply the guard if this PySide6 needs it; True when it was applied (once per process)."""
    global _checked, _applied
    if _checked:
        return _applied
    _checked = True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not leaks_none_references():
        return False
    import ctypes

    ctypes.c_ssize_t.from_address(id(None)).value += 1 << 40
    _applied = True
    return True
