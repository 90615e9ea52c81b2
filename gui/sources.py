"""Finding the text of a source file an op names: in the trace, else on this disk (no Qt).

A trace names its files itself, so a hostile trace could name any file on the viewer's
computer. Files are therefore read from disk only when they look like what a trace records:
Python source (``.py``/``.pyw``, the real file behind any link too), a regular file of at most
``MAX_DISK_SOURCE`` bytes, text, outside the kernel's special filesystems. Anything else
shows the placeholder, which says why.
"""

from __future__ import annotations

import datetime
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from tracing.errors import TraceFileError
from tracing.trace import Trace

MAX_DISK_SOURCE = 2 << 20
"""Largest file read from disk for the source view (a Python module is far smaller)."""

SOURCE_SUFFIXES = (".py", ".pyw")
"""The only files read from disk: what a Python program's frames name."""

SPECIAL_ROOTS = ("/proc", "/sys", "/dev", "/run")
"""Kernel and runtime filesystems: never read, whatever a link or a name says."""


@dataclass(frozen=True)
class SourceText:
    """The text of one source file and where it came from."""

    file: str
    text: str | None
    origin: Literal["trace", "disk", "missing"]
    problem: str = ""
    """Why the text is missing (or why the trace's copy could not be read)."""
    disk_path: str = ""
    """For text read from disk: the file read."""
    changed_after_recording: bool = False
    """For text read from disk: the file was modified after the recording started."""


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
        refusals = []
        for candidate in _disk_candidates(trace, file):
            found = read_disk_source(candidate)
            if isinstance(found, tuple):
                text, modified = found
                return SourceText(
                    file,
                    text,
                    "disk",
                    problem,
                    disk_path=str(candidate),
                    changed_after_recording=_after(modified, trace.meta.created),
                )
            if found:
                refusals.append(found)
        if not problem:
            problem = (
                refusals[0]
                if refusals
                else "it is not stored in the trace and was not found on this computer"
            )
    if not problem:
        problem = "the op's location is unknown"
    return SourceText(file, None, "missing", problem)


def _disk_candidates(trace: Trace, file: str) -> list[Path]:
    path = Path(file)
    candidates = [path]
    if not path.is_absolute() and trace.meta.cwd:
        candidates.append(Path(trace.meta.cwd) / path)
    return candidates


def read_disk_source(path: Path) -> tuple[str, float] | str:
    """``(text, modification time)`` of a Python source file on disk, or why it is not read
    (``""`` when there is no such file)."""
    try:
        if not path.exists():
            return ""
        real = path.resolve(strict=True)
    except (OSError, RuntimeError, ValueError):
        return ""
    shown = "it is not stored in the trace, and the file on this computer"
    if path.suffix.lower() not in SOURCE_SUFFIXES or real.suffix.lower() not in SOURCE_SUFFIXES:
        return f"{shown} is not read: only Python files (.py) are read from disk"
    if any(real == Path(root) or Path(root) in real.parents for root in SPECIAL_ROOTS):
        return f"{shown} is on a system filesystem ({real.parts[1]}), which is never read"
    try:
        # O_NONBLOCK: a file swapped for a FIFO since the check must not block the viewer.
        fd = os.open(real, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        return f"{shown} cannot be read ({exc.strerror or exc})"
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return f"{shown} is not a regular file"
        if info.st_size > MAX_DISK_SOURCE:
            size = info.st_size / 1e6
            return f"{shown} is too big to be source code ({size:.1f} MB)"
        data = os.read(fd, MAX_DISK_SOURCE + 1)
    except OSError as exc:
        return f"{shown} cannot be read ({exc.strerror or exc})"
    finally:
        os.close(fd)
    if len(data) > MAX_DISK_SOURCE or b"\x00" in data:
        return f"{shown} is not a text file"
    return data.decode("utf-8", errors="replace"), info.st_mtime


def _after(modified: float, created: str) -> bool:
    """True when a file's modification time is later than the recording's start."""
    try:
        start = datetime.datetime.fromisoformat(created)
    except ValueError:
        return False
    if start.tzinfo is None:
        start = start.replace(tzinfo=datetime.UTC)
    return modified > start.timestamp()


MAX_SHOWN_LINE = 4_000
"""Longer lines are cut for display: laying out one megabyte-long line takes seconds."""


def shorten_long_lines(text: str, limit: int = MAX_SHOWN_LINE) -> tuple[str, int]:
    """``text`` with every line longer than ``limit`` cut (and marked), and how many were cut.

    Line numbers stay the same, so ops still point at the right lines.
    """
    if len(text) <= limit or max(map(len, text.split("\n"))) <= limit:
        return text, 0
    lines = text.split("\n")
    cut = 0
    for number, line in enumerate(lines):
        if len(line) > limit:
            lines[number] = f"{line[:limit]} … [{len(line) - limit:,} more characters not shown]"
            cut += 1
    return "\n".join(lines), cut
