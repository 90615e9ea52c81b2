"""Record ``tf.function`` graphs: ops, edges, source lines, name scopes, nested bodies.

When a function call executes, the eager callback receives only ``__inference_f_123`` with the
call's inputs and outputs; the ops inside run in TensorFlow's runtime. The graph behind the name
is the ``FuncGraph`` of the ``AtomicFunction`` that issued the call (found on the Python stack,
which holds it as ``self`` of ``call_flat``). It is walked once per distinct function:

* every op becomes a graph node ``{graph_id}/{op name}`` with its type, the user's file:line
  from ``op.traceback`` (framework frames dropped; AutoGraph code keeps the user's lines), the
  Keras layer path captured while the function was traced (else its name scope), and shapes and
  dtypes;
* every input is an edge (control inputs are edges of kind ``control``, slot -1);
* ``while``/``cond``/``case`` bodies and nested functions (attrs ``f``, ``body``, ``cond``,
  ``then_branch``, ``else_branch``, ``branches``) are recorded as child function graphs, and the
  op that runs them names them in its attrs;
* captured variables are linked from their ``src:variable:...`` nodes.
"""

from __future__ import annotations

import inspect
import os
import sys
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from tracing.model import TensorSummary
from tracing.payloads import normalize_dtype

if TYPE_CHECKING:
    from tracing.recorder import Recorder
    from tracing.tf_backend.compat import TFInternals
    from tracing.tf_backend.variables import VariableNames

FUNCTION_ATTRS = ("f", "body", "cond", "then_branch", "else_branch", "branches")
"""Op attributes that name function graphs (control-flow bodies and nested calls)."""
_BRANCH_ATTRS = frozenset({"then_branch", "else_branch", "branches"})
"""Bodies whose inputs are the op's inputs after the first (the condition or branch index)."""

WRITER_PREFIXES = (
    "Assign",
    "ResourceApply",
    "ResourceSparseApply",
    "ResourceScatter",
    "ResourceStridedSliceAssign",
)
"""Op types that write the variable behind their resource input."""

_FRAMES_TO_SEARCH = 24


class CalledFunction(NamedTuple):
    """What the timeline needs about a recorded function."""

    graph_id: str
    name: str
    """The Python-level name (``f``, ``one_step_on_data``)."""
    writes: frozenset[int]
    """Input positions whose variables the function writes."""
    first_capture: int
    """Inputs from this position on are captured tensors (variables, outer constants), not
    arguments; the timeline links those the function writes or reads after an op wrote them,
    the graph links the rest."""
    slot_cache: dict[int, tuple[int, ...]]

    def linked_slots(self, inputs: Sequence[Any], written: Mapping[int, str]) -> tuple[int, ...]:
        """Input positions the call op links: the arguments, the captures it writes, and the
        captures it only reads that an op wrote before (``written``: tensor ids of variable
        handles → their last writer; the call reads that write)."""
        count = len(inputs)
        slots = self.slot_cache.get(count)
        if slots is None:
            slots = self.slot_cache[count] = tuple(
                i for i in range(count) if i < self.first_capture or i in self.writes
            )
        if written:
            read = [
                i
                for i in range(self.first_capture, count)
                if i not in self.writes and inputs[i]._id in written
            ]
            if read:
                slots = tuple(sorted((*slots, *read)))
        return slots


