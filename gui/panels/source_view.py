"""Source panel: the user's file at the current op, a breakpoint gutter and the line's ops."""

from __future__ import annotations

from pathlib import PurePath

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.formatting import format_tensor, nonfinite_text, short_op_name
from gui.panels.code_editor import CodeEditor, language_for
from gui.session import DebugSession
from gui.sources import SourceText, find_source
from gui.stepping import normalize_file
from gui.theme import colors

MAX_LINE_OPS = 400
"""Most ops listed for one line (a line in a loop can issue thousands)."""


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

        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.where = QLabel()
        self.where.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        header = QHBoxLayout()
        header.setContentsMargins(8, 4, 8, 4)
        header.addWidget(self.title, 1)
        header.addWidget(self.where)

        self.editor = CodeEditor()
        self.editor.setObjectName("source_editor")
        self.editor.sig_gutter_clicked.connect(self._on_gutter_clicked)
        self.placeholder = QLabel()
        self.placeholder.setObjectName("source_placeholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setMargin(24)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.editor)
        self.stack.addWidget(self.placeholder)

        self.line_ops = QTreeWidget()
        self.line_ops.setObjectName("line_ops")
        self.line_ops.setHeaderLabels(["#", "Ops on this line", "Output"])
        self.line_ops.setRootIsDecorated(False)
        self.line_ops.setUniformRowHeights(True)
        self.line_ops.setAlternatingRowColors(True)
        self.line_ops.header().setStretchLastSection(True)
        self.line_ops.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.line_ops.setColumnWidth(1, 220)
        self.line_ops.itemClicked.connect(self._on_line_op_clicked)

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
        self._source = None
        self._line_ops_key = None
        self.line_ops.clear()
        if self.session.trace is None:
            self._show_placeholder("Open a trace (File → Open, or drop a .opscope file here).")
            self.title.setText("")
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
        if source.text is None:
            self.shown_file = None
            self._show_missing(source)
        else:
            self.shown_file = file
            self.editor.show_text(file, source.text, language_for(file))
            self.editor.active_lines = self.session.timeline.lines_in(file)
            self.stack.setCurrentWidget(self.editor)
            self._refresh_breakpoints()
        self._set_title(source)

    def _set_title(self, source: SourceText) -> None:
        theme = colors(self.palette())
        name = PurePath(source.file).name if source.file else "unknown location"
        folder = str(PurePath(source.file).parent) if source.file else ""
        folder = "" if folder in ("", ".") else folder
        note = ""
        if source.origin == "disk":
            note = " · from disk, may differ from the recorded run"
        elif source.origin == "missing":
            note = " · source not available"
        self.title.setText(
            f"<b>{_escape(name)}</b>&nbsp;&nbsp;<span style='color:{theme.muted.name()}'>"
            f"{_escape(folder)}{_escape(note)}</span>"
        )
        self.title.setToolTip(source.file)

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
        key = (file, line)
        if key != self._line_ops_key:
            self._line_ops_key = key
            self.line_ops.clear()
            trace = self.session.trace
            seqs = self.session.timeline.ops_on_line(file, line) if file else [seq]
            theme = colors(self.palette())
            items = []
            for other in seqs[:MAX_LINE_OPS]:
                op = trace.ops[other]
                out = op.outputs[0] if op.outputs else None
                output = format_tensor(out) if out else ""
                if out is not None and out.nonfinite:
                    output += f"  {nonfinite_text(out)}"
                item = QTreeWidgetItem([str(other), short_op_name(op.op_type), output])
                item.setData(0, Qt.ItemDataRole.UserRole, other)
                item.setTextAlignment(0, Qt.AlignmentFlag.AlignRight)
                item.setToolTip(1, f"{op.op_type} in {op.module_path or '(top level)'}")
                if op.nonfinite:
                    for column in range(3):
                        item.setForeground(column, theme.nonfinite)
                items.append(item)
            self.line_ops.addTopLevelItems(items)
            if len(seqs) > MAX_LINE_OPS:
                more = QTreeWidgetItem(["", f"… {len(seqs) - MAX_LINE_OPS:,} more", ""])
                more.setFlags(Qt.ItemFlag.NoItemFlags)
                self.line_ops.addTopLevelItem(more)
            self.line_ops.headerItem().setText(1, f"Ops on this line ({len(seqs):,})")
        for index in range(self.line_ops.topLevelItemCount()):
            item = self.line_ops.topLevelItem(index)
            current = item.data(0, Qt.ItemDataRole.UserRole) == seq
            font = item.font(1)
            if font.bold() != current:
                font.setBold(current)
                for column in range(3):
                    item.setFont(column, font)
            if current:
                self.line_ops.setCurrentItem(item)
                self.line_ops.scrollToItem(item)

    # -- user input ---

    def _on_gutter_clicked(self, line: int) -> None:
        if self.shown_file is not None:
            self.session.toggle_breakpoint(self.shown_file, line)

    def _on_line_op_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        seq = item.data(0, Qt.ItemDataRole.UserRole)
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
            if self._source is not None:
                self._set_title(self._source)
        super().changeEvent(event)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
