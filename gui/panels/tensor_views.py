"""The tensor inspector's views: histogram, heatmap with NaN/Inf marks, values table, slicer."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSlider,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gui.formatting import format_number
from gui.panels.static_label import StaticLabel
from gui.tensor_data import (
    NAN_RGBA,
    NEGINF_RGBA,
    POSINF_RGBA,
    bounded_2d,
    displayable,
    finite_levels,
    histogram,
    nonfinite_overlay,
    qt_int,
)
from gui.theme import code_font, colors

_Index = QModelIndex | QPersistentModelIndex

VALUES_MAX_ROWS = 100_000
VALUES_MAX_COLUMNS = 10_000
"""The values table shows at most this corner of a slice (with a note saying so): a header
longer than a C ``int`` of pixels makes Qt loop or crash, and nobody scrolls further."""

HEATMAP_MAX_SIDE = 16_384
HEATMAP_MAX_CELLS = 1 << 24
"""The heatmap draws at most this many rows or columns, and cells (16.7 M: 134 MB as float64)."""


def _note_label() -> QLabel:
    """A muted one-line note over a view (what part of the slice it shows); hidden when empty."""
    label = QLabel()
    label.setObjectName("view_note")
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.hide()
    return label


def _set_note(label: QLabel, note: str, palette: QPalette) -> None:
    """Show ``note`` (hide the label when it is empty) in ``palette``'s muted colour."""
    label.setText(note)
    label.setVisible(bool(note))
    muted = colors(palette).muted
    if label.palette().color(QPalette.ColorRole.WindowText) != muted:
        own = QPalette(label.palette())
        own.setColor(QPalette.ColorRole.WindowText, muted)
        label.setPalette(own)


def _style_plot(plot: pg.PlotItem, palette: QPalette) -> None:
    text = palette.color(QPalette.ColorRole.Text)
    muted = colors(palette).muted
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(muted))
        axis.setTextPen(pg.mkPen(text))
        axis.enableAutoSIPrefix(False)  # re-rendering the unit label on every step is slow


