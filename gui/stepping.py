"""The debugger's stepping rules: pure functions over a trace's ops and module calls.

No Qt in here (an import-linter contract keeps it so): every rule is tested without a display on
hand-built timelines. ``gui.session.DebugSession`` holds the cursor and calls these functions.

Every function takes a ``Timeline`` and the current op's seq and returns the seq to move to, or
``None`` when there is nowhere to go (the cursor then stays where it is). The rules follow VS
Code's debugger, with module calls playing the part of function frames:

- **step into** (F11): the next op, entering module calls.
- **step over** (F10): the next op on a different source line in the current module call's own
  frame; ops inside child module calls are run, not stopped at. When the current call returns
  before such an op, the first op after the call.
- **step out** (Shift+F11): the first op after the current module call returns.
- **continue** (F5): the next breakpoint stop, or the last op.
- **step back**: the previous op; **restart**: op 0; **run to first NaN/Inf**: the first op
  whose output holds a NaN or an Inf.
"""

from __future__ import annotations

import bisect
import os
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from tracing.model import Frame, ModuleCall, Op

Location = tuple[str, int]
"""``(file, line)`` of a source line."""

StackLookup = Callable[[Op], Sequence[Frame]]
"""Returns the user call chain of an op, outermost frame first (``Trace.stack``)."""

_INDEXED_NAME = re.compile(r"(?:[./]\d+|_\d+)$")


def normalize_file(file: str) -> str:
    """The form in which breakpoint files are compared (``os.path.normpath``; empty stays)."""
    return os.path.normpath(file) if file else ""


@dataclass(frozen=True)
class Breakpoints:
    """Where Continue stops: source lines, op types and "an output holds NaN/Inf"."""

    lines: frozenset[Location] = field(default_factory=frozenset)
    op_types: frozenset[str] = field(default_factory=frozenset)
    nonfinite: bool = False

    def __bool__(self) -> bool:
        return bool(self.lines or self.op_types or self.nonfinite)


