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
    plain_tooltip,
    short_op_name,
)
from gui.theme import colors
from tracing.model import Op

SEQ_ROLE = Qt.ItemDataRole.UserRole + 1
"""Data role that gives an op's seq (views never parse display text)."""

NONFINITE_ROLE = Qt.ItemDataRole.UserRole + 2
"""Data role that is True for ops whose output holds NaN or Inf."""

_Index = QModelIndex | QPersistentModelIndex

_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_SEQ = int(SEQ_ROLE)
_NONFINITE = int(NONFINITE_ROLE)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_NONFINITE_COLUMNS = frozenset({0, 1, 3})
_MUTED_COLUMNS = frozenset({0, 2, 4, 5})
_RIGHT_COLUMNS = frozenset({0, 5})


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
        self._texts: dict[int, tuple[str, ...]] = {}
        self._cells: dict[int, tuple] = {}
        """Per row: what ``cell`` returns for each column (colours depend on the palette)."""
        self._palette = QPalette()
        self._brushes: tuple[QBrush, ...] = ()
        self.set_palette(self._palette)
        self._bold = QFont()
        self._bold.setBold(True)

    def set_ops(self, ops: tuple[Op, ...]) -> None:
        """Show these ops (a new trace)."""
        self.beginResetModel()
        self._ops = tuple(ops)
        self._texts = {}
        self._cells = {}
        self.endResetModel()

    def set_palette(self, palette: QPalette) -> None:
        """Colours for NaN/Inf rows follow the view's palette."""
        self._palette = QPalette(palette)
        theme = colors(palette)
        self._brushes = (
            QBrush(theme.nonfinite),
            QBrush(theme.nonfinite_background),
            QBrush(theme.muted),
        )
        self._cells = {}
        if self._ops:
            last = self.index(len(self._ops) - 1, len(self.HEADERS) - 1)
            self.dataChanged.emit(self.index(0, 0), last)

    def op(self, row: int) -> Op:
        """The op shown on ``row``."""
        return self._ops[row]

    def cell(self, row: int, column: int) -> tuple[str, QBrush | None, QBrush | None, bool, bool]:
        """``(text, foreground, background, bold, right-aligned)`` of one cell, for painting."""
        cached = self._cells.get(row)
        if cached is None:
            op = self._ops[row]
            texts = self._texts.get(row)
            if texts is None:
                texts = self._texts[row] = tuple(self._text(op, c) for c in range(6))
            bad = op.nonfinite
            cached = self._cells[row] = tuple(
                (
                    texts[c],
                    self._brushes[0]
                    if (bad and c in _NONFINITE_COLUMNS) or (op.error and c == self.OP)
                    else (self._brushes[2] if c in _MUTED_COLUMNS else None),
                    self._brushes[1] if bad else None,
                    bad and c == self.OP,
                    c in _RIGHT_COLUMNS,
                )
                for c in range(6)
            )
        return cached[column]

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

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, tooltip, alignment, NaN colouring and the seq/NaN roles."""
        # Called for every visible cell and role on each repaint: plain int roles, cached texts.
        row = index.row()
        if not 0 <= row < len(self._ops):
            return None
        role = int(role)
        column = index.column()
        if role == _DISPLAY:
            texts = self._texts.get(row)
            if texts is None:
                op = self._ops[row]
                texts = self._texts[row] = tuple(self._text(op, c) for c in range(6))
            return texts[column]
        op = self._ops[row]
        if role == _FOREGROUND:
            if op.nonfinite and column in _NONFINITE_COLUMNS:
                return self._brushes[0]
            if op.error and column == self.OP:
                return self._brushes[0]
            return self._brushes[2] if column in _MUTED_COLUMNS else None
        if role == _ALIGNMENT:
            return _RIGHT if column in _RIGHT_COLUMNS else _LEFT
        if role == _BACKGROUND:
            return self._brushes[1] if op.nonfinite else None
        if role == _FONT:
            return self._bold if op.nonfinite and column == self.OP else None
        if role == _SEQ:
            return op.seq
        if role == _NONFINITE:
            return op.nonfinite
        if role == _TOOLTIP:
            return self._tooltip(op)
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
        return plain_tooltip("\n".join(lines))  # names from the trace are never read as HTML


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
