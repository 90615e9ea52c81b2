"""OpScope tracing: record what a PyTorch or TensorFlow program executed into a trace file.

>>> import tracing
>>> with tracing.record("run.opscope", values=False):
...     y = model(x)
>>> trace = tracing.load("run.opscope")
>>> trace.first_nonfinite()

Importing this package imports neither torch nor tensorflow, nor Qt: framework backends are
loaded when a recording starts and the program uses that framework.
"""

from __future__ import annotations

__version__ = "0.1.0"

from tracing.errors import RecordingError, RecordingWarning, TraceFileError, TraceWriteError
from tracing.model import (
    Frame,
    InputRef,
    ModuleCall,
    Op,
    SourceNode,
    TensorSummary,
    TimelineEvent,
    TraceMeta,
)
from tracing.options import ValueFilter
from tracing.recorder import Recorder, active, record
from tracing.trace import Trace, load

__all__ = [
    "Frame",
    "InputRef",
    "ModuleCall",
    "Op",
    "Recorder",
    "RecordingError",
    "RecordingWarning",
    "SourceNode",
    "TensorSummary",
    "TimelineEvent",
    "Trace",
    "TraceFileError",
    "TraceMeta",
    "TraceWriteError",
    "ValueFilter",
    "__version__",
    "active",
    "load",
    "record",
]
