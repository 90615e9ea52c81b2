"""Graph bookkeeping: which node produced each live tensor, and who last wrote each storage.

Every input of a recorded op is resolved to a graph node: the op that produced that tensor
object, a parameter or buffer (``src:param:encoder.fc.weight``), a program input
(``src:input:0``) or a constant (``src:const:3``). In-place writes are tracked per storage, so a
write through one view orders every later reader of any view of the same memory after it (a
``write`` edge), and aliases the producer map does not know (``x.data``) are resolved through
their storage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch

from tracing.torch_backend import stats
from tracing.torch_backend.identity import WeakIdMap

if TYPE_CHECKING:
    from tracing.recorder import Recorder

Producer = tuple[str, int, int]
"""``(node id, output index, seq)``; seq is -1 for source nodes."""


@dataclass(slots=True)
class StorageState:
    """What is known about one storage (the memory behind a tensor and all its views)."""

    owner: Producer
    """The node that produced the first tensor seen on this storage."""
    writer: Producer | None = None
    """The last op that wrote into this storage in place."""
    uninitialized: bool = False
    """The memory came from ``torch.empty`` and friends and was not fully overwritten since."""
    covered: int = 0
    """Elements overwritten (without being read) since the memory became uninitialised, summed
    over partial writes (``e[:2] = 1; e[2:] = 2`` covers a 4-element ``e``; writing the same
    elements twice counts them twice)."""


def storage_of(t: torch.Tensor) -> torch.UntypedStorage | None:
    """The tensor's storage object (stable per storage), or None for storage-less layouts."""
    try:
        return t.untyped_storage()
    except Exception:
        return None


class TensorGraph:
    """Producer and storage maps of one recording, plus source-node declaration."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.producers: WeakIdMap[Producer] = WeakIdMap()
        self.storages: WeakIdMap[StorageState] = WeakIdMap(self._collected)
        self.named: WeakIdMap[tuple[str, str]] = WeakIdMap()
        """Parameters and buffers → (source kind, qualified name)."""
        self.writes = 0
        """How many in-place writes were seen (0: no storage can have a writer yet)."""
        self.uninitialized = 0
        """How many live storages are marked uninitialised now (0: skip those checks)."""
        self._const_count = 0
        self._input_count = 0

    def _collected(self, state: StorageState) -> None:
        if state.uninitialized:
            self.uninitialized = max(0, self.uninitialized - 1)

    def forget(self) -> None:
        """Forget every tensor and storage (the recording has ended)."""
        self.producers.clear()
        self.storages.clear()
        self.named.clear()

    # -- sources ---

    def name_tensor(self, t: torch.Tensor, kind: str, name: str) -> None:
        """Remember a parameter or buffer's qualified name (first name wins). A tensor read
        before its module was first called was declared a constant: later readers read the
        parameter or buffer node (earlier ones keep the constant)."""
        if t not in self.named:
            self.named.set(t, (kind, name))
            found = self.producers.get(t)
            if found is not None and found[0].startswith("src:const:"):
                self.producers.discard(t)

    def add_input(self, t: torch.Tensor) -> None:
        """A tensor passed into a root module call: ``src:input:{i}`` unless already known."""
        if self.producers.get(t) is not None or t in self.named:
            return
        index = self._input_count
        self._input_count += 1
        self._declare(t, f"src:input:{index}", "input", f"input {index}")

    def resolve(self, t: torch.Tensor) -> Producer:
        """The node that ``t``'s current value comes from (declaring a source if needed)."""
        found = self.producers.get(t)
        if found is not None:
            return found
        named = self.named.get(t)
        if named is not None:
            kind, name = named
            return self._declare(t, f"src:{kind}:{name}", kind, name)
        storage = storage_of(t)
        if storage is not None:
            state = self.storages.get(storage)
            if state is not None:  # an alias of known memory (``x.data``, an untracked view)
                found = state.writer if state.writer is not None else state.owner
                self.producers.set(t, found)
                return found
        index = self._const_count
        self._const_count += 1
        return self._declare(t, f"src:const:{index}", "const", f"const {index}")

    def _declare(self, t: torch.Tensor, node: str, kind: str, name: str) -> Producer:
        found = (node, 0, -1)
        if not self.recorder.has_source(node):
            grad = torch.is_grad_enabled()
            torch._C._set_grad_enabled(False)
            try:
                summary = stats.summarize(t)
            finally:
                torch._C._set_grad_enabled(grad)
            self.recorder.add_source(
                node, kind, name, stats.shape_of(t), stats.dtype_name(t.dtype), summary
            )
        self.producers.set(t, found)
        storage = storage_of(t)
        if storage is not None and self.storages.get(storage) is None:
            self.storages.set(storage, StorageState(found))
        return found

    # -- ops ---

    def later_writer(self, t: torch.Tensor, producer: Producer) -> Producer | None:
        """The op that wrote ``t``'s memory after ``producer`` made ``t``, if any."""
        storage = storage_of(t)
        if storage is None:
            return None
        state = self.storages.get(storage)
        if state is None or state.writer is None or state.writer[2] <= producer[2]:
            return None
        return state.writer

    def produced(self, t: torch.Tensor, producer: Producer, uninitialized: bool) -> None:
        """``t`` is a new output of an op."""
        self.producers.set(t, producer)
        try:
            storage = t.untyped_storage()
        except Exception:  # storage_of, inlined: layouts without a storage
            return
        state = self.storages.get(storage)
        if state is None:
            self.storages.set(storage, StorageState(producer, None, uninitialized))
            if uninitialized:
                self.uninitialized += 1
        elif uninitialized and not state.uninitialized:  # a view of known memory made from
            state.uninitialized = True  # garbage (or ``empty`` reusing it): garbage again
            state.covered = 0
            self.uninitialized += 1

    def written(
        self, t: torch.Tensor, producer: Producer, full_write: bool, count: int | None = None
    ) -> bool:
        """``t`` was written in place by the op ``producer``; returns whether ``t`` is initialised.

        ``full_write``: the op overwrote ``count`` elements of ``t``'s memory (default: all of
        ``t``) without reading them (``fill_``, ``copy_``, ``out=``, ``t[key] = value``). Such
        writes initialise ``torch.empty`` memory once they cover all of it, in one write or
        several partial ones; other writes leave it uninitialised.
        """
        self.writes += 1
        self.producers.set(t, producer)
        storage = storage_of(t)
        if storage is None:
            return True
        state = self.storages.get(storage)
        if state is None:
            self.storages.set(storage, StorageState(producer, producer))
            return True
        state.writer = producer
        if not state.uninitialized:
            return True
        if not full_write:
            return False
        if count is None and _covers(t, storage):
            covered = True
        else:
            state.covered += t.numel() if count is None else count
            try:
                covered = state.covered * t.element_size() >= storage.nbytes()
            except Exception:
                covered = False
        if covered:
            state.uninitialized = False
            self.uninitialized = max(0, self.uninitialized - 1)
        return covered

    def is_uninitialized(self, t: torch.Tensor) -> bool:
        """True when ``t``'s memory may still be uninitialised garbage."""
        if not self.uninitialized:
            return False
        storage = storage_of(t)
        state = None if storage is None else self.storages.get(storage)
        return state is not None and state.uninitialized


def _covers(t: torch.Tensor, storage: torch.UntypedStorage) -> bool:
    try:
        return t.numel() * t.element_size() >= storage.nbytes() and t.storage_offset() == 0
    except Exception:
        return False
