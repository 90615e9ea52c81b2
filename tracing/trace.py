"""``Trace``: a loaded trace file — ops, module calls, graph, source and values on demand."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from tracing import payloads
from tracing.errors import TraceFileError
from tracing.model import (
    Frame,
    FunctionGraph,
    GraphEdge,
    GraphNode,
    ModuleCall,
    Op,
    SourceNode,
    TimelineEvent,
    TraceMeta,
)
from tracing.reader import TraceReader

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np


def load(path: str | os.PathLike[str]) -> Trace:
    """Open a trace file read-only.

    Ops, module calls and graph structure are read and validated now; tensor values, call chains
    and source text are read when asked for. Nothing in the file is executed. Any problem with
    the file raises ``TraceFileError`` naming the file.
    """
    return Trace(path)


class Trace:
    """A recorded run: ops in execution order, module calls, graph and stored values."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._reader = TraceReader(self.path)
        try:
            # One read transaction: a trace that is still being written is seen as of one moment.
            with self._reader.snapshot():
                self.meta: TraceMeta = self._reader.read_meta()
                self.ops: tuple[Op, ...] = tuple(self._reader.read_ops())
                self.module_calls: tuple[ModuleCall, ...] = tuple(
                    self._reader.read_module_calls(len(self.ops))
                )
                self.source_nodes: tuple[SourceNode, ...] = tuple(self._reader.read_source_nodes())
                functions, nodes, edges = self._reader.read_functions()
            self.functions: tuple[FunctionGraph, ...] = tuple(functions)
            self.graph_nodes: tuple[GraphNode, ...] = tuple(nodes)
            self.graph_edges: tuple[GraphEdge, ...] = tuple(edges)
            self._check_references()
        except MemoryError as exc:  # a file whose rows expand beyond memory
            self._reader.close()
            raise self._reader.fail("is too large to load: it does not fit in memory") from exc
        except RecursionError as exc:
            self._reader.close()
            raise self._reader.fail("is damaged: its structure is nested too deeply") from exc
        except BaseException:
            self._reader.close()
            raise
        self._calls_by_id = {call.call_id: call for call in self.module_calls}
        self._stacks: dict[int, tuple[Frame, ...]] = {}
        self._sources: dict[str, str | None] = {}

    def _check_references(self) -> None:
        known = {node.node_id for node in self.source_nodes}
        known.update(node.node_id for node in self.graph_nodes)
        call_ids = {call.call_id for call in self.module_calls}
        for op in self.ops:
            if op.call_id >= 0 and op.call_id not in call_ids:
                raise self._reader.fail(f"is damaged: op {op.seq} names a missing module call")
            for ref in op.inputs:
                if not ref.source.startswith("op:") and ref.source not in known:
                    raise self._reader.fail(
                        f"is damaged: op {op.seq} reads from unknown node {ref.source[:80]!r}"
                    )
            if op.mutates and op.inputs:  # (slots may skip inputs that were not linked)
                slots = {ref.slot for ref in op.inputs}
                if not all(slot in slots for slot in op.mutates):
                    raise self._reader.fail(f"is damaged: op {op.seq} mutates a missing input")

    # -- the contract ---

    @property
    def framework(self) -> str:
        """``"torch"``, ``"tensorflow"`` or ``"mixed"``."""
        if self.meta.framework:
            return self.meta.framework
        used = {op.framework for op in self.ops}
        if len(used) > 1:
            return "mixed"
        return used.pop() if used else "torch"

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The op graph as a networkx ``MultiDiGraph`` (built on first access)."""
        from tracing.graph_build import build_graph

        return build_graph(self)

    def first_nonfinite(self) -> Op | None:
        """The first op whose output holds a NaN or an Inf (uninitialised memory excluded)."""
        return next((op for op in self.ops if op.nonfinite), None)

    def value(self, seq: int, output_index: int = 0) -> np.ndarray:
        """The stored value of output ``output_index`` of op ``seq`` as a read-only numpy array.

        bfloat16 and float8 values come back as float32. Raises ``KeyError`` for an op or output
        that does not exist, ``LookupError`` when the value was not recorded (record with
        ``values=True``), and ``TraceFileError`` when the stored bytes are damaged.
        """
        if not 0 <= seq < len(self.ops):
            raise KeyError(f"op {seq} is not in this trace ({len(self.ops)} ops)")
        outputs = self.ops[seq].outputs
        if not 0 <= output_index < len(outputs):
            raise KeyError(f"op {seq} has {len(outputs)} outputs, not {output_index + 1}")
        summary = outputs[output_index]
        if not summary.has_value:
            raise LookupError(
                f"the value of op {seq} output {output_index} was not recorded; record with "
                "tracing.record(path, values=True) to keep values"
            )
        expected = payloads.payload_bytes(summary.dtype, summary.shape)
        if expected is None:
            raise self._reader.fail(f"stores a value of unknown dtype {summary.dtype[:64]!r}")
        payload = self._reader.read_blob(seq, output_index, expected)
        try:
            return payloads.decode(payload, summary.dtype, summary.shape)
        except (ValueError, MemoryError) as exc:  # numpy refuses the shape (too many dims...)
            raise self._reader.fail(
                f"is damaged: the value of op {seq} output {output_index} cannot be shaped "
                f"{summary.shape!r:.80} ({exc})"
            ) from exc

    # -- navigation helpers used by the viewer and `opscope info` ---

    def call(self, call_id: int) -> ModuleCall | None:
        """The module call with this id."""
        return self._calls_by_id.get(call_id)

    def call_chain(self, op: Op) -> list[ModuleCall]:
        """Module calls enclosing ``op``, outermost first."""
        chain = []
        call = self._calls_by_id.get(op.call_id)
        while call is not None:
            chain.append(call)
            call = self._calls_by_id.get(call.parent_id)
        chain.reverse()
        return chain

    def stack(self, op: Op | int) -> tuple[Frame, ...]:
        """The user call chain that issued ``op``, outermost frame first."""
        stack_id = op if isinstance(op, int) else op.stack_id
        if stack_id < 0:
            return ()
        if stack_id not in self._stacks:
            self._stacks[stack_id] = tuple(self._reader.read_frames(stack_id))
        return self._stacks[stack_id]

    def source(self, file: str) -> str | None:
        """The text of ``file`` as recorded with the trace, or None when it was not embedded."""
        if file not in self._sources:
            self._sources[file] = self._reader.read_source(file)
        return self._sources[file]

    def source_files(self) -> list[str]:
        """Files whose text is embedded in the trace."""
        return self._reader.source_files()

    @cached_property
    def events(self) -> tuple[TimelineEvent, ...]:
        """Ops and module enter/exit events in timeline order."""
        keyed: list[tuple[int, int, int, TimelineEvent]] = []
        for call in self.module_calls:
            keyed.append(
                (
                    call.start_seq,
                    0,
                    call.enter_order,
                    TimelineEvent("enter", call.call_id, call.start_seq),
                )
            )
            if call.exit_order >= 0:
                keyed.append(
                    (
                        call.end_seq,
                        0,
                        call.exit_order,
                        TimelineEvent("exit", call.call_id, call.end_seq),
                    )
                )
        keyed.extend((op.seq, 1, 0, TimelineEvent("op", op.seq, op.seq)) for op in self.ops)
        keyed.sort(key=lambda item: item[:3])
        return tuple(item[3] for item in keyed)

    def op_type_counts(self) -> Counter[str]:
        """How many times each op type ran."""
        return Counter(op.op_type for op in self.ops)

    def ops_at(self, file: str, line: int) -> list[Op]:
        """Ops issued from ``file:line``."""
        return [op for op in self.ops if op.line == line and op.file == file]

    def lint(self) -> None:
        """Check the trace's invariants; raises ``TraceFileError`` describing the first breach."""
        for call in self.module_calls:
            if not call.start_seq <= call.end_seq <= len(self.ops):
                raise TraceFileError(self.path, f"module call {call.call_id} has a bad seq range")
            parent = self._calls_by_id.get(call.parent_id)
            if parent and not parent.start_seq <= call.start_seq <= call.end_seq <= parent.end_seq:
                raise TraceFileError(self.path, f"module call {call.call_id} escapes its parent")
        for op in self.ops:
            call = self._calls_by_id.get(op.call_id)
            if call and not call.start_seq <= op.seq < call.end_seq:
                raise TraceFileError(self.path, f"op {op.seq} lies outside its module call")

    def format_table(self, ops: Sequence[Op] | None = None) -> str:
        """``seq | op | module | shape | dtype | file:line`` as aligned text."""
        rows = [("seq", "op", "module", "shape", "dtype", "location")]
        for op in self.ops if ops is None else ops:
            out = op.outputs[0] if op.outputs else None
            rows.append(
                (
                    str(op.seq),
                    op.op_type,
                    op.module_path or "-",
                    "x".join(map(str, out.shape)) if out else "-",
                    out.dtype if out else "-",
                    f"{Path(op.file).name}:{op.line}" if op.file else "-",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows)

    def close(self) -> None:
        """Release the file."""
        self._reader.close()

    def __enter__(self) -> Trace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return len(self.ops)

    def __repr__(self) -> str:
        return f"<Trace {self.path.name}: {self.framework}, {len(self.ops)} ops>"
