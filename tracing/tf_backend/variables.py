"""Name the variables behind resource handles: ``src:variable:dense/kernel`` source nodes.

An eager ``ReadVariableOp`` (or ``AssignVariableOp``, an optimizer's ``ResourceApply*``) receives
the variable's resource handle, an ``EagerTensor`` whose ``_id`` is stable for the variable's
life. The variable is found once per handle, in this order: the Keras variables of the models
called so far (named by their Keras path, ``encoder/dense_1/kernel``), the variables a function
graph captures, and the Python frames that issued the op (``read_value`` and friends run as
methods of the variable, so a nearby frame has it as ``self``; a plain ``tf.Variable`` is named
by its ``name`` without ``:0``). Names are made unique with ``_1``, ``_2``... suffixes.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tracing.payloads import normalize_dtype

if TYPE_CHECKING:
    from tracing.recorder import Recorder
    from tracing.tf_backend.keras_layers import KerasScopes

_FRAMES_TO_SEARCH = 40


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
        """The source node of the variable owning ``handle``, or None if it is not a variable."""
        handle_id = handle._id
        node = self._nodes.get(handle_id)
        if node is None:
            node = self._find(handle_id, search_frames=True)
        return node

    def node_for_id(self, handle_id: int) -> str | None:
        """The node for a handle id, without searching the Python stack."""
        node = self._nodes.get(handle_id)
        if node is None:
            node = self._find(handle_id, search_frames=False)
        return node

    def learn(self, variables: Any) -> None:
        """Remember variables a function graph captures, so their handles can be named."""
        for variable in variables:
            try:
                handle_id = variable.handle._id
            except AttributeError:  # not an eager resource variable
                continue
            if handle_id not in self._nodes:
                self._known[handle_id] = variable

    def _find(self, handle_id: int, search_frames: bool) -> str | None:
        found = self._keras.variable(handle_id)
        if found is not None:
            return self._declare(handle_id, found[0], found[1])
        variable = self._known.pop(handle_id, None)
        if variable is None and search_frames:
            variable = self._from_frames(handle_id)
        if variable is None:
            return None
        name = str(getattr(variable, "name", "") or "variable").removesuffix(":0")
        return self._declare(handle_id, variable, name)

    def _from_frames(self, handle_id: int) -> Any:
        variable_type = self._variable_type
        frame = sys._getframe(3)
        for _ in range(_FRAMES_TO_SEARCH):
            if frame is None:
                break
            owner = frame.f_locals.get("self") if "self" in frame.f_code.co_varnames else None
            if isinstance(owner, variable_type):
                try:
                    if owner.handle._id == handle_id:
                        return owner
                except AttributeError:
                    pass
            frame = frame.f_back
        return None

    def _declare(self, handle_id: int, variable: Any, name: str) -> str:
        unique = name
        suffix = 1
        while unique in self._names and self._names[unique] != handle_id:
            unique = f"{name}_{suffix}"
            suffix += 1
        self._names[unique] = handle_id
        node = f"src:variable:{unique}"
        try:
            shape = tuple(int(d) for d in variable.shape)
        except (TypeError, ValueError):
            shape = ()
        try:
            dtype = normalize_dtype(variable.dtype.name)
        except AttributeError:
            dtype = ""
        self._recorder.add_source(node, "variable", unique, shape, dtype)
        self._nodes[handle_id] = node
        return node
