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
characters that can stand for it (a capital I stands for an l only next to a
lower-case letter, and no disguise may be a plain number such as "455": the
patterns say so), and the words may be joined by spaces or separators, or
nothing. One RE2 pass per text finds the candidates, in linear time; a candidate
that is a code of capitals and digits ("A55", "MP3", "B52") is no leetspeak.

Spaced-out letters are read in a second view of the text, made only where one
RE2 pass finds two one-letter tokens in a row: every run of one-letter tokens
(`_RUN`) is written as one word, so a run counts as a whole ("x h a r m" is
"xharm", not "harm"; "a h a r m" is also read as "a harm": `ONE_LETTER_WORDS`),
and a letter joined to a longer word by a hyphen is no token ("a t-shirt" spells
no "at").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from functools import cache
from typing import Any, NamedTuple

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
# The ASCII letters that look like a digit of a banned phrase.
DIGIT_LOOKALIKES: dict[str, str] = {"0": "oO", "1": "lIi|"}
# What may stand between spaced-out letters (one or more of them), and between the words of a phrase.
SEPARATORS = " \t\n.-_*~"
# One-letter words that may stand before or after a spaced-out word without joining it.
ONE_LETTER_WORDS = "aAI"
# Characters of a candidate that make it more than a number (with the letters).
WORDLIKE_SYMBOLS = "@$"
# Number characters: a candidate made only of these (and punctuation) is a number, not a word.
NUMBERS = "0123456789!|+"
_LONGEST_NUMBER = 24  # longer words that digits could spell are left to `_accept` (a pattern of n² slots)

_SEPARATOR_CLASS = "[" + "".join({"\t": r"\t", "\n": r"\n", " ": " "}.get(c, "\\" + c) for c in SEPARATORS) + "]"
_GAP = _SEPARATOR_CLASS + "*"  # between two words of a phrase
_ASCII_BYTES = bytes(range(0x80))
_CODE = re.compile(r"[A-Z]+[0-9]+")  # product and model codes: A55, MP3, B52
_CHUNK = 50  # phrases per RE2 pattern
_LONGEST_PATTERN = 20_000  # a word with more capital-I forms than this keeps its plain l (many l's)
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


class _Slot(NamedTuple):
    """One character of a banned phrase: what may stand for it."""

    chars: frozenset[str] | None  # None: punctuation or another script, matched as `literal`
    literal: str
    is_l: bool  # an l: a capital I next to a lower-case letter may stand for it


def _slot(char: str, both_cases: bool) -> _Slot:
    lower = char.lower()
    if char.isascii() and lower.isalpha():
        chars = {char, lower, lower.upper()} if both_cases else {char}
        chars.update(LEET.get(lower, ""))
        chars.update("".join(accented().get(c, "") for c in set(chars)))
        return _Slot(frozenset(chars), "", lower == "l" and (both_cases or char == "l"))
    if char in DIGIT_LOOKALIKES:
        return _Slot(frozenset(char + DIGIT_LOOKALIKES[char]), "", False)
    literal = f"(?i:{escape(char)})" if both_cases and not char.isascii() else escape(char)
    return _Slot(None, literal, False)


_NUMBER_SET = frozenset(NUMBERS)


def _part(slot: _Slot, which: str) -> str | None:
    """The pattern of some of what may stand for `slot`, None where that is nothing: `all`;
    `numbers` (`NUMBERS`) and `others`; `lower` (a-z) and `rest`. Punctuation counts as a
    number and as `rest`."""
    if slot.chars is None:
        return slot.literal if which in ("all", "numbers", "rest") else None
    pick = {
        "all": slot.chars,
        "numbers": slot.chars & _NUMBER_SET,
        "others": slot.chars - _NUMBER_SET,
        "lower": frozenset(c for c in slot.chars if "a" <= c <= "z"),
        "rest": frozenset(c for c in slot.chars if not "a" <= c <= "z"),
    }[which]
    if not pick:
        return None
    return _in_class("".join(pick))


