"""Module scope: every module call gives the ops inside it their module path and the timeline
its module enter/exit events; some module calls open an *opaque region*.

How calls are seen. While a recording runs, ``nn.Module.__call__`` is replaced by a thin wrapper
that reports the call around the original ``__call__`` (restored when the recording stops).
PyTorch's global forward hooks would do the same job, but any global hook sends *every* module
call down ``_call_impl``'s slow path (about 4 µs more per call before the hook even runs, a
third of the recording cost on small layers) and makes ``torch.compile`` warn about them; the
wrapper costs well under a microsecond. Calls from other threads, calls made inside a recorded
op and calls while dynamo traces pass straight through.

Naming. The first module called at top level is the root: its modules keep the names of
``root.named_modules()`` (``encoder.layers.0.linear1``; the root itself is ``""``) and its
parameters and buffers become source nodes ``src:param:{name}`` / ``src:buffer:{name}``. A module
called later keeps the name it already has (``model.encoder(x)`` is still ``encoder``); a
submodule called at top level before its model (``model.encoder(x)`` first) is named from the
model when the calling code holds the model in a module-level variable. A second,
unrelated model called at top level is prefixed with its class name (``Discriminator.fc``;
``Discriminator_2`` for a third of the same class), so two models' parameters never share a node.
A module that is not registered anywhere (created inside ``forward``) is named after its class
under the module that called it (``encoder.Linear``, then ``encoder.Linear_2``). Tensors passed
into a top-level module call become program inputs ``src:input:{i}``.

Opaque regions (the program must compute exactly what it computes untraced):

* ``fastpath``: ``nn.MultiheadAttention`` / ``TransformerEncoderLayer`` / ``TransformerEncoder``
  in eval mode when the fused inference kernel may run. An active ``TorchFunctionMode`` would make
  PyTorch skip that kernel (and change the output bits), so torch-function handling is switched
  off for the call and a ``TorchDispatchMode`` records the ATen ops that really ran (for example
  one ``aten._transformer_encoder_layer_fwd.default`` per layer) as ``kind="opaque"`` ops.
* ``script``: a ``torch.jit.ScriptModule`` runs no Python, so only a dispatch mode sees its ops;
  they are recorded the same way.
* ``compiled``: a ``torch.compile``d module (``OptimizedModule``) runs its compiled code untouched
  and is recorded as one opaque op ``torch.compile(ClassName)`` from its inputs to its outputs.

Only the recording thread records; module calls on other threads are ignored.
"""

from __future__ import annotations

import inspect
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from tracing.torch_backend.identity import WeakIdMap

if TYPE_CHECKING:
    from tracing.torch_backend.recording import TorchRecording

_get_ident = threading.get_ident
_CO_OPTIMIZED = inspect.CO_OPTIMIZED
is_compiling = getattr(torch.compiler, "is_dynamo_compiling", torch.compiler.is_compiling)
"""False when run eagerly; dynamo folds it to True, so recording code traced by dynamo
becomes the plain call (the module wrapper here, the op mode in ``recording``)."""

_FAST_PATH_FORWARDS = {
    nn.MultiheadAttention.forward: "mha",
    nn.TransformerEncoderLayer.forward: "layer",
    nn.TransformerEncoder.forward: "encoder",
}


@dataclass
class Region:
    """An opaque region opened by one module call."""

    kind: str
    module: nn.Module
    disabled: Any = None
    """The entered ``DisableTorchFunction`` context, if any."""
    dispatch: Any = None
    """The entered recording ``TorchDispatchMode``, if any."""
    versions: list[tuple[torch.Tensor, int | None]] = field(default_factory=list)


