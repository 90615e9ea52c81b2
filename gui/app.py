"""Starting the viewer: the QApplication, the window, and offscreen screenshots."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from gui.main_window import MainWindow
from gui.theme import THEME_MODES, apply_theme, follow_system_theme, ui_font
from tracing.trace import Trace

SETTLE_TIMEOUT_S = 30.0


def create_app(*, offscreen: bool = False) -> QApplication:
    """The running QApplication, or a new one (offscreen when asked and none exists yet)."""
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    if offscreen:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    app = QApplication([sys.argv[0] if sys.argv else "opscope"])
    app.setApplicationName("OpScope")
    app.setOrganizationName("OpScope")
    app.setApplicationDisplayName("OpScope")
    app.setFont(ui_font())
    app.setStyle("Fusion")  # before any widget exists (see theme.apply_theme)
    return app


def wait_until_settled(window: MainWindow, timeout_s: float = SETTLE_TIMEOUT_S) -> bool:
    """Run the event loop until no panel works in the background; False on timeout."""
    app = QApplication.instance()
    assert app is not None
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        app.processEvents()
        quiet = 0 if window.is_busy() else quiet + 1
        if quiet >= 5:
            return True
        time.sleep(0.02)
    return False


def save_screenshot(window: MainWindow, path: str | os.PathLike[str]) -> bool:
    """Render the whole window into an image file (PNG, JPEG... by extension)."""
    return window.grab().save(os.fspath(path))


def run_viewer(
    path: Path | None,
    *,
    screenshot: Path | None = None,
    goto: str | int | None = None,
    size: tuple[int, int] = (1600, 1000),
    theme: str | None = None,
) -> int:
    """Open the window on the trace at ``path``; with ``screenshot``, render offscreen, save it
    and return.

    The window shows at once and reads the trace in a worker thread (a big trace shows a busy
    bar meanwhile); ``goto`` (``first-nonfinite`` or an op number) applies once it is read.
    """
    app = create_app(offscreen=screenshot is not None)
    if screenshot is not None:
        with tempfile.TemporaryDirectory() as scratch:
            settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
            apply_theme(app, theme or "system")  # type: ignore[arg-type]
            window = MainWindow(settings=settings)
            try:
                return _screenshot(window, path, screenshot, goto, size)
            finally:
                window.close()
                window.deleteLater()
                app.processEvents()
    chosen = theme or str(QSettings("OpScope", "OpScope").value("theme", "system"))
    if chosen not in THEME_MODES:
        chosen = "system"
    apply_theme(app, chosen)  # type: ignore[arg-type]
    window = MainWindow()
    window.set_theme(chosen)
    follow_system_theme(app)
    window.restore_layout()
    window.show()
    if path is not None:
        window.open_trace(
            path,
            background=True,
            then=lambda shown: shown and _go_or_warn(window, goto),
        )
    return app.exec()


def goto_problem(goto: str | int | None, trace: Trace) -> str | None:
    """Why ``--goto`` cannot apply to ``trace`` (None when it can)."""
    if isinstance(goto, int) and not 0 <= goto < len(trace.ops):
        if not trace.ops:
            return f"--goto {goto}: the trace has no ops"
        return f"--goto {goto}: the trace has ops 0 to {len(trace.ops) - 1}"
    return None


def _go(window: MainWindow, goto: str | int | None) -> None:
    trace = window.session.trace
    if goto == "first-nonfinite":
        moved = window.session.run_to_nonfinite()
        if not moved and trace is not None and trace.first_nonfinite() is None:
            print("opscope: note: no op of this trace has a NaN/Inf output", file=sys.stderr)
    elif isinstance(goto, int):
        window.session.go_to(goto)


def _go_or_warn(window: MainWindow, goto: str | int | None) -> None:
    trace = window.session.trace
    problem = goto_problem(goto, trace) if trace is not None else None
    if problem is not None:
        window.show_error("Cannot go to the op", problem)
        return
    _go(window, goto)


def _screenshot(
    window: MainWindow,
    path: Path | None,
    shot: Path,
    goto: str | int | None,
    size: tuple[int, int],
) -> int:
    window.resize(*size)
    window.show()
    if path is not None:
        window.open_trace(path, background=True)
    if not wait_until_settled(window):
        print("opscope: warning: the trace was still loading after 30 s", file=sys.stderr)
    trace = window.session.trace
    if path is not None and trace is None:
        return 1  # the error was printed by the window
    if trace is not None:
        problem = goto_problem(goto, trace)
        if problem is not None:
            print(f"opscope: error: {problem}", file=sys.stderr)
            return 2
        _go(window, goto)
    if not wait_until_settled(window):
        print(
            "opscope: warning: panels were still busy when the screenshot was taken",
            file=sys.stderr,
        )
    if not save_screenshot(window, shot):
        print(f"opscope: error: cannot write the screenshot to {shot}", file=sys.stderr)
        return 1
    return 0
