"""The timeline's overview strip: module calls as a flame chart, NaN/Inf marks, the cursor.

Drag across it to scrub through the run. The flame chart is painted once into a cached pixmap
(per size and palette); a cursor move only repaints the cursor and the current call chain.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QPolygonF,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from gui.formatting import plain_tooltip, short_op_name
from gui.session import DebugSession
from gui.stepping import runs
from gui.theme import colors

MARK_HEIGHT = 6
ROW_HEIGHT = 15
MAX_ROWS = 5
TOP = MARK_HEIGHT + 3


class ScrubBar(QWidget):
    """Flame chart of module calls along the op axis; click or drag to move the cursor."""

    def __init__(self, session: DebugSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # paints every pixel itself
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(TOP + MAX_ROWS * ROW_HEIGHT + 3)
        self.setToolTip("")
        self._cache: QPixmap | None = None
        self._nonfinite_runs: list[tuple[int, int]] = []
        self._rows = 1
        self._dragging = False
        session.sig_trace_loaded.connect(self._on_trace_loaded)
        session.sig_current_op_changed.connect(self._on_current_op_changed)
        self._on_trace_loaded()

    def sizeHint(self) -> QSize:
        return QSize(600, self.height())

    # -- session events ---

    def _on_trace_loaded(self) -> None:
        self._nonfinite_runs = runs(self.session.timeline.nonfinite)
        calls = self.session.trace.module_calls if self.session.trace else ()
        self._rows = min(MAX_ROWS, 1 + max((c.depth for c in calls), default=0))
        self._cache = None
        self.update()

    def _on_current_op_changed(self, _seq: int) -> None:
        self.update()

    # -- geometry ---

    def _x(self, seq: float) -> float:
        count = max(self.session.op_count, 1)
        return seq * self.width() / count

    def seq_at(self, x: float) -> int:
        """The op under horizontal position ``x`` (clamped to the trace)."""
        count = self.session.op_count
        if count == 0:
            return -1
        return max(0, min(count - 1, int(x * count / max(self.width(), 1))))

    # -- painting ---

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._cache = None
        super().resizeEvent(event)

    def changeEvent(self, event: object) -> None:
        self._cache = None
        super().changeEvent(event)  # type: ignore[arg-type]

    def _build_cache(self) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        palette = self.palette()
        theme = colors(palette)
        pixmap.fill(palette.base().color())
        painter = QPainter(pixmap)
        trace = self.session.trace
        if trace is not None and trace.ops:
            font = painter.font()
            font.setPointSizeF(max(7.0, font.pointSizeF() - 1.5))
            painter.setFont(font)
            text_color = palette.text().color()
            # Calls at one depth share a colour: draw each row as merged runs (a 10k-op trace
            # has thousands of sub-pixel calls), and name the calls wide enough to read.
            runs: dict[int, list[list[float]]] = {}
            labelled = []
            scale = self.width() / max(len(trace.ops), 1)
            rows = self._rows
            for call in sorted(trace.module_calls, key=lambda c: (c.depth, c.start_seq)):
                if call.start_seq >= call.end_seq or call.depth >= rows:
                    continue
                x0, x1 = call.start_seq * scale, call.end_seq * scale
                row = runs.setdefault(call.depth, [])
                if row and x0 <= row[-1][1] + 0.5:
                    row[-1][1] = max(row[-1][1], x1)
                else:
                    row.append([x0, x1])
                if x1 - x0 > 36:
                    labelled.append((call, x0, x1))
            for depth, row in runs.items():
                color = theme.spans[depth % len(theme.spans)]
                top = TOP + depth * ROW_HEIGHT
                for x0, x1 in row:
                    painter.fillRect(QRectF(x0, top, max(1.0, x1 - x0), ROW_HEIGHT - 2), color)
            painter.setPen(text_color)
            metrics = painter.fontMetrics()
            for call, x0, x1 in labelled:
                rect = QRectF(x0, TOP + call.depth * ROW_HEIGHT, x1 - x0, ROW_HEIGHT - 2)
                name = _short_path(call.path) or call.type_name
                label = metrics.elidedText(name, Qt.TextElideMode.ElideRight, int(rect.width() - 6))
                painter.drawText(
                    rect.adjusted(3, 0, -3, 0),
                    Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
                    label,
                )
            for first, last in self._nonfinite_runs:
                x0, x1 = self._x(first), self._x(last + 1)
                painter.fillRect(QRectF(x0, 1, max(2.0, x1 - x0), MARK_HEIGHT), theme.nonfinite)
        painter.end()
        return pixmap

    def paintEvent(self, event: QPaintEvent) -> None:
        if self._cache is None or self._cache.size() != self.size() * self.devicePixelRatioF():
            self._cache = self._build_cache()
        painter = QPainter(self)
        painter.drawPixmap(0, 0, self._cache)
        op = self.session.current
        trace = self.session.trace
        if op is not None and trace is not None:
            theme = colors(self.palette())
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            pen = QPen(theme.accent, 1.6)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for call in trace.call_chain(op):
                if call.depth >= self._rows:
                    break
                x0, x1 = self._x(call.start_seq), self._x(call.end_seq)
                painter.drawRect(
                    QRectF(x0, TOP + call.depth * ROW_HEIGHT, max(1.0, x1 - x0), ROW_HEIGHT - 2)
                )
            x = self._x(op.seq + 0.5)
            marker = QColor(theme.current_marker)
            painter.setPen(QPen(marker, 2))
            painter.drawLine(QPointF(x, 0), QPointF(x, self.height()))
            painter.setBrush(marker)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.drawPolygon(QPolygonF([QPointF(x - 5, 0), QPointF(x + 5, 0), QPointF(x, 6)]))
        painter.end()

    # -- scrubbing ---

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self.session.go_to(self.seq_at(event.position().x()))
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        x = event.position().x()
        if self._dragging:
            self.session.go_to(self.seq_at(x))
        self._show_tip(event)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._dragging = False
        super().mouseReleaseEvent(event)

    def _show_tip(self, event: QMouseEvent) -> None:
        trace = self.session.trace
        seq = self.seq_at(event.position().x())
        if trace is None or seq < 0:
            return
        op = trace.ops[seq]
        row = int((event.position().y() - TOP) // ROW_HEIGHT)
        chain = trace.call_chain(op)
        lines = [f"op {seq}: {short_op_name(op.op_type)}"]
        if 0 <= row < len(chain):
            call = chain[row]
            lines.append(
                f"{call.label} ({call.type_name}) · ops {call.start_seq}–{call.end_seq - 1}"
            )
        elif op.module_path:
            lines.append(op.module_path)
        if op.nonfinite:
            lines.append("output holds NaN/Inf")
        QToolTip.showText(event.globalPosition().toPoint(), plain_tooltip("\n".join(lines)), self)


def _short_path(path: str) -> str:
    """The last component of a module path, with its parent when it is a list index."""
    parts = path.replace("/", ".").split(".")
    if len(parts) > 1 and parts[-1].isdigit():
        return ".".join(parts[-2:])
    return parts[-1]
