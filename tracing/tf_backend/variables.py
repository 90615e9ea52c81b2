"""Name the variables behind resource handles: ``src:variable:dense/kernel`` source nodes.

An eager ``ReadVariableOp`` (or ``AssignVariableOp``, an optimizer's ``ResourceApply*``) receives
the variable's resource handle, an ``EagerTensor`` whose ``_id`` is stable for the variable's
life. The variable is found once per handle: TensorFlow gives eager handles a weak reference to
their variable (``_parent_trackable``), function graphs list the variables they capture, and as
a last resort the Python frames that issued the op hold it as ``self``. Its name is the Keras
variable's path when a Keras variable wraps it (``encoder/dense_1/kernel``: found on the stack,
where Keras reads or creates it, or in the variables of the models called so far), else the
``tf.Variable``'s name without ``:0``. Names are made unique with ``_1``, ``_2``... suffixes.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tracing.payloads import normalize_dtype

if TYPE_CHECKING:
    from types import FrameType

    from tracing.recorder import Recorder
    from tracing.tf_backend.keras_layers import KerasScopes

_FRAMES_TO_SEARCH = 48
KERAS_VARIABLES_MODULE = "keras.src.backend.common.variables"


class VariableNames:
    """Maps resource-handle ids to declared ``variable`` source nodes."""

    def __init__(self, recorder: Recorder, variable_type: type, keras: KerasScopes) -> None:
        self._recorder = recorder
        self._variable_type = variable_type
        self._keras = keras
        self._nodes: dict[int, str] = {}
        self._names: dict[str, int] = {}
        self._known: dict[int, Any] = {}
        """Handle id → variable, from function graphs, not yet declared as nodes."""

    def node_for(self, handle: Any) -> str | None:
        """The source node of the variable owning an eager ``handle`` (None: not a variable).

        Called from the op callback, so the stack above holds the code that issued the op.
        """
        handle_id = handle._id
        node = self._nodes.get(handle_id)
        if node is not None:
            return node
        variable = _parent(handle)
        if variable is None:
            variable = self._known.pop(handle_id, None)
        frame = sys._getframe(1)
        if variable is None:
            variable = self._variable_on_stack(frame, handle_id)
        if variable is None:
            return None
        path = self._keras_path_on_stack(frame, variable)
        if path is None:
            found = self._keras.variable(handle_id, refresh=False)
            path = found[1] if found is not None else None
        return self._declare(handle_id, variable, path or _name(variable) or _name(handle))

    def node_for_id(self, handle_id: int) -> str | None:
        """The node for a handle a function graph captured (no stack to search)."""
        node = self._nodes.get(handle_id)
        if node is not None:
            return node
        found = self._keras.variable(handle_id, refresh=True)
        if found is not None:
            self._known.pop(handle_id, None)
            return self._declare(handle_id, found[0], found[1])
        variable = self._known.pop(handle_id, None)
        return None if variable is None else self._declare(handle_id, variable, _name(variable))

    def learn(self, variables: Any) -> None:
        """Remember variables a function graph captures, so their handles can be named."""
        for variable in variables:
            try:
                handle_id = variable.handle._id
            except AttributeError:  # not an eager resource variable
                continue
            if handle_id not in self._nodes:
                self._known[handle_id] = variable

    def _variable_on_stack(self, frame: FrameType | None, handle_id: int) -> Any:
        variable_type = self._variable_type
        for _ in range(_FRAMES_TO_SEARCH):
            if frame is None:
                return None
            owner = _self_of(frame)
            if isinstance(owner, variable_type):
                try:
                    if owner.handle._id == handle_id:
                        return owner
                except AttributeError:
                    pass
            frame = frame.f_back
        return None

    @staticmethod
    def _keras_path_on_stack(frame: FrameType | None, variable: Any) -> str | None:
        """Path of the Keras variable reading (or creating) ``variable`` further up the stack."""
        keras_type = getattr(sys.modules.get(KERAS_VARIABLES_MODULE), "Variable", None)
        if keras_type is None:
            return None
        for _ in range(_FRAMES_TO_SEARCH):
            if frame is None:
                return None
            owner = _self_of(frame)
            if isinstance(owner, keras_type):
                value = getattr(owner, "_value", None)
                if value is variable or value is None:  # None: still being created
                    return str(owner.path)
                return None
            frame = frame.f_back
        return None

    def _declare(self, handle_id: int, variable: Any, name: str | None) -> str:
        name = name or "variable"
        unique = name
        suffix = 1
        while unique in self._names and self._names[unique] != handle_id:
            unique = f"{name}_{suffix}"
            suffix += 1
        self._names[unique] = handle_id
        node = f"src:variable:{unique}"
        try:
            shape = tuple(int(d) for d in variable.shape)
        except (TypeError, ValueError, AttributeError):
            shape = ()
        try:
            dtype = normalize_dtype(variable.dtype.name)
        except AttributeError:
            dtype = ""
        self._recorder.add_source(node, "variable", unique, shape, dtype)
        self._nodes[handle_id] = node
        return node


def _parent(handle: Any) -> Any:
    """The variable an eager resource handle belongs to (TensorFlow keeps a weak reference)."""
    reference = getattr(handle, "_parent_trackable", None)
    try:
        return reference() if reference is not None else None
    except TypeError:
        return None


def _name(obj: Any) -> str | None:
    """A variable's or an eager handle's name without ``:0`` (None when it has none yet)."""
    for attribute in ("name", "_name"):  # a variable being built, or a handle, has only _name
        try:
            value = getattr(obj, attribute)
        except Exception:
            continue
        if isinstance(value, str) and value:
            return value.removesuffix(":0")
    return None


def _self_of(frame: FrameType) -> Any:
    return frame.f_locals.get("self") if "self" in frame.f_code.co_varnames else None
