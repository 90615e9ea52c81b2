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
from gui.theme import apply_theme, follow_system_theme, ui_font
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
    trace: Trace | None,
    *,
    screenshot: Path | None = None,
    goto: str | int | None = None,
    size: tuple[int, int] = (1600, 1000),
    theme: str | None = None,
) -> int:
    """Open the window on ``trace``; with ``screenshot``, render offscreen, save and return."""
    app = create_app(offscreen=screenshot is not None)
    if screenshot is not None:
        with tempfile.TemporaryDirectory() as scratch:
            settings = QSettings(str(Path(scratch) / "settings.ini"), QSettings.Format.IniFormat)
            apply_theme(app, theme or "system")  # type: ignore[arg-type]
            window = MainWindow(settings=settings)
            try:
                return _screenshot(window, trace, screenshot, goto, size)
            finally:
                window.close()
                window.deleteLater()
                app.processEvents()
    window = MainWindow()
    chosen = theme or str(window.settings.value("theme", "system"))
    window.set_theme(chosen)
    follow_system_theme(app)
    window.restore_layout()
    if trace is not None:
        window.set_trace(trace)
    _go(window, goto)
    window.show()
    return app.exec()


def _go(window: MainWindow, goto: str | int | None) -> None:
    if goto == "first-nonfinite":
        window.session.run_to_nonfinite()
    elif isinstance(goto, int):
        window.session.go_to(goto)


def _screenshot(
    window: MainWindow,
    trace: Trace | None,
    path: Path,
    goto: str | int | None,
    size: tuple[int, int],
) -> int:
    window.resize(*size)
    if trace is not None:
        window.set_trace(trace)
    window.show()
    wait_until_settled(window, 5.0)
    _go(window, goto)
    if not wait_until_settled(window):
        print(
            "opscope: warning: panels were still busy when the screenshot was taken",
            file=sys.stderr,
        )
    if not save_screenshot(window, path):
        print(f"opscope: error: cannot write the screenshot to {path}", file=sys.stderr)
        return 1
    return 0
