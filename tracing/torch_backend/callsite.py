"""Run a recorded call from a frame that looks like the user's line to ``warnings``.

PyTorch attributes its warnings (C++ ``TORCH_WARN`` and Python ``warnings.warn(stacklevel=...)``)
to the frame that called the op. Under the op mode that frame would be OpScope's handler, so
every warning would point into OpScope and Python's once-per-location filter would hide repeats
the program shows untraced. ``runner`` returns a tiny function compiled with the user's file
name and line number and bound to the user's module globals (so ``__warningregistry__`` and
module-based warning filters are the user's own); calling the op through it gives warnings the
location, registry and filters they have without OpScope. Nothing is added to the user's module.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

_TEMPLATE = "def _opscope_call(f, a, k): return f(*a, **k)\n"
_MAX_CACHED = 4096


class CallSites:
    """Trampolines of one recording (dropped with it: they hold the users' module globals)."""

    def __init__(self) -> None:
        self._runners: dict[tuple[str, int, int], Callable[[Any, tuple, dict], Any]] = {}

    def runner(self, frame: types.FrameType) -> Callable[[Any, tuple, dict], Any] | None:
        """A call trampoline that Python sees as running at ``frame``'s file and current line."""
        code = frame.f_code
        line = frame.f_lineno or 0
        f_globals = frame.f_globals
        key = (code.co_filename, line, id(f_globals))
        runners = self._runners
        found = runners.get(key)
        if found is not None and found.__globals__ is f_globals:
            return found
        if line <= 0:
            return None
        try:
            module = compile("\n" * (line - 1) + _TEMPLATE, code.co_filename, "exec")
            inner = next(c for c in module.co_consts if isinstance(c, types.CodeType))
        except (SyntaxError, ValueError, StopIteration, MemoryError):
            return None
        found = types.FunctionType(inner, f_globals, "_opscope_call")
        if len(runners) >= _MAX_CACHED:
            runners.clear()
        runners[key] = found
        return found

    def clear(self) -> None:
        """Forget every trampoline (and the module globals they reference)."""
        self._runners.clear()
