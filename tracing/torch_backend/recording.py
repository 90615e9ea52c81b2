"""One PyTorch recording: the op-recording modes, the module hooks and the per-op hot path.

``TorchRecording.call`` runs every recorded call: it resolves the inputs to graph nodes, runs
the real function exactly as the program asked, then (with torch-function handling off and
grad mode off, so none of it is recorded or reaches autograd) detects in-place writes from the
inputs' version counters, summarises the outputs at op time, copies values when asked and hands
the op to the recorder. If the call raises, the op is recorded with the error and the very same
exception propagates. A failure inside the recorder itself never reaches the program: it is
reported once as a ``RecordingWarning``.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import getpass
import os
import re
import sys
import tempfile
import threading
import time
from typing import TYPE_CHECKING, Any

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from tracing.batch_summaries import PendingSummary
from tracing.model import TensorSummary
from tracing.stacks import NO_LOCATION
from tracing.torch_backend import stats
from tracing.torch_backend.callsite import CallSites
from tracing.torch_backend.graph import TensorGraph
from tracing.torch_backend.identity import WeakIdMap
from tracing.torch_backend.modules import ModuleScope, is_compiling
from tracing.torch_backend.ops import OpInfo, describe
from tracing.torch_backend.ops import described as _described

if TYPE_CHECKING:
    from tracing.recorder import Recorder

_Tensor = torch.Tensor
_get_ident = threading.get_ident
_now = time.perf_counter_ns
_DisableTorchFunction = torch._C.DisableTorchFunction
_THIS_FILE = __file__
_SET_DATA = torch.Tensor.data.__set__  # (compared with ==: each access makes a new wrapper)
_is_grad_enabled = torch.is_grad_enabled
_set_grad_enabled = torch._C._set_grad_enabled
_shape_of = stats.shape_of
_dtype_name = stats.dtype_name
_pending_summary = stats.pending_summary
_dtype_names = stats.dtype_names
_SCALARS = (int, float, bool, str, type(None), slice, torch.dtype, torch.device)
_MAX_ATTRS = 8
_REUSE_NUMEL = 4096
"""Outputs at least this large keep their summary for reuse by reshaped views of them."""
_MAX_ATTR_CHARS = 60
_REGION_WRITES = frozenset(
    {"Tensor.__setitem__", "Tensor.index_put_", "Tensor.index_copy_", "Tensor.index_fill_"}
    | {"Tensor.scatter_", "Tensor.masked_fill_", "Tensor.masked_scatter_"}
)
"""In-place ops that overwrite part of ``self`` without reading it (``_region_size`` says how
many elements): together they can initialise ``torch.empty`` memory."""
_SHAPE_READS = frozenset(
    {f"torch.{kind}_like" for kind in ("zeros", "ones", "full", "rand", "randn", "randint")}
    | {f"Tensor.new_{kind}" for kind in ("zeros", "ones", "full", "empty", "empty_strided")}
    | {"torch.empty_like", "torch.empty_strided"}
)
"""Ops that read only their tensor inputs' shape, dtype and device, never their values."""
_INPLACE_DUNDERS = frozenset(
    "__i" + op + "__"
    for op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or")
) | frozenset({"__ixor__", "__ilshift__", "__irshift__", "__setitem__"})


