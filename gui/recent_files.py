"""The File → Open Recent list, kept in ``QSettings``."""

from __future__ import annotations

import os

from PySide6.QtCore import QSettings

MAX_RECENT = 10
_KEY = "recent_files"


class RecentFiles:
    """Most recently opened trace paths, newest first."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def paths(self) -> list[str]:
        """The remembered paths, newest first."""
        value = self.settings.value(_KEY, [])
        if isinstance(value, str):
            value = [value]
        return [str(path) for path in (value or []) if path][:MAX_RECENT]

    def add(self, path: str | os.PathLike[str]) -> None:
        """Put ``path`` first."""
        text = os.path.abspath(os.fspath(path))
        paths = [text] + [p for p in self.paths() if p != text]
        self.settings.setValue(_KEY, paths[:MAX_RECENT])

    def remove(self, path: str) -> None:
        """Forget ``path`` (it no longer opens)."""
        self.settings.setValue(_KEY, [p for p in self.paths() if p != path])

    def clear(self) -> None:
        """Forget every path."""
        self.settings.setValue(_KEY, [])
