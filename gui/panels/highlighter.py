"""``LazyHighlighter``: pygments colours for the lines on screen only (Qt).

``QSyntaxHighlighter`` (and superqt's ``CodeSyntaxHighlight`` built on it) colours every line of
a document as soon as it is shown, one ``setFormat`` call per character: a 2 MB source file
froze the window for seconds. This highlighter lexes a line when it first comes into view and
gives its layout one format range per token, so showing a file costs the same whatever its size.

Lines are lexed one at a time, as superqt does: a string spanning lines is coloured line by line.
"""

from __future__ import annotations

from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.token import Token, _TokenType
from pygments.util import ClassNotFound
from PySide6.QtGui import QColor, QFont, QTextBlock, QTextCharFormat, QTextDocument, QTextLayout

MAX_LINE = 2_000
"""Characters of one line that are lexed; the rest stays plain (minified or generated code)."""


def token_formats(style_name: str) -> dict[_TokenType, QTextCharFormat]:
    """Text formats for the token types of a pygments style (bold, italic, colour)."""
    style = get_style_by_name(style_name)
    formats: dict[_TokenType, QTextCharFormat] = {}
    for token, spec in style:
        fmt = QTextCharFormat()
        if spec["color"]:
            fmt.setForeground(QColor(f"#{spec['color']}"))
        if spec["bold"]:
            fmt.setFontWeight(QFont.Weight.Bold)
        if spec["italic"]:
            fmt.setFontItalic(True)
        formats[token] = fmt
    return formats


class LazyHighlighter:
    """Colours the blocks of one document on request (``highlight_blocks``), each once."""

    def __init__(self, document: QTextDocument, language: str, style_name: str) -> None:
        self.document = document
        try:
            self.lexer: Lexer | None = get_lexer_by_name(language, stripnl=False, ensurenl=False)
        except ClassNotFound:
            self.lexer = None
        self._formats = token_formats(style_name)
        self._done: set[int] = set()

    @property
    def highlighted(self) -> int:
        """How many lines have been coloured so far."""
        return len(self._done)

    def set_style(self, style_name: str) -> None:
        """Switch colours (a palette change); lines are coloured again as they are shown."""
        self._formats = token_formats(style_name)
        self._done.clear()

    def highlight_blocks(self, first: QTextBlock, last_number: int) -> None:
        """Colour the blocks from ``first`` to block number ``last_number`` not coloured yet."""
        if self.lexer is None:
            return
        block = first
        while block.isValid() and block.blockNumber() <= last_number:
            number = block.blockNumber()
            if number not in self._done:
                self._done.add(number)
                self._apply(block)
            block = block.next()

    def _apply(self, block: QTextBlock) -> None:
        text = block.text()[:MAX_LINE]
        if not text.strip():
            return
        ranges = []
        position = 0
        formats = self._formats
        for token, value in self.lexer.get_tokens(text):  # type: ignore[union-attr]
            length = len(value)
            fmt = formats.get(token)
            while fmt is None and token.parent is not None:
                token = token.parent
                fmt = formats.get(token)
            if fmt is not None and token is not Token and length and not fmt.isEmpty():
                span = QTextLayout.FormatRange()
                span.start, span.length, span.format = position, length, fmt
                ranges.append(span)
            position += length
        if ranges:
            block.layout().setFormats(ranges)
            self.document.markContentsDirty(block.position(), block.length())