class TorchRecording:
    """The handle ``start`` returns; ``stop()`` removes every mode and hook it installed."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.owner = recorder.owner_thread
        self.graph = TensorGraph(recorder)
        self.scope = ModuleScope(self)
        self.mode = _OpMode(self)
        self.depth = 0
        """How many recorded calls are running now (modules called inside one are ignored)."""
        self._aten_info: dict[Any, OpInfo] = {}
        self._locate = recorder.stacks.locate
        self._stacks = recorder.stacks
        self._user_frame = recorder.stacks.user_frame
        self._chain_id = recorder.stacks.chain_id
        self._sites = CallSites()
        self._site_cache: dict[tuple[int, int], tuple] = {}
        """``(id(code), f_lasti)`` → (site, trampoline, code) of the user's call sites."""
        self._producers = self.graph.producers.data
        self._keeps_values = recorder.keeps_values
        self._defer = recorder.defers_summaries
        """Small outputs are copied and summarised later, many at once (no values stored); the
        common op is then recorded in one pass (``_record_lean``)."""
        self._nonfinite_rule = recorder.values is not False
        """Whether the first NaN/Inf op must keep its values (only when values are stored)."""
        self._summaries: WeakIdMap[tuple[int, int, TensorSummary]] = WeakIdMap()
        """Large outputs → (version, seq, summary), reused for reshaped views of them."""
        self._warned = False
        self._started = False

    # -- lifecycle ---

    def start(self) -> TorchRecording:
        """Install the op mode and the module hooks on the recording thread."""
        recorder = self.recorder
        recorder.add_internal_dir(os.path.dirname(torch.__file__))
        for helper in (copy, contextlib, functools):  # stdlib plumbing torch calls through
            recorder.add_internal_dir(helper.__file__)
        for generated in _generated_code_dirs():
            recorder.add_internal_dir(generated)
        recorder.note_version("torch", torch.__version__.split("+")[0])
        self.scope.install()
        try:
            self.mode.__enter__()
        except BaseException:
            self.scope.remove()
            raise
        self._started = True
        return self

    def stop(self) -> None:
        """Remove the op mode and the module hooks (also after an exception in the block)."""
        if not self._started:
            return
        self._started = False
        try:
            self.scope.remove()
        finally:
            _remove_function_mode(self.mode)
            self._forget()

    def _forget(self) -> None:
        """Drop every map of the program's objects now, so the recording's own reference
        cycles free nothing of the program's later (and leave the garbage collector little)."""
        self._sites.clear()
        self._site_cache.clear()
        self._summaries.clear()
        self.graph.forget()
        self.scope.forget()

    def rebound(self, target: _Tensor, value: Any) -> None:
        """``target.data = value`` ran: ``target`` now holds ``value``'s memory, so later readers
        of ``target`` read what made ``value`` (``model.half()`` and ``.to()`` convert
        parameters this way)."""
        if not isinstance(value, _Tensor):
            return
        disabled = _DisableTorchFunction()
        disabled.__enter__()
        try:
            self.graph.producers.set(target, self.graph.resolve(value))
        except Exception as exc:
            self.internal_error(exc)
        finally:
            disabled.__exit__(None, None, None)

    def dispatch_mode(self) -> TorchDispatchMode:
        """A fresh ATen-level recording mode for an opaque region."""
        return _RegionMode(self)

    def internal_error(self, exc: BaseException) -> None:
        """A bug in the recorder: tell the user once, keep the program running."""
        if not self._warned:
            self._warned = True
            self.recorder.warn(
                f"OpScope could not record part of this PyTorch run ({type(exc).__name__}: "
                f"{exc}); the program's results are not affected"
            )

    # -- the hot path ---

    def call(self, func: Any, info: OpInfo, args: tuple, kwargs: dict, kind: str) -> Any:
        """Run ``func(*args, **kwargs)`` and record it as one op of ``kind``."""
        disabled = _DisableTorchFunction()
        disabled.__enter__()
        try:
            before = self._before(info, args, kwargs)
        except Exception as exc:
            self.internal_error(exc)
            before = None
        finally:
            disabled.__exit__(None, None, None)
        run = None if before is None else before[4]
        self.depth += 1
        start = _now()
        try:
            out = func(*args, **kwargs) if run is None else run(func, args, kwargs)
        except BaseException as exc:
            duration = _now() - start
            self.depth -= 1
            if before is not None:
                self._after(info, kind, before, None, duration, exc)
            raise
        duration = _now() - start
        self.depth -= 1
        if before is not None and (
            not self._defer or kind != "op" or not self._record_lean(info, before, out, duration)
        ):
            self._after(info, kind, before, out, duration, None)
        return out

    def _before(self, info: OpInfo, args: tuple, kwargs: dict) -> tuple:
        """Inputs (tensor, name, producer, version), display attributes and the user's location,
        taken before the call."""
        params = info.params
        count = len(params)
        tensors: list[tuple[_Tensor, str, tuple[str, int, int], int | None]] = []
        attrs: list[tuple[str, str]] = []
        add = self._add_input
        producers = self._producers
        for position, value in enumerate(args):
            if isinstance(value, _Tensor):  # _add_input, inlined for the common case
                entry = producers.get(id(value))
                tensors.append(
                    (
                        value,
                        params[position] if position < count else "",
                        entry.value
                        if entry is not None and entry() is value
                        else self.graph.resolve(value),
                        None if value.is_inference() else value._version,
                    )
                )
            elif type(value) is list or type(value) is tuple:
                base = params[position] if position < count else f"arg{position}"
                plain = True
                for index, item in enumerate(value):
                    if isinstance(item, _Tensor):
                        plain = False
                        add(tensors, item, f"{base}[{index}]")
                if plain and len(attrs) < _MAX_ATTRS:
                    attrs.append((base, _short(value)))
            elif isinstance(value, _SCALARS) and len(attrs) < _MAX_ATTRS:
                name = params[position] if position < count else f"arg{position}"
                if not _is_default(info, name, value):
                    attrs.append((name, _short(value)))
        if kwargs:
            for name, value in kwargs.items():
                if isinstance(value, _Tensor):
                    add(tensors, value, name)
                elif type(value) is list or type(value) is tuple:
                    for index, item in enumerate(value):
                        if isinstance(item, _Tensor):
                            add(tensors, item, f"{name}[{index}]")
                elif (
                    isinstance(value, _SCALARS)
                    and len(attrs) < _MAX_ATTRS
                    and not _is_default(info, name, value)
                ):
                    attrs.append((name, _short(value)))
        # The user's frame: the first one outside torch and OpScope above the mode's handler.
        region = None
        if self.graph.uninitialized and info.name in _REGION_WRITES:
            region = _region_size(info.name, args, kwargs)
        frame = self._user_frame(sys._getframe(3))
        if frame is None:
            return tensors, attrs, "out" in kwargs, NO_LOCATION, None, region
        site, run = self._site(frame)
        return tensors, attrs, "out" in kwargs, (*site, self._chain_id(frame)), run, region

    def _add_input(self, tensors: list, t: _Tensor, name: str) -> None:
        """Append ``(t, name, producer, version)``: where ``t`` comes from, and its version
        counter now (None for inference tensors, which have none)."""
        entry = self._producers.get(id(t))  # inlined WeakIdMap lookup (every input of every op)
        producer = entry.value if entry is not None and entry() is t else self.graph.resolve(t)
        tensors.append((t, name, producer, None if t.is_inference() else t._version))

    def _site(self, frame: Any) -> tuple[tuple[str, int, int, int, str], Any]:
        """The call site of ``frame`` (file, line, columns, function) and its trampoline, cached
        per code object and instruction."""
        code = frame.f_code
        key = (id(code), frame.f_lasti)
        found = self._site_cache.get(key)
        if (
            found is None
            or found[2] is not code
            or (found[1] is not None and found[1].__globals__ is not frame.f_globals)
        ):
            found = (self._stacks.site(frame), self._sites.runner(frame), code)
            self._site_cache[key] = found
        return found[0], found[1]

    def _record_lean(self, info: OpInfo, before: tuple, out: Any, duration: int) -> bool:
        """Record the common op in one pass: one fresh, small float output summarised later,
        inputs not written. Returns False, having changed nothing, for any other op (the
        general path ``_after`` then records it)."""
        tensors, attrs, has_out, location, _run, _region = before
        if has_out or type(out) is not _Tensor or info.uninitialized or info.value_read:
            return False
        for item in tensors:
            version = item[3]
            if version is None or item[0] is out or item[0]._version != version:
                return False
        graph = self.graph
        disabled = _DisableTorchFunction()
        disabled.__enter__()
        try:
            try:  # nothing is changed until the op is known to fit
                if graph.uninitialized and (
                    graph.is_uninitialized(out) or _reads_garbage(graph, info, tensors, ())
                ):
                    return False  # made from ``torch.empty`` memory (or a view of it)
                pending = _pending_summary(out)
                if pending is None:
                    return False
                inputs = self._input_rows(tensors)
            except Exception:  # an unusual tensor (nested, sparse...): the general path
                return False
            try:
                recorder = self.recorder
                seq = recorder.op_count
                graph.produced(out, (f"op:{seq}", 0, seq), False)
                recorder.add_pending_op(info.name, "torch", tuple(inputs), pending, duration,
                                        tuple(attrs), location)  # fmt: skip
            except Exception as error:
                self.internal_error(error)
        finally:
            disabled.__exit__(None, None, None)
        return True

    def _after(
        self,
        info: OpInfo,
        kind: str,
        before: tuple,
        out: Any,
        duration: int,
        exc: BaseException | None,
    ) -> None:
        disabled = _DisableTorchFunction()
        disabled.__enter__()
        grad = _is_grad_enabled()
        if grad:
            _set_grad_enabled(False)
        try:
            self._record(info, kind, before, out, duration, exc)
        except Exception as error:
            self.internal_error(error)
        finally:
            if grad:
                _set_grad_enabled(True)
            disabled.__exit__(None, None, None)

    def _record(
        self,
        info: OpInfo,
        kind: str,
        before: tuple,
        out: Any,
        duration: int,
        exc: BaseException | None,
    ) -> None:
        recorder = self.recorder
        tensors, attrs, has_out, location, _run, region = before
        seq = recorder.op_count
        inputs, mutates, mutated = self._inputs(info, tensors, ("inplace", "True") in attrs)
        if exc is not None:
            outs = []
        elif isinstance(out, _Tensor):
            outs = [out]
        else:
            outs = _flatten(out)
        if mutated:
            outs.extend(t for t in mutated if not _contains(outs, t))
        keep = self._keeps_values(info.name) if outs else False
        values: dict[int, bytes] | None = {} if keep else None
        summaries = self._outputs(info, seq, outs, tensors, mutated, has_out, values, region)
        input_values = None
        if self._nonfinite_rule and recorder.keep_for_nonfinite(summaries):
            values, input_values = self._keep_nonfinite(outs, summaries, values, tensors)
        if info.value_read and exc is None and isinstance(out, (bool, int, float, complex)):
            attrs = [*attrs, ("result", _short(out))]
        recorder.add_op(
            info.name,
            "torch",
            inputs,
            summaries,
            mutates=mutates,
            duration_ns=duration,
            error=None if exc is None else _describe_error(exc),
            kind=kind,
            attrs=attrs,
            location=location,
            values=values or None,
            input_values=input_values,
        )

    def _inputs(
        self, info: OpInfo, tensors: list, inplace: bool
    ) -> tuple[list, list[int], list[_Tensor]]:
        """Input rows (with a ``write`` edge after an in-place write since the producer), the
        slots the op wrote in place and the tensors it wrote (``inplace``: the call passed
        ``inplace=True``, which says what version counters cannot for inference tensors)."""
        inputs = self._input_rows(tensors)
        mutates: list[int] = []
        mutated: list[_Tensor] = []
        for slot, (t, name, _producer, version) in enumerate(tensors):
            if version is None:
                changed = _writes_by_name(info, slot, name, inplace)
            else:
                changed = t._version != version
            if changed and not _contains(mutated, t):
                mutated.append(t)
                mutates.append(slot)
        return inputs, mutates, mutated

    def _input_rows(self, tensors: list) -> list[tuple]:
        """One ``data`` row per input, plus a ``write`` row after an in-place write into its
        memory since its producer made it."""
        graph = self.graph
        writes = graph.writes
        dtype_names = _dtype_names
        rows = []
        for slot, (t, name, producer, _version) in enumerate(tensors):
            try:
                shape = () if t.is_nested else tuple(t.shape)  # (the ragged dim has no size)
            except Exception:  # layouts without a shape
                shape = ()
            dtype = dtype_names.get(t.dtype) or _dtype_name(t.dtype)
            rows.append((slot, name, producer[0], producer[1], shape, dtype, "data"))
            if writes:
                writer = graph.later_writer(t, producer)
                if writer is not None:
                    rows.append((slot, name, writer[0], writer[1], shape, dtype, "write"))
        return rows

    def _outputs(
        self,
        info: OpInfo,
        seq: int,
        outs: list[_Tensor],
        tensors: list,
        mutated: list[_Tensor],
        has_out: bool,
        values: dict[int, bytes] | None,
        region: int | None,
    ) -> list[TensorSummary | PendingSummary]:
        """Register the outputs as produced (or written) by op ``seq`` and summarise them;
        fills ``values`` with the payloads of the outputs that keep their value.

        Outputs computed from uninitialised memory (``torch.empty(4).clone()``) are garbage
        too: they are marked uninitialised, so their NaNs never count. ``region``: how many
        elements an indexed assignment (``e[:2] = 1``) overwrote, when that memory was
        uninitialised."""
        graph = self.graph
        node = f"op:{seq}"
        full_write = info.full_write or has_out or region is not None
        garbage = bool(graph.uninitialized) and _reads_garbage(graph, info, tensors, mutated)
        if garbage:
            full_write = False  # writing garbage initialises nothing
        defer = self._defer
        summaries: list[TensorSummary | PendingSummary] = []
        for index, o in enumerate(outs):
            producer = (node, index, seq)
            if mutated and _contains(mutated, o):
                initialized = graph.written(o, producer, full_write, region)
            elif tensors and _is_input(tensors, o):
                initialized = not (graph.uninitialized and graph.is_uninitialized(o))
            else:
                fresh_garbage = info.uninitialized or garbage
                graph.produced(o, producer, fresh_garbage)
                initialized = not fresh_garbage and not (
                    graph.uninitialized and graph.is_uninitialized(o)
                )
            stored = False
            if values is not None and initialized:
                data = stats.payload(o)
                if data is not None:
                    values[index] = data
                    stored = True
            elif defer and initialized:
                pending = _pending_summary(o)
                if pending is not None:
                    summaries.append(pending)
                    continue
            summary = None
            if info.rearranges and initialized and not mutated and len(tensors) == 1:
                summary = self._rearranged(tensors[0][0], o, stored)
            if summary is None:
                summary = stats.summarize(o, initialized=initialized, has_value=stored)
            if summary.numel >= _REUSE_NUMEL and initialized and not o.is_inference():
                self._summaries.set(o, (o._version, seq, summary))
            summaries.append(summary)
        return summaries

    def _keep_nonfinite(
        self,
        outs: list[_Tensor],
        summaries: list[TensorSummary],
        values: dict[int, bytes] | None,
        tensors: list,
    ) -> tuple[dict[int, bytes], dict[int, bytes] | None]:
        """The run's first NaN/Inf op keeps its outputs' values (and, under a value budget, its
        inputs'), whatever the value filter says."""
        values = dict(values or {})
        for index, o in enumerate(outs):
            summary = summaries[index]
            if index in values or not summary.initialized:
                continue
            data = stats.payload(o)
            if data is not None:
                values[index] = data
                summaries[index] = dataclasses.replace(summary, has_value=True)
        if self.recorder.max_value_bytes is None:
            return values, None
        input_values = {}
        for slot, (t, *_rest) in enumerate(tensors):
            data = stats.payload(t)
            if data is not None:
                input_values[slot] = data
        return values, input_values

    def _rearranged(self, source: _Tensor, out: _Tensor, stored: bool) -> TensorSummary | None:
        """The summary of a reshaped view, copied from its input's when that is still valid.

        A view with as many elements as its input (``view``, ``transpose``, ``permute``...) holds
        the same values, so their statistics are equal; the input's summary is reused when the
        input has not been written since it was summarised (version counter and storage writer).
        """
        cached = self._summaries.get(source)
        if cached is None or source.is_inference() or source._version != cached[0]:
            return None
        _version, at_seq, summary = cached
        if out.numel() != summary.numel:
            return None
        writer = self.graph.later_writer(source, ("", 0, at_seq)) if self.graph.writes else None
        if writer is not None:
            return None
        return dataclasses.replace(
            summary, shape=stats.shape_of(out), device=stats.device_of(out), has_value=stored
        )

    def record_opaque_call(
        self, name: str, inputs: list[tuple[_Tensor, int | None]], output: Any
    ) -> None:
        """Record a whole call (a compiled module) as one opaque op from inputs to outputs."""
        info = OpInfo(name, ())
        disabled = _DisableTorchFunction()
        disabled.__enter__()
        try:
            resolve = self.graph.resolve
            tensors = [(t, "", resolve(t), version) for t, version in inputs]
            before = (tensors, [], False, self._locate(sys._getframe(1)), None, None)
        except Exception as exc:
            self.internal_error(exc)
            return
        finally:
            disabled.__exit__(None, None, None)
        self._after(info, "opaque", before, output, 0, None)

    def aten_info(self, func: Any) -> OpInfo:
        """``OpInfo`` of an ATen overload seen by the region dispatch mode."""
        info = self._aten_info.get(func)
        if info is None:
            try:
                params = tuple(a.name for a in func._schema.arguments if not a.kwarg_only)
            except Exception:
                params = ()
            info = self._aten_info[func] = OpInfo(str(func), params)
        return info