class ModuleScope:
    """Names modules, reports module calls to the recorder and opens opaque regions."""

    def __init__(self, recording: TorchRecording) -> None:
        self.recording = recording
        self.recorder = recording.recorder
        self.names: WeakIdMap[str] = WeakIdMap()
        self._described: WeakIdMap[tuple[str, str, str | None]] = WeakIdMap()
        """Module → (path, class name, region kind), the pre-hook's one lookup."""
        self._known = self._described.data
        self._paths: set[str] = set()
        self._roots = 0
        self.stack: list[tuple[nn.Module, int, Region | None]] = []
        """Open module calls: (module, call id, region opened by the call)."""
        self.region: Region | None = None
        self.in_compiled = False
        """True inside a compiled module: module calls then pass straight through."""
        self._original: Any = None
        """``nn.Module.__call__`` before the recording wrapped it (None when not wrapped)."""
        self._wrapper: Any = None
        self._active: list[ModuleScope | None] = [None]

    # -- install ---

    def install(self) -> None:
        """Wrap ``nn.Module.__call__`` so that module calls on the recording thread are seen."""
        original = nn.Module.__call__
        owner = self.recording.owner
        direct = original is getattr(nn.Module, "_wrapped_call_impl", None)
        """``__call__`` is PyTorch's own: call what it would call (``_call_impl`` unless the
        module was ``compile()``d in place) without its frame, so a recorded program has as many
        Python frames per module call as an unrecorded one (recursion limits stay where they
        were)."""
        active: list[ModuleScope | None] = [self]
        """The wrapper's only link to the recording, cut by ``remove``: a wrapper that someone
        kept (a library that remembered ``nn.Module.__call__`` meanwhile) then passes every call
        through and keeps nothing of the recording alive."""

        def __call__(module: nn.Module, *args: Any, **kwargs: Any) -> Any:
            scope = active[0]
            if (
                scope is None
                or is_compiling()  # dynamo traces this line to the plain call
                or scope.in_compiled
                or scope.recording.depth
                or _get_ident() != owner
            ):
                return original(module, *args, **kwargs)
            entry = scope._enter(module, args, kwargs)
            try:
                if direct and module._compiled_call_impl is None:
                    output = module._call_impl(*args, **kwargs)
                else:
                    output = original(module, *args, **kwargs)
            except BaseException:
                scope._leave(entry, args, None)
                raise
            scope._leave(entry, args, output)
            return output

        __call__.__qualname__ = "Module.__call__"
        self._original = original
        self._wrapper = __call__
        self._active = active
        nn.Module.__call__ = __call__

    def remove(self) -> None:
        """Restore ``nn.Module.__call__`` and close any region left open (a forward that never
        returned)."""
        original, wrapper = self._original, self._wrapper
        self._active[0] = None
        if original is not None:
            if nn.Module.__call__ is wrapper:
                nn.Module.__call__ = original
            _unpatch_dynamo(wrapper, original)
        self._original = self._wrapper = None
        while self.stack:
            _module, _call_id, region = self.stack.pop()
            if region is not None:
                self._close_region(region, None, None)

    def forget(self) -> None:
        """Forget every module (the recording has ended; call after ``remove``)."""
        self.names.clear()
        self._described.clear()
        self.stack.clear()
        self.region = None

    # -- module calls ---

    def _enter(self, module: nn.Module, args: tuple, kwargs: dict) -> tuple | None:
        """A module call begins: name the module, report the call, open a region if needed.
        Returns the stack entry (None when the recorder failed)."""
        try:
            entry = self._known.get(id(module))  # inlined WeakIdMap lookup (every module call)
            if entry is not None and entry() is module:
                path, type_name, kind = entry.value
            else:
                path, type_name, kind = self._describe(module)
            stack = self.stack
            if not stack:
                self._declare_inputs(args, kwargs)
            call_id = self.recorder.enter_module(path, type_name, "torch")
            region = None
            if kind is not None and self.region is None:
                region = self._open_region(module, args)
            found = (module, call_id, region)
            stack.append(found)
            return found
        except Exception as exc:  # never break the program because of the recorder
            self.recording.internal_error(exc)
            return None

    def _leave(self, entry: tuple | None, args: tuple, output: Any) -> None:
        """The module call of ``entry`` returned ``output`` (None after an exception)."""
        if entry is None:
            return
        try:
            stack = self.stack
            if stack and stack[-1] is entry and entry[2] is None:
                stack.pop()
                self.recorder.exit_module(entry[1])  # the common case: no region
                return
            index = len(stack) - 1
            while index >= 0 and stack[index] is not entry:
                index -= 1
            if index < 0:
                return
            for inner in reversed(stack[index + 1 :]):  # calls left open below this one
                if inner[2] is not None:
                    self._close_region(inner[2], None, None)
            del stack[index:]
            if entry[2] is not None:
                self._close_region(entry[2], args, output)
            self.recorder.exit_module(entry[1])
        except Exception as exc:
            self.recording.internal_error(exc)

    def _describe(self, module: nn.Module) -> tuple[str, str, str | None]:
        """``(path, class name, region kind)`` of a module, named on first sight."""
        path = self.names.get(module)
        if path is None:
            path = self._name(module)
        described = (path, type(module).__name__, _class_kind(type(module)))
        self._described.set(module, described)
        return described

    # -- naming ---

    def _name(self, module: nn.Module) -> str:
        for caller, _call_id, _region in reversed(self.stack):
            parent_path = self.names.get(caller) or ""
            for relative, child in caller.named_modules():
                if child is module and relative:
                    path = _join(parent_path, relative)
                    self._name_tree(module, path)
                    return path
        if not self.stack:
            container = self._container_in_caller(module)
            if container is not None:  # ``model.encoder(x)`` before ``model(x)``
                self._name_tree(container, self._root_path(container))
                path = self.names.get(module)
                if path is not None:
                    return path
            path = self._root_path(module)
        else:
            parent_path = self.names.get(self.stack[-1][0]) or ""
            path = self._unique(_join(parent_path, type(module).__name__))
        self._name_tree(module, path)
        return path

    def _root_path(self, root: nn.Module) -> str:
        """The path of a new top-level model: ``""`` for the first, its class name after."""
        path = "" if self._roots == 0 else self._unique(type(_unwrap(root)).__name__)
        self._roots += 1
        return path

    def _container_in_caller(self, module: nn.Module) -> nn.Module | None:
        """The model that ``module`` belongs to, when the user's code called a submodule of a
        model it holds in a variable (``model.encoder(x)``) rather than a model itself: the
        one unnamed module among the calling code's variables that contains ``module``.

        A function's own variables are not looked at: reading them (``f_locals``) would keep a
        snapshot of them alive as long as the function runs; its module's globals are."""
        try:
            frame = self.recording.recorder.stacks.user_frame(sys._getframe(2))
            if frame is None:
                return None
            optimized = frame.f_code.co_flags & _CO_OPTIMIZED  # a function body
            namespace = frame.f_globals if optimized else frame.f_locals  # a module, a class
            held = [v for v in list(namespace.values()) if isinstance(v, nn.Module)]
            if any(v is module for v in held):
                return None  # the program calls a model it holds: that is a root
            found = [v for v in held if self.names.get(v) is None and _holds(v, module)]
            # the closest owner: one that holds none of the others (a wrapper holds the model)
            closest = [v for v in found if not any(o is not v and _holds(v, o) for o in found)]
        except Exception:  # an odd frame or module: name the module as a root
            return None
        return closest[0] if len(closest) == 1 else None

    def _unique(self, base: str) -> str:
        path, counter = base, 1
        while path in self._paths:
            counter += 1
            path = f"{base}_{counter}"
        return path

    def _name_tree(self, root: nn.Module, prefix: str) -> None:
        for relative, module in root.named_modules():
            if self.names.get(module) is None:
                path = _join(prefix, relative)
                self.names.set(module, path)
                self._paths.add(path)
        graph = self.recording.graph
        for relative, param in root.named_parameters():
            graph.name_tensor(param, "param", _join(prefix, relative))
        for relative, buffer in root.named_buffers():
            graph.name_tensor(buffer, "buffer", _join(prefix, relative))

    def _declare_inputs(self, args: tuple, kwargs: dict) -> None:
        graph = self.recording.graph
        with torch._C.DisableTorchFunction():
            for t in _tensors_in((*args, *kwargs.values())):
                graph.add_input(t)

    # -- opaque regions ---

    def _open_region(self, module: nn.Module, args: tuple) -> Region | None:
        kind = _region_kind(module, args)
        if kind is None:
            return None
        if kind != "script" and not _only_our_mode(self.recording.mode, args):
            return None  # another mode or a tensor subclass sees these calls untraced too
        region = Region(kind, module)
        if kind == "compiled":
            with torch._C.DisableTorchFunction():
                region.versions = [
                    (t, None if t.is_inference() else t._version) for t in _tensors_in(args)
                ]
            self.in_compiled = True
        if kind != "script":
            region.disabled = torch._C.DisableTorchFunction()
            region.disabled.__enter__()
        if kind != "compiled":
            region.dispatch = self.recording.dispatch_mode()
            region.dispatch.__enter__()
        self.region = region
        return region

    def _close_region(self, region: Region, args: tuple | None, output: Any) -> None:
        if self.region is region:
            self.region = None
        if region.dispatch is not None:
            region.dispatch.__exit__(None, None, None)
        if region.disabled is not None:
            region.disabled.__exit__(None, None, None)
        if region.kind == "compiled":
            self.in_compiled = False
            if args is not None:
                name = f"torch.compile({type(_unwrap(region.module)).__name__})"
                self.recording.record_opaque_call(name, region.versions, output)