class HistogramView(QWidget):
    """Histogram of the finite values, with the NaN/Inf counts written under it.

    Bars are one filled step curve, updated in place; the count axis is hidden (the caption
    gives the tallest bar), since re-laying out axis text is the slowest part of a redraw.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot_widget = pg.PlotWidget()
        self.plot_widget.setMenuEnabled(False)
        self.plot_widget.setMouseEnabled(x=False, y=False)
        self.plot_widget.hideButtons()
        self.plot = self.plot_widget.getPlotItem()
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        # Fixed ranges: bars are drawn over [0, 1] (bin positions) with heights in [0, 1], so a
        # new tensor only replaces the curve's data. Changing the view range would make
        # pyqtgraph paint the plot twice per step.
        self.plot.getViewBox().setDefaultPadding(0)
        self.plot.setRange(xRange=(0, 1), yRange=(0, 1.05), padding=0)
        self.plot.getViewBox().setMouseEnabled(x=False, y=False)
        self.plot.getViewBox().enableAutoRange(enable=False)
        self.curve = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.plot.addItem(self.curve)
        self.counts = np.zeros(0)
        """The bar heights drawn (counts per bin)."""
        # Value scale under the bars: three plain labels (an axis item re-lays out its text on
        # every step, which costs more than the rest of the histogram).
        self.scale = [
            StaticLabel("-0.0001234", align=align, font=code_font())
            for align in (
                Qt.AlignmentFlag.AlignLeft,
                Qt.AlignmentFlag.AlignHCenter,
                Qt.AlignmentFlag.AlignRight,
            )
        ]
        scale_row = QHBoxLayout()
        scale_row.setContentsMargins(0, 0, 0, 0)
        for label in self.scale:
            scale_row.addWidget(label, 1)
        self.caption = StaticLabel("1,234,567 values, 64 bins")
        self.nonfinite = StaticLabel(
            "9,999 NaN not drawn", bold=True, align=Qt.AlignmentFlag.AlignRight
        )
        """The NaN/Inf counts left out of the bars (in the signal colour)."""
        caption_row = QHBoxLayout()
        caption_row.setContentsMargins(0, 0, 0, 0)
        caption_row.addWidget(self.caption, 1)  # the NaN/Inf count keeps its room
        caption_row.addWidget(self.nonfinite)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(2)
        layout.addWidget(self.plot_widget, 1)
        layout.addLayout(scale_row)
        layout.addLayout(caption_row)
        self.apply_palette()

    def apply_palette(self) -> None:
        """Follow the widget palette (light or dark)."""
        palette = self.palette()
        self.plot_widget.setBackground(palette.color(QPalette.ColorRole.Base))
        _style_plot(self.plot, palette)
        theme = colors(palette)
        for label in self.scale:
            label.set_color(theme.muted)
        self.nonfinite.set_color(theme.nonfinite)
        accent = QColor(theme.accent)
        self.curve.setPen(pg.mkPen(accent, width=1))
        accent.setAlpha(150)
        self.curve.setBrush(accent)

    def show_values(self, values: np.ndarray, nan: int, inf: int) -> None:
        """Draw the histogram of ``values``; ``nan``/``inf`` are the counts to report."""
        counts, edges = histogram(values)
        self.counts = counts
        if counts.size:
            low, high = float(edges[0]), float(edges[-1])
            self.curve.setData(np.linspace(0.0, 1.0, len(edges)), counts / counts.max())
            for label, value in zip(self.scale, (low, (low + high) / 2, high)):
                label.setText(format_number(value, 4))
        else:
            self.curve.setData([], [])
            for label in self.scale:
                label.setText("")
        finite = int(counts.sum())
        text = f"{finite:,} values, {len(counts)} bins" if finite else "no finite values"
        bad = []
        if nan:
            bad.append(f"{nan:,} NaN")
        if inf:
            bad.append(f"{inf:,} Inf")
        self.caption.setText(text)
        self.nonfinite.setText(f"{', '.join(bad)} not drawn" if bad else "")
        self.nonfinite.setToolTip(f"{', '.join(bad)}: not drawn in the histogram" if bad else "")

    def clear(self) -> None:
        """Show nothing."""
        self.counts = np.zeros(0)
        self.curve.setData([], [])
        self.caption.setText("")
        self.nonfinite.setText("")
        for label in self.scale:
            label.setText("")


class HeatmapView(QWidget):
    """A 2-D slice as an image with a colour bar; NaN/Inf cells painted in signal colours."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.plot = self.view.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setLabel("left", "row")
        self.plot.setLabel("bottom", "column")
        self.image = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.plot.addItem(self.overlay)
        self.colorbar = pg.ColorBarItem(colorMap="viridis", interactive=False, width=14)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.data: np.ndarray | None = None
        """The cells drawn (the top-left corner of the slice when it is very big)."""
        self.note = _note_label()
        """What part of the slice is drawn, when not all of it (or that it is empty)."""
        self.hover = QLabel(" ")
        self.hover.setFont(code_font())
        legend = QLabel(
            " ".join(
                f"<span style='color:rgb{rgba[:3]}'>■</span> {name}"
                for name, rgba in (("NaN", NAN_RGBA), ("+Inf", POSINF_RGBA), ("−Inf", NEGINF_RGBA))
            )
        )
        legend.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        footer = QGridLayout()
        footer.addWidget(self.hover, 0, 0)
        footer.addWidget(legend, 0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.note)
        layout.addWidget(self.view, 1)
        layout.addLayout(footer)
        self.view.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.apply_palette()

    def apply_palette(self) -> None:
        """Follow the widget palette (light or dark)."""
        palette = self.palette()
        self.view.setBackground(palette.color(QPalette.ColorRole.Base))
        _style_plot(self.plot, palette)
        axis = self.colorbar.getAxis("right")
        axis.setTextPen(pg.mkPen(palette.color(QPalette.ColorRole.Text)))
        _set_note(self.note, self.note.text(), palette)

    def show_slice(self, data: np.ndarray) -> None:
        """Draw a 2-D array (its top-left corner when it is very big)."""
        total_rows, total_columns = data.shape
        data, note = bounded_2d(data, HEATMAP_MAX_SIDE, HEATMAP_MAX_SIDE, HEATMAP_MAX_CELLS)
        _set_note(self.note, note, self.palette())
        if data.size == 0:
            self.data = None
            self.image.clear()
            self.overlay.clear()
            self.overlay.hide()
            self.hover.setText(f"{total_rows} × {total_columns}")
            return
        self.data = data
        self.image.setImage(displayable(data), autoLevels=False)
        self.colorbar.setLevels(finite_levels(data))
        overlay = nonfinite_overlay(data)
        if overlay is None:
            self.overlay.clear()
            self.overlay.hide()
        else:
            self.overlay.setImage(overlay, autoLevels=False, levels=(0, 255))
            self.overlay.show()
        rows, columns = data.shape
        self.plot.setRange(xRange=(0, columns), yRange=(0, rows), padding=0.02)
        self.hover.setText(f"{total_rows} × {total_columns}")

    def clear(self) -> None:
        """Show nothing."""
        self.data = None
        self.image.clear()
        self.overlay.clear()
        self.hover.setText(" ")
        _set_note(self.note, "", self.palette())

    def _on_mouse_moved(self, position: QPointF) -> None:
        if self.data is None or not self.plot.sceneBoundingRect().contains(position):
            return
        point = self.plot.vb.mapSceneToView(position)
        row, column = int(np.floor(point.y())), int(np.floor(point.x()))
        rows, columns = self.data.shape
        if 0 <= row < rows and 0 <= column < columns:
            value = self.data[row, column]
            self.hover.setText(f"[{row}, {column}] = {format_number(_scalar(value), 7)}")


