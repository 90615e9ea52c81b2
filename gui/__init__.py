"""OpScope's desktop debugger: open a trace and step through it like a program.

Importing this package imports no Qt; ``gui.cli`` loads the window lazily. It does guard the
interpreter against a PySide6 reference-count bug first (see ``gui.refcount_guard``), so every
Qt code path below this package is safe on Python 3.11.
"""

from gui.refcount_guard import protect_singletons

protect_singletons()
