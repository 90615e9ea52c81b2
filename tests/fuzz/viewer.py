"""Open files through the viewer's own open-file path, offscreen, and classify what happened.

``ViewerProbe.open(path)`` calls ``MainWindow.open_trace`` (what File → Open, the recent-files
menu and drag-and-drop call) on a window that is never shown, lets every panel settle, and
checks the guarantee from the viewer's side: the window survives, a file it cannot open is
reported with an error naming the file, and no exception escapes (``open_trace`` itself, or a
panel's slot while the window settles). The window belongs to the viewer's authors; this probe
only drives it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

from tests.fuzz.exercise import Outcome


@contextlib.contextmanager
def _slot_exceptions() -> Iterator[list[str]]:
    """Collect (the tails of) exceptions raised in Qt slots, which land in ``sys.excepthook``."""
    escaped: list[str] = []
    previous_hook = sys.excepthook

    def hook(kind, value, tb) -> None:
        escaped.append("".join(traceback.format_exception(kind, value, tb))[-600:])

    sys.excepthook = hook
    try:
        yield escaped
    finally:
        sys.excepthook = previous_hook


class ViewerProbe:
    """One offscreen main window, reused for every file."""

    def __init__(self, settle_seconds: float = 5.0) -> None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from PySide6.QtCore import QSettings

        from gui.app import create_app
        from gui.main_window import MainWindow

        self.app = create_app(offscreen=True)
        self._scratch = tempfile.TemporaryDirectory()
        settings = QSettings(
            str(Path(self._scratch.name) / "settings.ini"), QSettings.Format.IniFormat
        )
        self.window = MainWindow(settings=settings)
        self.window.resize(1200, 800)
        self.settle_seconds = settle_seconds

    def open(self, path: str | os.PathLike[str]) -> Outcome:
        """Open ``path`` in the window; see the module docstring."""
        window = self.window
        window.last_error = None
        with _slot_exceptions() as escaped:
            try:
                opened = window.open_trace(path)
                if not self.settle():
                    return Outcome(
                        "viewer_hang", f"panels still busy after {self.settle_seconds} s"
                    )
            except Exception as exc:
                return Outcome("wrong_exception", f"viewer open_trace: {type(exc).__name__}: {exc}")
        if escaped:
            return Outcome("wrong_exception", f"viewer slot: {escaped[0]}")
        error = window.last_error or ""
        if not opened:
            if not error or str(path) not in error:
                return Outcome("unnamed_error", f"viewer: {error[:300]!r}", [error])
            if "unexpected" in error:
                return Outcome("wrong_exception", f"viewer: {error[:300]}", [error])
            return Outcome("rejected", "", [error])
        return Outcome("loaded_with_errors" if error else "loaded", "", [error] if error else [])

    def walk(self, max_ops: int = 300) -> Outcome:
        """Put the cursor on every op of the shown trace (values, call stacks, source lines
        are read as the panels follow); no exception may escape a panel."""
        window = self.window
        with _slot_exceptions() as escaped:
            try:
                for seq in range(min(window.session.op_count, max_ops)):
                    window.session.go_to(seq)
                    if not self.settle():
                        return Outcome("viewer_hang", f"panels still busy at op {seq}")
            except Exception as exc:
                return Outcome("wrong_exception", f"viewer walk: {type(exc).__name__}: {exc}")
        if escaped:
            return Outcome("wrong_exception", f"viewer slot: {escaped[0]}")
        return Outcome("loaded")

    def settle(self) -> bool:
        """Run the event loop until no panel works in the background; False on timeout."""
        deadline = time.monotonic() + self.settle_seconds
        quiet = 0
        while time.monotonic() < deadline:
            self.app.processEvents()
            quiet = 0 if self.window.is_busy() else quiet + 1
            if quiet >= 3:
                return True
            time.sleep(0.001)
        return False

    def close(self) -> None:
        """Close the window and release the trace it shows."""
        trace = self.window.session.trace
        self.window.close()
        self.window.deleteLater()
        self.app.processEvents()
        if trace is not None:
            trace.close()
        self._scratch.cleanup()
