"""The backend-neutral recorder behind ``tracing.record``.

Framework backends report ops, module calls, source nodes and function graphs through the
``Recorder`` methods below; the recorder numbers them, attaches the module scope and the user's
source location, and streams rows to the trace file. The active recorder is the package's only
global state.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType

from tracing import backends, schema
from tracing.batch_summaries import NO_STATS, PendingSummary, Stats, resolve_summaries
from tracing.errors import RecordingError, RecordingWarning
from tracing.model import TensorSummary
from tracing.options import TF_FUNCTION_MODES, ValueFilter
from tracing.reader import summary_to_json
from tracing.stacks import Location, StackInterner
from tracing.value_budget import ValueBudget
from tracing.writer import TraceWriter

__all__ = ["PENDING_OPS", "PENDING_SECONDS", "Recorder", "active", "record"]

PENDING_OPS = 256
"""Ops waiting for their summaries (``PendingSummary``) are written once this many wait..."""
PENDING_SECONDS = 0.2
"""...or once the oldest has waited this long (checked at every op and by the writer thread),
so a killed program still loses at most about the last second of ops."""

_TOP_LEVEL = (-1, "", 0)
_MAX_SHAPES = 1 << 16
_get_ident = threading.get_ident
_monotonic = time.monotonic

_active: Recorder | None = None
_active_lock = threading.Lock()

InputRow = tuple[int, str, str, int, tuple[int, ...], str, str]
"""``(slot, name, source node id, out_index, shape, dtype, kind)`` as backends report inputs."""


class _Rows:
    """Rows of a few ops and module events, one flat list of column values per table (see
    ``TraceWriter.put_rows``)."""

    __slots__ = ("edges", "module_calls", "module_exits", "ops", "tensors")

    def __init__(self) -> None:
        self.ops: list = []
        self.tensors: list = []
        self.edges: list = []
        self.module_calls: list = []
        self.module_exits: list = []

    def put(self, writer: TraceWriter) -> None:
        """Queue the rows as one writer entry: one commit holds all of them, so a trace never
        has ops without the module calls they ran in (or the reverse)."""
        tables = [
            (table, values)
            for table, values in (
                ("module_calls", self.module_calls),
                ("tensors", self.tensors),
                ("edges", self.edges),
                ("ops", self.ops),
                ("module_exits", self.module_exits),
            )
            if values
        ]
        if tables:
            writer.put_rows(tables)


def active() -> Recorder | None:
    """The recorder of the ``record`` block that is running now, if any."""
    return _active


def record(
    path: str | os.PathLike[str],
    values: bool | ValueFilter = False,
    *,
    tf_function_mode: str = "graph",
    max_value_bytes: int | None = None,
    frameworks: Iterable[str] | None = None,
) -> Recorder:
    """Record every op the block runs into the trace file ``path``.

    Args:
        path: the ``.opscope`` file to write (replaced if it exists).
        values: ``True`` stores every op output, a ``ValueFilter`` stores the outputs of the ops
            it matches, ``False`` stores summaries only.
        tf_function_mode: ``"graph"`` runs ``tf.function``s as graphs and records their inner
            graph as structure; ``"debug"`` runs them eagerly so every inner op is recorded.
        max_value_bytes: a budget for stored values (see ``Recorder``); None means no limit.
        frameworks: which frameworks to record (``("torch",)``, ``("tensorflow",)``); None
            records every supported framework the program uses, ``()`` none (records only what
            is reported through the ``Recorder`` API).

    Use as ``with tracing.record("run.opscope"): ...``. Recording never changes what the
    program computes; an exception in the block propagates unchanged after the trace is closed.
    """
    return Recorder(
        path,
        values=values,
        tf_function_mode=tf_function_mode,
        max_value_bytes=max_value_bytes,
        frameworks=frameworks,
    )


class Recorder:
    """One recording: owns the writer, the module stack and the id counters."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        values: bool | ValueFilter = False,
        tf_function_mode: str = "graph",
        max_value_bytes: int | None = None,
        frameworks: Iterable[str] | None = None,
    ) -> None:
        if not isinstance(values, (bool, ValueFilter)):
            raise TypeError(f"values must be True, False or a ValueFilter, not {values!r}")
        if tf_function_mode not in TF_FUNCTION_MODES:
            raise ValueError(
                f"tf_function_mode must be one of {TF_FUNCTION_MODES}, not {tf_function_mode!r}"
            )
        if max_value_bytes is not None and (
            not isinstance(max_value_bytes, int) or max_value_bytes < 0
        ):
            raise ValueError(f"max_value_bytes must be a non-negative int, not {max_value_bytes!r}")
        self.frameworks = tuple(backends.BACKENDS if frameworks is None else frameworks)
        unknown = set(self.frameworks) - set(backends.BACKENDS)
        if unknown:
            raise ValueError(
                f"unknown frameworks {sorted(unknown)}; choose from {sorted(backends.BACKENDS)}"
            )
        self.path = os.fspath(path)
        self.values = values
        self.tf_function_mode = tf_function_mode
        self.max_value_bytes = max_value_bytes
        self.op_count = 0
        """Number of ops recorded so far (also the next op's seq)."""
        self.first_nonfinite_seq: int | None = None
        """Seq of the first op recorded with a NaN/Inf output."""
        self._budget: ValueBudget | None = None
        self.owner_thread = 0
        self.writer: TraceWriter | None = None
        self._module_stack: list[tuple[int, str, int]] = []  # (call_id, path, call_index)
        self._call_counts: dict[str, int] = {}
        self._next_call_id = 0
        self._event_order = 0
        self._frameworks_used: set[str] = set()
        self._source_nodes: set[str] = set()
        self._versions: dict[str, str] = {"python": platform.python_version()}
        self._extra_options: dict[str, str] = {}
        self._backends: backends.BackendSet | None = None
        self.stacks: StackInterner | None = None
        self._queue: list[tuple] = []
        """Ops waiting for pending summaries (and every op recorded after them), in seq order."""
        self._queue_since = 0.0
        self._pending: list[PendingSummary] = []
        self._module_rows: _Rows | None = None
        """Module events recorded while ops wait in the queue (written with them)."""
        """The unresolved summaries of the queued ops."""
        self._shape_text: dict[tuple[int, ...], str] = {}
        self._queue_lock = threading.Lock()
        self._stale_checks: list[Callable[[], None]] = []
        """Backends' own queues, flushed by the writer thread too (``add_stale_check``)."""

    # -- context manager ---

    def __enter__(self) -> Recorder:
        global _active
        with _active_lock:
            if _active is not None:
                raise RecordingError(
                    f"a recording to {_active.path} is already running; record blocks cannot "
                    "be nested or run at the same time in one process"
                )
            pending = 128 << 20
            if self.max_value_bytes is not None:
                # Values in flight add to the file until evicted: keep them a fraction of it.
                pending = max(8 << 20, min(pending, self.max_value_bytes // 4))
            self.writer = TraceWriter(self.path, max_pending_bytes=pending)
            self.writer.on_tick = self._flush_stale
            _active = self
        if self.max_value_bytes is not None:
            self._budget = ValueBudget(self.max_value_bytes, self.writer.delete_value)
        self.owner_thread = threading.get_ident()
        writer = self.writer
        self.stacks = StackInterner(
            emit_frame=lambda fid, file, line, func, first: writer.put(
                "frames", (fid, file, line, func, first)
            ),
            emit_stack=lambda sid, ids: writer.put("stacks", (sid, json.dumps(ids))),
            emit_source=lambda file, text: writer.put("sources", (file, text)),
        )
        self.stacks.stop_frame = sys._getframe(1)
        writer.set_meta(
            {
                "created": datetime.datetime.now(datetime.UTC).isoformat(),
                "argv": json.dumps([str(a) for a in sys.argv]),
                "cwd": os.getcwd(),
                "complete": "0",
                "options": json.dumps(self._describe_options()),
                "versions": json.dumps(self._versions),
            }
        )
        from tracing import __version__

        self._versions["opscope"] = __version__
        try:
            self._backends = backends.BackendSet(self)
            self._backends.start()
        except BaseException:
            self._finish(None)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(exc)

    def _finish(self, exc: BaseException | None) -> None:
        global _active
        try:
            if self._backends is not None:
                self._backends.stop()
        finally:
            writer = self.writer
            assert writer is not None
            self.flush_pending()
            while self._module_stack:  # calls left open by an exception that skipped hooks
                self.exit_module(self._module_stack[-1][0])
            writer.set_meta(
                {
                    "framework": self._framework_name(),
                    "versions": json.dumps(self._versions),
                    "complete": "1",
                    "error": "" if exc is None else f"{type(exc).__name__}: {exc}",
                }
            )
            writer.on_tick = None
            writer.close()
            with _active_lock:
                _active = None
            problem = None
            if writer.error is not None:
                problem = f"the trace {self.path} is incomplete: writing it failed ({writer.error})"
            elif writer.values_error is not None:
                problem = (
                    f"the trace {self.path} lacks some values: writing them failed "
                    f"({writer.values_error}); every op and its summary were recorded"
                )
            if problem is not None:
                import warnings

                warnings.warn(
                    f"{problem}; the program's results are not affected",
                    RecordingWarning,
                    stacklevel=3,
                )

    def _describe_options(self) -> dict[str, str]:
        values = self.values
        return {
            "values": values.describe() if isinstance(values, ValueFilter) else str(values).lower(),
            "tf_function_mode": self.tf_function_mode,
            "max_value_bytes": "" if self.max_value_bytes is None else str(self.max_value_bytes),
            **self._extra_options,
        }

    def _framework_name(self) -> str:
        used = self._frameworks_used or set(self._backends.started if self._backends else ())
        if len(used) > 1:
            return "mixed"
        return next(iter(used), "")

    # -- backend API ---

    def note_version(self, library: str, version: str) -> None:
        """Remember a library's version for the trace's metadata."""
        self._versions[library] = version

    def set_option(self, name: str, value: str) -> None:
        """Record an extra option a backend chose (written to the trace's metadata)."""
        self._extra_options[name] = value
        assert self.writer is not None
        self.writer.put("meta", ("options", json.dumps(self._describe_options())))

    def add_internal_dir(self, directory: str) -> None:
        """Frames under ``directory`` are framework code: never an op's user location."""
        assert self.stacks is not None
        self.stacks.add_internal_dir(directory)

    def locate(self, depth: int = 1) -> Location:
        """The user's location for an op reported now, from the caller ``depth`` frames up."""
        assert self.stacks is not None
        return self.stacks.locate(sys._getframe(depth))

    @property
    def module_path(self) -> str:
        """Path of the innermost module call now running (``""`` at top level)."""
        return self._module_stack[-1][1] if self._module_stack else ""

    def keeps_values(self, op_type: str, module_path: str | None = None) -> bool:
        """Whether an op of ``op_type`` in ``module_path`` (default: the current) keeps values."""
        values = self.values
        if isinstance(values, bool):
            return values
        return values.matches(op_type, self.module_path if module_path is None else module_path)

    def add_source(
        self,
        node_id: str,
        kind: str,
        name: str,
        shape: Sequence[int] = (),
        dtype: str = "",
        summary: TensorSummary | None = None,
    ) -> None:
        """Declare a source node (parameter, buffer, input, constant, variable) once."""
        if node_id in self._source_nodes:
            return
        self._source_nodes.add(node_id)
        encoded = "null" if summary is None else json.dumps(summary_to_json(summary))
        assert self.writer is not None
        self.writer.put(
            "source_nodes", (node_id, kind, name, schema.encode_shape(shape), dtype, encoded)
        )

    def has_source(self, node_id: str) -> bool:
        """True when ``node_id`` was declared with ``add_source``."""
        return node_id in self._source_nodes

    def add_op(
        self,
        op_type: str,
        framework: str,
        inputs: Iterable[InputRow],
        outputs: Sequence[TensorSummary | PendingSummary],
        *,
        mutates: Sequence[int] = (),
        duration_ns: int = 0,
        error: str | None = None,
        kind: str = "op",
        attrs: Sequence[tuple[str, str]] = (),
        graph_id: str = "",
        location: Location | None = None,
        values: dict[int, bytes] | None = None,
        input_values: dict[int, bytes] | None = None,
        thread: int | None = None,
    ) -> int:
        """Record one executed op and return its seq.

        ``location`` defaults to the first user frame above the caller. ``values`` maps output
        indexes to payload bytes (the outputs' summaries must say ``has_value=True``).
        ``input_values`` maps input slots to payloads; it is only used for the first op with a
        NaN/Inf output under a value budget, to restore its inputs' values if they were evicted
        (see ``keep_for_nonfinite``). ``thread`` is the ident of the thread that ran the op
        (default: the calling thread; a backend replaying queued ops from another thread says
        which thread they ran on).

        An output may be a ``PendingSummary`` (``tracing.batch_summaries``) when
        ``defers_summaries`` is true: the op then
        waits, with every op recorded after it, until its summaries are computed together with
        other pending ones (after ``PENDING_OPS`` ops or ``PENDING_SECONDS``, whichever comes
        first, and when the recording ends). Rows always reach the file in seq order.
        """
        assert self.writer is not None
        if location is None:
            location = self.locate(2)
        stack = self._module_stack
        scope = stack[-1] if stack else _TOP_LEVEL
        self._frameworks_used.add(framework)
        pending = False
        for out in outputs:
            if type(out) is tuple:  # a PendingSummary
                pending = True
                break
        if pending and (not self.defers_summaries or values or input_values):
            raise ValueError("pending summaries are only accepted when no values are stored")
        # Queued ops hold only tuples of plain values (and the pending copies, which numpy
        # does not track): the garbage collector then stops tracking them after one pass.
        rest = (op_type, framework, tuple(inputs), tuple(outputs), tuple(mutates),
                duration_ns, error, kind, tuple(attrs), graph_id, location, scope,
                _get_ident() if thread is None else thread)  # fmt: skip
        with self._queue_lock:  # seqs are taken in the order ops are queued, whatever the thread
            queue = self._queue
            if pending:
                return self._enqueue(rest, [out for out in rest[3] if type(out) is tuple])
            if queue and not values and not input_values:
                return self._enqueue(rest, ())  # behind ops that wait: keep seq order
            if queue:
                self._flush_queue()
            seq = self.op_count
            self.op_count = seq + 1
            rows = _Rows()
            self._emit((seq, *rest), values, input_values, rows, None)
            rows.put(self.writer)
            return seq

    def _enqueue(self, rest: tuple, pending: Sequence[PendingSummary]) -> int:
        """Give the op ``rest`` (``add_op``'s tuple without the seq) its seq and queue it with
        its ``pending`` summaries; write the queue when it is full or old (caller holds
        ``_queue_lock``)."""
        seq = self.op_count
        self.op_count = seq + 1
        queue = self._queue
        self._pending.extend(pending)
        if not queue:
            self._queue_since = _monotonic()
            self._module_rows = _Rows()  # module events wait with the ops (fewer objects)
        queue.append((seq, *rest))
        if len(queue) >= PENDING_OPS or _monotonic() - self._queue_since >= PENDING_SECONDS:
            self._flush_queue()
        return seq

    def add_pending_op(
        self,
        op_type: str,
        framework: str,
        inputs: tuple[InputRow, ...],
        output: PendingSummary,
        duration_ns: int,
        attrs: tuple[tuple[str, str], ...],
        location: Location,
    ) -> int:
        """``add_op`` for the most common op, in fewer steps: one output whose summary is
        pending, no in-place writes, no error (only when ``defers_summaries``)."""
        stack = self._module_stack
        op = (op_type, framework, inputs, (output,), (), duration_ns, None, "op", attrs, "",
              location, stack[-1] if stack else _TOP_LEVEL, _get_ident())  # fmt: skip
        self._frameworks_used.add(framework)
        with self._queue_lock:
            return self._enqueue(op, (output,))

    @property
    def defers_summaries(self) -> bool:
        """Whether ``add_op`` accepts ``PendingSummary`` outputs (when no values are stored).

        With values, the first NaN/Inf op must be known when it runs (it keeps its values and
        its inputs'), so summaries are computed at op time."""
        return self.values is False

    def flush_pending(self) -> None:
        """Compute every pending summary now and hand the waiting ops' rows to the writer."""
        with self._queue_lock:
            self._flush_queue()

    def add_stale_check(self, check: Callable[[], None]) -> None:
        """Have the writer thread call ``check`` every ``FLUSH_SECONDS`` (a backend flushing
        its own queue of events that waited too long; it must never block)."""
        self._stale_checks.append(check)

    def _flush_stale(self) -> None:
        """Called by the writer thread every ``FLUSH_SECONDS``: pending ops of a program that
        stopped issuing ops (a long computation, a sleep) still reach the file within a second.
        """
        for check in self._stale_checks:
            check()
        if not self._queue or _monotonic() - self._queue_since < PENDING_SECONDS:
            return
        if not self._queue_lock.acquire(blocking=False):
            return  # the recording thread is flushing right now
        try:
            if self._queue and _monotonic() - self._queue_since >= PENDING_SECONDS:
                self._flush_queue()
        finally:
            self._queue_lock.release()

    def _flush_queue(self) -> None:
        """Emit the waiting ops in seq order, their pending summaries computed together
        (caller holds ``_queue_lock``)."""
        queue = self._queue
        if not queue:
            return
        pending = self._pending
        rows = self._module_rows or _Rows()
        self._queue = []
        self._pending = []
        self._module_rows = None
        try:
            stats = resolve_summaries(pending)
        except Exception:  # never lose the ops: keep shape and dtype, drop the statistics
            stats = [NO_STATS] * len(pending)
        resolved = iter(stats)
        for op in queue:
            self._emit(op, None, None, rows, resolved)
        assert self.writer is not None
        rows.put(self.writer)

    def _emit(
        self,
        op: tuple,
        values: dict[int, bytes] | None,
        input_values: dict[int, bytes] | None,
        rows: _Rows,
        resolved: Iterator[Stats] | None,
    ) -> None:
        """Add one op's rows to ``rows`` (``resolved`` yields the statistics of its pending
        summaries) and hand its values to the writer, keeping them under the budget."""
        (seq, op_type, framework, inputs, outputs, mutates, duration_ns, error, kind, attrs,
         graph_id, location, scope, thread) = op  # fmt: skip
        file, line, col, end_col, func, stack_id = location
        call_id, module_path, module_call = scope
        summaries = [
            next(resolved)  # type: ignore[arg-type]
            if type(out) is tuple
            else (out.min, out.max, out.mean, out.std, out.nan_count, out.inf_count)
            for out in outputs
        ]
        nonfinite = 0
        for out, stats in zip(outputs, summaries):
            if (stats[4] or stats[5]) and (type(out) is tuple or out.initialized):
                nonfinite = 1
        first_nonfinite = nonfinite and self.first_nonfinite_seq is None
        if first_nonfinite:
            self.first_nonfinite_seq = seq
        if values:
            self._store_values(seq, values, bool(first_nonfinite))
        if first_nonfinite and self._budget is not None:
            self._pin_inputs(inputs, input_values or {})
        shape_text = self._shape_text
        tensors = rows.tensors
        for index, out in enumerate(outputs):
            if type(out) is tuple:
                _data, shape, dtype, device = out
                initialized, has_value = 1, 0
            else:
                shape, dtype, device = out.shape, out.dtype, out.device
                initialized, has_value = int(out.initialized), int(out.has_value)
            text = shape_text.get(shape) if type(shape) is tuple else None
            if text is None:
                text = self._encode_shape(shape)
            lo, hi, mean, std, nans, infs = summaries[index]
            tensors.extend(
                (seq, index, text, dtype, device, lo, hi, mean, std, nans, infs, initialized,
                 has_value)
            )  # fmt: skip
        edges = rows.edges
        for slot, name, source, out_index, shape, dtype, edge_kind in inputs:
            text = shape_text.get(shape) if type(shape) is tuple else None
            if text is None:
                text = self._encode_shape(shape)
            edges.extend((seq, slot, name, source, out_index, text, dtype, edge_kind))
        rows.ops.extend(
            (seq, op_type, framework, module_path, module_call, call_id, file, line, col,
             end_col, func, stack_id, "[" + ",".join(map(str, mutates)) + "]" if mutates else "[]",
             duration_ns, error, thread, kind, json.dumps(dict(attrs)) if attrs else "{}",
             graph_id, nonfinite)
        )  # fmt: skip

    def _encode_shape(self, shape: Sequence[int]) -> str:
        """``schema.encode_shape``, remembered per shape (shapes repeat from op to op)."""
        text = schema.encode_shape(shape)
        if type(shape) is tuple:
            if len(self._shape_text) >= _MAX_SHAPES:
                self._shape_text.clear()
            self._shape_text[shape] = text
        return text

    def _store_values(self, seq: int, values: dict[int, bytes], pinned: bool) -> None:
        writer = self.writer
        assert writer is not None
        for index, payload in values.items():
            writer.put_blob(seq, index, payload)
        budget = self._budget
        if budget is not None:
            for index, payload in values.items():
                if pinned:
                    budget.add_pinned(seq, index, len(payload))
                else:
                    budget.add(seq, index, len(payload))

    def keep_for_nonfinite(self, outputs: Sequence[TensorSummary]) -> bool:
        """True when these outputs would make the first NaN/Inf op of a run that stores values.

        Backends then store this op's output values even if the value filter excludes it, and
        pass ``input_values`` to ``add_op`` when a value budget is set (``max_value_bytes``),
        so the first NaN and what it was computed from are always inspectable.
        """
        return (
            self.values is not False
            and self.first_nonfinite_seq is None
            and any(out.nonfinite for out in outputs)
        )

    def _pin_inputs(self, inputs: Sequence[InputRow], input_values: dict[int, bytes]) -> None:
        budget = self._budget
        assert budget is not None and self.writer is not None
        for slot, _name, source, out_index, _shape, _dtype, _kind in inputs:
            if not source.startswith("op:"):
                continue
            producer = int(source[3:])
            if budget.pin(producer, out_index):
                continue
            payload = input_values.get(slot)
            if payload is not None and budget.was_evicted(producer, out_index):
                self.writer.put_blob(producer, out_index, payload)
                budget.add_pinned(producer, out_index, len(payload))

    def enter_module(
        self, path: str, type_name: str, framework: str, *, thread: int | None = None
    ) -> int:
        """A module call begins; returns its call id (-1 when the call runs on another thread
        than the recording's; ``thread`` as in ``add_op``)."""
        if (_get_ident() if thread is None else thread) != self.owner_thread:
            return -1
        call_index = self._call_counts.get(path, 0) + 1
        self._call_counts[path] = call_index
        call_id = self._next_call_id
        self._next_call_id += 1
        parent_id = self._module_stack[-1][0] if self._module_stack else -1
        order = self._event_order
        self._event_order += 1
        row = (call_id, path, type_name, call_index, parent_id, len(self._module_stack),
               self.op_count, order, framework)  # fmt: skip
        self._put_event("module_calls", row)
        self._module_stack.append((call_id, path, call_index))
        return call_id

    def exit_module(self, call_id: int) -> None:
        """The module call ``call_id`` returned (or raised); closes any calls nested in it."""
        stack = self._module_stack
        if call_id < 0 or not stack:
            return
        if stack[-1][0] != call_id and all(entry[0] != call_id for entry in stack):
            return
        while stack:
            top = stack.pop()[0]
            order = self._event_order
            self._event_order += 1
            self._put_event("module_exits", (top, self.op_count, order))
            if top == call_id:
                return

    def _put_event(self, table: str, row: tuple) -> None:
        """Write a module event row, with the waiting ops' rows while ops wait."""
        if self._module_rows is not None:
            with self._queue_lock:
                rows = self._module_rows
                if rows is not None:
                    getattr(rows, table).extend(row)
                    return
        assert self.writer is not None
        self.writer.put(table, row)

    def add_function(
        self, graph_id: str, name: str, parent_id: str = "", file: str = "", line: int = 0
    ) -> None:
        """Declare a recorded function graph (a ``tf.function`` or one of its bodies)."""
        assert self.writer is not None
        self.writer.put("functions", (graph_id, name, parent_id, file, line))

    def add_graph_node(
        self,
        node_id: str,
        graph_id: str,
        op_type: str,
        name: str,
        *,
        module_path: str = "",
        file: str = "",
        line: int = 0,
        func: str = "",
        outputs: Sequence[TensorSummary] = (),
        attrs: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Record a node of a function graph: it has a location but no seq."""
        assert self.writer is not None
        self.writer.put(
            "graph_nodes",
            (
                node_id,
                graph_id,
                op_type,
                name,
                module_path,
                file,
                line,
                func,
                json.dumps([summary_to_json(o) for o in outputs]),
                json.dumps(dict(attrs)),
            ),
        )

    def add_graph_edge(
        self,
        src: str,
        dst: str,
        slot: int,
        out_index: int = 0,
        shape: Sequence[int] = (),
        dtype: str = "",
        kind: str = "data",
    ) -> None:
        """Record an edge of a function graph (or from an op/source into one)."""
        assert self.writer is not None
        self.writer.put(
            "graph_edges", (src, dst, slot, out_index, schema.encode_shape(shape), dtype, kind)
        )

    def remember_source_file(self, file: str) -> None:
        """Embed ``file``'s text in the trace (done automatically for op locations)."""
        assert self.stacks is not None
        self.stacks._remember_source(file)

    def warn(self, message: str) -> None:
        """Tell the user about a recording limitation without touching the program."""
        import warnings

        warnings.warn(message, RecordingWarning, stacklevel=3)
