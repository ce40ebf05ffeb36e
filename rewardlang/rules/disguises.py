"""Banned phrases written in disguise (docs/language.md §6.5, "Disguised banned words").

`unicode confusables` (the default of `banned`) removes invisible characters and
folds look-alike letters of other scripts. What a policy can still write with
plain ASCII, a `banned` rule under `unicode confusables` catches here, and only
there (a bonus phrase written "h3re's how" must not pay more):

- leetspeak: digits and symbols that stand for letters (`LEET`): "h4rm", "1ll3g4l", "$ex";
- ASCII look-alikes: a capital I next to a lower-case letter for an l ("harmfuI";
  "FAIL" is no "fall"), O, l and I for the digits 0 and 1 (`DIGIT_LOOKALIKES`: "1OO% refund");
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
- a spaced-out run counts as a whole: "x h a r m" is "xharm", not "harm" (but
  "a h a r m" is "a harm": `ONE_LETTER_WORDS`), and
  a letter joined to a word by a hyphen is part of it ("a t-shirt" spells no "at").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import cache

from rewardlang.rules.matching import NOT_WORD, Regex, escape, is_word_char, utf8

# The characters that stand for a letter, besides the letter itself.
LEET: dict[str, str] = {
    "a": "4@",
    "b": "8",
    "e": "3",
    "g": "69",
    "i": "1!|",
    "l": "1!|",
    "o": "0",
    "s": "5$",
    "t": "7+",
}
# A capital I next to a lower-case letter ("harmfuI", "Iie") reads as I or l: a candidate that
# needs an I to be an l is checked again with those I written as this mark (U+01C0, a letter
# that `confusables` folds away, so no text has one) and the l of the phrases accepting it.
CAPITAL_I = "\u01c0"
# The ASCII letters that look like a digit of a banned phrase.
DIGIT_LOOKALIKES: dict[str, str] = {"0": "oO", "1": "lIi|"}
# What may stand between spaced-out letters: 1 to 3 of these.
SEPARATORS = " \t\n.-_*~"
# One-letter words that may stand before a spaced-out word without joining it.
ONE_LETTER_WORDS = "aAI"
# Separators that also join a letter to a word ("t-shirt", "e_mail"): no spaced-out run ends on them.
JOINERS = "-_"
# Characters of a candidate that make it more than a number (with the letters).
WORDLIKE_SYMBOLS = "@$"
# Number characters: a candidate made only of these (and punctuation) is a number, not a word.
NUMBERS = "0123456789!|+"
_LONGEST_NUMBER = 24  # longer words that digits could spell are left to `_accept` (a pattern of n² slots)
# Leetspeak symbols that are no word characters: they still belong to the word they are in.
_LEET_SYMBOLS = frozenset(c for chars in LEET.values() for c in chars if not is_word_char(c))

_SEPARATOR_CLASS = "[" + "".join({"\t": r"\t", "\n": r"\n", " ": " "}.get(c, "\\" + c) for c in SEPARATORS) + "]"
_SPACED = _SEPARATOR_CLASS + "+"  # between two letters of a spaced-out word
_GAP = _SEPARATOR_CLASS + "*"  # between two words of a phrase
_CODE = re.compile(r"[A-Z]+[0-9]+")  # product and model codes: A55, MP3, B52
_CHUNK = 50  # phrases per RE2 pattern
# RE2's memory budget per pattern: with its default (8 MB) the DFA of a few phrases' classes
# runs out of room on ordinary text and RE2 falls back to a far slower search (measured: 42 us
# instead of 7 us on an 800-byte completion). A budget, not an allocation.
_MEMORY = 32 << 20


def leet_markdown() -> str:
    """The leetspeak table as docs/language.md §6.5 shows it (a test compares the two)."""
    def cell(chars: str) -> str:
        return " ".join(f"`{c}`".replace("|", "\\|") for c in chars)  # a bare | would end the table cell

    rows = [f"| `{letter}` | {cell(chars)} |" for letter, chars in LEET.items()]
    rows[list(LEET).index("l")] = f"| `l` | {cell(LEET['l'])}, and `I` next to a lower-case letter |"
    rows += [f"| `{digit}` (in a banned phrase) | {cell(chars)} |" for digit, chars in DIGIT_LOOKALIKES.items()]
    return "\n".join(["| Letter or digit | Also written as |", "|---|---|", *rows])


def _is_lower(char: str) -> bool:
    return "a" <= char <= "z"


def _mark_capital_i(text: str) -> str:
    """`text` with each capital I next to a lower-case ASCII letter written `CAPITAL_I`."""
    pieces: list[str] = []
    last = 0
    at = text.find("I")
    while at != -1:  # a C search per I: a text holds few
        if (at > 0 and _is_lower(text[at - 1])) or (at + 1 < len(text) and _is_lower(text[at + 1])):
            pieces += (text[last:at], CAPITAL_I)
            last = at + 1
        at = text.find("I", at + 1)
    return "".join(pieces) + text[last:] if pieces else text


@cache
def accented() -> dict[str, str]:
    """Each ASCII letter -> the precomposed Latin letters made of it and marks ("a" -> "àáâãäå...")."""
    found: dict[str, str] = {}
    for first, last in ((0xC0, 0x24F), (0x1E00, 0x1EFF)):  # Latin-1 Supplement to Latin Extended-B; Additional
        for code in range(first, last + 1):
            parts = unicodedata.normalize("NFD", chr(code))
            if len(parts) > 1 and parts[0].isascii() and parts[0].isalpha():
                found[parts[0]] = found.get(parts[0], "") + chr(code)
    return found


def _in_class(chars: str) -> str:
    return "[" + "".join(c if c.isalnum() else "\\" + c for c in sorted(chars)) + "]"


# One character of a phrase as patterns: (any of what stands for it, only number characters
# `NUMBERS`, only the others); None where that set is empty.
Slot = tuple[str, str | None, str | None]


def _char_slot(char: str, both_cases: bool, marked: bool) -> Slot:
    """What may stand for one character of a banned phrase; `marked`: a capital I that can
    be an l is `CAPITAL_I`, else any capital I may be an l."""
    lower = char.lower()
    if char.isascii() and lower.isalpha():
        chars = {char, lower, lower.upper()} if both_cases else {char}
        chars.update(LEET.get(lower, ""))
        chars.update("".join(accented().get(c, "") for c in set(chars)))
        if lower == "l" and (both_cases or char == "l"):
            chars.add(CAPITAL_I if marked else "I")
        if char == "I" or (both_cases and lower == "i"):
            chars.add(CAPITAL_I)
    elif char in DIGIT_LOOKALIKES:
        chars = set(char + DIGIT_LOOKALIKES[char] + CAPITAL_I * (char == "1"))
    else:
        literal = f"(?i:{escape(char)})" if both_cases and not char.isascii() else escape(char)
        return literal, literal, None  # punctuation or another script: neither a letter nor a disguise
    numbers = chars & set(NUMBERS)
    others = chars - numbers
    marks = r"\pM*"  # marks added to a Latin letter
    return (_in_class("".join(chars)) + marks, _in_class("".join(numbers)) if numbers else None,
            _in_class("".join(others)) + marks if others else None)


def _concat(word: str, parts: Sequence[str], spaced: bool) -> str:
    """The parts of a word one after the other; `spaced`: with separators between two letters."""
    if not spaced:
        return "".join(parts)
    out = parts[0]
    for before, char, part in zip(word[:-1], word[1:], parts[1:], strict=True):
        out += (_SPACED if is_word_char(before) and is_word_char(char) else _GAP) + part
    return out


def _forms(word: str, slots: Sequence[Slot], pick: Sequence[int]) -> str:
    """The word compact or spaced out, slot i written as its form pick[i] (0 any, 1 numbers, 2 others)."""
    parts = [slot[form] or "" for slot, form in zip(slots, pick, strict=True)]
    if len(word) == 1:
        return parts[0]
    return f"(?:{_concat(word, parts, False)}|{_concat(word, parts, True)})"


def _word_patterns(word: str, both_cases: bool, marked: bool) -> tuple[str, str | None, str | None]:
    """A word compact ("h4rm") or spaced out ("h 4 r m"), as (any, only numbers, at least one
    letter-like character); the last two are None when every disguise holds a letter anyway."""
    slots = [_char_slot(c, both_cases, marked) for c in word]
    whole = _forms(word, slots, [0] * len(slots))
    if any(slot[1] is None for slot in slots) or len(slots) > _LONGEST_NUMBER:
        return whole, None, None
    numbers = _forms(word, slots, [1] * len(slots))
    # The first character that is no number character is the k-th: numbers before it, anything after.
    firsts = [_forms(word, slots, [1] * k + [2] + [0] * (len(slots) - k - 1))
              for k, slot in enumerate(slots) if slot[2] is not None]
    return whole, numbers, "(?:" + "|".join(firsts) + ")" if firsts else None


def phrase_pattern(phrase: str, both_cases: bool, marked: bool = False) -> str:
    """The RE2 pattern of every disguise of `phrase` (already normalised like the rule's text)
    that is not a plain number: "455" is no "ass", "1 2" no "iz"."""
    words = [_word_patterns(word, both_cases, marked) for word in phrase.split()]
    if any(numbers is None for _, numbers, _ in words):
        return _GAP.join(whole for whole, _, _ in words)  # some letter is always there
    # The first word holding a letter is the k-th.
    firsts = [_GAP.join([numbers or "" for _, numbers, _ in words[:k]] + [letters] + [w for w, _, _ in words[k + 1:]])
              for k, (_, _, letters) in enumerate(words) if letters is not None]
    return "(?:" + "|".join(firsts) + ")" if firsts else "(?!)"


def _letterish(char: str) -> bool:
    return is_word_char(char) or char in _LEET_SYMBOLS


def _is_mark(char: str) -> bool:
    return not char.isascii() and unicodedata.category(char).startswith("M")


def _lone_letter_before(text: str) -> bool:
    """Whether `text` ends with a one-letter token and 1-3 separators; the English words "a"
    and "I" before a space are words of their own ("a h a r m" is "a harm")."""
    cut = len(text)
    while cut and len(text) - cut < 3 and text[cut - 1] in SEPARATORS:
        cut -= 1
    if cut == len(text):
        return False
    if text[cut - 1] in ONE_LETTER_WORDS and text[cut].isspace() and (cut == 1 or not _letterish(text[cut - 2])):
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


def _joined(text: str) -> bool:
    """Whether `text` starts with a hyphen or underscore and a letter: the letter before it
    belongs to that word ("a t-shirt" spells no "at")."""
    return len(text) > 1 and text[0] in JOINERS and _letterish(text[1])


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


def _char_start(data: bytes, at: int) -> int:
    """The start of the UTF-8 character that holds byte `at`."""
    while at > 0 and 0x80 <= data[at] < 0xC0:
        at -= 1
    return at


def _char_end(data: bytes, at: int) -> int:
    """The end of the UTF-8 character that starts at byte `at`."""
    at += 1
    while at < len(data) and 0x80 <= data[at] < 0xC0:
        at += 1
    return at


class DisguiseMatcher:
    """Finds banned phrases written in disguise (the module's docstring says how).

    `phrases` are normalised as the rule's text (`normalize(phrase, case, "confusables")`);
    the text searched is the case-sensitive `confusables` text. Pickles as its
    patterns; RE2 compiles them on first use.
    """

    def __init__(self, phrases: Sequence[str], case: str, word: bool):
        self.phrases = tuple(dict.fromkeys(p for p in phrases if p.strip()))
        self.word = word
        both_cases = case != "sensitive"
        edge = NOT_WORD if word else ""
        # Per chunk of phrases: the candidates, with a group per phrase (which phrase: explanations)
        # and without groups (whether any: scoring, RE2's DFA alone); and the check of the
        # candidates that hold a capital I (`CAPITAL_I`).
        self._named: list[Regex] = []
        self._plain: list[Regex] = []
        self._marked: list[Regex] = []
        for first in range(0, len(self.phrases), _CHUNK):
            chunk = self.phrases[first:first + _CHUNK]
            patterns = [phrase_pattern(p, both_cases) for p in chunk]
            self._named.append(Regex(edge + "(?:" + "|".join(f"({p})" for p in patterns) + ")" + edge, max_mem=_MEMORY))
            self._plain.append(Regex(edge + "(?:" + "|".join(patterns) + ")" + edge, max_mem=_MEMORY))
            marked = [phrase_pattern(p, both_cases, marked=True) for p in chunk]
            self._marked.append(Regex("^(?:" + "|".join(f"({p})" for p in marked) + ")$"))

    def _accept(self, chunk: int, data: bytes, start: int, end: int) -> int:
        """The phrase (index in its chunk) the candidate data[start:end] stands for, -1 for none
        (the module's docstring says why); -2: some phrase, which one not looked for."""
        core = data[start:end].decode("utf-8", "replace")
        if not any(c.isalpha() or c in WORDLIKE_SYMBOLS for c in core) or _CODE.fullmatch(core):
            return -1
        if self.word:
            before = data[max(0, start - 32):start].decode("utf-8", "ignore")
            after = data[end:end + 32].decode("utf-8", "ignore")
            if _starts_with_lone_letter(core) and (_lone_letter_before(before) or _joined(before[::-1])):
                return -1
            if _ends_with_lone_letter(core) and (_lone_letter_after(after) or _joined(after)):
                return -1
        if "I" in core:  # an I may be an l only next to a lower-case letter: "harmfuI", not "FAIL"
            groups = self._marked[chunk].find_groups(utf8(_mark_capital_i(core)))
            return next((g - 1 for g in range(1, len(groups)) if groups[g][0] != -1), -1)
        return -2

    def _data(self, text: str) -> bytes:
        # Padded with a space at each end: every whole-word match has a boundary character on both sides.
        return b" " + utf8(text) + b" " if self.word else utf8(text)

    def _after_rejected(self, data: bytes, start: int) -> int:
        """Where to search on after a rejected candidate starting at `start`."""
        if self.word:
            return start  # the next match's boundary character comes at `start` or later
        return _char_end(data, start)

    def any(self, text: str) -> bool:
        """Whether a disguised phrase occurs in `text` (the case-sensitive `confusables` text)."""
        data = self._data(text)
        for chunk, regex in enumerate(self._plain):
            pos = 0
            while pos < len(data):
                start, end = regex.find(data, pos)
                if start == -1:
                    break
                if self.word:  # the boundary characters are no part of the phrase
                    start, end = _char_end(data, start), _char_start(data, end - 1)
                if self._accept(chunk, data, start, end) != -1:
                    return True
                pos = self._after_rejected(data, start)
        return False

    def found(self, text: str) -> dict[int, str]:
        """Each disguised phrase found in `text`, with the first text that stands for it."""
        data = self._data(text)
        seen: dict[int, str] = {}
        for chunk, regex in enumerate(self._named):
            pos = 0
            while pos < len(data):
                groups = regex.find_groups(data, pos)
                if not groups:
                    break
                group = next(g for g in range(1, len(groups)) if groups[g][0] != -1)
                start, end = groups[group]
                index = self._accept(chunk, data, start, end)
                if index == -1:
                    pos = self._after_rejected(data, start)
                    continue
                phrase = chunk * _CHUNK + (group - 1 if index == -2 else index)
                seen.setdefault(phrase, data[start:end].decode("utf-8", "replace"))
                pos = end  # the boundary after it may start the next match
        return seen