class _OpMode(TorchFunctionMode):
    """Records every user-level torch call on the recording thread (metadata reads excluded)."""

    def __init__(self, recording: TorchRecording) -> None:
        super().__init__()
        self.recording = recording

    def __torch_function__(self, func, types, args=(), kwargs=None):
        recording = self.recording
        if kwargs is None:
            kwargs = {}
        if is_compiling():  # dynamo traces this line to the plain call: a function compiled
            return func(*args, **kwargs)  # in the block compiles to what it does untraced
        try:  # the cache lookup of ``describe``, inlined (every torch call comes here)
            info = _described[func]
        except (KeyError, TypeError):
            info = describe(func)
        if info is not None:  # (the mode stack is per thread: only the recording thread's)
            try:
                return recording.call(func, info, args, kwargs, "op")
            except BaseException as exc:  # the program's own error: as if unrecorded
                exc.__traceback__ = _without_recorder_frames(exc.__traceback__)
                raise
        result = func(*args, **kwargs)
        if func == _SET_DATA and len(args) == 2:
            recording.rebound(args[0], args[1])
        return result


class _RegionMode(TorchDispatchMode):
    """Records the ATen ops of an opaque region (a fused fast path, a TorchScript module)."""

    def __init__(self, recording: TorchRecording) -> None:
        super().__init__()
        self.recording = recording

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        recording = self.recording
        if kwargs is None:
            kwargs = {}
        if _get_ident() != recording.owner or recording.depth:
            return func(*args, **kwargs)
        # The region's code runs no Python untraced, so nothing may see these calls at the
        # torch-function level either (the op mode would record them a second time).
        with _DisableTorchFunction():
            return recording.call(func, recording.aten_info(func), args, kwargs, "opaque")


