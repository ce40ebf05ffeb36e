"""LSP positions <-> offsets in a spec's text.

The language server protocol names a place by a 0-based line and a character counted in
code units of the negotiated encoding: UTF-16 unless the client offers another (a
character outside the Basic Multilingual Plane, an emoji, is two UTF-16 units, four UTF-8
units, one UTF-32 unit). rewardlang's spans count Python characters (code points) in the
text with its line endings read as `\\n`; each line keeps its characters whatever its
ending, so lines and columns mean the same in the editor's text and in the spans.
"""

from __future__ import annotations

import bisect

from rewardlang.source import normalize_newlines

UTF8, UTF16, UTF32 = "utf-8", "utf-16", "utf-32"  # the protocol's names (PositionEncodingKind)


def units(character: str, encoding: str) -> int:
    """How many code units of `encoding` one character takes (an encoding the protocol does not name: UTF-16's)."""
    point = ord(character)
    if encoding == UTF32:
        return 1
    if encoding == UTF8:
        return 1 if point < 0x80 else 2 if point < 0x800 else 3 if point < 0x10000 else 4
    return 2 if point > 0xFFFF else 1


class Positions:
    """Offsets of one text (line endings read as `\\n`) to and from LSP positions in `encoding`."""

    def __init__(self, text: str, encoding: str = UTF16):
        self.text = normalize_newlines(text)
        self.encoding = encoding
        self._line_starts = [0]
        position = self.text.find("\n")
        while position != -1:
            self._line_starts.append(position + 1)
            position = self.text.find("\n", position + 1)

    def _line_end(self, line: int) -> int:
        return self._line_starts[line + 1] - 1 if line + 1 < len(self._line_starts) else len(self.text)

    def position(self, offset: int) -> tuple[int, int]:
        """The (line, character) of character offset `offset`, both 0-based; clamped to the text."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self._line_starts, offset) - 1
        start = self._line_starts[line]
        if self.encoding == UTF32:
            return line, offset - start
        return line, sum(units(character, self.encoding) for character in self.text[start:offset])

    def offset(self, line: int, character: int) -> int:
        """The character offset of an LSP position; a place past a line's end is its end, past the text its end."""
        if line < 0:
            return 0
        if line >= len(self._line_starts):
            return len(self.text)
        start, end = self._line_starts[line], self._line_end(line)
        if self.encoding == UTF32:
            return min(start + max(character, 0), end)
        counted = 0
        for index in range(start, end):
            counted += units(self.text[index], self.encoding)
            if counted > character:  # inside this character (half a surrogate pair): its start
                return index
        return end

    @property
    def end(self) -> tuple[int, int]:
        """The position just past the text's last character."""
        return self.position(len(self.text))
