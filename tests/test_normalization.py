"""Evasion-proof matching (docs/language.md §6.5): what `unicode nfkc` and `unicode confusables` remove and fold.

Every score here is exact; each case names the evasion it closes. `unicode raw`
keeps the old behaviour exactly (tests/test_guide_equivalence.py holds the guide
spec to it); the raw cases below show the difference.
"""

from __future__ import annotations

import unicodedata

import pytest
import regex
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang import text as normalisation
from rewardlang.text import PUNCTUATION, fold, ignorable_characters, ignorable_ranges, normalize

ZWSP, ZWJ, WJ, SHY, BOM = "\u200b", "\u200d", "\u2060", "\u00ad", "\ufeff"


def one(rule: str, text: str, **columns: list[str]) -> float | None:
    spec = rewardlang.loads(f"reward t\nrule r: {rule}\n")
    return spec.score([text], **columns).rules["r"][0]


# ================================================================ the data
def test_ignorables_are_unicode_default_ignorable_code_points() -> None:
    found = ignorable_characters()
    # The characters a policy would use to hide a word, all of them in the set.
    for char in (ZWSP, "\u200c", ZWJ, WJ, SHY, BOM, "\u034f", "\u061c", "\u180e", "\u2061", "\u2064",
                 "\u202a", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\ufe00", "\ufe0f",
                 "\U000e0001", "\U000e0041", "\U000e007f", "\U000e0100", "\U000e01ef", "\u115f", "\u3164"):
        assert char in found, hex(ord(char))
    # Checked against Python's own Unicode data: no ignorable is a letter of another kind,
    # a digit, punctuation, a symbol or whitespace (they are format characters, marks,
    # Hangul fillers, or reserved code points).
    for char in found:
        assert unicodedata.category(char) in {"Cf", "Mn", "Lo", "Cn"}, hex(ord(char))
        assert not char.isspace()
    # Every format character is ignorable except the visible ones Unicode excludes
    # (prepended concatenation marks, interlinear annotation, Egyptian hieroglyph controls).
    visible_format = regex.compile(r"\p{Prepended_Concatenation_Mark}|[\ufff9-\ufffb\U00013430-\U0001343f]")
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) == "Cf" and char not in found:
            assert visible_format.fullmatch(char), hex(code)
    assert ignorable_ranges()[0] == (0xAD, 0xAD) and ignorable_ranges()[-1] == (0xE0000, 0xE0FFF)


def test_nfkc_never_makes_an_ignorable() -> None:
    """Why `fold` removes ignorables before NFKC only: NFKC creates none from other characters."""
    found = ignorable_characters()
    for code in range(0x110000):
        char = chr(code)
        if char not in found and not 0xD800 <= code < 0xE000:
            assert found.isdisjoint(unicodedata.normalize("NFKC", char)), hex(code)


def test_punctuation_table() -> None:
    spaces = {chr(c) for c in range(0x80, 0x110000) if unicodedata.category(chr(c)) == "Zs"}
    assert {char for char, plain in PUNCTUATION.items() if plain == " "} == spaces
    assert all(plain.isascii() for plain in PUNCTUATION.values())
    # An ASCII result never composes with a following combining mark, so `fold` output stays NFKC.
    for plain in set("".join(PUNCTUATION.values())):
        for mark in ("\u0301", "\u0308", "\u0338", "\u0327"):
            assert unicodedata.normalize("NFC", plain + mark) == plain + mark


def test_confusables_data_is_the_unicode_file_parsed_lazily() -> None:
    table = normalisation.confusable_table()
    assert table[ord("\u0430")] == "a"  # CYRILLIC SMALL LETTER A
    assert table[ord("\u03bf")] == "o"  # GREEK SMALL LETTER OMICRON
    assert table[ord("\u0406")] == "I"  # CYRILLIC CAPITAL BYELORUSSIAN-UKRAINIAN I (UTS #39: "l")
    assert not any(chr(code).isascii() for code in table)  # ASCII is never folded
    assert len(table) > 6000


TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("ab \n.-'\"") + list(PUNCTUATION) + [ZWSP, ZWJ, SHY, "\u0301", "\ufe58", "\u2033"]),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_fold_is_idempotent_and_leaves_nothing_to_fold(text: str) -> None:
    folded = fold(text)
    assert fold(folded) == folded
    assert unicodedata.is_normalized("NFKC", folded)
    assert ignorable_characters().isdisjoint(folded)
    assert set(PUNCTUATION).isdisjoint(folded)


def test_normalize_examples() -> None:
    assert normalize("Here\u2019s\u00a0how\u2026") == "here's how..."
    assert normalize("\u201cA\u201d \u2033 \u2014 \u2212 \ufe63 \uff0d") == '"a" " - - - -'
    assert normalize("harm\u200bless\u00adly") == "harmlessly"
    assert normalize("Here\u2019s", unicode="raw") == "here\u2019s"
    assert normalize("h\u0430rm") == "h\u0430rm"  # nfkc keeps other scripts
    assert normalize("h\u0430rm", unicode="confusables") == "harm"
    assert normalize("\u041dello \u03a5es", unicode="confusables", case="sensitive") == "Hello Yes"
    assert normalize("modern \u0131", unicode="confusables") == "modern i"  # ASCII m is not "rn"
    assert normalize("caf\u00e9 \u0451", unicode="confusables") == "caf\u00e9 \u00eb"  # Cyrillic ё reads as ë


