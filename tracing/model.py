"""The trace vocabulary: frozen records shared by the recorder, the file and the viewer.

Nothing in here knows a framework or Qt. Every field is a plain Python value (str, int, float,
tuple) so a record can be written to the trace file and read back on a machine without torch or
tensorflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

SourceKind = Literal["param", "buffer", "input", "const", "variable", "unknown"]
"""What a source node of the graph stands for (a tensor not produced by a recorded op)."""

OpKind = Literal["op", "call", "opaque"]
"""``op``: an ordinary recorded op. ``call``: a call of a compiled function (a ``tf.function``)
whose inner graph is recorded as graph nodes without seq. ``opaque``: a fused region whose inner
ops are not listed (the PyTorch transformer fast path)."""

EdgeKind = Literal["data", "write"]
"""``data``: the input was produced by that node. ``write``: the input's storage was last written
in place by that node (through the tensor itself or through a view), so it is ordered after it."""


@dataclass(frozen=True, slots=True)
class TensorSummary:
    """Shape, dtype and statistics of one tensor at the moment an op produced it.

    Statistics are ``None`` when they do not apply (non-numeric dtype, empty tensor,
    uninitialised memory) or were not computed. ``min``/``max``/``mean``/``std`` are taken over
    the finite elements; ``nan_count`` and ``inf_count`` count the others.
    """

    shape: tuple[int, ...]
    dtype: str
    device: str = "cpu"
    min: float | None = None
    max: float | None = None
    mean: float | None = None
    std: float | None = None
    nan_count: int = 0
    inf_count: int = 0
    initialized: bool = True
    """False for uninitialised memory (``torch.empty`` and friends): its NaNs do not count."""
    has_value: bool = False
    """True when the tensor's value is stored in the trace (``Trace.value``)."""

    @property
    def numel(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def nonfinite(self) -> bool:
        """True when the tensor held a NaN or an Inf (never for uninitialised memory)."""
        return self.initialized and (self.nan_count > 0 or self.inf_count > 0)


@dataclass(frozen=True, slots=True)
class InputRef:
    """One tensor input slot of an op and the graph node it came from."""

    slot: int
    """Position among the op's tensor inputs, in argument order (nested lists flattened)."""
    name: str
    """Argument name (``input``, ``weight``, ``other``, a kwarg name) or ``""`` when unknown."""
    source: str
    """Graph node id of the producer: ``op:{seq}``, ``src:param:{name}``, ``src:input:{i}``..."""
    out_index: int
    """Which output of the producer this is (0 for source nodes)."""
    shape: tuple[int, ...]
    dtype: str
    kind: EdgeKind = "data"


@dataclass(frozen=True, slots=True)
class Op:
    """One executed op in timeline order."""

    seq: int
    """Index in ``Trace.ops`` (0-based, contiguous)."""
    op_type: str
    """The user's vocabulary: ``torch.nn.functional.linear``, ``Tensor.add_``, ``MatMul``."""
    framework: str
    """``torch`` or ``tensorflow``."""
    module_path: str
    """Qualified name of the innermost module (``encoder.layers.0.linear1``); ``""`` at top."""
    module_call: int
    """Which call of ``module_path`` this op ran in (1 for the first call, 0 at top level)."""
    call_id: int
    """Id of the innermost ``ModuleCall`` (-1 at top level)."""
    file: str
    """The user's source file that issued the op (``""`` when unknown)."""
    line: int
    col: int = -1
    """Start column of the call expression on ``line`` (-1 when Python does not say)."""
    end_col: int = -1
    func: str = ""
    """Name of the user function that issued the op."""
    stack_id: int = -1
    """Id of the full user call chain (``Trace.stack``)."""
    inputs: tuple[InputRef, ...] = ()
    outputs: tuple[TensorSummary, ...] = ()
    mutates: tuple[int, ...] = ()
    """Input slots written in place by this op (including writes through views)."""
    duration_ns: int = 0
    """Wall time of the op itself."""
    error: str | None = None
    """The exception message when the op raised."""
    thread_id: int = 0
    kind: OpKind = "op"
    attrs: tuple[tuple[str, str], ...] = ()
    """Small, display-only attributes as text pairs (scalar arguments, TF attrs)."""
    graph_id: str = ""
    """For ``kind == "call"``: id of the function graph it ran (see ``Trace.functions``)."""

    @property
    def node_id(self) -> str:
        """This op's node id in ``Trace.graph``."""
        return f"op:{self.seq}"

    @property
    def nonfinite(self) -> bool:
        """True when an output held NaN or Inf."""
        return any(o.nonfinite for o in self.outputs)

    @property
    def location(self) -> str:
        """``file:line`` for messages, or ``"<unknown>"``."""
        return f"{self.file}:{self.line}" if self.file else "<unknown>"


@dataclass(frozen=True, slots=True)
class ModuleCall:
    """One call of a module (a PyTorch ``nn.Module``, a Keras layer or a TF name scope)."""

    call_id: int
    path: str
    """Qualified name from the root (``encoder.layers.0``; Keras: ``encoder/dense_1``)."""
    type_name: str
    """Class name (``Linear``, ``Dense``) or ``name_scope``."""
    call_index: int
    """1 for the first call of this path, 2 for the second..."""
    parent_id: int
    """Enclosing call, -1 at top level."""
    depth: int
    """0 for a top-level call."""
    start_seq: int
    """Seq of the first op issued after the call began (== end_seq when the call ran no op)."""
    end_seq: int
    """Seq of the first op after the call returned (``len(ops)`` if it never returned)."""
    framework: str = "torch"
    enter_order: int = 0
    """Position of the enter event in the timeline (orders calls that start at the same seq)."""
    exit_order: int = -1
    """Position of the exit event, -1 when the call never returned (crash or killed run)."""

    @property
    def label(self) -> str:
        """``path`` plus ``:n`` for the second and later calls."""
        return self.path if self.call_index <= 1 else f"{self.path}:{self.call_index}"


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """An entry of the ordered timeline: an op, or a module entering or returning."""

    kind: Literal["op", "enter", "exit"]
    ref: int
    """``seq`` for ops, ``call_id`` for module events."""
    at_seq: int
    """Seq of the first op that comes after this event (the op's own seq for ops)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame of a user call chain."""

    file: str
    line: int
    func: str
    first_line: int = 0


@dataclass(frozen=True, slots=True)
class SourceNode:
    """A graph node for a tensor no recorded op produced."""

    node_id: str
    kind: SourceKind
    name: str
    shape: tuple[int, ...] = ()
    dtype: str = ""
    summary: TensorSummary | None = None


@dataclass(frozen=True, slots=True)
class GraphNode:
    """A node of a recorded function graph (a ``tf.function`` op): a location but no seq."""

    node_id: str
    graph_id: str
    op_type: str
    name: str
    module_path: str = ""
    file: str = ""
    line: int = 0
    func: str = ""
    outputs: tuple[TensorSummary, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class GraphEdge:
    """An edge inside (or into) a recorded function graph."""

    src: str
    dst: str
    slot: int
    out_index: int = 0
    shape: tuple[int, ...] = ()
    dtype: str = ""
    kind: str = "data"


@dataclass(frozen=True, slots=True)
class FunctionGraph:
    """A recorded compiled-function graph (``tf.function`` body, a loop or branch body)."""

    graph_id: str
    name: str
    parent_id: str = ""
    """Enclosing function graph (``""`` for a top-level function)."""
    file: str = ""
    line: int = 0


@dataclass(frozen=True, slots=True)
class TraceMeta:
    """What the trace says about itself."""

    format_version: int
    framework: str
    versions: tuple[tuple[str, str], ...] = ()
    """Library versions: ``(("python", "3.11.7"), ("torch", "2.13.0"), ...)``."""
    argv: tuple[str, ...] = ()
    cwd: str = ""
    created: str = ""
    complete: bool = False
    """True when the recording was closed cleanly (False for a killed or still-running one)."""
    error: str = ""
    """The exception that ended the recorded block, if any."""
    options: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    """Recording options as text pairs (values mode, tf_function_mode...)."""

    def option(self, name: str, default: str = "") -> str:
        """Look up a recording option by name."""
        return dict(self.options).get(name, default)

    def version(self, name: str) -> str:
        """Look up a library version by name (``""`` when absent)."""
        return dict(self.versions).get(name, "")
