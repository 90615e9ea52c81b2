"""A read-only code view with a gutter: line numbers, breakpoints, the current-line arrow.

Each file gets its own ``QTextDocument`` with a ``LazyHighlighter`` (pygments), kept for the
session: lines are coloured when they first come into view, so a file of any size shows at
once and stepping between files does not colour them again.
"""

from __future__ import annotations

import threading

from pygments.lexers import get_lexer_by_name, get_lexer_for_filename
from pygments.util import ClassNotFound
from PySide6.QtCore import QEvent, QPointF, QRect, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPolygonF,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QFrame,
    QPlainTextDocumentLayout,
    QPlainTextEdit,
    QTextEdit,
    QWidget,
)

from gui.panels.cell_text import CellTexts
from gui.panels.highlighter import LazyHighlighter
from gui.theme import code_font, colors

MARKER_WIDTH = 20
"""Width of the gutter column holding breakpoint dots and the current-line arrow."""


def warm_up_highlighter(language: str = "python") -> None:
    """Build the pygments lexer's tables in a background thread (the first build takes most of
    a second), so the first file shown does not freeze the window."""
    threading.Thread(
        target=get_lexer_by_name, args=(language,), name="opscope-lexer", daemon=True
    ).start()


def language_for(file: str) -> str:
    """The pygments language name for ``file`` (``python`` when unsure)."""
    if file.endswith((".py", ".pyw", ".pyi")) or not file:
        return "python"
    try:
        lexer = get_lexer_for_filename(file)
    except ClassNotFound:
        return "text"
    return lexer.aliases[0] if lexer.aliases else "text"


