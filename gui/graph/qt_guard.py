"""A guard against a reference-counting bug of PySide6 6.12.0 on Python 3.11.

Measured here: with PySide6 6.12.0 on CPython 3.11, every Qt method that returns nothing
(``QPainter.setPen``, ``QGraphicsItem.setPos``, ``QColor.setRed``…) drops one reference to
``None`` (``Signal.emit`` does the same to ``True``/``False``). After some tens of thousands of
such calls — seconds of painting a graph — the count reaches zero and the interpreter aborts
with "Fatal Python error: none_dealloc". PySide6 6.11.2 does not do this, and on Python 3.12+
these objects are immortal, so the bug is harmless there.

``protect_none_refcount()`` uses the application-wide guard (``gui.refcount_guard``) when the
package has it, and otherwise gives ``None``, ``True`` and ``False`` the effectively endless
reference count that Python 3.12 gives them. The real fix is a PySide6 without the bug.
"""

from __future__ import annotations

import ctypes
import sys

EXTRA_REFERENCES = 1 << 50
_applied = False


def protect_none_refcount() -> bool:
    """Make ``None``/``True``/``False`` effectively immortal on Python < 3.12 (once per
    process); True when the guard is in place."""
    global _applied
    try:
        from gui.refcount_guard import protect_singletons
    except ImportError:
        protect_singletons = None
    if protect_singletons is not None:
        return bool(protect_singletons())
    if _applied:
        return True
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    for singleton in (None, True, False):
        ctypes.c_ssize_t.from_address(id(singleton)).value += EXTRA_REFERENCES
    _applied = True
    return True