def _remove_function_mode(mode: TorchFunctionMode) -> None:
    """Pop ``mode`` from this thread's torch-function stack, keeping any mode above it."""
    above = []
    try:
        while torch._C._len_torch_function_stack() > 0:
            top = torch._C._pop_torch_function_stack()
            if top is mode:
                break
            above.append(top)
    finally:
        for other in reversed(above):
            torch._C._push_on_torch_function_stack(other)


def _generated_code_dirs() -> list[str]:
    """Where ``torch.compile`` writes the Python it generates (its ops' user line is the call
    of the compiled function, not a line of that code)."""
    found = [os.environ.get("TORCHINDUCTOR_CACHE_DIR", "")]
    try:
        user = re.sub(r'[\\/:*?"<>|]', "_", getpass.getuser())
        found.append(os.path.join(tempfile.gettempdir(), f"torchinductor_{user}"))
    except Exception:  # no user name (a container without a passwd entry)
        pass
    return [folder for folder in found if folder]


def _without_recorder_frames(tb: Any) -> Any:
    """The traceback from the first frame that is neither this module's nor the call-site
    trampoline's (a re-raise keeps it as set: the user sees the frames an unrecorded run has)."""
    while tb is not None and (
        tb.tb_frame.f_code.co_filename == _THIS_FILE
        or tb.tb_frame.f_code.co_name == "_opscope_call"
    ):
        tb = tb.tb_next
    return tb


