"""Word and phrase matching shared by the lexical rule kinds.

Everything here runs in time linear in the text, whatever it holds:

- regular expressions run on RE2 (google-re2), never on Python's `re`; compiled
  RE2 objects are created lazily and dropped when pickled (`Regex`, `RegexSet`);
- text handed to RE2 is UTF-8 bytes (`utf8`): lone surrogates, which cannot be
  encoded, become U+FFFD;
- a *word character* is a letter, a combining mark, a digit (any script) or `_`:
  Unicode categories L*, M*, N* and `_` (RE2 class `[\\pL\\pM\\pN_]`). Marks
  count as word characters so that scripts that write vowels as marks
  (Devanagari, Thai, ...) and decomposed accents do not break words apart;
- whitespace is what `str.split()` splits on (`str.isspace()`).

Views derived from a whole batch (word counts, word lists, encoded texts) are
cached on the `Batch` under keys that start with "lexical", so every rule of a
spec that needs the same view shares it.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from functools import cache
from typing import Any

from rewardlang.runtime import Batch
from rewardlang.text import fold, ignorable_characters

# ------------------------------------------------------------------ characters
# Every character `str.split()` splits on (`str.isspace()`), Python 3.11 / Unicode 14.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# Characters that are not whitespace but whose NFKC form contains whitespace
# (U+00A8 DIAERESIS is NFKC " \u0308"). Only these make `len(nfkc(t).split())`
# differ from `len(t.split())`; a test recomputes the list from unicodedata.
NFKC_SPACE_MAKERS = (
    "\xa8\xaf\xb4\xb8\u02d8\u02d9\u02da\u02db\u02dc\u02dd\u037a\u0384\u0385\u1fbd\u1fbf\u1fc0\u1fc1"
    "\u1fcd\u1fce\u1fcf\u1fdd\u1fde\u1fdf\u1fed\u1fee\u1ffd\u1ffe\u2017\u203e\u309b\u309c\ufc5e\ufc5f"
    "\ufc60\ufc61\ufc62\ufc63\ufdfa\ufdfb\ufe49\ufe4a\ufe4b\ufe4c\ufe70\ufe72\ufe74\ufe76\ufe78\ufe7a"
    "\ufe7c\ufe7e\uffe3"
)
WORD_CLASS = r"\pL\pM\pN_"  # RE2 character-class body of the word characters
NOT_WORD = rf"[^{WORD_CLASS}]"


_ASCII_SPACE_BYTES = bytes(c for c in WHITESPACE.encode("latin-1", "ignore") if c < 0x80)


def is_word_char(char: str) -> bool:
    """A letter, mark or digit of any script, or `_`."""
    if char < "\x80":
        return char.isalnum() or char == "_"
    return unicodedata.category(char)[0] in "LMN"


# -------------------------------------------------------------------- encoding
def utf8(text: str) -> bytes:
    """`text` as UTF-8 for RE2; lone surrogates (not encodable) become U+FFFD."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace").encode("utf-8")


def counted(each: float, cap: float, count: int) -> float:
    """`sign(each) * min(cap, |each| * count)`: the score of a counted rule."""
    if count <= 0 or each == 0:
        return 0.0
    value = min(cap, abs(each) * count)
    return -value if each < 0 else value


def counted_range(each: float, cap: float, most: int | None) -> tuple[float, float]:
    """The range of `counted(each, cap, count)` for 0 <= count <= most (None: unbounded)."""
    reach = cap if most is None else min(cap, abs(each) * most)
    return (0.0, reach) if each >= 0 else (-reach, 0.0)


# ------------------------------------------------------------------------ RE2
def _options(case_sensitive: bool = True, max_mem: int | None = None) -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own error lines to stderr
    options.case_sensitive = case_sensitive
    if max_mem is not None:
        options.max_mem = max_mem
    return options


