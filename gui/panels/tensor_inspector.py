"""Tensor inspector: summary of the current op's tensors, histogram, heatmap and values.

Small tensors are read and drawn as the cursor moves; big ones are read in a worker thread so
stepping never waits for them. Only the visible tab is drawn; the others when they are shown.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)
from superqt.utils import create_worker

from gui.coalesce import CoalescedCall
from gui.formatting import format_count, format_number, format_shape, short_op_name
from gui.panels.static_label import StaticLabel
from gui.panels.tensor_views import HeatmapView, HistogramView, Slicer, ValuesView
from gui.session import DebugSession
from gui.tensor_data import TensorRef, as_2d, tensor_refs
from gui.theme import code_font, colors
from tracing import payloads
from tracing.errors import TraceFileError
from tracing.model import SourceNode, TensorSummary

SYNC_BYTES = 2 << 20
"""Tensors up to this size are read on the UI thread; bigger ones in a worker."""

HOW_TO_RECORD = (
    "Record values with <code>tracing.record(path, values=True)</code> "
    "or <code>opscope record --values</code> to see histograms, heatmaps and values."
)

_FIELDS = (
    ("Shape", "shape"),
    ("Dtype", "dtype"),
    ("Min", "min"),
    ("Max", "max"),
    ("Mean", "mean"),
    ("Std", "std"),
    ("NaN", "nan"),
    ("Inf", "inf"),
    ("Elements", "numel"),
    ("Device", "device"),
)


class TensorInspectorPanel(QWidget):
    """Shows one tensor of the current op: an output by default, or an input chosen above."""

    HISTOGRAM, HEATMAP, VALUES = range(3)

    def __init__(self, session: DebugSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector_panel")
        self.session = session
        self.shown_seq = -1
        """The seq whose tensor is fully drawn (for tests and the latency benchmark)."""
        self.refs: list[TensorRef] = []
        self.ref: TensorRef | None = None
        self.array: np.ndarray | None = None
        self._sources: dict[str, SourceNode] = {}
        self._generation = 0
        self._pending = False
        self._drawn: set[int] = set()
        self._worker = None
        self._plots = CoalescedCall(self._draw_current_tab, self)
        """Plots redraw at once for a lone step, once the cursor rests while a key is held."""

        self.title = StaticLabel("F.softmax  op 00000 · layers.00.attn", bold=True)
        """The op's name in bold, then where it ran (``op 24 · layers.1.attn``, muted)."""
        self.chooser = QComboBox()
        self.chooser.setObjectName("tensor_chooser")
        # A fixed width: resizing to each op's labels would re-lay out the window on every step.
        self.chooser.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.chooser.setMinimumContentsLength(12)
        self.chooser.currentIndexChanged.connect(self._on_choice_changed)
        title_row = QHBoxLayout()
        title_row.setContentsMargins(0, 0, 0, 0)
        title_row.addWidget(self.title, 1)
        chooser_row = QHBoxLayout()
        chooser_row.setContentsMargins(0, 0, 0, 0)
        tensor_caption = QLabel("Tensor")
        tensor_caption.setObjectName("field_caption")
        chooser_row.addWidget(tensor_caption)
        chooser_row.addWidget(self.chooser, 1)
        header = QVBoxLayout()
        header.setContentsMargins(8, 6, 8, 4)
        header.setSpacing(4)
        header.addLayout(title_row)
        header.addLayout(chooser_row)

        self.fields: dict[str, StaticLabel] = {}
        grid = QGridLayout()
        grid.setContentsMargins(10, 2, 10, 6)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(2)
        for index, (name, key) in enumerate(_FIELDS):
            row, pair = divmod(index, 2)
            caption = QLabel(name)
            caption.setObjectName("field_caption")
            value = StaticLabel("-0.00012345", font=code_font())
            value.setText("—")
            grid.addWidget(caption, row, pair * 2)
            grid.addWidget(value, row, pair * 2 + 1)
            self.fields[key] = value
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)

        self.slicer = Slicer()
        self.slicer.sig_indices_changed.connect(self._on_slice_changed)
        self.histogram = HistogramView()
        self.heatmap = HeatmapView()
        self.values = ValuesView()
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.histogram, "Histogram")
        self.tabs.addTab(self.heatmap, "Heatmap")
        self.tabs.addTab(self.values, "Values")
        self.tabs.currentChanged.connect(self._on_tab_changed)
        content = QWidget()
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.addWidget(self.slicer)
        content_layout.addWidget(self.tabs, 1)

        self.message = QLabel()
        self.message.setObjectName("inspector_message")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.message.setMargin(14)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.stack = QStackedWidget()
        self.stack.addWidget(content)
        self.stack.addWidget(self.message)
        self.content_page = content

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addLayout(grid)
        layout.addWidget(self.stack, 1)

        session.sig_trace_loaded.connect(self._on_trace_loaded)
        session.sig_current_op_changed.connect(self._on_current_op_changed)
        self._on_trace_loaded()
        self._on_current_op_changed(session.index)

    @property
    def busy(self) -> bool:
        """True while a big tensor is read in the background or plots wait to be redrawn."""
        return self._pending or self._plots.pending

    # -- session events ---

    def _on_trace_loaded(self) -> None:
        trace = self.session.trace
        self._sources = {node.node_id: node for node in trace.source_nodes} if trace else {}
        if trace is None:
            self.title.setText("")
            self.title.set_suffix("")
            self._show_message("No trace loaded.")

    def _on_current_op_changed(self, seq: int) -> None:
        op = self.session.current
        trace = self.session.trace
        if op is None or trace is None:
            self.refs, self.ref = [], None
            self.shown_seq = seq
            self.chooser.clear()
            self._fill_summary(None)
            self._show_message("No op selected." if trace is not None else "No trace loaded.")
            return
        self.title.setText(short_op_name(op.op_type))
        self.title.set_suffix(
            f"op {op.seq} · {op.module_path or 'top level'}", colors(self.palette()).muted
        )
        previous = self.chooser.currentIndex()
        self.refs = tensor_refs(trace, op, self._sources)
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for ref in self.refs:
            self.chooser.addItem(ref.label)
        keep = previous if 0 <= previous < len(op.outputs) else 0
        self.chooser.setCurrentIndex(keep if self.refs else -1)
        self.chooser.blockSignals(False)
        self._show_ref(self.refs[keep] if self.refs else None, seq)

    def _on_choice_changed(self, index: int) -> None:
        if 0 <= index < len(self.refs):
            self._show_ref(self.refs[index], self.session.index)

    # -- showing a tensor ---

    def _show_ref(self, ref: TensorRef | None, seq: int) -> None:
        self._generation += 1
        self._pending = False
        self.ref = ref
        self.array = None
        self._drawn.clear()
        self._fill_summary(ref.summary if ref else None)
        if ref is None:
            self.shown_seq = seq
            self._show_message("This op has no tensor outputs.")
            return
        if not ref.has_value:
            self.shown_seq = seq
            self._show_message(self._why_no_values(ref))
            return
        summary = ref.summary
        assert summary is not None
        size = payloads.payload_bytes(summary.dtype, summary.shape) or 0
        if size <= SYNC_BYTES:
            self._set_array(self._load(ref), seq)
            return
        self._pending = True
        self._show_message(f"Reading {format_count(size)} bytes of values…")
        generation = self._generation
        trace = self.session.trace
        self._worker = create_worker(
            _load_in_background,
            trace,
            ref,
            _connect={"returned": lambda result: self._on_loaded(result, generation, seq)},
        )

    def _on_loaded(self, result: np.ndarray | str, generation: int, seq: int) -> None:
        if generation != self._generation:
            return
        self._pending = False
        self._set_array(result, seq)

    def _load(self, ref: TensorRef) -> np.ndarray | str:
        trace = self.session.trace
        assert trace is not None
        return _load_in_background(trace, ref)

    def _set_array(self, result: np.ndarray | str, seq: int) -> None:
        self.shown_seq = seq
        if isinstance(result, str):
            self._show_message(result)
            return
        self.array = result
        self.slicer.set_shape(tuple(result.shape))
        self.stack.setCurrentWidget(self.content_page)
        self._plots.request()

    def _draw_current_tab(self) -> None:
        tab = self.tabs.currentIndex()
        if self.array is None or tab in self._drawn:
            return
        self._drawn.add(tab)
        summary = self.ref.summary if self.ref else None
        if tab == self.HISTOGRAM:
            nan = summary.nan_count if summary else 0
            inf = summary.inf_count if summary else 0
            self.histogram.show_values(self.array, nan, inf)
        elif tab == self.HEATMAP:
            self.heatmap.show_slice(as_2d(self.array, self.slicer.indices))
        else:
            self.values.show_slice(as_2d(self.array, self.slicer.indices))

    def _on_tab_changed(self, _index: int) -> None:
        self._draw_current_tab()

    def _on_slice_changed(self) -> None:
        self._drawn.discard(self.HEATMAP)
        self._drawn.discard(self.VALUES)
        self._draw_current_tab()

    def _fill_summary(self, summary: TensorSummary | None) -> None:
        if summary is None:
            for label in self.fields.values():
                label.setText("—")
                self._mark_field(label, False)
            return
        texts = {
            "shape": format_shape(summary.shape),
            "dtype": summary.dtype,
            "min": format_number(summary.min),
            "max": format_number(summary.max),
            "mean": format_number(summary.mean),
            "std": format_number(summary.std),
            "nan": format_count(summary.nan_count),
            "inf": format_count(summary.inf_count),
            "numel": format_count(summary.numel),
            "device": summary.device or "—",
        }
        if not summary.initialized:
            texts["nan"] = texts["inf"] = "n/a"
        for key, label in self.fields.items():
            label.setText(texts[key])
            bad = key in ("nan", "inf") and summary.initialized and texts[key] != "0"
            self._mark_field(label, bad)

    def _mark_field(self, label: StaticLabel, bad: bool) -> None:
        label.set_color(colors(self.palette()).nonfinite if bad else None, bold=bad)

    def _why_no_values(self, ref: TensorRef) -> str:
        trace = self.session.trace
        if ref.note:
            return f"The {_escape(ref.note)}. The summary above was recorded with the trace."
        if ref.summary is not None and not ref.summary.initialized:
            return (
                "<b>Uninitialised memory</b> (<code>torch.empty</code> and friends): its "
                "contents are whatever the allocator left there, so no values or statistics "
                "were kept."
            )
        if trace is not None and trace.meta.option("values", "false") == "false":
            return f"<b>Values were not recorded in this trace.</b><br><br>{HOW_TO_RECORD}"
        return (
            "<b>This tensor's values were not kept</b> (the recording kept values only for "
            f"some ops, or ran out of its value budget).<br><br>{HOW_TO_RECORD}"
        )

    def _show_message(self, html: str) -> None:
        self.message.setText(html)
        self.stack.setCurrentWidget(self.message)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.histogram.apply_palette()
            self.heatmap.apply_palette()
            self._drawn.clear()
            self._draw_current_tab()
        super().changeEvent(event)


def _load_in_background(trace: object, ref: TensorRef) -> np.ndarray | str:
    """The tensor's values, or a message saying why they cannot be read."""
    try:
        return ref.load(trace)  # type: ignore[arg-type]
    except TraceFileError as exc:
        return f"The stored values cannot be read: {_escape(exc.problem)}."
    except (LookupError, MemoryError) as exc:
        return _escape(str(exc))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