def _concat(word: str, parts: Sequence[str]) -> str:
    """The parts of a word one after the other; separators may stand next to punctuation
    ("100 %", where "1 0 0 %" was spaced out)."""
    out = parts[0]
    for before, char, part in zip(word[:-1], word[1:], parts[1:], strict=True):
        out += ("" if is_word_char(before) and is_word_char(char) else _GAP) + part
    return out


def _either(pieces: Sequence[str]) -> str:
    return pieces[0] if len(pieces) == 1 else "(?:" + "|".join(pieces) + ")"


def _capital_i_forms(slots: Sequence[_Slot]) -> str | None:
    """The compact forms of a word that write at least one l as a capital I, each such I next
    to a lower-case letter ("harmfuI", "kiIl", "Iie"; not "FAIL"); None if there are none."""
    memo: dict[tuple[int, bool, bool], str | None] = {}

    def rest(k: int, after_lower: bool, needs_lower: bool) -> str | None:
        """Slots k.. when the character before was lower-case / was an I that needs one next."""
        if k == len(slots):
            return None if needs_lower else ""
        key = (k, after_lower, needs_lower)
        if key not in memo:
            options: dict[str, list[str]] = {}  # what follows -> the pieces that may stand here
            choices = [(_part(slots[k], "lower"), (k + 1, True, False))]
            if not needs_lower:
                choices.append((_part(slots[k], "rest"), (k + 1, False, False)))
                if slots[k].is_l:
                    choices.append(("I", (k + 1, False, not after_lower)))
            for piece, state in choices:
                tail = rest(*state)
                if piece is not None and tail is not None:
                    options.setdefault(tail, []).append(piece)
            memo[key] = _either([_either(pieces) + tail for tail, pieces in options.items()]) if options else None
        return memo[key]

    forms: list[str] = []
    whole = [_part(slot, "all") or "" for slot in slots]
    for j, slot in enumerate(slots):  # the first I for an l is the j-th character
        if not slot.is_l:
            continue
        lower = _part(slots[j - 1], "lower") if j else None
        tail = rest(j + 1, False, False)
        if lower is not None and tail is not None:
            forms.append("".join(whole[:j - 1]) + lower + "I" + tail)
        tail = rest(j + 1, False, True)
        if tail is not None:
            forms.append("".join(whole[:j]) + "I" + tail)
    pattern = _either(forms) if forms else None
    return pattern if pattern is None or len(pattern) <= _LONGEST_PATTERN else None


def _forms(word: str, parts: Sequence[str]) -> str:
    return _concat(word, parts)


def _word_patterns(word: str, both_cases: bool) -> tuple[str, str | None, str | None]:
    """A word compact ("h4rm") or spaced out ("h 4 r m"), as (any, only numbers, at least one
    letter-like character); the last two are None when every disguise holds a letter anyway."""
    slots = [_slot(c, both_cases) for c in word]
    capital_i = _capital_i_forms(slots)  # these hold a lower-case letter: never a number
    extra = [capital_i] if capital_i is not None else []
    whole = _either([_forms(word, [_part(slot, "all") or "" for slot in slots]), *extra])
    if any(_part(slot, "numbers") is None for slot in slots) or len(slots) > _LONGEST_NUMBER:
        return whole, None, None
    numbers = _forms(word, [_part(slot, "numbers") or "" for slot in slots])
    # The first character that is no number character is the k-th: numbers before it, anything after.
    firsts = [
        _forms(word, [_part(s, "numbers") or "" for s in slots[:k]] + [others]
               + [_part(s, "all") or "" for s in slots[k + 1:]])
        for k, slot in enumerate(slots) if (others := _part(slot, "others")) is not None
    ]
    return whole, numbers, _either(firsts + extra) if firsts or extra else None


_NOTHING = r"[^\x00-\x{10FFFF}]"  # an RE2 pattern that matches nothing


