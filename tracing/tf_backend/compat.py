"""The TensorFlow internals the backend relies on, probed once with a clear error if missing.

``op_callbacks`` and friends live under ``tensorflow.python`` (private API). They exist and
behave the same from TF 2.16 to 2.21 (research/tracing-mechanisms.md §2.1); a future release
may move them, so every private name is looked up here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType
from typing import Any

from tracing.errors import RecordingError


@dataclass(frozen=True)
class TFInternals:
    """Handles on the TensorFlow modules and classes the backend uses."""

    tf: ModuleType
    version: str
    op_callbacks: ModuleType
    """``tensorflow.python.framework.op_callbacks``: add/remove_op_callback."""
    execute: ModuleType
    """``tensorflow.python.eager.execute``: ``execute`` is swapped while callbacks exist."""
    context: Any
    """``tensorflow.python.eager.context.context`` (the function returning the context)."""
    eager_tensor: type
    resource_variable: type
    """``BaseResourceVariable``: what ``ReadVariableOp``'s resource input belongs to."""
    atomic_function: type
    """``AtomicFunction``: the runtime function a ``tf.function`` call executes."""
    concrete_function: type
    polymorphic_function: type
    """``tf.function``'s ``Function`` class (for the Python function's source location)."""
    run_functions_eagerly: Any
    functions_run_eagerly: Any


def probe(tf: ModuleType) -> TFInternals:
    """Look up every private name the backend needs; raise ``RecordingError`` if one is gone."""
    version = getattr(tf, "__version__", "unknown")
    try:
        from tensorflow.python.eager import context, execute
        from tensorflow.python.eager.polymorphic_function import (
            atomic_function,
            concrete_function,
            polymorphic_function,
        )
        from tensorflow.python.framework import op_callbacks, ops
        from tensorflow.python.ops import resource_variable_ops

        internals = TFInternals(
            tf=tf,
            version=version,
            op_callbacks=op_callbacks,
            execute=execute,
            context=context.context,
            eager_tensor=ops.EagerTensor,
            resource_variable=resource_variable_ops.BaseResourceVariable,
            atomic_function=atomic_function.AtomicFunction,
            concrete_function=concrete_function.ConcreteFunction,
            polymorphic_function=polymorphic_function.Function,
            run_functions_eagerly=tf.config.run_functions_eagerly,
            functions_run_eagerly=tf.config.functions_run_eagerly,
        )
        for name in ("add_op_callback", "remove_op_callback"):
            getattr(op_callbacks, name)
        for name in ("quick_execute", "execute_with_callbacks"):
            getattr(execute, name)
        for name in ("_id", "_numpy", "_shape_tuple", "_datatype_enum"):
            getattr(ops.EagerTensor, name)
    except (ImportError, AttributeError) as exc:
        raise RecordingError(
            f"OpScope cannot record TensorFlow {version}: its private op-callback API is missing "
            f"({exc}). OpScope supports TensorFlow 2.16-2.21; to record without TensorFlow, "
            "pass frameworks=('torch',) to tracing.record"
        ) from exc
    return internals
