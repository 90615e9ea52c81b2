"""Source panel: the user's file at the current op, a breakpoint gutter and the line's ops."""

from __future__ import annotations

import bisect
from pathlib import PurePath

from PySide6.QtCore import QEvent, QModelIndex, Qt
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from gui.formatting import format_tensor, nonfinite_text, plain_tooltip, short_op_name
from gui.panels.code_editor import CodeEditor, language_for, warm_up_highlighter
from gui.panels.list_model import ROW_ROLE, Row, RowsModel, compact_table, visible_row_count
from gui.panels.static_label import StaticLabel
from gui.session import DebugSession
from gui.sources import SourceText, find_source, shorten_long_lines
from gui.stepping import normalize_file
from gui.theme import colors

MAX_LINE_OPS = 400
"""Most ops listed for one line (a line in a loop can issue thousands)."""

_FIRST = frozenset({0})


class SourcePanel(QWidget):
    """Shows the current op's file with the line marked; the gutter toggles breakpoints."""

    def __init__(self, session: DebugSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("source_panel")
        self.session = session
        self.shown_seq = -1
        """The seq whose line this panel shows (for tests and the latency benchmark)."""
        self.shown_file: str | None = None
        """The file shown, as the trace names it (None for the placeholder)."""
        self._source: SourceText | None = None
        self._line_ops_key: tuple[str, int] | None = None
        self._line_rows: dict[tuple[str, int], list[Row]] = {}
        self._cut_lines: dict[str, int] = {}

        self.title = StaticLabel("model.py", bold=True)
        """The file name in bold, then its folder and where the text came from (muted)."""
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.where = StaticLabel("line 0000 in forward()", align=Qt.AlignmentFlag.AlignRight)
        self.where.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        header = QHBoxLayout()
        header.setContentsMargins(8, 4, 8, 4)
        header.addWidget(self.title, 2)  # the file name keeps two thirds of a narrow panel
        header.addWidget(self.where, 1)
        self.notice = QLabel()
        """Where the text shown came from when that matters (disk), and what was cut."""
        self.notice.setObjectName("source_notice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.RichText)
        self.notice.setContentsMargins(8, 3, 8, 3)
        self.notice.setAutoFillBackground(True)
        self.notice.hide()

        warm_up_highlighter()
        self.editor = CodeEditor()
        self.editor.setObjectName("source_editor")
        self.editor.sig_gutter_clicked.connect(self._on_gutter_clicked)
        self.placeholder = QLabel()
        self.placeholder.setObjectName("source_placeholder")
        self.placeholder.setTextFormat(Qt.TextFormat.RichText)  # callers escape trace text
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.editor)
        self.stack.addWidget(self.placeholder)

        self.line_ops_model = RowsModel(("#", "Ops on this line", "Output"), self)
        self.line_ops_model.current_background = QBrush(colors(self.palette()).current_line)
        self.line_ops = compact_table(self.line_ops_model)
        self.line_ops.setObjectName("line_ops")
        self.line_ops.setColumnWidth(0, 56)
        self.line_ops.setColumnWidth(1, 220)
        self.line_ops.clicked.connect(self._on_line_op_clicked)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.line_ops)
        splitter.setStretchFactor(0, 4)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([400, 110])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.notice)
        layout.addWidget(splitter, 1)

        session.sig_trace_loaded.connect(self._on_trace_loaded)
        session.sig_current_op_changed.connect(self._on_current_op_changed)
        session.sig_breakpoints_changed.connect(self._on_breakpoints_changed)
        session.sig_location_requested.connect(self._on_location_requested)
        self._on_trace_loaded()
        self._on_current_op_changed(session.index)

    # -- session events ---

    def _on_trace_loaded(self) -> None:
        self.editor.forget_documents()
        self.shown_file = None
        self._cut_lines.clear()
        self.notice.hide()
        self._source = None
        self._line_ops_key = None
        self._line_rows.clear()
        self.line_ops_model.set_rows([])
        if self.session.trace is None:
            self._show_placeholder("Open a trace (File → Open, or drop a .opscope file here).")
            self.title.setText("")
            self.title.set_suffix("")
            self.where.setText("")

    def _on_current_op_changed(self, seq: int) -> None:
        self.shown_seq = seq
        op = self.session.current
        if op is None:
            return
        self._show_file(op.file)
        span = (op.col, op.end_col) if 0 <= op.col < op.end_col else None
        self.editor.mark_lines(op.line if op.file else None, span)
        if self.shown_file is not None and op.line > 0:
            self.editor.reveal_line(op.line)
        elif self._source is not None and self._source.origin == "missing":
            self._show_missing(self._source)
        func = f" in {op.func}()" if op.func else ""
        self.where.setText(f"line {op.line}{func}" if op.file else "")
        self._fill_line_ops(op.file, op.line, op.seq)

    def _on_breakpoints_changed(self) -> None:
        self._refresh_breakpoints()

    def _on_location_requested(self, file: str, line: int) -> None:
        self._show_file(file)
        op = self.session.current
        current = op.line if op is not None and op.file == file else None
        self.editor.mark_lines(current, None, viewed=line)
        if self.shown_file is not None:
            self.editor.reveal_line(line)

    # -- showing a file ---

    def _show_file(self, file: str) -> None:
        if self.session.trace is None or (self._source is not None and self._source.file == file):
            return
        source = find_source(self.session.trace, file)
        self._source = source
        cut = 0
        if source.text is None:
            self.shown_file = None
            self._show_missing(source)
        else:
            self.shown_file = file
            if not self.editor.has_document(file):
                text, cut = shorten_long_lines(source.text)
                self._cut_lines[file] = cut
                self.editor.show_text(file, text, language_for(file))
            else:
                self.editor.show_text(file, "", language_for(file))
            cut = self._cut_lines.get(file, 0)
            self.editor.active_lines = self.session.timeline.lines_in(file)
            self.stack.setCurrentWidget(self.editor)
            self._refresh_breakpoints()
        self._set_title(source)
        self._set_notice(source, cut)

    def _set_notice(self, source: SourceText, cut: int) -> None:
        theme = colors(self.palette())
        parts = []
        warn = False
        if source.origin == "disk":
            where = _escape(source.disk_path or source.file)
            parts.append(
                f"Read from disk ({where}): the trace did not store this file, so it may "
                "differ from the code that ran."
            )
            if source.changed_after_recording:
                warn = True
                parts.append("<b>It was modified after the recording started.</b>")
            if source.problem:
                parts.append(f"({_escape(source.problem)}.)")
        if cut:
            lines = "line is" if cut == 1 else "lines are"
            parts.append(f"{cut:,} very long {lines} cut short here.")
        if not parts:
            self.notice.hide()
            return
        self.notice.setText(" ".join(parts))
        palette = self.notice.palette()
        palette.setColor(
            self.notice.backgroundRole(),
            theme.nonfinite_background if warn else theme.current_line,
        )
        self.notice.setPalette(palette)
        self.notice.show()

    def _set_title(self, source: SourceText) -> None:
        theme = colors(self.palette())
        name = PurePath(source.file).name if source.file else "unknown location"
        folder = str(PurePath(source.file).parent) if source.file else ""
        folder = "" if folder in ("", ".") else folder
        self.title.setText(name)  # where the text came from is said below (banner, placeholder)
        self.title.set_suffix(folder, theme.muted)
        self.title.setToolTip(plain_tooltip(source.file))

    def _show_missing(self, source: SourceText) -> None:
        op = self.session.current
        where = ""
        if op is not None and op.file:
            func = f", in {op.func}()" if op.func else ""
            where = f"<br><br>The current op was issued from line {op.line}{_escape(func)}."
        name = _escape(PurePath(source.file).name) if source.file else "This op's source"
        self._show_placeholder(
            f"<b>{name}</b> cannot be shown: {_escape(source.problem)}.{where}",
        )

    def _show_placeholder(self, html: str) -> None:
        self.placeholder.setText(html)
        self.stack.setCurrentWidget(self.placeholder)

    def _refresh_breakpoints(self) -> None:
        if self.shown_file is None:
            return
        key = normalize_file(self.shown_file)
        self.editor.breakpoints = {
            line for file, line in self.session.line_breakpoints if file == key
        }
        self.editor.gutter.update()

    # -- ops on the current line ---

    def _fill_line_ops(self, file: str, line: int, seq: int) -> None:
        seqs = self.session.timeline.ops_on_line(file, line) if file else [seq]
        start = _window_start(seqs, seq)
        key = (file, line, start)
        model = self.line_ops_model
        if key != self._line_ops_key:
            self._line_ops_key = key
            rows = self._line_rows.get(key) if file else None
            if rows is None:
                rows = self._build_line_rows(seqs, start)
                if file:
                    if len(self._line_rows) >= 256:  # keep the cache small: drop the oldest
                        self._line_rows.pop(next(iter(self._line_rows)))
                    self._line_rows[key] = rows
            count = len(seqs)
            model.headers = ("#", f"Ops on this line ({count:,})", "Output")
            model.update_rows(rows, keep=visible_row_count(self.line_ops))
            model.headerDataChanged.emit(Qt.Orientation.Horizontal, 1, 1)
        # The current op is marked bold, not selected: selecting a row costs a round of model
        # calls per column on every step.
        model.set_bold(lambda row: row.target == seq)
        for number, row in enumerate(model.rows):
            if row.target == seq:
                index = model.index(number, 0)
                if not self.line_ops.viewport().rect().contains(self.line_ops.visualRect(index)):
                    self.line_ops.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)
                break

    def _build_line_rows(self, seqs: list[int], start: int) -> list[Row]:
        """Rows for ``seqs[start:start + MAX_LINE_OPS]``, with counts of those left out."""
        trace = self.session.trace
        theme = colors(self.palette())
        rows = []
        if start:
            rows.append(Row(("", f"… {start:,} earlier", "")))
        for other in seqs[start : start + MAX_LINE_OPS]:
            op = trace.ops[other]
            out = op.outputs[0] if op.outputs else None
            output = format_tensor(out) if out else ""
            if out is not None and out.nonfinite:
                output += f"  {nonfinite_text(out)}"
            bad = dict.fromkeys(range(3), theme.nonfinite) if op.nonfinite else {}
            rows.append(
                Row(
                    (str(other), short_op_name(op.op_type), output),
                    target=other,
                    tooltip=f"{op.op_type} in {op.module_path or '(top level)'}",
                    colors=bad,
                    align_right=_FIRST,
                )
            )
        later = len(seqs) - start - MAX_LINE_OPS
        if later > 0:
            rows.append(Row(("", f"… {later:,} more", "")))
        return rows

    def line_op_seqs(self) -> list[int]:
        """The seqs listed under "Ops on this line", in order."""
        return [row.target for row in self.line_ops_model.rows if row.target is not None]

    # -- user input ---

    def _on_gutter_clicked(self, line: int) -> None:
        if self.shown_file is not None:
            self.session.toggle_breakpoint(self.shown_file, line)

    def _on_line_op_clicked(self, index: QModelIndex) -> None:
        seq = index.data(ROW_ROLE)
        if seq is not None:
            self.session.go_to(int(seq))

    def toggle_breakpoint_at_caret(self) -> bool:
        """F9: toggle the breakpoint on the caret's line; False when no file is shown."""
        if self.shown_file is None:
            return False
        self.session.toggle_breakpoint(self.shown_file, self.editor.caret_line())
        return True

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.editor.restyle()
            self.line_ops_model.current_background = QBrush(colors(self.palette()).current_line)
            self._line_rows.clear()  # their NaN colours follow the palette
            self._line_ops_key = None
            if self._source is not None:
                self._set_title(self._source)
                self._set_notice(self._source, self._cut_lines.get(self._source.file, 0))
        super().changeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _window_start(seqs: list[int], seq: int) -> int:
    """Where the listed window of a line's ops starts so that it holds ``seq``: steps of half a
    window, so neighbouring ops share (cached) rows."""
    if len(seqs) <= MAX_LINE_OPS:
        return 0
    half = MAX_LINE_OPS // 2
    index = bisect.bisect_left(seqs, seq)
    return max(0, min((index // half - 1) * half, len(seqs) - MAX_LINE_OPS))