def phrase_pattern(phrase: str, both_cases: bool) -> str:
    """The RE2 pattern of every disguise of `phrase` (already normalised like the rule's text)
    that is not a plain number: "455" is no "ass", "1 2" no "iz"."""
    words = [_word_patterns(word, both_cases) for word in phrase.split()]
    if any(numbers is None for _, numbers, _ in words):
        return _GAP.join(whole for whole, _, _ in words)  # some letter is always there
    # The first word holding a letter is the k-th.
    firsts = [_GAP.join([numbers or "" for _, numbers, _ in words[:k]] + [letters] + [w for w, _, _ in words[k + 1:]])
              for k, (_, _, letters) in enumerate(words) if letters is not None]
    return _either(firsts) if firsts else _NOTHING


@cache
def _latin_marks() -> Any:
    import regex

    return regex.compile(r"(?<=\p{Latin})\p{M}+")  # linear: one class, a one-character look-behind


def _strip_marks(text: str) -> str:
    """`text` without the combining marks that follow a Latin letter (strokes, underlines, accents
    that do not compose); marks of other scripts (Devanagari vowel signs) stay."""
    return str(_latin_marks().sub("", text))


def _is_mark(char: str) -> bool:
    return not char.isascii() and unicodedata.category(char).startswith("M")


def _has_marks(data: bytes) -> bool:
    """Whether UTF-8 `data` holds a combining mark (looked for among its non-ASCII characters)."""
    return any(map(_is_mark, set(data.translate(None, _ASCII_BYTES).decode("utf-8", "replace"))))


def _without_marks(text: str) -> str:
    """`text` as the patterns read it: combining marks on Latin letters removed ("h\u0336a\u0336rm"
    is "harm"; a precomposed "á" is in the class of "a")."""
    if text.isascii() or not _has_marks(utf8(text)):
        return text  # the usual case: no mark at all
    return _strip_marks(text)


# ----------------------------------------------------------- spaced-out letters
_TOKEN = r"[\pL\pN@$!|+]"  # a one-letter token: a letter, a digit or a leetspeak symbol
_NO_LETTER = r"[^\pL\pN@$]"  # next to a token: "!", "|" and "+" are punctuation there ("f a u l t!")
# A run of two or more one-letter tokens with separators between them ("h a r m", "h.a.r.m"),
# the longest there is (RE2, on the UTF-8 text): `_runs` then applies the hyphen rule.
_RUN = Regex(f"(?:^|{_NO_LETTER})({_TOKEN}(?:{_SEPARATOR_CLASS}+{_TOKEN})+)(?:{_NO_LETTER}|$)", max_mem=_MEMORY)
_SEPARATOR_BYTES = SEPARATORS.encode()
_JOINER_BYTES = b"-_"


def _is_letter_at(data: bytes, at: int) -> bool:
    """Whether the UTF-8 character at byte `at` (a start byte) is a letter or digit."""
    if at < 0 or at >= len(data):
        return False
    char = data[at:_char_end(data, at)].decode("utf-8", "replace")
    return char.isalnum()


def _runs(data: bytes) -> list[tuple[int, int]]:
    """The byte spans of the runs of spaced-out letters in `data`. A letter joined by a hyphen
    or underscore to a word of two letters or more is no token of a run ("a t-shirt": the t
    belongs to "t-shirt"; "word-h a r m": the h belongs to "word")."""
    runs: list[tuple[int, int]] = []
    pos = 0
    while pos < len(data):
        groups = _RUN.find_groups(data, pos)
        if not groups:
            break
        start, end = groups[1]
        pos = end  # the character after a run may start the next
        last = _char_start(data, end - 1)
        if end + 2 < len(data) and data[end] in _JOINER_BYTES and _is_letter_at(data, end + 1) \
                and _is_letter_at(data, _char_end(data, end + 1)):
            end = last  # the last letter belongs to the word after it
            while end > start and data[end - 1] in _SEPARATOR_BYTES:
                end -= 1
        if start >= 2 and data[start - 1] in _JOINER_BYTES and _is_letter_at(data, _char_start(data, start - 2)):
            start = _char_end(data, start)  # the first letter belongs to the word before it
            while start < end and data[start] in _SEPARATOR_BYTES:
                start += 1
        if any(c in _SEPARATOR_BYTES for c in data[start:end]):  # still two tokens or more
            runs.append((start, end))
    return runs


