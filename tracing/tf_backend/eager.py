"""The eager op callback: one timeline op per executed TensorFlow op or function call.

Registered with ``op_callbacks.add_op_callback``, it runs right after each eager op on the
recording thread (op callbacks are thread-local: ops issued from other threads are not
recorded). Edges come from ``EagerTensor._id``, a counter TensorFlow never reuses: a map from
output ids to ``(node id, output index)`` links every input to its producer. Inputs with no
recorded producer become source nodes — variables by name (``src:variable:dense/kernel``),
tensors that existed before the recording started as ``src:input:{k}``, tensors made inside it
without an op (``tf.constant``, numpy conversions) as ``src:const:{k}``. A write to a variable
(``AssignVariableOp``, optimizer updates, a function that assigns) makes later readers depend on
the writing op (edge kind ``write``).

While a ``tf.function`` is being traced the callback also sees each op's creation (``graph`` is
set): it only notes the Keras layer path, for the graph walk in ``functions.py``.
"""

from __future__ import annotations

import dataclasses
import sys
import weakref
from typing import TYPE_CHECKING, Any

from tracing import payloads
from tracing.tf_backend.functions import WRITER_PREFIXES, CalledFunction

if TYPE_CHECKING:
    from tracing.recorder import Recorder
    from tracing.tf_backend.functions import FunctionGraphs
    from tracing.tf_backend.keras_layers import KerasScopes
    from tracing.tf_backend.tensors import TensorReader
    from tracing.tf_backend.variables import VariableNames

_MIN_PRUNE = 1 << 16
_MAX_ATTR_TEXT = 120
_ATTR_CACHE_SIZE = 4096
_DTYPE_ATTRS = frozenset({"T", "dtype", "DstT", "SrcT", "Tidx", "Tshape", "out_type", "Tindices"})


