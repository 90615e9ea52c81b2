"""PyTorch recording backend.

``tracing.backends`` imports this package only once the program has imported torch, and calls
``start(recorder)`` on the recording thread. See ``README.md`` in this folder for how ops,
modules, edges and opaque regions are recorded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracing.recorder import Recorder
    from tracing.torch_backend.recording import TorchRecording


def start(recorder: Recorder) -> TorchRecording:
    """Start recording PyTorch ops into ``recorder``; ``handle.stop()`` undoes everything."""
    from tracing.torch_backend.recording import TorchRecording

    return TorchRecording(recorder).start()
