"""The runtime's guarantees under hostile input: non-finite formulas, lone surrogates, megabyte texts.

Each test asserts exact scores. Bounded cost is tested by the cap being applied
(a text past the cap scores as its capped prefix), never by timing.
"""

from __future__ import annotations

import math
from typing import Any

import pytest

import rewardlang
from rewardlang.compiler import evaluate
from rewardlang.kinds import repetition
from rewardlang.rules import matching
from rewardlang.rules.matching import MAX_WORDS


def spec(body: str) -> rewardlang.CompiledSpec:
    return rewardlang.loads(f"reward t\nrule a: length 1.. words\n{body}\n")


# ============================================================ non-finite totals
OVERFLOW_NAN = "1e308*10 - 1e308*10"  # inf - inf


@pytest.mark.parametrize(
    ("formula", "clip", "expected"),
    [
        (OVERFLOW_NAN, "", 0.0),  # NaN -> 0
        (OVERFLOW_NAN, "clip 0.5..1", 0.5),  # NaN -> 0, moved into the clip range
        (OVERFLOW_NAN, "clip -3..-1", -1.0),
        (OVERFLOW_NAN, "clip ..0.25", 0.0),
        ("1e308*10", "clip 0.5..1", 1.0),  # +inf -> the clip's high end
        ("-1e308*10", "clip 0.5..1", 0.5),  # -inf -> the clip's low end
        ("1e308*10", "", 0.0),  # an infinity no clip bound catches -> 0
        ("1e308*10", "clip 0.5..", 0.5),  # ... inside the clip range
        ("-1e308*10", "clip ..-2", -2.0),
        # NaN is NaN whatever the argument order (Python's min would return 1 for the second)
        (f"min({OVERFLOW_NAN}, 1)", "clip 0.5..1", 0.5),
        (f"min(1, {OVERFLOW_NAN})", "clip 0.5..1", 0.5),
        (f"max(1, {OVERFLOW_NAN})", "", 0.0),
        (f"clip({OVERFLOW_NAN}, 0, 1)", "clip 0.5..1", 0.5),
        (f"abs({OVERFLOW_NAN}) + a", "clip 0.5..1", 0.5),
        ("clip(1e308*10, 0, 0.75)", "", 0.75),  # an infinity clipped inside the formula is finite
        ("a / (a - 1)", "clip 0.5..1", 0.5),  # x / 0 is 0 (a is 1 here)
        ("a * 0.75", "", 0.75),  # finite formulas are untouched
    ],
)
def test_non_finite_totals_respect_clip(formula: str, clip: str, expected: float) -> None:
    compiled = spec(f"total = {formula}\n{clip}")
    assert compiled.score(["word"]).total == [expected]
    # What TRL receives is the same number.
    assert compiled.reward_funcs[0](completions=["word"], prompts=["p"]) == [expected]


def test_gate_value_replaces_a_nan_total() -> None:
    compiled = rewardlang.loads(
        f"reward t\nrule a: length 2.. words\ntotal = {OVERFLOW_NAN}\ngate a < 1 then -0.5\nclip -1..1\n"
    )
    assert compiled.score(["one", "two words"]).total == [-0.5, 0.0]


def test_nan_propagates_through_functions() -> None:
    compiled = spec(f"total = min(1, {OVERFLOW_NAN})")
    assert compiled.spec.total is not None
    assert math.isnan(evaluate(compiled.spec.total, {"a": 1.0}))


# ================================================================ surrogates
LEXICAL = [
    'banned "x\ufffdy", "bad"',
    'banned "x\ufffdy" { unicode raw }',
    'phrases "x\ufffdy", "good" { each 0.5 }',
    'regex "x.y"',
    "length 1..3 words",
    "length 1..7 characters",
    "repetition { ngram 1 }",
    "overlap to last_user",
    "overlap to column reference { split whitespace }",
    "similarity chrf to last_user",
    "similarity fuzzy to column reference",
    "equals column reference",
    "equals last_user { compare exact }",
    'tags "b"',
    "json",
]