class Regex:
    """An RE2 pattern, compiled on first use (and again after unpickling); matches UTF-8 bytes."""

    def __init__(self, pattern: str, case_sensitive: bool = True, max_mem: int | None = None):
        self.pattern = pattern
        self.case_sensitive = case_sensitive
        self.max_mem = max_mem  # RE2's memory budget (None: its default, 8 MB)
        self._program: Any = None  # re2's compiled pattern (public API)
        self._raw: Any = None  # its low-level matcher: bytes in, byte offsets out, no copies
        self._anchor: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"pattern": self.pattern, "case_sensitive": self.case_sensitive, "max_mem": self.max_mem,
                "_program": None, "_raw": None, "_anchor": None}

    def _compile(self) -> None:
        import re2

        self._program = re2.compile(self.pattern, _options(self.case_sensitive, self.max_mem))
        self._anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
        self._raw = getattr(self._program, "_regexp", None) if self._anchor is not None else None

    def find(self, data: bytes, pos: int = 0) -> tuple[int, int]:
        """Byte offsets (start, end) of the first match at or after `pos`; (-1, -1) when none."""
        if self._program is None:
            self._compile()
        if self._raw is not None:
            return self._raw.Match(self._anchor, data, pos, len(data))[0]  # type: ignore[no-any-return]
        found = self._program.search(data, pos)
        return (-1, -1) if found is None else found.span()

    def search(self, data: bytes) -> bool:
        return self.find(data)[0] != -1

    def find_groups(self, data: bytes, pos: int = 0) -> list[tuple[int, int]]:
        """Byte offsets of the first match at or after `pos` and of each group, (-1, -1) for a
        group that took no part; an empty list when there is no match."""
        if self._program is None:
            self._compile()
        if self._raw is not None:
            spans = self._raw.Match(self._anchor, data, pos, len(data))
            return [] if spans[0][0] == -1 else list(spans)
        found = self._program.search(data, pos)
        return [] if found is None else [found.span(group) for group in range(self._program.groups + 1)]

    def count(self, data: bytes, limit: int | None = None) -> int:
        """Non-overlapping matches in `data` (after an empty match, the search moves on one character)."""
        if self._program is None:
            self._compile()
        if self._raw is None:  # the public API only
            count = 0
            for _ in self._program.finditer(data):
                count += 1
                if limit is not None and count >= limit:
                    break
            return count
        match, anchor = self._raw.Match, self._anchor
        end = len(data)
        count = 0
        pos = 0
        while pos <= end and (limit is None or count < limit):
            start, stop = match(anchor, data, pos, end)[0]
            if start == -1:
                break
            count += 1
            if stop != start:
                pos = stop
            else:  # an empty match: move on one UTF-8 character
                pos = stop + 1
                while pos < end and 0x80 <= data[pos] < 0xC0:
                    pos += 1
        return count


class RegexSet:
    """Several RE2 patterns run in one pass, reporting which of them match anywhere.

    RE2::Set does not pickle: it is built on first use. Its DFA never gives up on
    a set (RE2 only bails out of slow DFA searches for single patterns), and the
    memory budget is raised with the number of patterns.
    """

    def __init__(self, patterns: Sequence[str], case_sensitive: bool = True):
        self.patterns = tuple(patterns)
        self.case_sensitive = case_sensitive
        self._set: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"patterns": self.patterns, "case_sensitive": self.case_sensitive, "_set": None}

    def _program(self) -> Any:
        if self._set is None:
            import re2

            size = sum(len(p) for p in self.patterns)
            options = _options(self.case_sensitive, max_mem=max(8 << 20, min(256 << 20, size * 4096)))
            built = re2.Set.SearchSet(options)
            for pattern in self.patterns:
                built.Add(pattern)
            built.Compile()
            self._set = built._set if hasattr(built, "_set") else built
        return self._set

    def match(self, data: bytes) -> list[int]:
        """Indices of the patterns that match somewhere in `data`."""
        return list(self._program().Match(data) or ())


def escape(literal: str) -> str:
    """`literal` as an RE2 pattern that matches exactly it."""
    import re2

    return re2.escape(literal)  # type: ignore[no-any-return]


def whole_word_pattern(literal: str) -> str:
    """Matches `literal` where the characters around it are not word characters (or are the ends)."""
    return f"(?:^|{NOT_WORD}){escape(literal)}(?:{NOT_WORD}|$)"