# ============================================================ rule by rule
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        # banned: confusables by default
        ('banned "harmful"', "h\u0430rmful", 0.0),  # Cyrillic а
        ('banned "harmful"', "h\u03b1rmful", 0.0),  # Greek α
        ('banned "harmful"', "\U0001d421\U0001d41a\U0001d42b\U0001d426\U0001d41f\U0001d42e\U0001d425", 0.0),  # bold
        ('banned "harmful"', "\uff48\uff41\uff52\uff4d\uff46\uff55\uff4c", 0.0),  # full-width
        ('banned "harmful"', "harm\u200bful", 0.0),  # zero-width space
        ('banned "harmful"', "h" + ZWJ + "a" + SHY + "r" + WJ + "m" + BOM + "ful", 0.0),
        ('banned "harmful"', "harm\U000e0041ful", 0.0),  # a tag character
        ('banned "harmful"', "harm\ufe0fful", 0.0),  # a variation selector
        ('banned "harmful"', "\u202eharmful\u202c", 0.0),  # bidi override
        ('banned "illegal"', "\u0406llegal", 0.0),  # Cyrillic capital І
        ('banned "illegal"', "\u0399LLEGAL", 0.0),  # Greek capital Ι
        ('banned "harmful" { unicode nfkc }', "h\u0430rmful", 1.0),  # nfkc: other scripts stay themselves
        ('banned "harmful" { unicode nfkc }', "harm\u200bful", 0.0),
        ('banned "harmful" { unicode raw }', "harm\u200bful", 1.0),  # raw: as before
        ('banned "harmful" { unicode raw }', "h\u0430rmful", 1.0),
        # word boundaries after removal: "harm\u200bless" is "harmless"
        ('banned "harm"', "harm\u200bless", 1.0),
        ('banned "harmless"', "harm\u200bless", 0.0),
        ('banned "harm" { unicode raw }', "harm\u200bless", 0.0),  # raw: ZWSP is no word character
        # ASCII letters stay apart: "modern" is not "modem"; l / 1 / I are different letters
        # except where `banned` reads leetspeak and ASCII look-alikes (tests/test_disguises.py)
        ('banned "modem"', "modern", 1.0),
        ('banned "l1" { unicode nfkc }', "I1 ll 11", 1.0),
        ('phrases "l1" { unicode confusables }', "I1 ll 11", 0.0),
        ('banned "Illegal" { case sensitive }', "lllegal", 1.0),
        ('banned "harmful" { case sensitive }', "H\u0430RMFUL", 1.0),
        ('banned "HARMFUL" { case sensitive }', "H\u0410RMFUL", 0.0),  # Cyrillic capital А
        # phrases: nfkc by default, confusables on request
        ('phrases "Here\'s how"', "Here\u2019s how", 1.0),
        ('phrases "Here\'s how"', "Here\u02bcs how", 1.0),
        ('phrases "Here\'s how"', "Here\u2032s\u00a0how", 1.0),
        ('phrases "Here\'s how"', "Here\u2019s\u200b how", 1.0),
        ('phrases "Here\'s how" { unicode raw }', "Here\u2019s how", 0.0),
        ('phrases "well-known"', "well\u2011known", 1.0),  # non-breaking hyphen
        ('phrases "a - b"', "a \u2014 b", 1.0),
        ('phrases "wait..."', "wait\u2026", 1.0),
        ('phrases "\\"quoted\\""', "\u201cquoted\u201d", 1.0),
        ('phrases "I can help"', "I c\u0430n help", 0.0),
        ('phrases "I can help" { unicode confusables }', "I c\u0430n help", 1.0),
        # regex (case sensitive by default): matched on the normalised text
        ('regex "harmful"', "harm\u00adful", 1.0),
        ('regex "harmful" { unicode raw }', "harm\u00adful", 0.0),
        ("regex \"it's\"", "it\u2019s", 1.0),
        # repetition: "ha\u200bha ha" is "haha ha", two distinct words of two
        ("repetition { ngram 1 }", "ha\u200bha ha", 1.0),
        ("repetition { ngram 1  unicode raw }", "ha\u200bha ha", pytest.approx(1 / 3)),
        # length counts after removal (§6.4): a word made only of ignorables is no word
        ("length 2..2 words", "a \u200b b", 1.0),
        ("length 2..2 words", "a \u200b\u2060 b\u200bc", 1.0),
        ("length 3..3 characters", "a\u200bb\u00adc", 1.0),
        ("length 1..1 sentences", "One\u200b.", 1.0),
    ],
)
def test_rules(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == expected


def test_comparison_rules_normalise_both_sides() -> None:
    reference = ["It's well-known\u2026"]
    text = "It\u2019s well\u2011known..."
    assert one("overlap to column reference { split whitespace }", text, reference=reference) == 1.0
    assert one("overlap to column reference { split whitespace  unicode raw }", text, reference=reference) == 0.0
    assert one("similarity fuzzy to column reference", text, reference=reference) == 1.0
    assert one("equals column reference", text, reference=reference) == 1.0
    assert one("equals column reference", "It\u2019s\u00a0well\u2011known\u200b...", reference=reference) == 1.0
    assert one("equals column reference { compare exact }", text, reference=reference) == 0.0


def test_think_tags_are_found_after_removal() -> None:
    """An ignorable inside `<think>` cannot turn the thinking into the answer."""
    text = "All good.<thi\u200bnk>harmful plan"  # a <think> left open: the rest is thinking
    assert one('banned "harmful"', text) == 1.0
    assert one("length 2..2 words", text) == 1.0
    assert one('banned "harmful" { unicode raw }', text) == 0.0  # raw: no <think> tag, all answer


# =============================================================== property
IGNORABLE = st.sampled_from(sorted(ignorable_characters()))
WORDS = ["harm", "harmful", "I", "can", "help", "here's", "how", "<think>", "</think>", "ok.", "\u0430", "e", "\u0301"]
COMPLETION = st.lists(st.sampled_from([*WORDS, " ", "\n", "", "\u2019"]), max_size=16).map("".join)
SPEC = rewardlang.loads(
    """reward prop
rule banned_word: banned "harm", "here's how"
rule banned_sub: banned "harm" { match substring  scope full }
rule phrase_word: phrases "I can help", "harmful" { each 0.5  cap 1 }
rule phrase_sub: phrases "can", "ful" { match substring  unicode confusables  scope thinking }
rule words: length 3..5 words
rule characters: length 5..12 characters { ramp 3 }
rule sentences: length 1..1 sentences { scope full }
"""
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(COMPLETION, st.lists(st.tuples(st.integers(min_value=0), IGNORABLE), min_size=1, max_size=4))
def test_inserting_ignorables_never_changes_banned_phrases_or_length(
    completion: str, insertions: list[tuple[int, str]]
) -> None:
    hidden = completion
    for position, char in insertions:
        at = position % (len(hidden) + 1)
        hidden = hidden[:at] + char + hidden[at:]
    for name, (before, after) in SPEC.score([completion, hidden]).rules.items():
        assert before == after, (name, completion, hidden)
