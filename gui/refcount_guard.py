"""Guard against a PySide6 refcount bug that crashes Python 3.11 after a few thousand Qt calls.

PySide6 6.12 (at least) returns ``None`` from every void method and ``True``/``False`` from
``Signal.emit`` without taking a new reference. On Python 3.12 and later these objects are
immortal (PEP 683), so nothing happens; on 3.11 every such call lowers their reference count
by one until the interpreter aborts with "Fatal Python error: none_dealloc" (or bool_dealloc).
A debugger makes thousands of such calls per minute.

``protect_singletons`` gives ``None``, ``True`` and ``False`` a huge extra reference count on
Python < 3.12, which is what 3.12 does natively: the leak can then never reach zero. It touches
only those three objects and needs no Qt import. Remove it when Python 3.11 support ends or
PySide6 is fixed.
"""

from __future__ import annotations

import ctypes
import sys

EXTRA_REFERENCES = 1 << 50
"""Far more than any run can leak (one per Qt call), far below the counter's limit."""

_protected = False


def protect_singletons() -> bool:
    """Make ``None``/``True``/``False`` effectively immortal on Python < 3.12 (once).

    Returns True when the counts were raised (now or before), False on Python 3.12+ where
    there is nothing to do.
    """
    global _protected
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    if not _protected:
        for singleton in (None, True, False):
            ctypes.c_ssize_t.from_address(id(singleton)).value += EXTRA_REFERENCES
        _protected = True
    return True