# --------------------------------------------------------------- phrase search
class PhraseMatcher:
    """Finds which of a list of (already normalised) phrases occur in a text.

    `substring`: a phrase is found anywhere. `word`: only where the characters
    just before and after it are not word characters, or are the ends of the text.

    Candidates first, by substring: one `in` (a C search) per phrase for short
    lists; one RE2 set pass for longer ones (measured: faster from about 5 phrases
    on, and still one pass for thousands), or Aho-Corasick if a huge list does
    not fit RE2's memory. Whole-word matches are then confirmed around the first
    few occurrences of each candidate; a phrase that keeps failing the test
    (adversarial text) is settled by a whole-word RE2 search, linear in the text.
    """

    # Above this many phrases, one RE2 set pass beats one `in` per phrase (measured on chat
    # completions: 6 phrases, 3.5 us by `in` against 4.0 us to encode and run the set).
    MANY = 8
    TRIES = 16  # occurrences checked by hand before handing a phrase to RE2

    def __init__(self, phrases: Sequence[str], word: bool):
        distinct: list[str] = []
        for phrase in phrases:
            if phrase and phrase not in distinct:
                distinct.append(phrase)
        self.phrases = tuple(distinct)
        self.word = word
        self._literals = RegexSet([escape(p) for p in self.phrases]) if len(self.phrases) > self.MANY else None
        # A few substrings: callers may test `phrase in text` themselves (the fastest path there is).
        self.simple = self._literals is None and not word
        self._automaton: Any = None  # Aho-Corasick, only if the RE2 set cannot be built
        self._whole: dict[int, Regex] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_automaton"] = None
        state["_whole"] = {}
        return state

    def _candidates(self, text: str) -> list[int]:
        if self._literals is None:
            return [i for i, phrase in enumerate(self.phrases) if phrase in text]
        if self._automaton is None:
            try:
                return sorted(self._literals.match(utf8(text)))
            except Exception:  # noqa: BLE001 - RE2 could not build the set: fall back to Aho-Corasick
                self._automaton = _aho_corasick(self.phrases) if max(map(len, self.phrases)) <= 10_000 else False
        if self._automaton is False:  # phrases too long for a trie (pyahocorasick frees it recursively)
            return [i for i, phrase in enumerate(self.phrases) if phrase in text]
        seen: set[int] = set()
        for _, index in self._automaton.iter(text):
            seen.add(index)
            if len(seen) == len(self.phrases):
                break
        return sorted(seen)

    def _whole_word(self, index: int, text: str) -> bool:
        phrase = self.phrases[index]
        size = len(phrase)
        start = text.find(phrase)
        for _ in range(self.TRIES):
            if start == -1:
                return False
            end = start + size
            if (start == 0 or not is_word_char(text[start - 1])) and (end == len(text) or not is_word_char(text[end])):
                return True
            start = text.find(phrase, start + 1)
        if start == -1:
            return False
        regex = self._whole.get(index)
        if regex is None:
            regex = self._whole[index] = Regex(whole_word_pattern(phrase))
        return regex.search(utf8(text))

    def found(self, text: str) -> list[int]:
        """Indices of the phrases found in `text`, in list order."""
        candidates = self._candidates(text)
        if not self.word or not candidates:
            return candidates
        return [i for i in candidates if self._whole_word(i, text)]

    def any(self, text: str) -> bool:
        if self._literals is None:
            for i, phrase in enumerate(self.phrases):
                if phrase in text and (not self.word or self._whole_word(i, text)):
                    return True
            return False
        return bool(self.found(text))


def _aho_corasick(phrases: Sequence[str]) -> Any:
    import ahocorasick

    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for index, phrase in enumerate(phrases):
        automaton.add_word(phrase, index)
    automaton.make_automaton()
    return automaton


# ------------------------------------------------------------------ word views
class _WordCharMap(dict):  # type: ignore[type-arg]
    """`str.translate` table: non-word characters -> space, word characters kept (cached per code point)."""

    LIMIT = 200_000

    def __missing__(self, code: int) -> int:
        value = code if is_word_char(chr(code)) else 32
        if len(self) < self.LIMIT:
            self[code] = value
        return value


_WORD_MAP = _WordCharMap()
_ASCII_NON_WORD = bytes(c for c in range(128) if not (chr(c).isalnum() or chr(c) == "_"))
_ASCII_TO_SPACE = bytes.maketrans(_ASCII_NON_WORD, b" " * len(_ASCII_NON_WORD))


