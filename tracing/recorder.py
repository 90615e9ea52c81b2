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
from collections.abc import Iterable, Sequence
from types import TracebackType

from tracing import backends, schema
from tracing.errors import RecordingError, RecordingWarning
from tracing.model import TensorSummary
from tracing.options import TF_FUNCTION_MODES, ValueFilter
from tracing.reader import summary_to_json
from tracing.stacks import Location, StackInterner
from tracing.value_budget import ValueBudget
from tracing.writer import TraceWriter

__all__ = ["Recorder", "active", "record"]

_active: Recorder | None = None
_active_lock = threading.Lock()

InputRow = tuple[int, str, str, int, tuple[int, ...], str, str]
"""``(slot, name, source node id, out_index, shape, dtype, kind)`` as backends report inputs."""


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
        outputs: Sequence[TensorSummary],
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
    ) -> int:
        """Record one executed op and return its seq.

        ``location`` defaults to the first user frame above the caller. ``values`` maps output
        indexes to payload bytes (the outputs' summaries must say ``has_value=True``).
        ``input_values`` maps input slots to payloads; it is only used for the first op with a
        NaN/Inf output under a value budget, to restore its inputs' values if they were evicted
        (see ``keep_for_nonfinite``).
        """
        writer = self.writer
        assert writer is not None
        seq = self.op_count
        self.op_count = seq + 1
        if location is None:
            location = self.locate(2)
        file, line, col, end_col, func, stack_id = location
        if self._module_stack:
            call_id, module_path, module_call = self._module_stack[-1]
        else:
            call_id, module_path, module_call = -1, "", 0
        self._frameworks_used.add(framework)
        put = writer.put
        nonfinite = 0
        for out in outputs:
            if out.initialized and (out.nan_count or out.inf_count):
                nonfinite = 1
        first_nonfinite = nonfinite and self.first_nonfinite_seq is None
        if first_nonfinite:
            self.first_nonfinite_seq = seq
        if values:
            for index, payload in values.items():
                writer.put_blob(seq, index, payload)
            budget = self._budget
            if budget is not None:
                for index, payload in values.items():
                    if first_nonfinite:
                        budget.add_pinned(seq, index, len(payload))
                    else:
                        budget.add(seq, index, len(payload))
        encode = schema.encode_shape
        if first_nonfinite and self._budget is not None:
            inputs = list(inputs)
            self._pin_inputs(inputs, input_values or {})
        for index, out in enumerate(outputs):
            put(
                "tensors",
                (
                    seq,
                    index,
                    encode(out.shape),
                    out.dtype,
                    out.device,
                    out.min,
                    out.max,
                    out.mean,
                    out.std,
                    out.nan_count,
                    out.inf_count,
                    int(out.initialized),
                    int(out.has_value),
                ),
            )
        for slot, name, source, out_index, shape, dtype, edge_kind in inputs:
            put("edges", (seq, slot, name, source, out_index, encode(shape), dtype, edge_kind))
        put(
            "ops",
            (
                seq,
                op_type,
                framework,
                module_path,
                module_call,
                call_id,
                file,
                line,
                col,
                end_col,
                func,
                stack_id,
                "[" + ",".join(map(str, mutates)) + "]",
                duration_ns,
                error,
                threading.get_ident(),
                kind,
                json.dumps(dict(attrs)) if attrs else "{}",
                graph_id,
                nonfinite,
            ),
        )
        return seq

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

    def _pin_inputs(self, inputs: list[InputRow], input_values: dict[int, bytes]) -> None:
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

    def enter_module(self, path: str, type_name: str, framework: str) -> int:
        """A module call begins; returns its call id (-1 when called from another thread)."""
        if threading.get_ident() != self.owner_thread:
            return -1
        call_index = self._call_counts.get(path, 0) + 1
        self._call_counts[path] = call_index
        call_id = self._next_call_id
        self._next_call_id += 1
        parent_id = self._module_stack[-1][0] if self._module_stack else -1
        order = self._event_order
        self._event_order += 1
        assert self.writer is not None
        self.writer.put(
            "module_calls",
            (
                call_id,
                path,
                type_name,
                call_index,
                parent_id,
                len(self._module_stack),
                self.op_count,
                order,
                framework,
            ),
        )
        self._module_stack.append((call_id, path, call_index))
        return call_id

    def exit_module(self, call_id: int) -> None:
        """The module call ``call_id`` returned (or raised); closes any calls nested in it."""
        stack = self._module_stack
        if call_id < 0 or not stack:
            return
        if stack[-1][0] != call_id and all(entry[0] != call_id for entry in stack):
            return
        assert self.writer is not None
        while self._module_stack:
            top = self._module_stack.pop()[0]
            order = self._event_order
            self._event_order += 1
            self.writer.put("module_exits", (top, self.op_count, order))
            if top == call_id:
                return

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