class EagerOps:
    """State of the eager capture: producers, sources, variable writers."""

    def __init__(
        self,
        recorder: Recorder,
        context: Any,
        tensors: TensorReader,
        variables: VariableNames,
        functions: FunctionGraphs,
        keras: KerasScopes,
        first_id: int,
    ) -> None:
        self._recorder = recorder
        self._stacks = recorder.stacks
        self._context = context
        self._tensors = tensors
        self._variables = variables
        self._functions = functions
        self._keras = keras
        self._first_id = first_id
        """Tensors with a smaller ``_id`` existed before the recording: they are inputs."""
        self._producers: dict[int, tuple[str, int, Any, tuple[int, ...], str]] = {}
        """Tensor id → (node id, output index, weak ref, shape, dtype name)."""
        self._handles: dict[int, str] = {}
        """Resource-handle tensor id → the node it stands for (a variable, or its producer)."""
        self._prune_at = _MIN_PRUNE
        self._writers: dict[int, str] = {}
        self._names: dict[Any, tuple[str, bool]] = {}
        self._attr_cache: dict[Any, tuple[tuple[str, str], ...]] = {}
        self._source_counts = {"input": 0, "const": 0}
        self._busy = False
        self.pending: Any = None
        """A hook to run before the next op (installs the Keras wrapper once Keras is ready)."""
        self.enabled = True
        self.error: BaseException | None = None

    def callback(
        self,
        op_type: Any,
        inputs: Any,
        attrs: Any,
        outputs: Any,
        op_name: str | None = None,
        graph: Any = None,
    ) -> None:
        """``op_callbacks`` entry point; never raises into the program, never replaces outputs."""
        if self._busy or not self.enabled:
            return None
        if self.pending is not None:
            self.pending()
        if graph is not None:
            path = self._keras.current_path()
            if path is not None:
                self._note_construction(graph, op_name, outputs, path)
            return None
        self._busy = True
        try:
            self._record(op_type, inputs, attrs, outputs)
        except Exception as exc:  # a recorder bug must not break the traced program
            self.enabled = False
            self.error = exc
            self._recorder.warn(
                f"OpScope stopped recording TensorFlow ops after an internal error "
                f"({type(exc).__name__}: {exc}); the program's results are not affected"
            )
        finally:
            self._busy = False
        return None

    def _note_construction(self, graph: Any, op_name: Any, outputs: Any, path: str) -> None:
        # ``op_name`` is the name asked for (``x`` for a Const); the outputs know the real one.
        try:
            if outputs:
                op_name = outputs[0].op.name
        except Exception:
            pass
        try:
            self._functions.note_construction(graph, op_name, path)
        except Exception:
            pass

    def _record(self, raw_type: Any, inputs: Any, attrs: Any, outputs: Any) -> None:
        named = self._names.get(raw_type)
        if named is None:
            named = self._names[raw_type] = self._name(raw_type)
        op_type, is_function = named
        call: CalledFunction | None = None
        slots: Any = None
        kind = "op"
        graph_id = ""
        if is_function:
            call = self._functions.called(op_type)
            kind = "call"
            graph_id = call.graph_id
            attr_pairs: Any = ()  # the TF function name is in graph_id
            op_type = call.name
            writes = call.writes
            if len(inputs) > call.first_capture:
                slots = call.linked_slots(len(inputs))
        else:
            attr_pairs = self._attr_pairs(op_type, attrs) if attrs else ()
            writes = frozenset(range(len(inputs))) if op_type.startswith(WRITER_PREFIXES) else None
        recorder = self._recorder
        seq = recorder.op_count
        node_id = f"op:{seq}"
        tensors = self._tensors
        producers = self._producers
        rows = []
        mutates = []
        handles = self._handles
        writers = self._writers
        for slot, tensor in enumerate(inputs) if slots is None else [(i, inputs[i]) for i in slots]:
            tensor_id = tensor._id
            handle = handles.get(tensor_id)
            if handle is None:
                entry = producers.get(tensor_id)
                if entry is not None and entry[4] != "resource":
                    rows.append((slot, "", entry[0], entry[1], entry[3], entry[4], "data"))
                    continue
                handle = self._unknown_input(tensor, entry)
                if handle is None:  # a plain tensor, now declared as a source node
                    entry = producers[tensor_id]
                    rows.append((slot, "", entry[0], 0, entry[3], entry[4], "data"))
                    continue
            source = writers.get(tensor_id)
            edge_kind = "write"
            if source is None:
                source, edge_kind = handle, "data"
            if writes and slot in writes:
                mutates.append(slot)
                writers[tensor_id] = node_id
            rows.append((slot, "", source, 0, (), "resource", edge_kind))
        summaries = []
        arrays = []
        nonfinite = False
        ref = weakref.ref
        for index, tensor in enumerate(outputs):
            summary, array = tensors.summarize(tensor)
            summaries.append(summary)
            arrays.append(array)
            if summary.nan_count or summary.inf_count:
                nonfinite = True
            producers[tensor._id] = (node_id, index, ref(tensor), summary.shape, summary.dtype)
        values: dict[int, bytes] | None = None
        input_values: dict[int, bytes] | None = None
        first_nonfinite = nonfinite and recorder.keep_for_nonfinite(summaries)
        if first_nonfinite or recorder.keeps_values(op_type):
            values = {}
            for index, array in enumerate(arrays):
                if array is not None:
                    values[index] = payloads.encode(array)
                    summaries[index] = dataclasses.replace(summaries[index], has_value=True)
            if first_nonfinite and recorder.max_value_bytes is not None:
                input_values = self._input_values(inputs, rows)
        recorder.add_op(
            op_type,
            "tensorflow",
            rows,
            summaries,
            location=self._locate(),
            mutates=mutates,
            kind=kind,
            attrs=attr_pairs,
            graph_id=graph_id,
            values=values,
            input_values=input_values,
        )
        if len(producers) > self._prune_at:
            self._prune()

    def _locate(self) -> Any:
        """The user's location of the op being recorded (``StackInterner.locate``'s answer).

        Inside a Keras layer call the walk stops at the layer's wrapper frame when it meets no
        user code before it: the op then has the layer call's location, computed once per call.
        Keras stacks are deep, so this saves most of the walk for ops inside built-in layers.
        """
        stacks = self._stacks
        boundary, depth = self._keras.boundary()
        frame = sys._getframe(3)  # the code that ran the op (callback → _record → _locate)
        internal = stacks.is_internal
        while frame is not None:
            if frame is boundary:
                return self._keras.location_at(depth, stacks.locate)
            if not internal(frame.f_code):
                return stacks.locate(frame)
            frame = frame.f_back
        return stacks.locate(None)

    def _input_values(self, inputs: Any, rows: list[tuple]) -> dict[int, bytes]:
        """Payloads of the inputs (by slot) of the first NaN/Inf op, for the value budget."""
        by_slot = {}
        for row in rows:
            slot = row[0]
            payload = self._tensors.value(inputs[slot])
            if payload is not None:
                by_slot[slot] = payload
        return by_slot

    def _name(self, raw_type: Any) -> tuple[str, bool]:
        name = raw_type.decode() if isinstance(raw_type, bytes) else str(raw_type)
        is_function = False
        if name.startswith("__"):
            try:
                is_function = bool(self._context().has_function(name))
            except Exception:
                is_function = False
        return name, is_function

    def _unknown_input(self, tensor: Any, entry: Any) -> str | None:
        """First sight of an input: a resource handle's node, or None after declaring a source."""
        info = self._tensors.dtype_info(tensor)
        if not info.is_resource:
            self._source(tensor, info)
            return None
        node = self._variables.node_for(tensor)
        if node is None:
            node = entry[0] if entry is not None else self._source(tensor, info)
        self._handles[tensor._id] = node
        return node

    def _source(self, tensor: Any, info: Any) -> str:
        """Declare a source node for a tensor no recorded op produced."""
        kind = "input" if tensor._id < self._first_id else "const"
        index = self._source_counts[kind]
        self._source_counts[kind] = index + 1
        node = f"src:{kind}:{index}"
        summary, _ = self._tensors.summarize(tensor)
        self._recorder.add_source(node, kind, f"{kind}_{index}", summary.shape, info.name, summary)
        self._producers[tensor._id] = (node, 0, weakref.ref(tensor), summary.shape, info.name)
        return node

    def _attr_pairs(self, op_type: str, attrs: Any) -> tuple[tuple[str, str], ...]:
        """Display text of an op's attrs, cached: the same attrs recur op after op."""
        key = (op_type, attrs)  # per op type: an attr's type (bool, int, dtype) is fixed there
        try:
            cached = self._attr_cache.get(key)
        except TypeError:  # an unhashable value (a list attr)
            return self._attrs(attrs)
        if cached is None:
            cached = self._attrs(attrs)
            if len(self._attr_cache) < _ATTR_CACHE_SIZE:
                self._attr_cache[key] = cached
        return cached

    def _attrs(self, attrs: Any) -> tuple[tuple[str, str], ...]:
        pairs = []
        for i in range(0, len(attrs) - 1, 2):
            key, value = attrs[i], attrs[i + 1]
            if key in _DTYPE_ATTRS:
                continue  # the dtypes are on the op's inputs and outputs already
            if isinstance(value, (bool, int, float, str)):
                text = str(value)
            elif isinstance(value, bytes):
                text = value.decode(errors="replace")
            elif isinstance(value, (list, tuple)) and len(value) <= 8:
                text = str(list(value))
            else:
                continue
            pairs.append((str(key), text[:_MAX_ATTR_TEXT]))
        return tuple(pairs)

    def _prune(self) -> None:
        """Forget producers of tensors that no longer exist (ids are never reused)."""
        alive = {key: entry for key, entry in self._producers.items() if entry[2]() is not None}
        self._producers = alive
        self._prune_at = max(_MIN_PRUNE, 2 * len(alive))