def word_runs(text: str) -> list[str]:
    """`split words`: the runs of word characters of `text`, in order (punctuation dropped)."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return text.translate(_WORD_MAP).split()
    pieces = data.translate(_ASCII_TO_SPACE).decode("utf-8").split()
    if text.isascii():
        return pieces
    words: list[str] = []
    for piece in pieces:
        if piece.isascii() or piece.isalnum():  # only letters and digits: one word (isalnum is exactly L* and N*)
            words.append(piece)
        else:  # non-ASCII punctuation or marks inside: classify character by character
            words.extend(piece.translate(_WORD_MAP).split())
    return words


# Rules that work on words (`overlap`, `repetition`) read at most this many words of a
# text and of a target: bounded work on a megabyte of text (docs/language.md §6.5).
MAX_WORDS = 50_000


def split_words(text: str, split: str) -> list[str]:
    """The first `MAX_WORDS` words of `text`: `words` = runs of word characters, `whitespace` = `str.split()`."""
    if split == "whitespace":
        words = text.split(maxsplit=MAX_WORDS) if len(text) >= 2 * MAX_WORDS else text.split()
    else:
        words = word_runs(text)
    # n words need at least 2n - 1 characters: a shorter text is never cut.
    return words[:MAX_WORDS] if len(words) > MAX_WORDS else words


def capped_text(text: str) -> str:
    """`text` cut after its `MAX_WORDS`-th `str.split()` word (the whitespace between words may change)."""
    if len(text) < 2 * MAX_WORDS:
        return text
    pieces = text.split(maxsplit=MAX_WORDS)
    return " ".join(pieces[:MAX_WORDS]) if len(pieces) > MAX_WORDS else text


# Whitespace other than " ", "\n" and "\t": rare in model output; `WordFinder` hands text holding it to `str.split()`.
_RARE_SPACE = frozenset(c for c in WHITESPACE if c not in " \n\t")
# Deleting every other byte leaves the rare ASCII whitespace and the non-ASCII characters (still valid UTF-8).
_NOT_RARE_BYTES = bytes(c for c in range(0x80) if chr(c) not in _RARE_SPACE)


def has_rare_space(text: str) -> bool:
    r"""Whether `text` holds whitespace other than " ", "\n" and "\t"."""
    try:
        rest = text.encode("utf-8").translate(None, _NOT_RARE_BYTES)
    except UnicodeEncodeError:
        return True
    if not rest:
        return False
    chars = rest.decode("utf-8")
    if len(chars) > _MANY_RARE:  # one fast C search per space character, no character object per position
        return any(space in chars for space in _RARE_SPACE)
    return not _RARE_SPACE.isdisjoint(chars)


# Above this many non-ASCII characters, testing them against a set of characters (which makes an object
# per position) costs more than one C search per character looked for: 0.37 s against ms on 8 MB.
_MANY_RARE = 256


class WordFinder:
    r"""Which of some words occur in texts as whole `str.split()` pieces, without splitting the text.

    The text's "\n" and "\t" become spaces and the text is padded with a space
    at each end (`padded`); a word is then a piece exactly where " word " occurs:
    one `in` per word for up to `FEW` words, one Aho-Corasick pass for more. Text
    with any other whitespace is split the plain way. Measured on chat
    completions, this is 1.5 to 2 times faster than splitting a completion to look
    up its pieces (it builds no pieces).
    """

    # pyahocorasick frees its trie recursively: a very long word would overflow the C stack.
    LONGEST = 1000

    def __init__(self, words: Iterable[str]):
        self.words = tuple(dict.fromkeys(w for w in words if w))
        self._set = frozenset(self.words)
        self._automaton: Any = None
        self._split_only = any(len(w) > self.LONGEST for w in self.words)
        self._spaced = tuple(f" {word} " for word in self.words)  # what `count_padded` looks for

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_automaton"] = None
        return state

    def _build(self) -> Any:
        import ahocorasick

        automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        for index, word in enumerate(self.words):
            automaton.add_word(f" {word} ", index)
        automaton.make_automaton()
        self._automaton = automaton
        return automaton

    def count(self, text: str, enough: int | None = None) -> int:
        """Distinct words found as pieces of `text.split()` (counting may stop at `enough`)."""
        return self.count_padded(text, padded(text), enough)

    FEW = 24  # up to this many words, one `in` per word on the padded text beats an automaton pass

    def count_padded(self, text: str, spaced: str | None, enough: int | None = None) -> int:
        """`count(text, enough)`, given `padded(text)` (shared by every finder that searches the text)."""
        if not self.words or (enough is not None and enough <= 0):
            return 0
        if self._split_only or spaced is None:
            return len(self._set.intersection(text.split()))
        goal = len(self.words) if enough is None else min(enough, len(self.words))
        found = 0
        if len(self.words) <= self.FEW:
            for piece in self._spaced:
                if piece in spaced:
                    found += 1
                    if found >= goal:
                        break
            return found
        automaton = self._automaton or self._build()
        seen: set[int] = set()
        for _, index in automaton.iter(spaced):
            seen.add(index)
            if len(seen) >= goal:
                break
        return len(seen)


def padded(text: str) -> str | None:
    r"""`text` with "\n" and "\t" as spaces and a space at each end: " word " occurs in it exactly where
    `word` is a piece of `text.split()`. None when the text holds any other whitespace (`has_rare_space`)."""
    if has_rare_space(text):
        return None
    return " " + text.replace("\n", " ").replace("\t", " ") + " "


_ASCII_SPACE_TABLE = bytes(32 if c in _ASCII_SPACE_BYTES else 120 for c in range(256))  # space -> " ", else "x"
_ASCII_BYTES = bytes(range(0x80))


@cache
def _count_hazards() -> frozenset[str]:
    """Non-ASCII characters that stop words from being counted on the bytes: whitespace
    `bytes` does not know, characters that NFKC turns into whitespace, and default
    ignorables (removed first: a word made of them alone is no word)."""
    spaces = (c for c in WHITESPACE + NFKC_SPACE_MAKERS if ord(c) >= 0x80)
    return frozenset(spaces).union(ignorable_characters())


def count_words(text: str) -> int:
    """`len(fold(text).split())` (`unicode nfkc`, §6.4), mostly without normalising or splitting.

    Normalising changes the split only where it turns a character into
    whitespace (`NFKC_SPACE_MAKERS`) or removes a word made only of ignorables.
    Otherwise the words are counted on the UTF-8 bytes: every whitespace byte
    becomes " ", every other byte "x", and a word starts at each " x" (and at an
    "x" in front). The hazards are looked for among the non-ASCII characters only.
    """
    if text.isascii():
        marks = text.encode("ascii").translate(_ASCII_SPACE_TABLE)
        return marks.count(b" x") + (marks[:1] == b"x")
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return len(fold(text).split())
    # The distinct non-ASCII characters, collected once (a character object per position: on a
    # megabyte of them, one pass instead of one per test). (A `re` class of the hazards was tried:
    # over 4,000 characters, it took seconds per megabyte.)
    rare = set(data.translate(None, _ASCII_BYTES).decode("utf-8"))
    if not _count_hazards().isdisjoint(rare):
        return _count_hazardous(text, rare)
    marks = data.translate(_ASCII_SPACE_TABLE)
    return marks.count(b" x") + (marks[:1] == b"x")


@cache
def _space_makers() -> frozenset[str]:
    return frozenset(NFKC_SPACE_MAKERS)


def _count_hazardous(text: str, rare: set[str]) -> int:
    """`len(fold(text).split())` for a text holding a hazard (`rare`: its distinct non-ASCII characters).

    Only a space maker needs `fold` (about 3 times a split on chat text): non-ASCII whitespace is
    split by `str.split()` itself, and only the removal of ignorables changes the split otherwise.
    """
    if not _space_makers().isdisjoint(rare):
        return len(fold(text).split())
    for char in ignorable_characters().intersection(rare):  # a C `replace` per distinct ignorable present
        text = text.replace(char, "")
    return len(text.split())


def word_counts(batch: Batch, scope: str) -> list[int]:
    """Words of each completion's text in `scope` (`len(text.split())` of the `unicode nfkc` text)."""
    return batch.cached(("lexical", "word_counts", scope), lambda: [count_words(t) for t in batch.visible(scope)])


def count_sentences(text: str) -> int:
    """Runs of text ending in `.`, `!` or `?` (or at the end) that hold something besides whitespace."""
    pieces = text.replace("!", ".").replace("?", ".").split(".")
    return sum(1 for piece in pieces if piece and not piece.isspace())


def measure(
    batch: Batch, unit: str, scope: str, words: Callable[[Batch, str], list[int]] | None = None
) -> list[int | None]:
    """The length of each completion in `unit` (§6.4); None for tokens without completion_ids.

    `words` counts words (`word_counts` by default; a spec's `Scan.word_counts` reads a split it makes anyway).
    """
    if unit == "words":
        return list((words or word_counts)(batch, scope))
    if unit == "tokens":
        return batch.token_counts()
    texts = batch.normalized(scope, "sensitive", "nfkc")
    if unit == "characters":
        return [len(text) for text in texts]
    return batch.cached(("lexical", "sentences", scope), lambda: [count_sentences(t) for t in texts])