class FunctionGraphs:
    """Records each distinct function graph once and answers which one a call ran."""

    def __init__(
        self,
        recorder: Recorder,
        internals: TFInternals,
        variables: VariableNames,
        internal_dirs: list[str],
    ) -> None:
        self._recorder = recorder
        self._tf = internals
        self._variables = variables
        self._internal_dirs = internal_dirs
        self._calls: dict[str, CalledFunction] = {}
        self._recorded: set[str] = set()
        self._child_writes: dict[str, frozenset[int]] = {}
        """Input positions each recorded body writes (a nested call or loop body writes the
        variables its op passes in at those positions)."""
        self._construction_paths: weakref.WeakKeyDictionary[Any, dict[str, str]] = (
            weakref.WeakKeyDictionary()
        )

    # -- construction time ---

    def note_construction(self, graph: Any, op_name: str | None, keras_path: str) -> None:
        """Remember the Keras layer path an op was created in while a function was traced."""
        if op_name is None:
            return
        try:
            paths = self._construction_paths.get(graph)
            if paths is None:
                paths = self._construction_paths[graph] = {}
        except TypeError:  # graph not weak-referenceable
            return
        paths[op_name] = keras_path

    # -- call time ---

    def called(self, tf_name: str) -> CalledFunction:
        """The recorded function for an eager call of ``tf_name``, recording it if new."""
        known = self._calls.get(tf_name)
        if known is not None:
            return known
        atomic, python_function = self._find_on_stack(tf_name)
        graph = None
        try:
            graph = atomic.graph if atomic is not None else self._graph_from_runtime(tf_name)
        except Exception:  # a graph that cannot be rebuilt: record the call alone
            graph = None
        graph_id = self._graph_id(tf_name)
        writes: frozenset[int] = frozenset()
        name = tf_name
        first_capture = sys.maxsize
        if graph is not None:
            try:
                first_capture = len(graph.inputs) - len(graph.internal_captures)
            except (AttributeError, TypeError):
                first_capture = sys.maxsize
            name = str(graph.name)
            file, line = _definition_site(python_function)
            if file.startswith(tuple(self._internal_dirs)):  # tf.function(model): Keras' __call__
                file, line = "", 0
            try:
                writes = self._record_graph(graph_id, graph, "", file, line)
            except Exception as exc:  # keep recording the calls, without (all of) the graph
                self._recorder.warn(
                    f"OpScope could not record the graph of tf.function {name!r} "
                    f"({type(exc).__name__}: {exc}); its calls are still recorded"
                )
        called = CalledFunction(graph_id, name, writes, first_capture, {})
        self._calls[tf_name] = called
        return called

    def _find_on_stack(self, tf_name: str) -> tuple[Any, Any]:
        """The ``AtomicFunction`` running ``tf_name`` and the user's Python function, if seen."""
        wanted = tf_name.encode()
        atomic = python_function = None
        atomic_type = self._tf.atomic_function
        polymorphic_type = self._tf.polymorphic_function
        frame = sys._getframe(2)
        for _ in range(_FRAMES_TO_SEARCH):
            if frame is None:
                break
            if "self" in frame.f_code.co_varnames:
                owner = frame.f_locals.get("self")
                if atomic is None and isinstance(owner, atomic_type) and owner.name == wanted:
                    atomic = owner
                elif isinstance(owner, polymorphic_type):
                    python_function = getattr(owner, "_python_function", None)
                    break
            frame = frame.f_back
        return atomic, python_function

    def _graph_from_runtime(self, tf_name: str) -> Any:
        """Rebuild a function's graph from the runtime's FunctionDef (no source lines)."""
        from tensorflow.python.framework import function_def_to_graph

        definition = self._tf.context().get_function_def(tf_name)
        return function_def_to_graph.function_def_to_graph(definition)

    @staticmethod
    def _graph_id(tf_name: str) -> str:
        return f"tf:{tf_name}"

    # -- the graph walk ---

    def _record_graph(
        self, graph_id: str, graph: Any, parent_id: str, file: str, line: int
    ) -> frozenset[int]:
        """Record ``graph`` and its nested bodies; returns the input positions it writes."""
        recorder = self._recorder
        self._recorded.add(graph_id)
        operations = graph.get_operations()
        if not file:
            file, line = self._first_user_frame(operations)
        recorder.add_function(graph_id, str(graph.name), parent_id, file, line)
        paths = self._construction_paths.get(graph) or {}
        try:
            inputs = [tensor.op.name for tensor in graph.inputs]
        except AttributeError:
            inputs = []
        written: set[str] = set()
        for op in operations:
            node_id = f"{graph_id}/{op.name}"
            attrs: list[tuple[str, str]] = []
            for attr in FUNCTION_ATTRS:
                for child in self._child_functions(op, attr):
                    child_id = self._graph_id(child)
                    attrs.append((attr, child_id))
                    if child_id not in self._recorded:
                        self._record_child(graph, child, child_id, graph_id, op)
                    offset = 1 if attr in _BRANCH_ATTRS else 0
                    for position in self._child_writes.get(child_id, ()):
                        if position + offset < len(op.inputs):
                            written.add(op.inputs[position + offset].op.name)
            if op.type.startswith(WRITER_PREFIXES) and op.inputs:
                written.add(op.inputs[0].op.name)
            outputs = []
            partial = []
            for out in op.outputs:
                shape, known = _static_shape(out.shape)
                dtype = normalize_dtype(out.dtype.name)
                outputs.append(TensorSummary(shape, dtype, ""))
                partial.append(known)
            if not all(partial):
                attrs.append(("output_shapes", ", ".join(str(out.shape) for out in op.outputs)))
            node_file, node_line, func = self._user_frame(op)
            scope = paths.get(op.name)
            if scope is None:
                scope = op.name.rpartition("/")[0]
            recorder.add_graph_node(
                node_id,
                graph_id,
                op.type,
                op.name,
                module_path=scope,
                file=node_file,
                line=node_line,
                func=func,
                outputs=outputs,
                attrs=attrs,
            )
            for slot, tensor in enumerate(op.inputs):
                shape, _ = _static_shape(tensor.shape)
                recorder.add_graph_edge(
                    f"{graph_id}/{tensor.op.name}",
                    node_id,
                    slot,
                    tensor.value_index,
                    shape,
                    normalize_dtype(tensor.dtype.name),
                )
            for control in op.control_inputs:
                recorder.add_graph_edge(f"{graph_id}/{control.name}", node_id, -1, kind="control")
        self._link_captures(graph_id, graph)
        return frozenset(index for index, name in enumerate(inputs) if name in written)

    def _record_child(
        self, graph: Any, tf_name: str, child_id: str, parent_id: str, op: Any
    ) -> None:
        child = _function_graph(graph, tf_name)
        if child is None:
            self._recorded.add(child_id)
            self._recorder.add_function(child_id, tf_name, parent_id)
            return
        file, line, _func = self._user_frame(op)
        self._child_writes[child_id] = self._record_graph(child_id, child, parent_id, file, line)

    @staticmethod
    def _child_functions(op: Any, attr: str) -> list[str]:
        try:
            value = op.get_attr(attr)
        except (ValueError, TypeError):
            return []
        values = value if isinstance(value, list) else [value]
        names = []
        for item in values:
            name = getattr(item, "name", None)
            if isinstance(name, bytes):
                name = name.decode()
            if isinstance(name, str) and name:
                names.append(name)
        return names

    def _link_captures(self, graph_id: str, graph: Any) -> None:
        """Edges from variables (and outer tensors) into the placeholders that capture them."""
        try:
            self._variables.learn(graph.variables)
            captures = list(graph.captures)
        except (AttributeError, TypeError):
            return
        eager_tensor = self._tf.eager_tensor
        for external, internal in captures:
            if not isinstance(external, eager_tensor):
                continue
            try:
                node = self._variables.node_for_id(external._id)
            except AttributeError:
                node = None
            if node is None:
                continue
            self._recorder.add_graph_edge(
                node, f"{graph_id}/{internal.op.name}", 0, 0, (), "resource"
            )

    # -- source locations ---

    def _user_frame(self, op: Any) -> tuple[str, int, str]:
        """Innermost user frame of the op's creation traceback: ``(file, line, function)``."""
        try:
            frames = op.traceback
        except Exception:
            return "", 0, ""
        if not frames:
            return "", 0, ""
        prefixes = tuple(self._internal_dirs)
        for frame in reversed(list(frames)):
            filename = frame.filename
            if filename.startswith(prefixes) or filename.startswith("<"):
                continue
            self._recorder.remember_source_file(filename)
            return filename, int(frame.lineno or 0), str(frame.name)
        return "", 0, ""

    def _first_user_frame(self, operations: list[Any]) -> tuple[str, int]:
        for op in operations:
            file, line, _func = self._user_frame(op)
            if file:
                return file, line
        return "", 0


def _function_graph(graph: Any, tf_name: str) -> Any:
    """The ``FuncGraph`` of a function referenced from ``graph`` (or an enclosing graph)."""
    while graph is not None:
        functions = getattr(graph, "_functions", None) or {}
        function = functions.get(tf_name)
        if function is not None:
            try:
                return function.graph
            except Exception:
                return None
        graph = getattr(graph, "outer_graph", None)
    return None


def _static_shape(shape: Any) -> tuple[tuple[int, ...], bool]:
    """A fully known shape as ints, or ``((), False)`` when the rank or a dimension is unknown."""
    try:
        dims = shape.as_list()
    except ValueError:  # unknown rank
        return (), False
    if any(d is None for d in dims):
        return (), False
    return tuple(int(d) for d in dims), True


def _definition_site(function: Any) -> tuple[str, int]:
    if function is None:
        return "", 0
    try:
        function = inspect.unwrap(function)
        code = function.__code__
    except (AttributeError, ValueError):
        return "", 0
    return os.path.abspath(code.co_filename), int(code.co_firstlineno)
