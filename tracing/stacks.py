"""Find the user's source line for an op, and intern the user call chain.

An op's location is the first frame, walking outwards, whose file lies outside the "internal"
package directories (the frameworks and OpScope itself) — decided by directory, never by file
name. The chain of all user frames up to the ``record`` block is interned into an integer id;
each distinct frame and chain is handed to the writer once, with the text of each new file.
"""

from __future__ import annotations

import linecache
import os
import sys
from collections.abc import Callable
from types import CodeType, FrameType

Location = tuple[str, int, int, int, str, int]
"""``(file, line, col, end_col, func, stack_id)``."""

NO_LOCATION: Location = ("", 0, -1, -1, "", -1)
MAX_SOURCE_BYTES = 4 << 20
_TRACING_DIR = os.path.dirname(os.path.abspath(__file__))


def package_dir(module_name: str) -> str | None:
    """Directory of an imported package (``torch`` → ``.../site-packages/torch``)."""
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    return os.path.dirname(os.path.abspath(file)) if file else None


Site = tuple[str, int, int, int, str]
"""``(file, line, col, end_col, func)`` of one call site."""


class StackInterner:
    """Locates user frames and interns call chains; one per recording.

    Everything on the per-op path is keyed by ``id(code)`` and the frame's instruction offset
    (``f_lasti``): hashing a code object hashes its contents (about a microsecond for a large
    function) and ``f_lineno`` scans the line table (microseconds at the end of a long function),
    so both are computed once per call site. Every code object seen is kept alive for the
    recording, so its id cannot be reused by another.
    """

    def __init__(
        self,
        emit_frame: Callable[[int, str, int, str, int], None],
        emit_stack: Callable[[int, list[int]], None],
        emit_source: Callable[[str, str], None],
    ) -> None:
        self._emit_frame = emit_frame
        self._emit_stack = emit_stack
        self._emit_source = emit_source
        self._prefixes: tuple[str, ...] = (_TRACING_DIR + os.sep,)
        self._internal: dict[int, bool] = {}
        """``id(code)`` → whether that code is framework or OpScope code."""
        self._codes: dict[int, CodeType] = {}
        """Every code object seen, by id (keeps the ids above valid)."""
        self._sites: dict[tuple[int, int], Site] = {}
        self._positions: dict[int, list] = {}
        self._chain_ids: dict[tuple[int, ...], int] = {}
        """Chain key (code ids and instruction offsets of the user frames) → stack id."""
        self._frame_ids: dict[tuple[str, int, str, int], int] = {}
        self._stack_ids: dict[tuple[int, ...], int] = {}
        """Frame ids of a chain → stack id (chains with the same lines share an id)."""
        self._files_seen: set[str] = set()
        self.stop_frame: FrameType | None = None
        """The frame that entered the ``record`` block: chains stop there (outer frames are the
        same for every op)."""

    def add_internal_dir(self, path: str) -> None:
        """Treat every file under the directory ``path`` (or the file ``path``) as not user code."""
        prefix = os.path.abspath(path) + ("" if os.path.isfile(path) else os.sep)
        if prefix not in self._prefixes:
            self._prefixes = (*self._prefixes, prefix)
            self._internal.clear()

    def is_internal(self, code: CodeType) -> bool:
        """True when ``code`` belongs to a framework or to OpScope."""
        key = id(code)
        internal = self._internal.get(key)
        if internal is None:
            file = code.co_filename
            internal = file.startswith(self._prefixes) or (
                file.startswith("<frozen ") or file.startswith("<__array_function__")
            )
            self._codes[key] = code
            self._internal[key] = internal
        return internal

    def user_frame(self, frame: FrameType | None) -> FrameType | None:
        """The first frame at or above ``frame`` that is user code (None when there is none)."""
        known = self._internal
        while frame is not None:
            code = frame.f_code
            flag = known.get(id(code))  # inlined cache lookup: this loop runs for every op
            if flag is None:
                flag = self.is_internal(code)
            if not flag:
                return frame
            frame = frame.f_back
        return None

    def locate(self, frame: FrameType | None) -> Location:
        """Location of the first user frame at or above ``frame``, with its chain id."""
        frame = self.user_frame(frame)
        if frame is None:
            return NO_LOCATION
        return (*self.site(frame), self.chain_id(frame))

    def site(self, frame: FrameType) -> Site:
        """File, line, column range of the running call and function name of ``frame``."""
        code = frame.f_code
        key = (id(code), frame.f_lasti)
        found = self._sites.get(key)
        if found is None or self._codes.get(key[0]) is not code:
            self.is_internal(code)  # keeps the code (and so its id) alive
            found = self._sites[key] = self._site_of(frame)
        return found

    def _site_of(self, frame: FrameType) -> Site:
        code = frame.f_code
        line = frame.f_lineno or 0
        col = end_col = -1
        positions = self._positions.get(id(code))
        if positions is None:
            positions = self._positions[id(code)] = list(code.co_positions())
        index = frame.f_lasti // 2
        if 0 <= index < len(positions):
            start_line, _end_line, c0, c1 = positions[index]
            if start_line == line and c0 is not None:
                col = c0
                end_col = c1 if c1 is not None else -1
        return (code.co_filename, line, col, end_col, code.co_name)

    def chain_id(self, frame: FrameType) -> int:
        """Id of the chain of user frames from ``frame`` out to the ``record`` block."""
        key: list[int] = []
        stop = self.stop_frame
        known = self._internal
        f: FrameType | None = frame
        while f is not None and f is not stop:
            code = f.f_code
            flag = known.get(id(code))
            if flag is None:
                flag = self.is_internal(code)
            if not flag:
                key.append(id(code))
                key.append(f.f_lasti)
            f = f.f_back
        if f is not None and not self.is_internal(f.f_code):
            key.append(id(f.f_code))
            key.append(f.f_lasti)
        chain = tuple(key)
        stack_id = self._chain_ids.get(chain)
        if stack_id is None:
            stack_id = self._chain_ids[chain] = self._intern_chain(frame)
        return stack_id

    def _intern_chain(self, frame: FrameType) -> int:
        frame_ids: list[int] = []
        f: FrameType | None = frame
        stop = self.stop_frame
        while f is not None:
            code = f.f_code
            if not self.is_internal(code):
                key = (code.co_filename, f.f_lineno or 0, code.co_name, code.co_firstlineno)
                frame_id = self._frame_ids.get(key)
                if frame_id is None:
                    frame_id = self._frame_ids[key] = len(self._frame_ids)
                    self._emit_frame(frame_id, *key)
                    self._remember_source(code.co_filename)
                frame_ids.append(frame_id)
            if f is stop:
                break
            f = f.f_back
        frame_ids.reverse()
        chain = tuple(frame_ids)
        stack_id = self._stack_ids.get(chain)
        if stack_id is None:
            stack_id = self._stack_ids[chain] = len(self._stack_ids)
            self._emit_stack(stack_id, frame_ids)
        return stack_id

    def _remember_source(self, file: str) -> None:
        if file in self._files_seen:
            return
        self._files_seen.add(file)
        lines = linecache.getlines(file)
        if not lines:
            return
        text = "".join(lines)
        if len(text) <= MAX_SOURCE_BYTES:
            self._emit_source(file, text)
