"""Banned phrases written in disguise (docs/language.md §6.5, "Disguised banned words").

`unicode confusables` (the default of `banned`) removes invisible characters and
folds look-alike letters of other scripts. What a policy can still write with
plain ASCII, a `banned` rule under `unicode confusables` catches here, and only
there (a bonus phrase written "h3re's how" must not pay more):

- leetspeak: digits and symbols that stand for letters (`LEET`): "h4rm", "1ll3g4l", "$ex";
- ASCII look-alikes: a capital I for a lower-case l ("harmfuI"); O, l and I for
  the digits 0 and 1 (`DIGIT_LOOKALIKES`: "1OO% refund");
- spaced-out letters: single letters with separators between them (`SEPARATORS`):
  "h a r m", "h-a-r-m", "h.a.r.m", "c a l m  d o w n";
- combining marks added to Latin letters: "h̶a̶r̶m̶", "hárm".

Each banned phrase becomes one RE2 pattern: every letter is a class of the
characters that can stand for it, each word is written compact or spaced out,
and the words may be joined by spaces or separators (or nothing). One RE2 pass
per text finds the candidates, in linear time. A candidate must then pass
`DisguiseMatcher._accept` (a few characters around it are read, never more):

- it holds a letter, `@` or `$`: a plain number ("455", "1.0", "50") is no word;
- it is not a code of capitals and digits ("A55", "MP3", "B52");
- in an all-capitals candidate I is I (banned "fall" does not fire on "FAIL");
- a spaced-out run counts as a whole: "x h a r m" is "xharm", not "harm".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence

from rewardlang.rules.matching import NOT_WORD, Regex, escape, is_word_char, utf8
from rewardlang.text import non_ascii

# The characters that stand for a letter, besides the letter itself.
LEET: dict[str, str] = {
    "a": "4@",
    "b": "8",
    "e": "3",
    "g": "69",
    "i": "1!|",
    "l": "1!|I",  # I: a capital i for a lower-case l, outside all-capitals words
    "o": "0",
    "s": "5$",
    "t": "7+",
}
# The ASCII letters that look like a digit of a banned phrase.
DIGIT_LOOKALIKES: dict[str, str] = {"0": "oO", "1": "lIi|"}
# What may stand between spaced-out letters: 1 to 3 of these.
SEPARATORS = " \t\n.-_*~"
# Characters of a candidate that make it more than a number (with the letters).
WORDLIKE_SYMBOLS = "@$"
# Leetspeak symbols that are no word characters: they still belong to the word they are in.
_LEET_SYMBOLS = frozenset(c for chars in LEET.values() for c in chars if not is_word_char(c))

_SEPARATOR_CLASS = "[" + "".join("\\" + c if not c.isalnum() and c != " " else c for c in SEPARATORS) + "]"
_SPACED = _SEPARATOR_CLASS + "{1,3}"  # between two letters of a spaced-out word
_GAP = _SEPARATOR_CLASS + "*"  # between two words of a phrase
_CODE = re.compile(r"[A-Z]+[0-9]+")  # product and model codes: A55, MP3, B52
_CHUNK = 50  # phrases per RE2 pattern: a pattern stays far below RE2's memory budget


def leet_markdown() -> str:
    """The leetspeak table as docs/language.md §6.5 shows it (a test compares the two)."""
    rows = [f"| `{letter}` | {' '.join(f'`{c}`' for c in chars)} |" for letter, chars in LEET.items()]
    rows += [f"| `{digit}` | {' '.join(f'`{c}`' for c in chars)} |" for digit, chars in DIGIT_LOOKALIKES.items()]
    return "\n".join(["| Letter or digit | Also written |", "|---|---|", *rows])


def disguise_view(text: str) -> str:
    """The text the disguise patterns read: the case-sensitive `confusables` text, decomposed
    (NFD) when it holds a precomposed letter, so that "hárm" is "ha\u0301rm"."""
    if text.isascii() or unicodedata.is_normalized("NFD", non_ascii(text)):
        return text
    return unicodedata.normalize("NFD", text)


def _in_class(chars: str) -> str:
    return "[" + "".join(c if c.isalnum() else "\\" + c for c in chars) + "]"


def _char_pattern(char: str, both_cases: bool, capital_i: bool) -> str:
    """What may stand for one character of a banned phrase."""
    lower = char.lower()
    if char.isascii() and lower.isalpha():
        chars = {char, lower, lower.upper()} if both_cases else {char}
        chars.update(LEET.get(lower, ""))
        if lower == "l" and not (capital_i and (both_cases or char == "l")):
            chars.discard("I")  # I for l: a lower-case l only, and not in all-capitals words
        return _in_class("".join(sorted(chars))) + r"\pM*"  # marks added to a Latin letter
    if char in DIGIT_LOOKALIKES:
        return _in_class(char + DIGIT_LOOKALIKES[char])
    if both_cases and not char.isascii():
        return f"(?i:{escape(char)})"
    return escape(char)


def _word_pattern(word: str, both_cases: bool, capital_i: bool) -> str:
    """A word compact ("h4rm") or spaced out ("h 4 r m"); separators are optional beside punctuation."""
    parts = [_char_pattern(c, both_cases, capital_i) for c in word]
    compact = "".join(parts)
    if len(word) == 1:
        return compact
    spaced = parts[0]
    for before, char, part in zip(word[:-1], word[1:], parts[1:], strict=True):
        letters = is_word_char(before) and is_word_char(char)
        spaced += (_SPACED if letters else _SEPARATOR_CLASS + "{0,3}") + part
    return f"(?:{compact}|{spaced})"


def phrase_pattern(phrase: str, both_cases: bool, capital_i: bool = True) -> str:
    """The RE2 pattern of every disguise of `phrase` (already normalised like the rule's text)."""
    words = unicodedata.normalize("NFD", phrase).split()
    return _GAP.join(_word_pattern(word, both_cases, capital_i) for word in words)


def _letterish(char: str) -> bool:
    return is_word_char(char) or char in _LEET_SYMBOLS


def _is_mark(char: str) -> bool:
    return unicodedata.category(char).startswith("M")


def _lone_letter_before(text: str) -> bool:
    """Whether `text` ends with a one-letter token and 1-3 separators."""
    cut = len(text)
    while cut and len(text) - cut < 3 and text[cut - 1] in SEPARATORS:
        cut -= 1
    if cut == len(text):
        return False
    while cut and _is_mark(text[cut - 1]):
        cut -= 1
    return cut > 0 and _letterish(text[cut - 1]) and (cut == 1 or not _letterish(text[cut - 2]))


def _lone_letter_after(text: str) -> bool:
    """Whether `text` starts with 1-3 separators and a one-letter token."""
    at = 0
    while at < min(3, len(text)) and text[at] in SEPARATORS:
        at += 1
    if at == 0 or at == len(text) or not _letterish(text[at]):
        return False
    at += 1
    while at < len(text) and _is_mark(text[at]):
        at += 1
    return at == len(text) or not _letterish(text[at])


def _starts_with_lone_letter(text: str) -> bool:
    """Whether `text` starts with a one-letter token followed by a separator (or nothing)."""
    at = 1
    while at < len(text) and _is_mark(text[at]):
        at += 1
    return bool(text) and _letterish(text[0]) and (at == len(text) or text[at] in SEPARATORS)


def _ends_with_lone_letter(text: str) -> bool:
    """Whether `text` ends with a one-letter token after a separator (or nothing)."""
    end = len(text)
    while end and _is_mark(text[end - 1]):
        end -= 1
    return end > 0 and _letterish(text[end - 1]) and (end == 1 or text[end - 2] in SEPARATORS)


class DisguiseMatcher:
    """Finds banned phrases written in disguise (the module's docstring says how).

    `phrases` are normalised as the rule's text (`normalize(phrase, case, "confusables")`);
    the text searched is `disguise_view` of the case-sensitive `confusables` text.
    Pickles as its patterns; RE2 compiles them on first use.
    """

    def __init__(self, phrases: Sequence[str], case: str, word: bool):
        self.phrases = tuple(dict.fromkeys(p for p in phrases if p.strip()))
        self.word = word
        both_cases = case != "sensitive"
        edge = NOT_WORD if word else ""
        self._loose: list[Regex] = []
        self._strict: list[Regex] = []  # capital I is only I: for all-capitals candidates
        for first in range(0, len(self.phrases), _CHUNK):
            chunk = self.phrases[first:first + _CHUNK]
            loose = "|".join(f"({phrase_pattern(p, both_cases)})" for p in chunk)
            strict = "|".join(f"({phrase_pattern(p, both_cases, capital_i=False)})" for p in chunk)
            self._loose.append(Regex(f"{edge}(?:{loose}){edge}"))
            self._strict.append(Regex(f"^(?:{strict})$"))

    def _accept(self, chunk: int, data: bytes, start: int, end: int, index: int) -> int:
        """The phrase the candidate data[start:end] stands for (index in its chunk), or -1."""
        core = data[start:end].decode("utf-8", "replace")
        if not any(c.isalpha() or c in WORDLIKE_SYMBOLS for c in core) or _CODE.fullmatch(core):
            return -1
        if "I" in core and not any("a" <= c <= "z" for c in core):  # all capitals: I reads as I
            groups = self._strict[chunk].find_groups(data[start:end])
            if not groups:
                return -1
            index = next(g for g in range(1, len(groups)) if groups[g][0] != -1) - 1
        if self.word:
            before = data[max(0, start - 32):start].decode("utf-8", "ignore")
            after = data[end:end + 32].decode("utf-8", "ignore")
            if _starts_with_lone_letter(core) and _lone_letter_before(before):
                return -1
            if _ends_with_lone_letter(core) and _lone_letter_after(after):
                return -1
        return index

    def matches(self, text: str) -> Iterator[tuple[int, str]]:
        """(phrase index, the text that stands for it) for each disguised phrase found in
        `text` (a `disguise_view`), left to right; a phrase may come more than once."""
        # Padded with a space at each end: every whole-word match has a boundary character on both sides.
        data = b" " + utf8(text) + b" " if self.word else utf8(text)
        for chunk, regex in enumerate(self._loose):
            pos = 0
            while pos < len(data):
                groups = regex.find_groups(data, pos)
                if not groups:
                    break
                group = next(g for g in range(1, len(groups)) if groups[g][0] != -1)
                start, end = groups[group]
                index = self._accept(chunk, data, start, end, group - 1)
                if index >= 0:
                    yield chunk * _CHUNK + index, data[start:end].decode("utf-8", "replace")
                    pos = end  # the boundary after it may start the next match
                elif self.word:
                    pos = start  # the next match starts after this one's first character
                else:
                    pos = start + 1
                    while pos < len(data) and 0x80 <= data[pos] < 0xC0:  # to the next UTF-8 character
                        pos += 1

    def any(self, text: str) -> bool:
        return next(self.matches(text), None) is not None

    def found(self, text: str) -> dict[int, str]:
        """Each disguised phrase found, with the first text that stands for it (NFC, as shown)."""
        seen: dict[int, str] = {}
        for index, written in self.matches(text):
            seen.setdefault(index, unicodedata.normalize("NFC", written))
        return seen
