"""Exceptions and warnings raised by the tracing package."""

from __future__ import annotations


class TraceFileError(ValueError):
    """A trace file cannot be read: missing, damaged, truncated, foreign or hostile.

    The message always names the file and says what is wrong with it.
    """

    def __init__(self, path: object, problem: str) -> None:
        self.path = str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class TraceWriteError(OSError):
    """A trace file cannot be written (bad path, no permission, full disk)."""


class RecordingError(RuntimeError):
    """``tracing.record`` was used in a way it does not support (for example nested)."""


class RecordingWarning(UserWarning):
    """Something went wrong while recording, but the program's own results are unaffected."""