def _flatten(out: Any) -> list[_Tensor]:
    if isinstance(out, _Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        found = []
        for item in out:
            if isinstance(item, _Tensor):
                found.append(item)
            elif isinstance(item, (tuple, list)):
                found.extend(x for x in item if isinstance(x, _Tensor))
        return found
    return []


def _contains(tensors: list[_Tensor], t: _Tensor) -> bool:
    """Whether this very tensor object is in ``tensors`` (a loop: ``any`` with a generator
    costs several times more on these short lists)."""
    for item in tensors:  # noqa: SIM110
        if item is t:
            return True
    return False


def _is_input(tensors: list, t: _Tensor) -> bool:
    """Whether this very tensor object is one of the op's inputs."""
    for item in tensors:  # noqa: SIM110
        if item[0] is t:
            return True
    return False


def _writes_by_name(info: OpInfo, slot: int, name: str, inplace: bool) -> bool:
    """Whether an op writes an input that has no version counter (inference tensors): ``out=``,
    the first input of ``add_``-style methods and in-place operators, and the first input of a
    functional call with ``inplace=True`` (``F.relu(x, inplace=True)``)."""
    if name == "out":
        return True
    if slot != 0:
        return False
    if inplace:
        return True
    method = info.name.rpartition(".")[2]
    if method in _INPLACE_DUNDERS:
        return True
    return method.endswith("_") and not method.endswith("__")


def _reads_garbage(graph: TensorGraph, info: OpInfo, tensors: list, written: list) -> bool:
    """Whether the op read uninitialised memory: an input other than those it wrote in place
    holds ``torch.empty`` garbage (``zeros_like`` and friends read only the shape)."""
    if info.name in _SHAPE_READS:
        return False
    for item in tensors:
        t = item[0]
        if not _contains(written, t) and graph.is_uninitialized(t):
            return True
    return False


def _region_size(name: str, args: tuple, kwargs: dict) -> int | None:
    """How many elements of ``self`` the partial write ``name`` overwrites without reading them
    (None when unknown, or when it reads them: ``accumulate=True``, ``reduce=...``)."""
    try:
        target = args[0]
        method = name.rpartition(".")[2]
        rest = list(args[1:])

        def arg(position: int, keyword: str) -> Any:
            return rest[position] if position < len(rest) else kwargs.get(keyword)

        if method == "__setitem__":
            return target[arg(0, "key")].numel()
        if method == "index_put_":
            if arg(2, "accumulate"):
                return None
            return target[tuple(arg(0, "indices"))].numel()
        if method in ("index_copy_", "index_fill_"):
            dim, index = arg(0, "dim"), arg(1, "index")
            return index.numel() * (target.numel() // max(target.shape[dim], 1))
        if method == "scatter_":
            if kwargs.get("reduce") is not None or len(rest) > 3:
                return None
            return arg(1, "index").numel()
        if method in ("masked_fill_", "masked_scatter_"):
            return int(arg(0, "mask").expand_as(target).sum())
    except Exception:
        return None
    return None


def _is_default(info: OpInfo, name: str, value: Any) -> bool:
    for param, default in info.defaults:
        if param == name:
            return type(value) is type(default) and value == default
    return False


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_ATTR_CHARS else text[: _MAX_ATTR_CHARS - 1] + "…"


def _describe_error(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
