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

The callback reads only what exists while the op runs — its inputs' producers, the user's
location, the Keras layer stack — and queues the rest (summaries, values, the recorder's rows)
in ``events.EventQueue``, which replays it into the recorder in order, in batches.

While a ``tf.function`` is being traced the callback also sees each op's creation (``graph`` is
set): it only notes the Keras layer path, for the graph walk in ``functions.py``.
"""

from __future__ import annotations

import sys
import weakref
from math import prod
from typing import TYPE_CHECKING, Any

from tracing.tf_backend.events import EventQueue
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
        *,
        deferred: bool = True,
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
        self._producers: dict[int, tuple[str, int, tuple[int, ...], str]] = {}
        """Tensor id → (node id, output index, shape, dtype name). Plain values only, so the
        garbage collector stops tracking the entries (fewer full collections)."""
        self._alive: dict[int, Any] = {}
        """Tensor id → weak reference to the tensor, to forget the producers of dead tensors."""
        self._handles: dict[int, str] = {}
        """Resource-handle tensor id → the node it stands for (a variable, or its producer)."""
        self._prune_at = _MIN_PRUNE
        self._internal_code: set[Any] = set()
        """Code objects ``StackInterner.is_internal`` said are framework code. Directories are
        only ever added to the internal ones, so a yes stays a yes (a no is asked again)."""
        self._writers: dict[int, str] = {}
        self._names: dict[Any, tuple[str, bool, bool]] = {}
        self._attr_cache: dict[Any, tuple[tuple[str, str], ...]] = {}
        self._source_counts = {"input": 0, "const": 0}
        self._busy = False
        self.pending: Any = None
        """A hook to run before the next op (installs the Keras wrapper once Keras is ready)."""
        self.enabled = True
        self.error: BaseException | None = None
        self.queue = EventQueue(recorder, tensors, deferred=deferred)
        """Recorder calls waiting to be replayed (``events.py``)."""
        self.queue.on_error = self._fail

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
            with self.queue.lock:  # numbered and queued without a replay in between
                self._record(op_type, inputs, attrs, outputs)
        except Exception as exc:  # a recorder bug must not break the traced program
            self._fail(exc)
        finally:
            self._busy = False
        return None

    def enter_module(self, path: str, type_name: str) -> int:
        """A Keras layer call begins (queued in order with the ops); -1 when not recording."""
        if not self.enabled:
            return -1
        return self.queue.enter_module(path, type_name)

    def exit_module(self, token: int) -> None:
        """The layer call ``enter_module`` returned ``token`` for has returned or raised."""
        if token >= 0 and self.enabled:
            self.queue.exit_module(token)

    def flush(self) -> None:
        """Replay every queued event into the recorder now."""
        if self.enabled:
            self.queue.replay()

    def _fail(self, exc: BaseException) -> None:
        if not self.enabled:
            return
        self.enabled = False
        self.error = exc
        self.queue.discard()
        self._recorder.warn(
            f"OpScope stopped recording TensorFlow ops after an internal error "
            f"({type(exc).__name__}: {exc}); the program's results are not affected"
        )

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
        op_type, is_function, is_writer = named
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
                slots = call.linked_slots(inputs, self._writers)
        else:
            attr_pairs = self._attr_pairs(op_type, attrs) if attrs else ()
            writes = frozenset(range(len(inputs))) if is_writer else None
        queue = self.queue
        node_id = f"op:{queue.next_seq}"
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
                if entry is not None and entry[3] != "resource":
                    rows.append((slot, "", entry[0], entry[1], entry[2], entry[3], "data"))
                    continue
                handle = self._unknown_input(tensor, entry)
                if handle is None:  # a plain tensor, now declared as a source node
                    entry = producers[tensor_id]
                    rows.append((slot, "", entry[0], 0, entry[2], entry[3], "data"))
                    continue
            source = writers.get(tensor_id)
            edge_kind = "write"
            if source is None:
                source, edge_kind = handle, "data"
            if writes and slot in writes:
                mutates.append(slot)
                writers[tensor_id] = node_id
            rows.append((slot, "", source, 0, (), "resource", edge_kind))
        outputs = tuple(outputs)
        dtype_info = self._tensors.dtype_info
        alive = self._alive
        ref = weakref.ref
        elements = 0
        for index, tensor in enumerate(outputs):
            shape = tensor._shape_tuple()
            tensor_id = tensor._id
            producers[tensor_id] = (node_id, index, shape, dtype_info(tensor).name)
            alive[tensor_id] = ref(tensor)
            elements += prod(shape)
        location = self._locate()
        if len(producers) > self._prune_at:
            self._prune()
        queue.add_op(
            op_type,
            rows,
            outputs,
            elements,
            location,
            mutates,
            kind,
            attr_pairs,
            graph_id,
            tuple(inputs) if queue.keep_inputs else None,
        )

    def _locate(self) -> Any:
        """The user's location of the op being recorded (``StackInterner.locate``'s answer).

        Inside a Keras layer call the walk stops at the layer's wrapper frame when it meets no
        user code before it: the op then has the layer call's location, computed once per call.
        Keras stacks are deep, so this saves most of the walk for ops inside built-in layers.
        """
        stacks = self._stacks
        boundary, depth = self._keras.boundary()
        frame = sys._getframe(3)  # the code that ran the op (callback → _record → _locate)
        internal_code = self._internal_code
        while frame is not None:
            if frame is boundary:
                return self._keras.location_at(depth, stacks.locate)
            code = frame.f_code
            if code not in internal_code:
                if not stacks.is_internal(code):
                    return stacks.locate(frame)
                internal_code.add(code)
            frame = frame.f_back
        return stacks.locate(None)

    def _name(self, raw_type: Any) -> tuple[str, bool, bool]:
        """``(op type, is a function call, writes its resource inputs)`` of a raw op type."""
        name = raw_type.decode() if isinstance(raw_type, bytes) else str(raw_type)
        is_function = False
        if name.startswith("__"):
            try:
                is_function = bool(self._context().has_function(name))
            except Exception:
                is_function = False
        return name, is_function, name.startswith(WRITER_PREFIXES)

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
        self.queue.add_source(node, kind, f"{kind}_{index}", tensor, info.name)
        shape = tensor._shape_tuple()
        self._producers[tensor._id] = (node, 0, shape, info.name)
        self._alive[tensor._id] = weakref.ref(tensor)
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
        alive = {key: ref for key, ref in self._alive.items() if ref() is not None}
        producers = self._producers
        self._producers = {key: producers[key] for key in alive}
        self._alive = alive
        self._prune_at = max(_MIN_PRUNE, 2 * len(alive))