_class_kinds: dict[type, str | None] = {}


def _class_kind(cls: type) -> str | None:
    """``script``, ``compiled``, a fast-path kind or None, decided once per module class."""
    try:
        return _class_kinds[cls]
    except KeyError:
        pass
    kind = None
    if issubclass(cls, torch.jit.ScriptModule):
        kind = "script"
    else:
        dynamo = sys.modules.get("torch._dynamo.eval_frame")
        if dynamo is not None and issubclass(cls, dynamo.OptimizedModule):
            kind = "compiled"
        else:
            kind = _FAST_PATH_FORWARDS.get(getattr(cls, "forward", None))
    # (``OptimizedModule`` cannot be a base of a class created before dynamo was imported)
    _class_kinds[cls] = kind
    return kind


def _region_kind(module: nn.Module, args: tuple) -> str | None:
    which = _class_kind(type(module))
    if which is None or which in ("script", "compiled"):
        return which
    if module.training:
        return None
    if not torch.backends.mha.get_fastpath_enabled() or torch.is_autocast_enabled():
        return None
    if torch.is_grad_enabled():
        # PyTorch skips the fused kernel when anything it reads requires grad; then the
        # ordinary path runs and is recorded op by op.
        checked = module.layers[0] if which == "encoder" and len(module.layers) else module
        if any(p.requires_grad for p in checked.parameters()):
            return None
        if any(t.requires_grad for t in _tensors_in(args)):
            return None
    return "fastpath"