_ONE_LETTER_WORDS = tuple(c.encode() for c in ONE_LETTER_WORDS)
_WHITESPACE_BYTES = b" \t\n"


_PEELED = 3  # words of their own looked for at each end of a run


def _peels(run: bytes) -> list[int]:
    """Where the spaced-out word of a run may start: 0, and after each of the first `_PEELED`
    clusters at its start that can be words of their own, never after the last cluster: an "a"
    or "I", a lone digit, letters joined without a space ("e.g", "a.m"), each followed by a
    separator holding a space ("9 a.m. h a r m" is "9 a.m. harm")."""
    starts = [0]
    at = 0
    while len(starts) <= _PEELED:
        end = gap = at
        joined = False
        while end < len(run):  # the cluster starting at `at`: up to a separator holding a space
            if run[end] not in _SEPARATOR_BYTES:
                end += 1
                continue
            gap = end
            while gap < len(run) and run[gap] in _SEPARATOR_BYTES:
                gap += 1
            if any(run[k] in _WHITESPACE_BYTES for k in range(end, gap)):
                break
            end, joined = gap, True
        if end >= len(run):
            break  # the last cluster is never peeled
        cluster = run[at:end]
        digit = len(cluster) == 1 and cluster.isdigit()
        if digit and run[gap:gap + 1].isdigit() and (gap + 1 == len(run) or run[gap + 1] in _SEPARATOR_BYTES):
            break  # digits spaced out: a number ("1 0 0 %")
        if not (joined or cluster in _ONE_LETTER_WORDS or digit):
            break
        at = gap
        starts.append(at)
    return starts


def _collapse(run: bytes, left: int, right: int) -> bytes:
    """A run with run[left:right] written as one word."""
    right = max(left, right)
    return run[:left] + run[left:right].translate(None, _SEPARATOR_BYTES) + run[right:]


def collapsed_views(data: bytes, origins: bool = False) -> list[tuple[bytes, list[int]]]:
    """`data` (UTF-8) with every run of spaced-out letters written as one word, and again with the
    words of their own at the start, the end or both ends of a run kept apart (`_peel`: "a h a r
    m" is also "a harm"); empty without runs.
    `origins`: with the offset in `data` of each byte of a view (and of its end), for
    explanations; else an empty list."""
    runs = _runs(data)
    if not runs:
        return []
    # Per run, where its spaced-out word may start and end (`_peels` from either end).
    lefts = [_peels(data[start:end]) for start, end in runs]
    rights = [[end - start - cut for cut in _peels(data[start:end][::-1])] for start, end in runs]
    views: list[tuple[bytes, list[int]]] = []
    seen: set[bytes] = set()
    for i in range(_PEELED + 1):
        for j in range(_PEELED + 1):
            if all(i >= len(left) and j >= len(right) for left, right in zip(lefts, rights, strict=True)) and (i or j):
                continue  # no run has that many words of its own to keep apart
            pieces: list[bytes] = []
            origin: list[int] = []
            last = 0
            for (start, end), left, right in zip(runs, lefts, rights, strict=True):
                new = _collapse(data[start:end], left[min(i, len(left) - 1)], right[min(j, len(right) - 1)])
                pieces += (data[last:start], new)
                if origins:
                    origin.extend(range(last, start))
                    origin.extend(_kept_offsets(data, start, end, new))
                last = end
            pieces.append(data[last:])
            if origins:
                origin.extend(range(last, len(data) + 1))
            view = b"".join(pieces)
            if view not in seen:
                seen.add(view)
                views.append((view, origin))
    return views


def _kept_offsets(data: bytes, start: int, end: int, new: bytes) -> list[int]:
    """The offset in `data` of each byte of `new`, the run data[start:end] with some separators left out."""
    offsets: list[int] = []
    at = start
    for byte in new:
        while data[at] != byte:
            at += 1
        offsets.append(at)
        at += 1
    return offsets


