"""The eager capture's queue: ops, layer enters/exits and sources, replayed into the recorder.

Recording an op has two halves. What only exists while the op runs — its inputs' producers, the
user's frames, the Keras layer stack — is read in the op callback. What can wait — reading the
outputs' values, their summaries, value payloads, and the ``Recorder`` calls that write rows —
is queued here and replayed in batches, in the order the events happened, so the recorder sees
exactly the calls it would have seen one by one. The batches run as one tight loop instead of
being interleaved with TensorFlow's kernels and Keras' Python, and the summaries of a batch's
small float tensors are computed together (``tensors.batch_summaries``): that is where most of
the per-op cost went.

Queueing is faithful because eager tensors are immutable while referenced: the queue holds each
output ``EagerTensor`` until it is replayed, which also stops TensorFlow from reusing its buffer.
The queue is replayed when it holds ``MAX_EVENTS`` events or ``MAX_ELEMENTS`` queued output
elements (so large tensors are not kept alive for long), when the recording stops, and after
every event when another backend may write ops into the same timeline (``deferred`` is False:
the torch backend numbers its ops as they run, so queued TensorFlow ops would lose their place).
When no values are stored, the trace writer's thread also replays a queue whose oldest event
has waited ``PENDING_SECONDS`` (``replay_stale``), so ops issued just before a long pause without
TensorFlow ops (a sleep, a long Python computation) reach the file within a second and survive
a SIGKILL. ``lock`` makes a replay and the op callback's numbering (``next_seq``) atomic with
respect to each other. (With values, a replay may wait for the writer to drain payloads, so only
the recording thread replays.)
"""

from __future__ import annotations

import dataclasses
import threading
import time
from typing import TYPE_CHECKING, Any

from tracing import payloads
from tracing.recorder import PENDING_SECONDS

if TYPE_CHECKING:
    from tracing.recorder import Recorder
    from tracing.stacks import Location
    from tracing.tf_backend.tensors import TensorReader

MAX_EVENTS = 64
"""Replay the queue once it holds this many events."""

MAX_ELEMENTS = 1 << 22
"""...or once the queued outputs hold this many elements (16 MiB of float32), or once its
oldest event has waited ``tracing.recorder.PENDING_SECONDS`` (checked at every event, so a
loop of slow ``tf.function`` steps still reaches the file within a second)."""

_monotonic = time.monotonic

OP, ENTER, EXIT, SOURCE = range(4)


