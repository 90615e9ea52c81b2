"""TensorFlow backend: eager ops, Keras 3 layers and ``tf.function`` graphs into one trace.

Started by ``tracing.backends`` when a recording runs and ``tensorflow`` is (or becomes)
imported; ``start(recorder)`` returns a handle whose ``stop()`` removes everything it installed:
the op callback (and TensorFlow's swapped ``execute``), the Keras ``Layer.__call__`` wrapper,
and — in ``tf_function_mode="debug"`` — the ``run_functions_eagerly`` setting.

Modes (``tracing.record(..., tf_function_mode=...)``, written to the trace's options):

* ``"graph"`` (default): ``tf.function``s run as graphs, so results stay bit-identical. Each call
  is one timeline op of kind ``call`` whose ``graph_id`` names its recorded graph (ops, edges,
  source lines, nested bodies, see ``functions.py``).
* ``"debug"``: ``tf.function``s run eagerly for the length of the block, so every inner op of
  every loop iteration is a timeline op with summaries (and values). Eager execution skips
  grappler and XLA, so numbers can differ in the last bits from a graph run.

Limits: op callbacks are thread-local, so ops issued from threads other than the one that
entered the ``record`` block are not recorded (``tf.data`` pipelines run inside TensorFlow and
are not recorded either); an op that raises is not recorded (the callback runs after success).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import os
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from tracing.backends import ImportWatcher
from tracing.stacks import package_dir
from tracing.tf_backend.compat import TFInternals, probe
from tracing.tf_backend.eager import EagerOps
from tracing.tf_backend.functions import FunctionGraphs
from tracing.tf_backend.keras_layers import KerasScopes
from tracing.tf_backend.tensors import TensorReader
from tracing.tf_backend.variables import VariableNames

if TYPE_CHECKING:
    from tracing.recorder import Recorder

__all__ = ["TFBackend", "start"]

KERAS_LAYER_MODULE = "keras.src.layers.layer"
"""The Keras 3 module defining ``Layer`` (its ``__call__`` is wrapped while recording)."""

INTERNAL_PACKAGES = ("tensorflow", "keras", "tf_keras", "optree", "tree", "absl", "ml_dtypes")
"""Packages whose frames are never an op's user location (when they are imported)."""

INTERNAL_STDLIB = (contextlib, copy, functools)
"""Standard-library plumbing TensorFlow and Keras call through (context managers, deep copies,
wrappers): an op issued from these files belongs to the caller above them."""

_TRACING_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def start(recorder: Recorder) -> TFBackend:
    """Start recording TensorFlow in ``recorder``; returns the handle that stops it."""
    import tensorflow as tf

    backend = TFBackend(recorder, probe(tf))
    backend.start()
    return backend