def _scalar(value: Any) -> float | int:
    item = value.item() if hasattr(value, "item") else value
    return item if isinstance(item, int) else float(item)


class ValuesModel(QAbstractTableModel):
    """Adapts a 2-D numpy slice to a read-only table; NaN and Inf cells are coloured.

    Shows at most ``VALUES_MAX_ROWS`` × ``VALUES_MAX_COLUMNS`` (the top-left corner);
    ``note`` says what was left out.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data = np.zeros((0, 0))
        self._palette = QPalette()
        self.note = ""
        """What part of the slice the table shows, when not all of it (or that it is empty)."""

    def set_data(self, data: np.ndarray) -> None:
        """Show ``data`` (2-D)."""
        self.beginResetModel()
        self._data, self.note = bounded_2d(data, VALUES_MAX_ROWS, VALUES_MAX_COLUMNS)
        self.endResetModel()

    def set_palette(self, palette: QPalette) -> None:
        """Colours follow the view's palette."""
        self._palette = QPalette(palette)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else qt_int(min(self._data.shape[0], VALUES_MAX_ROWS))

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else qt_int(min(self._data.shape[1], VALUES_MAX_COLUMNS))

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            return str(section)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        value = self._data[index.row(), index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return format_number(_scalar(value), 6)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            number = float(_scalar(value))
            if np.isfinite(number):
                return None
            theme = colors(self._palette)
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(theme.nonfinite_background)
            return QBrush(theme.nonfinite)
        return None


class ValuesTable(QTableView):
    """The values of a 2-D slice, cell by cell."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values = ValuesModel(self)
        self.setModel(self.values)
        self.setFont(code_font())
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.horizontalHeader().setDefaultSectionSize(84)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 4)
        self.values.set_palette(self.palette())

    def show_slice(self, data: np.ndarray) -> None:
        """Show ``data`` (2-D)."""
        self.values.set_palette(self.palette())
        self.values.set_data(data)


class ValuesView(QWidget):
    """The values table under a note saying what part of the slice it shows, if not all."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.note = _note_label()
        self.table = ValuesTable()
        self.values = self.table.values
        """The table's model."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.note.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.note)  # hidden (and taking no room) when the whole slice shows
        layout.addWidget(self.table, 1)

    def show_slice(self, data: np.ndarray) -> None:
        """Show ``data`` (2-D; its top-left corner when it is very big)."""
        self.table.show_slice(data)
        _set_note(self.note, self.values.note, self.palette())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            _set_note(self.note, self.note.text(), self.palette())
        super().changeEvent(event)


class Slicer(QWidget):
    """One slider per leading dimension; the last two dimensions form the shown slice."""

    sig_indices_changed = Signal()
    """A slider moved; read ``indices``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shape: tuple[int, ...] = ()
        self._sliders: list[QSlider] = []
        self._labels: list[QLabel] = []
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(6, 2, 6, 2)
        self._grid.setHorizontalSpacing(8)
        self.hide()

    @property
    def indices(self) -> tuple[int, ...]:
        """The chosen index of each leading dimension."""
        return tuple(slider.value() for slider in self._sliders)

    def set_shape(self, shape: tuple[int, ...]) -> None:
        """Rebuild the sliders for a tensor of ``shape`` (kept when the leading dims match)."""
        leading = tuple(shape[:-2]) if len(shape) > 2 else ()
        if leading == self._shape:
            return
        self._shape = leading
        while self._grid.count():
            item = self._grid.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        self._sliders, self._labels = [], []
        for dim, size in enumerate(leading):
            slider = QSlider(Qt.Orientation.Horizontal)
            slider.setRange(0, qt_int(max(0, size - 1)))
            slider.setEnabled(size > 0)
            slider.setObjectName(f"slice_dim_{dim}")
            label = QLabel()
            label.setFont(code_font())
            label.setMinimumWidth(label.fontMetrics().horizontalAdvance("0000 / 0000"))
            slider.valueChanged.connect(self._on_value_changed)
            self._grid.addWidget(QLabel(f"dim {dim}"), dim, 0)
            self._grid.addWidget(slider, dim, 1)
            self._grid.addWidget(label, dim, 2)
            self._sliders.append(slider)
            self._labels.append(label)
        self._update_labels()
        self.setVisible(bool(leading))

    def _on_value_changed(self, _value: int) -> None:
        self._update_labels()
        self.sig_indices_changed.emit()

    def _update_labels(self) -> None:
        for slider, label, size in zip(self._sliders, self._labels, self._shape):
            label.setText(f"{slider.value()} / {size - 1}" if size else "empty")