def _only_our_mode(mode: Any, args: tuple) -> bool:
    if torch._C._len_torch_function_stack() != 1:
        return False
    if torch._C._get_function_stack_at(0) is not mode:
        return False
    return all(type(t) is torch.Tensor or type(t) is nn.Parameter for t in _tensors_in(args))


def _unpatch_dynamo(wrapper: Any, original: Any) -> None:
    """Dynamo remembers ``nn.Module.__call__`` when it is first imported; if that happened
    during the recording, it remembered the wrapper: give it the original back."""
    for name, loaded in list(sys.modules.items()):
        if (
            name.startswith("torch._dynamo")
            and getattr(loaded, "unpatched_nn_module_call", None) is wrapper
        ):
            loaded.unpatched_nn_module_call = original


def _holds(outer: nn.Module, inner: nn.Module) -> bool:
    """Whether ``inner`` is one of ``outer``'s submodules (or ``outer`` itself)."""
    return any(m is inner for m in outer.modules())


def _unwrap(module: nn.Module) -> nn.Module:
    return getattr(module, "_orig_mod", module)


def _tensors_in(values: Any) -> list[torch.Tensor]:
    """Tensors among ``values`` and inside their lists, tuples and dicts (two levels deep)."""
    found: list[torch.Tensor] = []
    for value in values:
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, torch.Tensor):
                    found.append(item)
                elif isinstance(item, (list, tuple)):
                    found.extend(x for x in item if isinstance(x, torch.Tensor))
        elif isinstance(value, dict):
            found.extend(x for x in value.values() if isinstance(x, torch.Tensor))
    return found


def _join(prefix: str, name: str) -> str:
    if not prefix:
        return name
    return f"{prefix}.{name}" if name else prefix
