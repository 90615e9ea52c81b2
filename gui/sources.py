"""Finding the text of a source file an op names: in the trace, else on this disk (no Qt)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tracing.errors import TraceFileError
from tracing.trace import Trace

MAX_DISK_SOURCE = 8 << 20
"""Largest file read from disk for the source view."""


@dataclass(frozen=True)
class SourceText:
    """The text of one source file and where it came from."""

    file: str
    text: str | None
    origin: Literal["trace", "disk", "missing"]
    problem: str = ""
    """Why the text is missing (or why the trace's copy could not be read)."""


def find_source(trace: Trace, file: str) -> SourceText:
    """The recorded text of ``file``; else the file on disk (as given, or under the run's cwd).

    Files on disk may have changed since the run: callers say so when they show them.
    """
    problem = ""
    if file:
        try:
            text = trace.source(file)
        except TraceFileError as exc:
            text, problem = None, f"the copy stored in the trace is damaged ({exc.problem})"
        if text is not None:
            return SourceText(file, text, "trace")
        for candidate in _disk_candidates(trace, file):
            text = _read_disk(candidate)
            if text is not None:
                return SourceText(file, text, "disk", problem)
    if not problem:
        problem = (
            "the op's location is unknown"
            if not file
            else "it is not stored in the trace and was not found on this computer"
        )
    return SourceText(file, None, "missing", problem)


def _disk_candidates(trace: Trace, file: str) -> list[Path]:
    path = Path(file)
    candidates = [path]
    if not path.is_absolute() and trace.meta.cwd:
        candidates.append(Path(trace.meta.cwd) / path)
    return candidates


def _read_disk(path: Path) -> str | None:
    try:
        if not path.is_file() or path.stat().st_size > MAX_DISK_SOURCE:
            return None
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
