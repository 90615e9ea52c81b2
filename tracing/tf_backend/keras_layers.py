"""Keras 3 layer calls as modules: ``module_path`` like ``conv_a`` or ``encoder/dense_1``.

For the length of a recording, ``keras.layers.Layer.__call__`` is replaced by a thin wrapper
that keeps a stack of the layers being called and reports enter/exit events for eager calls;
``stop()`` puts the original function back. Paths are layer names joined with ``/``. A model
called at the top of the stack is the root (like PyTorch's root module): its own path is ``""``
and its layers are named from it, so a layer ``conv_a`` of the model has path ``conv_a``; a bare
layer called outside any model keeps its name.

Symbolic calls (building a functional model on ``KerasTensor``s) and calls while a
``tf.function`` is being traced emit no events, but the stack is still kept, so ops created in a
function graph learn their Keras path at construction time (``current_path``). The wrapper copies
the original's ``__module__`` (``functools.wraps``), so AutoGraph treats it exactly as Keras'
own ``__call__`` and converts the user's code the same way.
"""

from __future__ import annotations

import functools
import sys
import threading
import weakref
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracing.recorder import Recorder


class KerasScopes:
    """Installs and removes the ``Layer.__call__`` wrapper and keeps the layer stack."""

    def __init__(self, recorder: Recorder, executing_eagerly: Any) -> None:
        self._recorder = recorder
        self._executing_eagerly = executing_eagerly
        self._stack: list[str] = []
        self._frames: list[Any] = []
        """The wrapper's own frame for each layer call on the stack (location boundaries)."""
        self._locations: list[Any] = []
        """The user location of each layer call, computed on its first op (None until then)."""
        self._roots: weakref.WeakSet[Any] = weakref.WeakSet()
        """Layers called at the top of the stack: their ``variables`` name the handles."""
        self._variable_paths: dict[int, tuple[Any, str]] = {}
        """Resource-handle id → (weak ref to the tf.Variable, Keras variable path)."""
        self._owner = recorder.owner_thread
        self.events: Any = None
        """Where layer calls are reported, set before ``install``: ``enter_module(path,
        type_name) -> token`` and ``exit_module(token)`` (the eager capture's queue, so they stay
        in order with its ops)."""
        self._layer_class: type | None = None
        self._original: Any = None
        self._wrapper: Any = None
        self.active = False

    def boundary(self) -> tuple[Any, int] | tuple[None, int]:
        """``(frame, depth)`` of the innermost layer call's wrapper frame (None outside layers).

        Every op issued inside that call without passing through user code has the call's own
        user location, which ``location_at`` caches for the length of the call.
        """
        frames = self._frames
        if not frames:
            return None, -1
        return frames[-1], len(frames) - 1

    def location_at(self, depth: int, locate: Any) -> Any:
        """The user location of the layer call at ``depth``, computed with ``locate`` once."""
        location = self._locations[depth]
        if location is None:
            location = self._locations[depth] = locate(self._frames[depth])
        return location

    def current_path(self) -> str | None:
        """Path of the Keras layer being called now on the recording thread, None outside."""
        if not self._stack or threading.get_ident() != self._owner:
            return None
        return self._stack[-1]

    def variable(self, handle_id: int, refresh: bool) -> tuple[Any, str] | None:
        """``(tf.Variable, Keras path)`` of the Keras variable whose handle has ``handle_id``.

        ``refresh`` re-reads the variables of the models called so far when the handle is not
        yet known (costs one pass over them).
        """
        found = self._variable_paths.get(handle_id)
        if found is None:
            if not refresh:
                return None
            self._index_variables()
            found = self._variable_paths.get(handle_id)
            if found is None:
                return None
        variable = found[0]()
        return None if variable is None else (variable, found[1])

    def _index_variables(self) -> None:
        for root in list(self._roots):
            try:
                keras_variables = list(root.variables)
            except Exception:
                continue
            for keras_variable in keras_variables:
                tf_variable = getattr(keras_variable, "_value", None)
                try:
                    handle_id = tf_variable.handle._id
                    reference = weakref.ref(tf_variable)
                except (AttributeError, TypeError):
                    continue
                self._variable_paths[handle_id] = (reference, str(keras_variable.path))

    def install(self, layer_module: ModuleType) -> None:
        """Wrap ``Layer.__call__`` of Keras 3 (``layer_module`` is ``keras.src.layers.layer``)."""
        Layer = getattr(layer_module, "Layer", None)
        if Layer is None or "__call__" not in Layer.__dict__:
            self._recorder.warn(
                "OpScope: this Keras has no keras.src.layers.layer.Layer.__call__; "
                "Keras layer calls are not recorded as modules"
            )
            return
        models: list[type] = []

        def is_model(layer: Any) -> bool:
            if not models:
                module = sys.modules.get("keras.src.models.model")
                model_class = getattr(module, "Model", None)
                if model_class is None:
                    return False
                models.append(model_class)
            return isinstance(layer, models[0])

        tensor_module = sys.modules.get("keras.src.backend.common.keras_tensor")
        symbolic = getattr(tensor_module, "KerasTensor", None) or ()
        original = Layer.__dict__["__call__"]
        if self.events is None:
            raise RuntimeError("KerasScopes.events must be set before install()")
        scopes = self
        stack = self._stack
        frames = self._frames
        locations = self._locations
        get_frame = sys._getframe
        owner = self._owner
        events = self.events
        executing_eagerly = self._executing_eagerly
        get_ident = threading.get_ident

        @functools.wraps(original)
        def __call__(layer: Any, *args: Any, **kwargs: Any) -> Any:
            if not scopes.active or get_ident() != owner:
                return original(layer, *args, **kwargs)
            if stack:
                parent = stack[-1]
                path = f"{parent}/{layer.name}" if parent else layer.name
            else:
                path = "" if is_model(layer) else layer.name
                scopes._roots.add(layer)
            call_id = -1
            if executing_eagerly() and not _is_symbolic(args, kwargs, symbolic):
                call_id = events.enter_module(path, type(layer).__name__)
            stack.append(path)
            frames.append(get_frame())
            locations.append(None)
            try:
                return original(layer, *args, **kwargs)
            finally:
                stack.pop()
                frames.pop()
                locations.pop()
                if call_id >= 0:
                    events.exit_module(call_id)

        self._layer_class = Layer
        self._original = original
        self._wrapper = __call__
        self.active = True
        Layer.__call__ = __call__

    def uninstall(self) -> None:
        """Restore the original ``Layer.__call__`` (a wrapper left elsewhere passes through)."""
        self.active = False
        self._stack.clear()
        self._frames.clear()
        self._locations.clear()
        self._roots = weakref.WeakSet()
        layer_class = self._layer_class
        if layer_class is None:
            return
        if layer_class.__dict__.get("__call__") is self._wrapper:
            layer_class.__call__ = self._original
        else:  # someone patched over us; our wrapper stays inert in their chain
            self._recorder.warn(
                "OpScope: keras Layer.__call__ was replaced during the recording; OpScope's "
                "inactive wrapper stays in that chain"
            )
        self._layer_class = None


def _is_symbolic(args: tuple, kwargs: dict, symbolic: Any) -> bool:
    """True when the call's first tensor-like argument is a ``KerasTensor`` (a functional
    build): the first positional argument or keyword value that is not a plain Python
    setting, looked into through nested lists, tuples and dicts."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, (bool, int, float, str, type(None))):
            continue  # ``training=False`` and friends
        for _depth in range(8):  # ((kt1, kt2), kt3): the first leaf
            if isinstance(value, (list, tuple)) and value:
                value = value[0]
            elif isinstance(value, dict) and value:
                value = next(iter(value.values()))
            else:
                break
        return isinstance(value, symbolic)
    return False
