"""Qt item models over the trace's ops: the timeline table and its filter."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QFont, QPalette

from gui.formatting import (
    format_duration,
    format_location,
    format_tensor,
    nonfinite_text,
    short_op_name,
)
from gui.theme import colors
from tracing.model import Op

SEQ_ROLE = Qt.ItemDataRole.UserRole + 1
"""Data role that gives an op's seq (views never parse display text)."""

NONFINITE_ROLE = Qt.ItemDataRole.UserRole + 2
"""Data role that is True for ops whose output holds NaN or Inf."""

_Index = QModelIndex | QPersistentModelIndex


class TimelineModel(QAbstractTableModel):
    """Adapts ``Trace.ops`` to Qt's table interface: one row per op, in execution order.

    The model reads the op records on demand and never copies them, so a 50k-op trace costs
    nothing until rows are shown. Row ``r`` is op seq ``r``.
    """

    SEQ, OP, MODULE, OUTPUT, LOCATION, TIME = range(6)
    HEADERS = ("#", "Op", "Module", "Output", "Line", "Time")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ops: tuple[Op, ...] = ()
        self._palette = QPalette()
        self._bold = QFont()
        self._bold.setBold(True)

    def set_ops(self, ops: tuple[Op, ...]) -> None:
        """Show these ops (a new trace)."""
        self.beginResetModel()
        self._ops = tuple(ops)
        self.endResetModel()

    def set_palette(self, palette: QPalette) -> None:
        """Colours for NaN/Inf rows follow the view's palette."""
        self._palette = QPalette(palette)
        if self._ops:
            last = self.index(len(self._ops) - 1, len(self.HEADERS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def op(self, row: int) -> Op:
        """The op shown on ``row``."""
        return self._ops[row]

    # -- Qt's interface ---

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Number of ops (0 under any parent: this is a flat table)."""
        return 0 if parent.isValid() else len(self._ops)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        """Number of columns (0 under any parent)."""
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = Qt.ItemDataRole.DisplayRole,
    ) -> Any:
        """Column titles."""
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(self.HEADERS)
        ):
            return self.HEADERS[section]
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        """Rows are selectable, not editable."""
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, tooltip, alignment, NaN colouring and the seq/NaN roles."""
        if not index.isValid() or not 0 <= index.row() < len(self._ops):
            return None
        op = self._ops[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(op, column)
        if role == SEQ_ROLE:
            return op.seq
        if role == NONFINITE_ROLE:
            return op.nonfinite
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(op)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column in (self.SEQ, self.TIME):
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole:
            theme = colors(self._palette)
            if op.nonfinite and column in (self.SEQ, self.OP, self.OUTPUT):
                return QBrush(theme.nonfinite)
            if op.error and column == self.OP:
                return QBrush(theme.nonfinite)
            if column in (self.MODULE, self.LOCATION, self.TIME, self.SEQ):
                return QBrush(theme.muted)
            return None
        if role == Qt.ItemDataRole.BackgroundRole:
            if op.nonfinite:
                return QBrush(colors(self._palette).nonfinite_background)
            return None
        if role == Qt.ItemDataRole.FontRole and op.nonfinite and column == self.OP:
            return self._bold
        return None

    def _text(self, op: Op, column: int) -> str:
        if column == self.SEQ:
            return str(op.seq)
        if column == self.OP:
            return short_op_name(op.op_type) + (" ⚠" if op.nonfinite else "")
        if column == self.MODULE:
            return op.module_path or "·"
        if column == self.OUTPUT:
            if not op.outputs:
                return ""
            text = format_tensor(op.outputs[0])
            if len(op.outputs) > 1:
                text += f" (+{len(op.outputs) - 1})"
            bad = nonfinite_text(op.outputs[0]) if op.outputs[0].nonfinite else ""
            return f"{text}  {bad}" if bad else text
        if column == self.LOCATION:
            return format_location(op)
        if column == self.TIME:
            return format_duration(op.duration_ns)
        return ""

    def _tooltip(self, op: Op) -> str:
        lines = [f"op {op.seq}: {op.op_type}", f"module: {op.module_path or '(top level)'}"]
        lines.append(f"at {op.location}" + (f" in {op.func}()" if op.func else ""))
        for index, out in enumerate(op.outputs):
            bad = nonfinite_text(out) if out.nonfinite else ""
            lines.append(f"out {index}: {format_tensor(out)}" + (f" — {bad}" if bad else ""))
        if op.error:
            lines.append(f"raised: {op.error}")
        return "\n".join(lines)


class TimelineFilter(QSortFilterProxyModel):
    """Keeps the ops whose type or module contains a text, and optionally only NaN/Inf ops."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._text = ""
        self._nonfinite_only = False

    @property
    def active(self) -> bool:
        """True when some rows may be hidden."""
        return bool(self._text) or self._nonfinite_only

    def set_text(self, text: str) -> None:
        """Match op type or module path, case-insensitively (``""`` keeps every op)."""
        text = text.strip().lower()
        if text != self._text:
            self.beginFilterChange()
            self._text = text
            self.endFilterChange()

    def set_nonfinite_only(self, enabled: bool) -> None:
        """Keep only ops whose output holds NaN or Inf."""
        if enabled != self._nonfinite_only:
            self.beginFilterChange()
            self._nonfinite_only = enabled
            self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        """The filter rule."""
        model = self.sourceModel()
        if not isinstance(model, TimelineModel):
            return True
        op = model.op(source_row)
        if self._nonfinite_only and not op.nonfinite:
            return False
        if not self._text:
            return True
        return self._text in op.op_type.lower() or self._text in op.module_path.lower()
