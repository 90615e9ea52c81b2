"""Framework backends: started lazily, only for frameworks the program imports.

A backend is a module with ``start(recorder) -> handle`` where ``handle.stop()`` undoes
everything it installed. Backends are imported by name with ``importlib`` so that ``import
tracing`` (and the viewer) never pulls in torch or tensorflow. When a framework is imported
while a recording is running (``opscope record script.py`` imports torch inside the block), an
import watcher starts its backend as soon as the framework's import finishes.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tracing.recorder import Recorder

BACKENDS: dict[str, tuple[str, str]] = {
    "torch": ("torch", "tracing.torch_backend"),
    "tensorflow": ("tensorflow", "tracing.tf_backend"),
}
"""framework name → (module whose import triggers it, backend module)."""


class BackendHandle(Protocol):
    """What a backend's ``start`` returns."""

    def stop(self) -> None:
        """Remove every hook, mode and callback the backend installed."""


def framework_available(name: str) -> bool:
    """True when the framework could be imported (without importing it)."""
    trigger = BACKENDS[name][0]
    return trigger in sys.modules or importlib.util.find_spec(trigger) is not None


class BackendSet:
    """The backends of one recording: starts them now or when their framework is imported."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.started: dict[str, BackendHandle] = {}
        self._watcher = ImportWatcher()

    def start(self) -> None:
        """Start backends for frameworks already imported; watch for the others."""
        for name in self.recorder.frameworks:
            trigger = BACKENDS[name][0]
            self._watcher.when_imported(trigger, lambda _m, name=name: self._start(name))
        self._watcher.install()

    def _start(self, name: str) -> None:
        if name in self.started or threading.get_ident() != self.recorder.owner_thread:
            return
        module = importlib.import_module(BACKENDS[name][1])
        self.started[name] = module.start(self.recorder)

    def when_imported(self, module_name: str, callback: Callable[[ModuleType], Any]) -> None:
        """Run ``callback(module)`` now if imported, else right after its import completes."""
        self._watcher.when_imported(module_name, callback)

    def stop(self) -> None:
        """Stop every started backend (in reverse order) and remove the import watcher."""
        self._watcher.uninstall()
        errors = []
        for name in reversed(list(self.started)):
            try:
                self.started.pop(name).stop()
            except Exception as exc:  # keep stopping the others
                errors.append(exc)
        if errors:
            raise errors[0]


class ImportWatcher(importlib.abc.MetaPathFinder):
    """Calls back after chosen modules finish importing (a tiny post-import hook)."""

    def __init__(self) -> None:
        self._callbacks: dict[str, list[Callable[[ModuleType], Any]]] = {}
        self._busy: set[str] = set()

    def when_imported(self, name: str, callback: Callable[[ModuleType], Any]) -> None:
        """Register ``callback``; it runs at once when ``name`` is already imported."""
        module = sys.modules.get(name)
        if module is not None and not _initializing(module):
            callback(module)
        else:
            self._callbacks.setdefault(name, []).append(callback)

    def install(self) -> None:
        """Start watching imports."""
        if self._callbacks and self not in sys.meta_path:
            sys.meta_path.insert(0, self)

    def uninstall(self) -> None:
        """Stop watching imports."""
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        self._callbacks.clear()

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if fullname not in self._callbacks or fullname in self._busy:
            return None
        self._busy.add(fullname)
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._busy.discard(fullname)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _NotifyingLoader(spec.loader, self)
        return spec

    def _imported(self, module: ModuleType, original: importlib.abc.Loader) -> None:
        module.__loader__ = original
        if module.__spec__ is not None:
            module.__spec__.loader = original
        for callback in self._callbacks.pop(module.__name__, []):
            callback(module)


class _NotifyingLoader(importlib.abc.Loader):
    """Wraps a real loader and tells the watcher when the module has executed."""

    def __init__(self, loader: Any, watcher: ImportWatcher) -> None:
        self._loader = loader
        self._watcher = watcher

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._loader.exec_module(module)
        self._watcher._imported(module, self._loader)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._loader, name)


def _initializing(module: ModuleType) -> bool:
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))