def _marks_removed(text: str) -> tuple[str, list[int]]:
    """`_without_marks(text)` and the index in `text` of each of its characters (and of its end)."""
    kept = _without_marks(text)
    if kept is text:
        return text, list(range(len(text) + 1))
    origin: list[int] = []
    at = 0
    for char in kept:  # `kept` is `text` with some characters left out
        at = text.index(char, at) + 1
        origin.append(at - 1)
    return kept, [*origin, len(text)]


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
        # and without groups (whether any: scoring, RE2's DFA alone, about twice as fast).
        self._named: list[Regex] = []
        self._plain: list[Regex] = []
        for first in range(0, len(self.phrases), _CHUNK):
            patterns = [phrase_pattern(p, both_cases) for p in self.phrases[first:first + _CHUNK]]
            named = edge + "(?:" + "|".join(f"({p})" for p in patterns) + ")" + edge
            self._named.append(Regex(named, max_mem=_MEMORY))
            self._plain.append(Regex(edge + "(?:" + "|".join(patterns) + ")" + edge, max_mem=_MEMORY))

    def _accept(self, data: bytes, start: int, end: int) -> bool:
        """Whether the candidate data[start:end] is a disguised phrase (the module's docstring says why)."""
        core = data[start:end].decode("utf-8", "replace")
        return any(c.isalpha() or c in WORDLIKE_SYMBOLS for c in core) and not _CODE.fullmatch(core)

    def _padded(self, data: bytes) -> bytes:
        # A space at each end for whole words: every match has a boundary character on both sides.
        return b" " + data + b" " if self.word else data

    def _after_rejected(self, data: bytes, start: int) -> int:
        """Where to search on after a rejected candidate starting at `start`."""
        if self.word:
            return start  # the next match's boundary character comes at `start` or later
        return _char_end(data, start)

    def _any_in(self, data: bytes) -> bool:
        for regex in self._plain:
            pos = 0
            while pos < len(data):
                start, end = regex.find(data, pos)
                if start == -1:
                    break
                if self.word:  # the boundary characters are no part of the phrase
                    start, end = _char_end(data, start), _char_start(data, end - 1)
                if self._accept(data, start, end):
                    return True
                pos = self._after_rejected(data, start)
        return False

    def any(self, text: str) -> bool:
        """Whether a disguised phrase occurs in `text` (the case-sensitive `confusables` text)."""
        data = utf8(text)  # encoded once: for a non-ASCII text that costs as much as the scan
        if not text.isascii() and _has_marks(data):
            text = _strip_marks(text)
            data = utf8(text)
        if self._any_in(self._padded(data)):
            return True
        return any(self._any_in(self._padded(view)) for view, _ in collapsed_views(data))

    def _found_in(self, data: bytes) -> Iterator[tuple[int, int, int]]:
        """(phrase index, start, end) of each disguised phrase in `data`, byte offsets."""
        for chunk, regex in enumerate(self._named):
            pos = 0
            while pos < len(data):
                groups = regex.find_groups(data, pos)
                if not groups:
                    break
                group = next(g for g in range(1, len(groups)) if groups[g][0] != -1)
                start, end = groups[group]
                if not self._accept(data, start, end):
                    pos = self._after_rejected(data, start)
                    continue
                yield chunk * _CHUNK + group - 1, start, end
                pos = end  # the boundary after it may start the next match

    def found(self, text: str) -> dict[int, str]:
        """Each disguised phrase found in `text` (in list order), with the text that stands for it."""
        plain, unmarked = _marks_removed(text)
        data = utf8(plain)
        # Byte offsets in `data` -> character offsets in `text` (the marks put back).
        characters = [0] * (len(data) + 1)
        at = 0
        for index, char in enumerate(plain):
            size = len(char.encode("utf-8", "replace"))
            characters[at:at + size] = [unmarked[index]] * size
            at += size
        characters[len(data)] = len(text)
        pad = 1 if self.word else 0
        seen: dict[int, str] = {}
        for view, origin in [(data, list(range(len(data) + 1))), *collapsed_views(data, origins=True)]:
            for index, start, end in self._found_in(self._padded(view)):
                first, last = origin[start - pad], origin[end - pad - 1]
                seen.setdefault(index, text[characters[first]:characters[_char_end(data, last)]])
        return dict(sorted(seen.items()))  # in list order