class Timeline:
    """Read-only indexes over a trace's ops and module calls that make every rule cheap.

    Args:
        ops: the ops in execution order; ``ops[i].seq`` must be ``i``.
        calls: the module calls (``Trace.module_calls``).
        stack: optional lookup of an op's user call chain; with it, a breakpoint on a line that
            issues no op itself (``x = layer(x)``) stops in the calls that line makes.
    """

    def __init__(
        self,
        ops: Sequence[Op],
        calls: Iterable[ModuleCall] = (),
        stack: StackLookup | None = None,
    ) -> None:
        for index, op in enumerate(ops):
            if op.seq != index:
                raise ValueError(f"ops must be in seq order from 0; found seq {op.seq} at {index}")
        self.ops = ops
        self.calls: dict[int, ModuleCall] = {call.call_id: call for call in calls}
        self._stack = stack
        own: dict[int, list[int]] = defaultdict(list)
        by_type: dict[str, list[int]] = defaultdict(list)
        by_line: dict[Location, list[int]] = defaultdict(list)
        files: dict[str, str] = {}  # a run names few files: normalise each once
        for op in ops:
            own[op.call_id if op.call_id in self.calls else -1].append(op.seq)
            by_type[op.op_type].append(op.seq)
            if op.file:
                file = files.get(op.file)
                if file is None:
                    file = files[op.file] = normalize_file(op.file)
                by_line[(file, op.line)].append(op.seq)
        self._own = dict(own)
        self._by_type = dict(by_type)
        self._by_line = dict(by_line)
        self.nonfinite: list[int] = [op.seq for op in ops if op.nonfinite]
        """Seqs of the ops whose output holds NaN or Inf, in order."""
        self._calls_with_ops = sorted(
            (c for c in self.calls.values() if c.start_seq < c.end_seq),
            key=lambda c: (c.start_seq, c.depth),
        )
        self._call_starts = [c.start_seq for c in self._calls_with_ops]
        self._stops: dict[Location, list[int]] = {}
        self._stack_lines: dict[int, frozenset[Location]] = {}
        self._lines_by_file: dict[str, set[int]] | None = None

    @classmethod
    def from_trace(cls, trace: object) -> Timeline:
        """Build from a ``tracing.Trace`` (its ops, module calls and call chains)."""
        return cls(trace.ops, trace.module_calls, trace.stack)  # type: ignore[attr-defined]

    def __len__(self) -> int:
        return len(self.ops)

    def call_of(self, seq: int) -> ModuleCall | None:
        """The innermost module call that op ``seq`` ran in (None at top level)."""
        return self.calls.get(self.ops[seq].call_id)

    def line_stops(self, file: str, line: int) -> list[int]:
        """Seqs where a breakpoint on ``file:line`` stops, in order (cached).

        A stop is the first op of each run of consecutive ops issued from that line. When the
        run contains several calls of the same module, or of the items of one module list (a
        loop like ``for layer in self.layers: x = layer(x)`` on one line), each repeat starts a
        new stop. A line that issues no op itself stops, by the same rule, in the ops of the
        calls it makes (found through the ops' call chains when the trace recorded them).
        """
        key = (normalize_file(file), line)
        if key not in self._stops:
            hits = self._by_line.get(key) or self._hits_through_stack(key)
            self._stops[key] = self._stops_from_hits(hits)
        return self._stops[key]

    def ops_on_line(self, file: str, line: int) -> list[int]:
        """Seqs of the ops issued from ``file:line`` (the op's own location), in order."""
        return self._by_line.get((normalize_file(file), line), [])

    def lines_in(self, file: str) -> set[int]:
        """Lines of ``file`` that issued at least one op."""
        if self._lines_by_file is None:
            self._lines_by_file = defaultdict(set)
            for name, number in self._by_line:
                self._lines_by_file[name].add(number)
        return self._lines_by_file.get(normalize_file(file), set())

    def op_type_seqs(self, op_type: str) -> list[int]:
        """Seqs of the ops of one type, in order."""
        return self._by_type.get(op_type, [])

    def own_ops(self, call_id: int) -> list[int]:
        """Seqs of the ops issued in a call's own frame (not in its child calls); -1: top level."""
        return self._own.get(call_id, [])

    # -- breakpoint stops ---

    def _hits_through_stack(self, key: Location) -> list[int]:
        if self._stack is None:
            return []
        hits = []
        for op in self.ops:
            if op.stack_id < 0:
                continue
            lines = self._stack_lines.get(op.stack_id)
            if lines is None:
                try:
                    frames = self._stack(op)
                except (ValueError, LookupError):  # a damaged chain: TraceFileError is a ValueError
                    frames = ()
                lines = frozenset((normalize_file(f.file), f.line) for f in frames)
                self._stack_lines[op.stack_id] = lines
            if key in lines:
                hits.append(op.seq)
        return hits

    def _stops_from_hits(self, hits: Sequence[int]) -> list[int]:
        stops: list[int] = []
        for first, last in runs(hits):
            stops.append(first)
            stops.extend(self._repeats_within(first, last))
        return stops

    def _repeats_within(self, first: int, last: int) -> list[int]:
        """Starts of repeated module calls made inside the run of ops ``first..last``."""
        lo = bisect.bisect_left(self._call_starts, first)
        hi = bisect.bisect_right(self._call_starts, last)
        inner = [c for c in self._calls_with_ops[lo:hi] if c.end_seq <= last + 1]
        if len(inner) < 2:
            return []
        depth = min(c.depth for c in inner)
        repeats: list[int] = []
        seen: set[tuple[str, str]] = set()
        for call in (c for c in inner if c.depth == depth):
            key = (call.type_name, _INDEXED_NAME.sub("", call.path))
            if key in seen and call.start_seq > first:
                repeats.append(call.start_seq)
                seen = set()
            seen.add(key)
        return repeats