class EventQueue:
    """Queued recorder calls of the eager capture, replayed in order."""

    def __init__(self, recorder: Recorder, tensors: TensorReader, *, deferred: bool) -> None:
        self._recorder = recorder
        self._tensors = tensors
        self._events: list[tuple] = []
        self._since = 0.0
        """When the oldest queued event was queued."""
        self._call_ids: dict[int, int] = {}
        """Queued enter token → the recorder's call id, once the enter is replayed."""
        self._next_token = 0
        self.queued_ops = 0
        self.queued_elements = 0
        self.deferred = deferred
        self._any_values = recorder.values is not False
        self.keep_inputs = recorder.values is not False and recorder.max_value_bytes is not None
        """Whether queued ops keep their input tensors (for ``add_op``'s ``input_values``)."""
        self.on_error: Any = None
        """Called with the exception when a replay fails (the capture then stops)."""
        self.lock = threading.RLock()
        """Held while events are numbered and queued, and while they are replayed."""
        self._thread = recorder.owner_thread
        """The thread whose events are queued (replays may run on the writer's thread)."""
        if not self._any_values:
            recorder.add_stale_check(self.replay_stale)

    @property
    def next_seq(self) -> int:
        """The seq the next queued op will get from the recorder."""
        return self._recorder.op_count + self.queued_ops

    def add_op(
        self,
        op_type: str,
        rows: list[tuple],
        outputs: tuple,
        elements: int,
        location: Location,
        mutates: list[int],
        kind: str,
        attrs: Any,
        graph_id: str,
        inputs: Any,
    ) -> None:
        """Queue an executed op; ``outputs`` are its ``EagerTensor``s (summarised on replay)."""
        self.queued_ops += 1
        self.queued_elements += elements
        self._queue((OP, op_type, rows, outputs, location, mutates, kind, attrs, graph_id, inputs))

    def add_source(self, node_id: str, kind: str, name: str, tensor: Any, dtype: str) -> None:
        """Queue the declaration of a source node holding ``tensor``'s summary."""
        self._queue((SOURCE, node_id, kind, name, tensor, dtype))

    def enter_module(self, path: str, type_name: str) -> int:
        """Queue a Keras layer call's start; returns the token ``exit_module`` takes."""
        token = self._next_token
        self._next_token = token + 1
        self._queue((ENTER, path, type_name, token))
        return token

    def exit_module(self, token: int) -> None:
        """Queue the end of the layer call that ``enter_module`` returned ``token`` for."""
        self._queue((EXIT, token))

    def _queue(self, event: tuple) -> None:
        """Append ``event``; replay the queue when it is full, too big or too old."""
        with self.lock:
            events = self._events
            now = _monotonic()
            if not events:
                self._since = now
            events.append(event)
            if (
                not self.deferred
                or len(events) >= MAX_EVENTS
                or self.queued_elements >= MAX_ELEMENTS
                or now - self._since >= PENDING_SECONDS
            ):
                self.replay()

    def replay(self) -> None:
        """Make every queued recorder call now, in order; never raises into the program."""
        with self.lock:
            events = self._events
            if not events:
                return
            self._events = []
            self.queued_ops = 0
            self.queued_elements = 0
            try:
                self._replay(events)
            except Exception as exc:  # a recorder bug must not break the traced program
                if self.on_error is None:
                    raise
                self.on_error(exc)

    def replay_stale(self) -> None:
        """Replay the queue if its oldest event has waited ``PENDING_SECONDS`` (the writer
        thread calls this; it never waits for the recording thread)."""
        if not self._events or _monotonic() - self._since < PENDING_SECONDS:
            return
        if not self.lock.acquire(blocking=False):
            return  # the recording thread is queueing or replaying right now
        try:
            if self._events and _monotonic() - self._since >= PENDING_SECONDS:
                self.replay()
        finally:
            self.lock.release()

    def discard(self) -> None:
        """Drop the queue (after an internal error)."""
        with self.lock:
            self._events = []
            self.queued_ops = 0
            self.queued_elements = 0

    def _replay(self, events: list[tuple]) -> None:
        recorder = self._recorder
        call_ids = self._call_ids
        tensors: list[Any] = []
        for event in events:
            tag = event[0]
            if tag == OP:
                tensors.extend(event[3])
            elif tag == SOURCE:
                tensors.append(event[4])
        summaries = self._tensors.batch_summaries(tensors)
        position = 0
        for event in events:
            tag = event[0]
            if tag == OP:
                count = len(event[3])
                self._emit_op(event, summaries[position : position + count])
                position += count
            elif tag == ENTER:
                call_ids[event[3]] = recorder.enter_module(
                    event[1], event[2], "tensorflow", thread=self._thread
                )
            elif tag == EXIT:
                recorder.exit_module(call_ids.pop(event[1], -1))
            else:
                _, node_id, kind, name, _tensor, dtype = event
                summary = summaries[position][0]
                position += 1
                recorder.add_source(node_id, kind, name, summary.shape, dtype, summary)

    def _emit_op(self, event: tuple, outputs: list[tuple[Any, Any]]) -> None:
        _, op_type, rows, _tensors, location, mutates, kind, attrs, graph_id, inputs = event
        recorder = self._recorder
        summaries = [summary for summary, _ in outputs]
        nonfinite = False
        for summary in summaries:
            if summary.nan_count or summary.inf_count:
                nonfinite = True
        values: dict[int, bytes] | None = None
        input_values: dict[int, bytes] | None = None
        first_nonfinite = nonfinite and recorder.keep_for_nonfinite(summaries)
        if first_nonfinite or (self._any_values and recorder.keeps_values(op_type)):
            values = {}
            for index, (summary, array) in enumerate(outputs):
                if array is not None:
                    values[index] = payloads.encode(array)
                    summaries[index] = dataclasses.replace(summary, has_value=True)
            if first_nonfinite and recorder.max_value_bytes is not None and inputs is not None:
                input_values = self._input_values(inputs, rows)
        recorder.add_op(
            op_type,
            "tensorflow",
            rows,
            summaries,
            location=location,
            mutates=mutates,
            kind=kind,
            attrs=attrs,
            graph_id=graph_id,
            values=values,
            input_values=input_values,
            thread=self._thread,
        )

    def _input_values(self, inputs: Any, rows: list[tuple]) -> dict[int, bytes]:
        """Payloads of the inputs (by slot) of the first NaN/Inf op, for the value budget."""
        by_slot = {}
        for row in rows:
            slot = row[0]
            payload = self._tensors.value(inputs[slot])
            if payload is not None:
                by_slot[slot] = payload
        return by_slot