class _Gutter(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self.editor = editor
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # fills its own background
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to set or clear a breakpoint (F9)")

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event: QPaintEvent) -> None:
        self.editor.paint_gutter(self, event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        line = self.editor.line_at(event.position().y())
        if line is not None and event.button() == Qt.MouseButton.LeftButton:
            self.editor.sig_gutter_clicked.emit(line)


class CodeEditor(QPlainTextEdit):
    """Read-only source view; the gutter shows breakpoints and the current line."""

    sig_gutter_clicked = Signal(int)
    """The gutter of ``line`` (1-based) was clicked."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
            | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
        self.setFont(code_font())
        self.setCenterOnScroll(False)
        self.current_line: int | None = None
        """The line of the current op (1-based), marked with the arrow."""
        self.viewed_line: int | None = None
        """A line shown on request (a call-stack frame), marked more lightly."""
        self.breakpoints: set[int] = set()
        self.active_lines: set[int] = set()
        """Lines that issued ops in the trace (their numbers are drawn brighter)."""
        self._span: tuple[int, int] | None = None
        self._marked_current: int | None = None
        self._marked_viewed: int | None = None
        self._documents: dict[str, tuple[QTextDocument, LazyHighlighter]] = {}
        self.document_key: str | None = None
        self.gutter = _Gutter(self)
        self._numbers = CellTexts(_plain_and_bold(self.font()))
        """Line numbers, laid out once (plain, and bold for the current line)."""
        self.blockCountChanged.connect(self._update_margins)
        self.updateRequest.connect(self._on_update_request)
        self._update_margins()

    # -- documents ---

    def show_text(self, key: str, text: str, language: str = "python") -> None:
        """Show ``text`` (cached under ``key``, highlighted as ``language``)."""
        if key == self.document_key:
            return
        if key not in self._documents:
            document = QTextDocument(self)
            document.setDocumentLayout(QPlainTextDocumentLayout(document))
            document.setDefaultFont(code_font())
            document.setPlainText(text)
            highlighter = LazyHighlighter(document, language, colors(self.palette()).code_style)
            self._documents[key] = (document, highlighter)
        self.setDocument(self._documents[key][0])
        self.document_key = key
        self._update_margins()
        self.highlight_visible()
        self.gutter.update()

    def highlight_visible(self) -> None:
        """Colour the lines on screen that were not coloured yet (and a screenful around)."""
        entry = self._documents.get(self.document_key) if self.document_key else None
        if entry is None:
            return
        first = self.firstVisibleBlock()
        height = max(1, self.fontMetrics().height())
        lines = self.viewport().height() // height + 1
        entry[1].highlight_blocks(first, first.blockNumber() + 2 * lines)

    def highlighter(self) -> LazyHighlighter | None:
        """The highlighter of the document shown (None for the placeholder)."""
        entry = self._documents.get(self.document_key) if self.document_key else None
        return entry[1] if entry else None

    def has_document(self, key: str) -> bool:
        """True when ``key`` was shown before (its highlighted document is cached)."""
        return key in self._documents

    def forget_documents(self) -> None:
        """Drop cached documents (a new trace)."""
        placeholder = QTextDocument(self)
        placeholder.setDocumentLayout(QPlainTextDocumentLayout(placeholder))
        self.setDocument(placeholder)
        for document, _highlighter in self._documents.values():
            document.deleteLater()
        self._documents.clear()
        self.document_key = None

    def restyle(self) -> None:
        """Re-highlight every cached document for the current palette."""
        style = colors(self.palette()).code_style
        for _document, highlighter in self._documents.values():
            highlighter.set_style(style)
        self.highlight_visible()
        self.mark_lines(self.current_line, self._span, self.viewed_line)

    # -- marks ---

    def mark_lines(
        self,
        current: int | None,
        span: tuple[int, int] | None = None,
        viewed: int | None = None,
    ) -> None:
        """Mark the current line (and the op's columns ``span`` on it) and a viewed line."""
        self.current_line, self._span, self.viewed_line = current, span, viewed
        theme = colors(self.palette())
        selections = []
        for line, color in ((viewed, theme.accent), (current, theme.current_line)):
            block = self.document().findBlockByNumber(line - 1) if line else None
            if block is None or not block.isValid():
                continue
            selection = QTextEdit.ExtraSelection()
            background = QColor(color)
            if line == viewed and line != current:
                background.setAlpha(45)
            selection.format.setBackground(background)
            selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            selection.cursor = QTextCursor(block)
            selections.append(selection)
            if line == current and span is not None:
                start, end = span
                length = block.length() - 1
                if 0 <= start < end <= length:
                    exact = QTextEdit.ExtraSelection()
                    fmt = QTextCharFormat()
                    emphasis = QColor(theme.current_marker)
                    emphasis.setAlpha(70)
                    fmt.setBackground(emphasis)
                    exact.format = fmt
                    cursor = QTextCursor(block)
                    cursor.setPosition(block.position() + start)
                    cursor.setPosition(block.position() + end, QTextCursor.MoveMode.KeepAnchor)
                    exact.cursor = cursor
                    selections.append(exact)
        old_lines = {self._marked_current, self._marked_viewed}
        self._marked_current, self._marked_viewed = current, viewed
        self.setExtraSelections(selections)
        for line in old_lines | {current, viewed}:
            if line:
                self._update_gutter_line(line)

    def _update_gutter_line(self, line: int) -> None:
        """Repaint the gutter next to ``line`` only (its arrow or bold number changed)."""
        block = self.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return
        geometry = self.blockBoundingGeometry(block).translated(self.contentOffset())
        self.gutter.update(0, int(geometry.top()), self.gutter.width(), int(geometry.height()) + 1)

    def reveal_line(self, line: int) -> None:
        """Put the caret on ``line`` and scroll it into view (centred when it was off-screen)."""
        block = self.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return
        cursor = QTextCursor(block)
        visible = self._line_visible(line)
        self.setTextCursor(cursor)
        if not visible:
            self.centerCursor()

    def _line_visible(self, line: int) -> bool:
        block = self.document().findBlockByNumber(line - 1)
        if not block.isValid():
            return False
        top = self.blockBoundingGeometry(block).translated(self.contentOffset()).top()
        height = self.blockBoundingRect(block).height()
        return top >= 0 and top + height <= self.viewport().height()

    def caret_line(self) -> int:
        """The 1-based line of the text caret."""
        return self.textCursor().blockNumber() + 1

    # -- gutter ---

    def gutter_width(self) -> int:
        digits = max(3, len(str(max(1, self.blockCount()))))
        return MARKER_WIDTH + self.fontMetrics().horizontalAdvance("9") * digits + 12

    def _update_margins(self, _count: int = 0) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _on_update_request(self, rect: QRect, dy: int) -> None:
        self.highlight_visible()
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange and hasattr(self, "_numbers"):
            self._numbers.set_fonts(_plain_and_bold(self.font()))
        super().changeEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.highlight_visible()
        area = self.contentsRect()
        self.gutter.setGeometry(QRect(area.left(), area.top(), self.gutter_width(), area.height()))

    def line_at(self, y: float) -> int | None:
        """The 1-based line at gutter height ``y``, or None below the text."""
        block = self.firstVisibleBlock()
        offset = self.contentOffset()
        while block.isValid():
            geometry = self.blockBoundingGeometry(block).translated(offset)
            if geometry.top() <= y < geometry.bottom():
                return block.blockNumber() + 1
            if geometry.top() > y:
                break
            block = block.next()
        return None

    def paint_gutter(self, gutter: QWidget, event: QPaintEvent) -> None:
        """Draw line numbers, breakpoint dots and the current-line arrow."""
        theme = colors(self.palette())
        painter = QPainter(gutter)
        painter.fillRect(event.rect(), theme.gutter_background)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        block = self.firstVisibleBlock()
        offset = self.contentOffset()
        width = gutter.width()
        text_color = self.palette().text().color()
        while block.isValid():
            geometry = self.blockBoundingGeometry(block).translated(offset)
            if geometry.top() > event.rect().bottom():
                break
            if block.isVisible() and geometry.bottom() >= event.rect().top():
                line = block.blockNumber() + 1
                height = metrics.height()
                top = geometry.top()
                middle = top + height / 2
                if line in self.breakpoints:
                    painter.setPen(Qt.PenStyle.NoPen)
                    painter.setBrush(theme.breakpoint)
                    painter.drawEllipse(QPointF(MARKER_WIDTH / 2 + 1, middle), 5.0, 5.0)
                if line == self.current_line:
                    painter.setPen(QColor(theme.current_marker).darker(130))
                    painter.setBrush(theme.current_marker)
                    arrow = QPolygonF(
                        [
                            QPointF(3, middle - 4),
                            QPointF(10, middle - 4),
                            QPointF(16, middle),
                            QPointF(10, middle + 4),
                            QPointF(3, middle + 4),
                        ]
                    )
                    painter.drawPolygon(arrow)
                if line == self.current_line:
                    painter.setPen(text_color)
                elif line in self.active_lines:
                    painter.setPen(theme.muted)
                else:
                    painter.setPen(theme.gutter_text)
                weight = 1 if line == self.current_line else 0
                painter.setFont(self._numbers.fonts[weight])
                self._numbers.draw(
                    painter,
                    QRect(MARKER_WIDTH, int(top), width - MARKER_WIDTH - 8, height),
                    str(line),
                    font=weight,
                    right=True,
                )
            block = block.next()
        painter.setPen(theme.border)
        painter.drawLine(width - 1, event.rect().top(), width - 1, event.rect().bottom())
        painter.end()


def _plain_and_bold(font: QFont) -> tuple[QFont, QFont]:
    bold = QFont(font)
    bold.setBold(True)
    return QFont(font), bold