@pytest.mark.parametrize("rule", LEXICAL)
def test_a_lone_surrogate_scores_as_the_replacement_character(rule: str) -> None:
    compiled = rewardlang.loads(f"reward t\nrule r: {rule}\n")

    def scores(char: str) -> list[float | None]:
        texts = [f"x{char}y good", f"<b>x{char}y</b>", f'{{"k": "{char}"}}']
        prompts = [[{"role": "user", "content": f"x{char}y good"}]] * 3
        return compiled.score(texts, prompts=prompts, reference=[f"x{char}y good"] * 3).rules["r"]

    got = scores("\ud800")
    assert got == scores("\ufffd")
    assert None not in got
    assert got == scores("\udfff")


def test_surrogate_pairs_in_python_strings_are_two_replacement_characters() -> None:
    # "\ud83d\ude00" is two code points in a str (not 😀): each becomes U+FFFD.
    compiled = rewardlang.loads("reward t\nrule r: length 2..2 characters\n")
    assert compiled.score(["\ud83d\ude00"]).rules["r"] == [1.0]


# =================================================================== caps
def words(count: int, start: int = 0) -> str:
    return " ".join(f"w{i % 977}x{i // 977}" for i in range(start, start + count))


def test_split_words_reads_at_most_max_words() -> None:
    text = words(MAX_WORDS + 10)
    assert len(matching.split_words(text, "words")) == MAX_WORDS
    assert len(matching.split_words(text, "whitespace")) == MAX_WORDS
    assert matching.split_words(text, "whitespace") == text.split()[:MAX_WORDS]
    assert matching.capped_text(text) == words(MAX_WORDS)
    short = "a  b\n" * 10
    assert matching.capped_text(short) is short


@pytest.mark.parametrize("rule", ["repetition { ngram 32 }", "repetition { ngram 1  split whitespace }"])
def test_repetition_past_the_cap_scores_as_its_capped_prefix(rule: str) -> None:
    compiled = rewardlang.loads(f"reward t\nrule r: {rule}\n")
    prefix = words(MAX_WORDS)
    # Past the cap the text repeats itself: counted, that would halve the score.
    scores = compiled.score([prefix, prefix + " " + prefix, prefix + " " + words(5000)]).rules["r"]
    assert scores[0] == 1.0
    assert scores == [1.0, 1.0, 1.0]


def test_hashed_ngram_counts_equal_exact_counts() -> None:
    text = (words(3000) + " ") * 3 + words(2000, start=10_000)  # 11,000 words, many n-grams repeated
    tokens = text.split()
    for n in (10, 32):
        assert len(tokens) * n > repetition.EXACT_CELLS  # the hashed path
        exact = len(set(zip(*(tokens[i:] for i in range(n)), strict=False)))  # shifted copies: the n-grams
        assert repetition.ngram_counts(tokens, n) == (exact, len(tokens) - n + 1)


def test_repetition_counts_exactly_below_the_cap() -> None:
    assert repetition.ngram_counts(["a", "b", "a", "b", "a", "b"], 2) == (2, 5)
    assert repetition.ngram_counts(["a", "b", "c"], 4) == (0, 0)
    compiled = rewardlang.loads("reward t\nrule r: repetition { ngram 2 }\n")
    assert compiled.score(["a b a b a b"]).rules["r"] == [0.4]


@pytest.mark.parametrize("split", ["words", "whitespace"])
def test_overlap_past_the_cap_scores_as_its_capped_prefix(split: str) -> None:
    compiled = rewardlang.loads(f"reward t\nrule r: overlap to column reference {{ split {split} }}\n")
    target = "late early"
    prefix = words(MAX_WORDS - 1) + " early"
    texts = [prefix, prefix + " late", prefix + " " + "late " * 10]
    assert compiled.score(texts, reference=[target] * 3).rules["r"] == [0.5, 0.5, 0.5]
    # A target is capped too: its words past the cap are not counted.
    long_target = words(MAX_WORDS) + " early"
    assert compiled.score(["early w0x0"], reference=[long_target]).rules["r"] == [1 / MAX_WORDS]


def test_similarity_past_the_cap_scores_as_its_capped_prefix() -> None:
    from rewardlang.kinds.similarity import MAX_CHARS

    compiled = rewardlang.loads("reward t\nrule r: similarity rouge1 to column reference\n")
    prefix = ("alpha beta " * MAX_CHARS)[:MAX_CHARS]
    texts = [prefix, prefix + " gamma delta" * 1000]
    scores: list[Any] = compiled.score(texts, reference=["alpha gamma"] * 2).rules["r"]
    assert scores[0] == scores[1]