class TFBackend:
    """Everything the TensorFlow backend installs for one recording."""

    def __init__(self, recorder: Recorder, internals: TFInternals) -> None:
        self.recorder = recorder
        self.tf = internals
        self.internal_dirs: list[str] = [_TRACING_DIR + os.sep]
        tensors = TensorReader()
        self.keras = KerasScopes(recorder, internals.tf.executing_eagerly)
        self.variables = VariableNames(recorder, internals.resource_variable, self.keras)
        self.functions = FunctionGraphs(recorder, internals, self.variables, self.internal_dirs)
        self.eager = EagerOps(
            recorder,
            internals.context,
            tensors,
            self.variables,
            self.functions,
            self.keras,
            first_id=self._next_tensor_id(),
            deferred=not _other_backend_may_record(recorder),
        )
        self.keras.events = self.eager
        self._watcher = ImportWatcher()
        self._callback_added = False
        self._previous_execute: Any = None
        self._previous_run_eagerly: bool | None = None

    def _next_tensor_id(self) -> int:
        """The ``_id`` the next tensor will get: smaller ids existed before the recording."""
        return int(self.tf.tf.constant(0)._id)

    def start(self) -> None:
        """Install the op callback, the Keras wrapper and the function mode."""
        recorder = self.recorder
        recorder.note_version("tensorflow", self.tf.version)
        for name in INTERNAL_PACKAGES:
            if name in sys.modules:
                self._add_internal(name)
        for module in INTERNAL_STDLIB:
            path = os.path.abspath(module.__file__)
            recorder.add_internal_dir(path)
            self.internal_dirs.append(path)
        try:
            if recorder.tf_function_mode == "debug":
                self._previous_run_eagerly = bool(self.tf.functions_run_eagerly())
                self.tf.run_functions_eagerly(True)
            self._watch_keras()
            if self.eager.queue.deferred and "torch" in recorder.frameworks:
                self._watcher.when_imported("torch", self._on_torch)
                self._watcher.install()
            self._previous_execute = self.tf.execute.execute
            self.tf.op_callbacks.add_op_callback(self.eager.callback)
            self._callback_added = True
        except BaseException:
            self.stop()
            raise

    def _add_internal(self, module_name: str) -> None:
        directory = package_dir(module_name)
        if directory and directory + os.sep not in self.internal_dirs:
            self.recorder.add_internal_dir(directory)
            self.internal_dirs.append(directory + os.sep)

    def _watch_keras(self) -> None:
        """Wrap Keras' ``Layer.__call__`` once the module defining it has been imported.

        Keras 3 imports TensorFlow while it initialises, so this backend can start while
        ``keras`` is still half-imported: the watch is on the module that defines ``Layer``,
        and if that one is mid-import too, the first op recorded after it finishes installs
        the wrapper.
        """
        module = sys.modules.get(KERAS_LAYER_MODULE)
        if module is not None and _initializing(module):
            self.eager.pending = self._install_keras_when_ready
            return
        self._watcher.when_imported(KERAS_LAYER_MODULE, self._on_keras_layers)
        self._watcher.install()

    def _install_keras_when_ready(self) -> None:
        module = sys.modules.get(KERAS_LAYER_MODULE)
        if module is not None and not _initializing(module):
            self.eager.pending = None
            self._on_keras_layers(module)

    def _on_keras_layers(self, layer_module: ModuleType) -> None:
        for name in INTERNAL_PACKAGES:
            if name in sys.modules:
                self._add_internal(name)
        backend = sys.modules.get("keras.src.backend")
        name = getattr(backend, "backend", None)
        if callable(name) and name() != "tensorflow":
            return  # Keras on another backend: its layers run no TensorFlow ops
        version = getattr(sys.modules.get("keras"), "__version__", None)
        if isinstance(version, str):
            self.recorder.note_version("keras", version)
        self.keras.install(layer_module)

    def _on_torch(self, _module: ModuleType) -> None:
        """PyTorch joins the timeline: its ops are numbered as they run, so stop queueing."""
        self.eager.flush()
        self.eager.queue.deferred = False

    def stop(self) -> None:
        """Replay queued ops; remove the callback, the Keras wrapper; restore the function mode."""
        errors: list[BaseException] = []
        self._watcher.uninstall()
        self.eager.pending = None
        try:
            self.eager.flush()
        except Exception as exc:
            errors.append(exc)
        if self._callback_added:
            try:
                self._remove_callback()
            except Exception as exc:
                errors.append(exc)
        try:
            self.keras.uninstall()
        except Exception as exc:
            errors.append(exc)
        if self._previous_run_eagerly is not None:
            try:
                self.tf.run_functions_eagerly(self._previous_run_eagerly)
                self._previous_run_eagerly = None
            except Exception as exc:
                errors.append(exc)
        if errors:
            raise errors[0]

    def _remove_callback(self) -> None:
        op_callbacks, execute = self.tf.op_callbacks, self.tf.execute
        self._callback_added = False
        context = self.tf.context()
        if self.eager.callback in context.op_callbacks:
            op_callbacks.remove_op_callback(self.eager.callback)
        # remove_op_callback restores TensorFlow's fast ``execute`` only when it runs eagerly;
        # make sure it is restored whenever we were the ones who swapped it in.
        if (
            not context.op_callbacks
            and self._previous_execute is execute.quick_execute
            and execute.execute is not execute.quick_execute
        ):
            execute.execute = execute.quick_execute


def _other_backend_may_record(recorder: Recorder) -> bool:
    """True when PyTorch is imported and recorded too: its ops then share the timeline."""
    return "torch" in recorder.frameworks and "torch" in sys.modules


def _initializing(module: ModuleType) -> bool:
    """True while ``module`` is still executing its import."""
    return bool(getattr(getattr(module, "__spec__", None), "_initializing", False))