def runs(seqs: Sequence[int]) -> list[tuple[int, int]]:
    """Maximal runs of consecutive integers in a sorted sequence, as ``(first, last)``."""
    found: list[tuple[int, int]] = []
    for seq in seqs:
        if found and found[-1][1] == seq - 1:
            found[-1] = (found[-1][0], seq)
        else:
            found.append((seq, seq))
    return found


def _valid(timeline: Timeline, seq: int) -> bool:
    return 0 <= seq < len(timeline)


def _forward(timeline: Timeline, seq: int, target: int | None) -> int | None:
    """``target`` when it lies ahead of ``seq`` in the trace, else None (guards odd files)."""
    return target if target is not None and seq < target < len(timeline) else None


def _line_key(op: Op) -> tuple[str, int]:
    # Ops of unknown location are each their own line, so Step Over never skips them in bulk.
    return (op.file, op.line) if op.file else ("", -1 - op.seq)


def step_into(timeline: Timeline, seq: int) -> int | None:
    """The next op (F11)."""
    return _forward(timeline, seq, seq + 1) if _valid(timeline, seq) else None


def step_back(timeline: Timeline, seq: int) -> int | None:
    """The previous op."""
    return seq - 1 if _valid(timeline, seq) and seq > 0 else None


def restart(timeline: Timeline, seq: int) -> int | None:
    """Op 0 (None when already there or the trace is empty)."""
    return 0 if len(timeline) and seq != 0 else None


def step_over(timeline: Timeline, seq: int) -> int | None:
    """The next op on another line of the current module call's own frame (F10).

    Ops in child module calls are run through. If the current call returns first, the first op
    after it; at top level with no later line, None.
    """
    if not _valid(timeline, seq):
        return None
    op = timeline.ops[seq]
    call = timeline.calls.get(op.call_id)
    own = timeline.own_ops(op.call_id if call else -1)
    end = call.end_seq if call else len(timeline)
    here = _line_key(op)
    for index in range(bisect.bisect_right(own, seq), len(own)):
        other = own[index]
        if other >= end:
            break
        if _line_key(timeline.ops[other]) != here:
            return _forward(timeline, seq, other)
    return _forward(timeline, seq, end) if call else None


def step_out(timeline: Timeline, seq: int) -> int | None:
    """The first op after the current module call returns (Shift+F11).

    None at top level, and when no op runs after the call returns.
    """
    if not _valid(timeline, seq):
        return None
    call = timeline.call_of(seq)
    return _forward(timeline, seq, call.end_seq) if call else None


def next_breakpoint(timeline: Timeline, seq: int, breakpoints: Breakpoints) -> int | None:
    """The first breakpoint stop after ``seq``, or None when no breakpoint stops ahead."""
    candidates: list[int] = []

    def first_after(seqs: Sequence[int]) -> None:
        index = bisect.bisect_right(seqs, seq)
        if index < len(seqs):
            candidates.append(seqs[index])

    for file, line in breakpoints.lines:
        first_after(timeline.line_stops(file, line))
    for op_type in breakpoints.op_types:
        first_after(timeline.op_type_seqs(op_type))
    if breakpoints.nonfinite:
        first_after(timeline.nonfinite)
    return min(candidates, default=None)


def continue_(timeline: Timeline, seq: int, breakpoints: Breakpoints) -> int | None:
    """The next breakpoint stop (F5), or the last op when none is ahead."""
    if not _valid(timeline, seq):
        return None
    hit = next_breakpoint(timeline, seq, breakpoints)
    return _forward(timeline, seq, hit if hit is not None else len(timeline) - 1)


def first_nonfinite(timeline: Timeline, seq: int = -1) -> int | None:
    """The first op of the trace whose output holds NaN or Inf (None when already there)."""
    target = timeline.nonfinite[0] if timeline.nonfinite else None
    return target if target is not None and target != seq else None
