"""Source positions: spans, the offset -> line/column map, and the table of field spans.

The lowest layer of the front end: it knows text and offsets, nothing about
syntax, diagnostics or their rendering. Every spec is read with its line
endings normalised (`normalize_newlines`), and every span indexes that text.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

#: A field's place in the validated spec: `("rules", 2, "weight")`, `("gates", 0, "threshold")`.
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text, with every line ending read as `\\n` (`normalize_newlines`).

    Offsets count characters of that text; lines and columns are 1-based; `end_*` is exclusive.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other`."""
        return Span(self.start, other.end, self.line, self.column, other.end_line, other.end_column)

    def head(self, length: int) -> Span:
        """The first `length` characters of the span, on its first line (the keyword it starts with)."""
        return Span(self.start, self.start + length, self.line, self.column, self.line, self.column + length)


NO_SPAN = Span(0, 0, 1, 1, 1, 1)


def normalize_newlines(text: str) -> str:
    """`\r\n` and a lone `\r` as `\n`: how every spec is read, so spans mean the same whatever the line endings."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


class SourceMap:
    """Turns character offsets into spans with 1-based lines and columns."""

    def __init__(self, text: str):
        self.text = text
        self._line_starts = [0]
        position = text.find("\n")
        while position != -1:
            self._line_starts.append(position + 1)
            position = text.find("\n", position + 1)

    def _line_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        line, column = self._line_column(start)
        end_line, end_column = self._line_column(end)
        return Span(start, end, line, column, end_line, end_column)

    def line_span(self, number: int) -> Span:
        """Line `number` (1-based), without its line break."""
        start = self._line_starts[min(max(number, 1), len(self._line_starts)) - 1]
        end = self.text.find("\n", start)
        return self.span(start, len(self.text) if end == -1 else end)

    def point(self, offset: int) -> Span:
        offset = max(0, min(offset, len(self.text)))
        width = 1 if offset < len(self.text) and self.text[offset] != "\n" else 0
        return self.span(offset, offset + width)


class SpanTable(dict[FieldPath, Span]):
    """Field path -> source span. Lookups fall back to the nearest enclosing path."""

    def find(self, path: FieldPath) -> Span:
        for length in range(len(path), 0, -1):
            span = self.get(path[:length])
            if span is not None:
                return span
        return NO_SPAN
