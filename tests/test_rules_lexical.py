"""The lexical rule kinds: hand-computed scores, pickling, and scores that stay in range whatever comes in.

Scorers are called directly (`scorer.score(Batch(...))`), not through the
compiler's guard, so an exception or an out-of-range value here is the rule's own.
"""

from __future__ import annotations

import math
import pickle
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang.registry import KINDS, score_range
from rewardlang.rules import matching
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch
from rewardlang.text import fold

# Every kind but those backed by a model or a reference metric, which tests/test_rules_models.py covers,
# `math`, backed by a worker process (tests/test_math_answer.py: its own pickling, junk and megabytes),
# and `judge`, backed by a language model or a server (tests/test_judge.py).
LEXICAL_KINDS = set(KINDS) - {"relevance", "similarity", "classifier", "math", "judge"}


def scorer(rule: str) -> RuleScorer:
    """The compiled scorer of a one-rule spec, e.g. `scorer('length 2..3 words')`."""
    compiled = rewardlang.loads(f"reward t\nrule r: {rule}\n")
    return compiled.scorers["r"]


def scores(rule: str, completions: list[Any], prompts: list[Any] | None = None,
           completion_ids: list[Any] | None = None, **columns: list[Any]) -> list[float | None]:
    found = scorer(rule).score(Batch(completions, prompts, completion_ids, columns))
    assert len(found) == len(completions)
    return found


def one(rule: str, completion: Any, **kwargs: Any) -> float | None:
    prompts = kwargs.pop("prompts", None)
    return scores(rule, [completion], prompts=prompts, **kwargs)[0]


def chat(text: Any) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": text}]


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text}]


# ====================================================================== length
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("length 2..3 words", "one two three", 1.0),
        ("length 2..3 words", "one", 0.0),
        ("length 2..3 words { outside 0.5 }", "a b c d e", 0.5),
        ("length ..120 words { ramp 40 }", "w " * 120, 1.0),
        ("length ..120 words { ramp 40 }", "w " * 130, 0.75),
        ("length ..120 words { ramp 40 }", "w " * 140, 0.5),
        ("length ..120 words { ramp 40 }", "w " * 200, 0.0),
        ("length 10.. words { ramp 5  outside -1 }", "w " * 7, 1 + (-2) * (3 / 5)),
        ("length 10.. words { outside -1 }", "", -1.0),
        ("length 2..2 characters", "\ufb01", 1.0),  # the ligature "fi" is two characters after NFKC
        ("length 3..3 characters", "e\u0301te", 1.0),  # NFKC composes e + accent: "éte"
        ("length 3..3 sentences", "Hello. World! How are you?", 1.0),
        ("length 2..2 sentences", "Hi... there", 1.0),
        ("length 0..0 sentences", "...  !? ", 1.0),  # terminators and whitespace only: no sentence
        ("length 1..1 sentences", "no terminator at all", 1.0),
        ("length 2..2 sentences", "One\u2026 two", 1.0),  # U+2026 is "..." after NFKC
    ],
)
def test_length(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == pytest.approx(expected)


def test_length_words_are_counted_on_nfkc_text() -> None:
    # U+00A8 DIAERESIS is " \u0308" under NFKC: one raw word, two NFKC words.
    assert one("length 2..2 words", "a\u00a8b") == 1.0
    # A no-break space separates words before and after NFKC alike; a zero-width space does not.
    assert one("length 2..2 words", "a\u00a0b") == 1.0
    assert one("length 1..1 words", "a\u200bb") == 1.0


def test_length_counts_every_assistant_message_and_skips_other_roles() -> None:
    completion = [
        {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "content": "tool output is not scored at all"},
        {"role": "assistant", "content": [{"type": "text", "text": "final"}, {"type": "image"}, "answer"]},
    ]
    assert one("length 2..2 words", completion) == 1.0  # "final\n\nanswer"
    assert one("length 0..0 words", chat(None)) == 1.0
    assert one("length 0..0 words", None) == 1.0
    assert one("length 0..0 words", {"weird": object()}) == 1.0


@pytest.mark.parametrize(
    ("scope", "expected_words"),
    [("answer", 2), ("thinking", 4), ("full", 6)],
)
def test_length_scope(scope: str, expected_words: int) -> None:
    text = "<think>a b c d</think> x y"
    assert one(f"length {expected_words}..{expected_words} words {{ scope {scope} }}", text) == 1.0


def test_length_in_tokens_needs_completion_ids() -> None:
    rule = "length 1..3 tokens"
    assert scores(rule, ["a", "b", "c"], completion_ids=[[1, 2], [1, 2, 3, 4], None]) == [1.0, 0.0, None]
    assert scores(rule, ["a"]) == [None]  # no completion_ids at all: not applicable


# ===================================================================== phrases
HELPFUL = 'phrases "I can help", "Here\'s how", "Let me explain" { each 0.3  cap 1 }'


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        (HELPFUL, "I can help you. Here's how.", 0.6),
        (HELPFUL, "i CAN help! i can help! I can help!", 0.3),  # a phrase counts once
        (HELPFUL, "I can help. Here's how. Let me explain.", 0.3 * 3),
        (HELPFUL, "I can, help", 0.0),  # punctuation inside a phrase breaks it
        (HELPFUL, "Here\u2019s how", 0.3),  # the curly apostrophe folds to ' (unicode nfkc, §6.5)
        # raw: the curly apostrophe is another character
        (HELPFUL.replace("cap 1", "cap 1  unicode raw"), "Here\u2019s how", 0.0),
        (HELPFUL, "", 0.0),
        ('phrases "a", "b", "c" { each 0.5  cap 1 }', "a b c", 1.0),  # capped
        ('phrases "a", "b" { each -0.5  cap 1 }', "a b", -1.0),  # negative each mirrors below 0
        ('phrases "harm"', "harmless", 0.0),  # whole words by default
        ('phrases "harm"', "no harm.", 1.0),
        ('phrases "harm"', "-harm-", 1.0),
        ('phrases "harm"', "\u00e9harm", 0.0),  # é is a letter: no boundary
        ('phrases "harm"', "harm_x", 0.0),  # _ is a word character
        ('phrases "harm"', "harm2", 0.0),
        ('phrases "harm"', "harm\u0301", 0.0),  # a combining mark belongs to the word
        ('phrases "harm"', "harm😀", 1.0),
        ('phrases "harm" { match substring }', "harmless", 1.0),
        ('phrases "straße"', "STRASSE", 1.0),  # casefold
        ('phrases "straße" { case lower }', "STRASSE", 0.0),  # str.lower() keeps ß
        ('phrases "straße" { case sensitive }', "Straße", 0.0),
        ('phrases "Straße" { case sensitive }', "Straße", 1.0),
        ('phrases "harm"', "\uff48\uff41\uff52\uff4d", 1.0),  # full-width letters, NFKC
        ('phrases "harm" { unicode raw }', "\uff48\uff41\uff52\uff4d", 0.0),
        ('phrases "new york", "york city" { cap 2 }', "New York City", 2.0),  # overlapping phrases both count
    ],
)
def test_phrases(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == pytest.approx(expected)


def test_phrases_whole_word_after_many_failed_occurrences() -> None:
    # More occurrences inside words than the quick check looks at: RE2 settles it, same answer.
    text = "harmless " * 50 + "harm"
    assert one('phrases "harm"', text) == 1.0
    assert one('phrases "harm"', "harmless " * 50) == 0.0


@pytest.mark.parametrize("match", ["word", "substring"])
def test_phrases_long_lists_use_one_pass(match: str) -> None:
    words = [f"word{i}" for i in range(40)]
    rule = "phrases " + ", ".join(f'"{w}"' for w in words) + f" {{ each 0.1  cap 10  match {match} }}"
    text = "word3 and word17, but xword5 and word250"
    found = one(rule, text)
    # word: word3, word17 (not xword5, not word25 inside word250); substring adds word1, word5, word2, word25.
    assert found == pytest.approx(0.2 if match == "word" else 0.6)


def test_phrases_scope() -> None:
    text = "<think>Let me explain</think>Here's how"
    assert one(HELPFUL, text) == pytest.approx(0.3)
    assert one(HELPFUL.replace("}", "scope full }"), text) == pytest.approx(0.6)
    assert one(HELPFUL.replace("}", "scope thinking }"), text) == pytest.approx(0.3)


# ====================================================================== banned
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ('banned "dangerous", "illegal"', "That is illegal.", 0.0),
        ('banned "dangerous", "illegal"', "That is fine.", 1.0),
        ('banned "dangerous", "illegal"', "Illegally parked", 1.0),  # whole words
        ('banned "dangerous", "illegal" { match substring }', "Illegally parked", 0.0),
        ('banned "harm" { present -1  absent 0.5 }', "no HARM done", -1.0),
        ('banned "harm" { present -1  absent 0.5 }', "harmless", 0.5),
        ('banned "as an AI language model" { match substring }', "As an AI language model, I", 0.0),
        ('banned "a\\u0301"', "\u00e1", 0.0),  # NFKC composes both sides alike
    ],
)
def test_banned(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == expected


def test_banned_many_phrases() -> None:
    rule = "banned " + ", ".join(f'"bad{i}"' for i in range(30))
    assert scores(rule, ["all good", "this is bad7.", "bad77 is not listed"]) == [1.0, 0.0, 1.0]


# ======================================================================= regex
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        (r'regex r"\d+"', "abc 123", 1.0),
        (r'regex r"\d+"', "abc", 0.0),
        (r'regex r"\d+" { present 0  absent 1 }', "abc", 1.0),
        (r'regex r"\[\d+\]" { each 0.25  cap 1 }', "[1] [2] [3]", 0.75),
        (r'regex r"\[\d+\]" { each 0.25  cap 1 }', "[1] [2] [3] [4] [5]", 1.0),
        (r'regex r"\[\d+\]" { each -0.5  cap 1 }', "[1]", -0.5),
        (r'regex r"https?://" { case insensitive }', "see HTTPS://x.org", 1.0),
        (r'regex r"https?://"', "see HTTPS://x.org", 0.0),
        (r'regex "abc" { case lower }', "ABC", 1.0),
        (r'regex "ABC" { case lower }', "ABC", 0.0),  # the text is lower-cased, not the pattern
        (r'regex "fi"', "\ufb01", 1.0),
        (r'regex "fi" { unicode raw }', "\ufb01", 0.0),
        (r'regex r"a*" { each 0.1  cap 100 }', "baaa", 0.1 * 3),  # "", "aaa", "" as Python counts them
        (r'regex "é+" { each 1  cap 10 }', "éé x é", 2.0),
        (r'regex r"^\w+$"', "", 0.0),
        (r'regex r"\bx\b" { each 1  cap 5 }', "x x x", 3.0),
    ],
)
def test_regex(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == pytest.approx(expected)


# ======================================================================== tags
FORMAT = 'tags "think", "answer" { ordered  scope full }'


@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        (FORMAT, "<think>x</think><answer>y</answer>", 1.0),
        (FORMAT, "<answer>y</answer><think>x</think>", 0.0),  # out of order
        (FORMAT, "<think>x</think> no answer", 0.5),
        (FORMAT, "<think>x</think><think>y</think><answer>z</answer>", 0.5),  # two think pairs
        (FORMAT, "<answer>unclosed", 0.0),
        ('tags "think", "answer" { scope full }', "<answer>y</answer><think>x</think>", 1.0),
        ('tags "think"', "<think>x</think>answer", 0.0),  # scope answer has no think blocks
        ('tags "step" { count 1..2 }', "<step>a</step><step>b</step>", 1.0),
        ('tags "step" { count 1..2 }', "<step>a</step><step>b</step><step>c</step>", 0.0),
        ('tags "step" { count 0..0 }', "nothing", 1.0),
        ('tags "a"', "<a><a></a></a>", 1.0),  # counted like a lazy <a>.*?</a> search: one pair
        ('tags "Answer"', "<answer>y</answer>", 0.0),  # case-sensitive
    ],
)
def test_tags(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == pytest.approx(expected)


# ===================================================================== markers
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ('markers "a", "b"', "a b", 1.0),  # `each` is 1 / the number of markers
        ('markers "a", "b"', "a a b", 0.5),  # `count 1..1`: "a" twice is out
        ('markers "a" { count 2.. }', "a a a", 1.0),
        ('markers "a" { count 0..0 }', "nothing", 1.0),
        ('markers "x", "y", "z" { each 0.2 }', "x z", 0.4),
        ('markers "aa"', "aaa", 1.0),  # counted without overlap, as str.count
        ('markers "aa"', "aaaa", 0.0),
        ('markers "Hi"', "hi", 0.0),  # as written: case-sensitive
        ('markers "é"', "e\u0301", 0.0),  # no Unicode normalisation
        ('markers "ab"', "a\u200bb", 0.0),
        ('markers "<think>"', "<think>x</think>answer", 1.0),  # the default scope is `full`
        ('markers "<think>" { scope answer }', "<think>x</think>answer", 0.0),
        ('markers "</answer>" { scope thinking }', "<think>x</answer></think>", 1.0),
    ],
)
def test_markers(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == pytest.approx(expected)


def open_r1_tag_count_reward(completions: list[Any], **kwargs: Any) -> list[float]:
    """open-r1's `tag_count_reward` (src/open_r1/rewards.py), as written there."""

    def count_tags(text: str) -> float:
        count = 0.0
        if text.count("<think>\n") == 1:
            count += 0.25
        if text.count("\n</think>\n") == 1:
            count += 0.25
        if text.count("\n<answer>\n") == 1:
            count += 0.25
        if text.count("\n</answer>") == 1:
            count += 0.25
        return count

    contents = [completion[0]["content"] for completion in completions]
    return [count_tags(c) for c in contents]


OPEN_R1_TAG_COUNT = r'markers "<think>\n", "\n</think>\n", "\n<answer>\n", "\n</answer>"'
OPEN_R1_TEXTS = [
    "<think>\nI add 2 and 2.\n</think>\n<answer>\n4\n</answer>",
    "<think>\nno answer yet\n</think>\n",
    "<think>x</think><answer>4</answer>",  # no line breaks around the tags
    "<think>\na\n</think>\n<think>\nb\n</think>\n<answer>\n4\n</answer>",  # thinking twice
    "",
    "4\n</answer>",
    "<think>\n<answer>\n</answer>",  # markers share their line breaks
    "<THINK>\nx\n</THINK>\n<answer>\n4\n</answer>",
]


def test_markers_reproduce_open_r1_tag_count_reward() -> None:
    completions = [chat(text) for text in OPEN_R1_TEXTS]
    expected = [1.0, 0.5, 0.0, 0.5, 0.0, 0.25, 0.75, 0.5]
    assert open_r1_tag_count_reward(completions) == expected
    assert scores(OPEN_R1_TAG_COUNT, completions) == expected


# ======================================================================== json
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ('json { keys "answer", "confidence" }', '{"answer": 1, "confidence": 0.5}', 1.0),
        ('json { keys "answer", "confidence" }', '  {"answer": 1}\n', 0.75),
        ('json { keys "answer", "confidence" }', "[1, 2]", 0.5),
        ('json { keys "answer" }', '{"nested": {"answer": 1}}', 0.5),  # top level only
        ("json", '{"a": 1}', 1.0),
        ("json", "42", 1.0),
        ("json", "not json", 0.0),
        ("json", '{"a": 1} trailing', 0.0),
        ("json", "", 0.0),
        ("json", "NaN", 0.0),  # not JSON, though Python's parser takes it
        ("json", '{"a": Infinity}', 0.0),
        ("json", "[" * 100_000, 0.0),
        ("json", "1" * 100_000, 1.0),  # past 4,300 digits an integer is read as a float: no int size limit
        ('json { keys "a": string, "b": integer }', '{"a": "x", "b": 2.0}', 1.0),  # 2.0 is an integer
        ('json { keys "a": string, "b": integer }', '{"a": 1, "b": true}', 0.5),  # true is no number
        ('json { extract fenced }', 'See:\n```json\n{"a": 1}\n```', 1.0),
        ('json { extract first }', 'Call: {"a": 1} done', 1.0),
    ],
)
def test_json(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == expected


# ===================================================================== overlap
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        # target words: how, do, i, sort, a, list
        ("overlap to last_user", "To sort a list, use sorted().", 3 / 6),
        ("overlap to last_user", "HOW? Sort!", 2 / 6),
        ("overlap to last_user", "", 0.0),
        # whitespace pieces: how, do, i, sort, a, list?
        ("overlap to last_user { split whitespace }", "sort a list", 2 / 6),
        ("overlap to last_user { split whitespace }", "sort\u00a0a list?", 3 / 6),  # rare whitespace
        ("overlap to last_user { split whitespace }", "sort\ta\nlist?", 3 / 6),
        ("overlap to last_user { each 0.2  cap 1 }", "how do i sort a list", 1.0),
        ("overlap to last_user { each 0.2  cap 1 }", "sort a list", 0.2 * 3),
        ("overlap to last_user { each -0.5  cap 1 }", "sort a list", -1.0),
        ("overlap to last_user { case sensitive }", "How Do sort", 2 / 6),  # target: How, do, I, sort, a, list
    ],
)
def test_overlap(rule: str, text: str, expected: float) -> None:
    assert one(rule, text, prompts=[user("How do I sort a list?")]) == pytest.approx(expected)


def test_overlap_targets_and_missing_targets() -> None:
    rule = "overlap to last_user"
    assert scores(rule, ["hi"]) == [None]  # no prompts
    assert scores(rule, ["hi"], prompts=[[{"role": "system", "content": "x"}]]) == [None]  # no user message
    assert scores(rule, ["hi"], prompts=["hi there"]) == [0.5]  # a plain-string prompt is the user text
    assert scores(rule, ["a"], prompts=[user("?!")]) == [0.0]  # a target without words
    column = "overlap to column reference { each 1  cap 5 }"
    assert scores(column, ["the cat sat", "x", "y"], reference=["The cat", None, 42]) == [2.0, None, 0.0]
    assert scores(column, ["the cat"]) == [None]  # the column is not there at all
    assert scores("overlap to system", ["be brief"], prompts=[user("q")]) == [1.0]
    assert scores("overlap to prompt", ["brief q"], prompts=[user("q")]) == [2 / 3]


def test_overlap_g_completions_share_one_prompt() -> None:
    prompt = user("sort a list")
    texts = ["sort", "a list", "nothing", "sort a list"]
    assert scores("overlap to last_user", texts, prompts=[prompt] * 4) == pytest.approx([1 / 3, 2 / 3, 0, 1])


# ================================================================== repetition
@pytest.mark.parametrize(
    ("rule", "text", "expected"),
    [
        ("repetition", "a b c a b c", 3 / 4),
        ("repetition", "a b", 1.0),  # shorter than n
        ("repetition", "", 1.0),
        ("repetition { ngram 1 }", "the the the", 1 / 3),
        ("repetition { ngram 1 }", "The, the; THE!", 1 / 3),  # words: punctuation dropped, case folded
        ("repetition { ngram 1  split whitespace }", "The, the; THE!", 1.0),
        ("repetition { ngram 1  case sensitive }", "The the", 1.0),
        ("repetition { ngram 2 }", "go go go go go", 1 / 4),
    ],
)
def test_repetition(rule: str, text: str, expected: float) -> None:
    assert one(rule, text) == pytest.approx(expected)


# ==================================================================== overlong
@pytest.mark.parametrize(
    ("tokens", "expected"), [(100, 0.0), (384, 0.0), (448, -0.5), (512, -1.0), (600, -1.0)]
)
def test_overlong_tokens(tokens: int, expected: float) -> None:
    assert one("overlong 512 tokens { buffer 128 }", "x", completion_ids=[list(range(tokens))]) == expected


def test_overlong_words_and_missing_ids() -> None:
    rule = "overlong 10 words"  # buffer max(1, 10 // 4) = 2: penalty from 8 words
    assert scores(rule, ["w " * 8, "w " * 9, "w " * 10, "w " * 30]) == [0.0, -0.5, -1.0, -1.0]
    assert scores("overlong 10 tokens", ["x"]) == [None]


# ====================================================================== equals
@pytest.mark.parametrize(
    ("compare", "text", "target", "expected"),
    [
        ("exact", " 42 ", "42", 1.0),
        ("exact", "42.", "42", 0.0),
        ("exact", "Hello", "hello", 0.0),
        ("normalized", "Hello   WORLD\n", "hello world", 1.0),
        ("normalized", "\uff28\uff45\uff4c\uff4c\uff4f", "hello", 1.0),
        ("normalized", "Straße", "STRASSE", 1.0),
        ("numeric", "3.0", "3", 1.0),
        ("numeric", " 1e3 ", "1000", 1.0),
        ("numeric", "3.5", "3", 0.0),
        ("numeric", "three", "3", 0.0),
        ("numeric", "\u0663", "3", 1.0),  # Arabic-Indic three: Python's float reads any script's digits
        ("numeric", "\uff13.5", "3.5", 1.0),  # full-width 3
        ("numeric", "nan", "nan", 0.0),
        ("numeric", "", "", 0.0),
    ],
)
def test_equals(compare: str, text: str, target: str, expected: float) -> None:
    assert scores(f"equals column answer {{ compare {compare} }}", [text], answer=[target]) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<think>45 min is 0.75 h</think><answer> 80 </answer>", 1.0),
        ("<answer>80.0</answer>", 1.0),
        ("<answer>1</answer> or maybe <answer>80</answer>", 1.0),  # the last block counts
        ("<answer>80</answer> or maybe <answer>1</answer>", 0.0),
        ("80", 0.0),  # no block: the answer is missing
        ("<answer>80", 0.0),
        ("<ANSWER>80</ANSWER>", 0.0),  # tags as written
        ("</answer>80<answer>", 0.0),
    ],
)
def test_equals_inside_a_tag(text: str, expected: float) -> None:
    rule = 'equals column answer { compare numeric  tag "answer" }'
    assert scores(rule, [text], answer=["80"]) == [expected]


def test_equals_inside_a_tag_normalized_and_not_applicable_without_a_target() -> None:
    rule = 'equals column city { tag "answer"  punctuation trailing }'
    assert scores(rule, ["<answer>PARIS.</answer>", "<answer></answer>"], city=["paris", "paris"]) == [1.0, 0.0]
    assert scores(rule, ["<answer>Paris</answer>"], city=[None]) == [None]


def test_equals_targets() -> None:
    rule = "equals column answer { compare numeric }"
    assert scores(rule, ["3", "3", "3"], answer=[3, None, "4"]) == [1.0, None, 0.0]
    assert scores("equals last_user", ["Hi"], prompts=[user("hi")]) == [1.0]
    assert scores("equals last_user", ["Hi"]) == [None]
    assert scores("equals column answer", ["<think>6 * 7</think> 42"], answer=["42"]) == [1.0]


# ============================================================ shared helpers
def test_whitespace_and_nfkc_space_makers_match_unicodedata() -> None:
    whitespace, makers = [], []
    for code in range(0x110000):
        char = chr(code)
        if char.isspace():
            whitespace.append(char)
        elif any(c.isspace() for c in unicodedata.normalize("NFKC", char)):
            makers.append(char)
    assert "".join(whitespace) == matching.WHITESPACE
    assert "".join(makers) == matching.NFKC_SPACE_MAKERS


def _reference_word_runs(text: str) -> list[str]:
    words, current = [], []
    for char in text:
        if char == "_" or unicodedata.category(char)[0] in "LMN":
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(" \t\n\r\x0b\x1c\x85\xa0\u2009\u3000\u200b\u200d.,;!?-_'\"<>/") + list("ab")),
        st.sampled_from(list("\u00a8\u00b4\u0301\u0308\ufb01\uff21\u00df\u0130\u2026\u00e9\U0001f600\u0915\u093f")),
        st.characters(codec="utf-8"),
        st.characters(),  # surrogates too
    ),
    max_size=60,
)
QUICK = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@QUICK
@given(TEXT)
def test_count_words_is_the_split_of_the_folded_text(text: str) -> None:
    # `unicode nfkc` (ignorables removed, punctuation folded, NFKC), then `str.split()`; §6.4.
    assert matching.count_words(text) == len(fold(text).split())


def test_count_words_of_every_hazard_character_in_every_position() -> None:
    """Each non-ASCII whitespace, NFKC space maker and ignorable (`matching._count_hazards`), alone,
    inside a word, between words and next to another kind of hazard: the count of the folded text."""
    others = ["", "\xa0", "\u200b", "\xa8"]
    for char in sorted(matching._count_hazards()):
        for other in others:
            for text in (char, f"a{char}b", f"a {char} b{other}", f"{char}{other}x", f"x{other} {char}"):
                assert matching.count_words(text) == len(fold(text).split()), (hex(ord(char)), text)


def test_a_word_made_only_of_ignorables_is_no_word() -> None:
    assert matching.count_words("a \u200b b") == 2
    assert matching.count_words("a \u200b\u2060 b\u200bc") == 2


@QUICK
@given(TEXT)
def test_word_runs_are_runs_of_word_characters(text: str) -> None:
    assert matching.word_runs(text) == _reference_word_runs(text)


@QUICK
@given(TEXT, st.lists(st.sampled_from(["a", "b", "ab", "a.", "é", "?", "\u0130", "x_y"]), max_size=5))
def test_word_finder_is_split_membership(text: str, words: list[str]) -> None:
    finder = matching.WordFinder(words)
    expected = len(set(words) & set(text.split()))
    assert finder.count(text) == expected
    assert pickle.loads(pickle.dumps(finder)).count(text) == expected


@QUICK
@given(TEXT, st.lists(st.sampled_from(["a", "b", "ab", "a b", "é", "-", "a\u0301", "_"]), min_size=1, max_size=8))
def test_phrase_matcher_word_mode_is_boundary_search(text: str, phrases: list[str]) -> None:
    matcher = matching.PhraseMatcher(phrases, word=True)

    def whole(phrase: str) -> bool:
        start = text.find(phrase)
        while start != -1:
            end = start + len(phrase)
            if (start == 0 or not matching.is_word_char(text[start - 1])) and (
                end == len(text) or not matching.is_word_char(text[end])
            ):
                return True
            start = text.find(phrase, start + 1)
        return False

    assert [matcher.phrases[i] for i in matcher.found(text)] == [p for p in matcher.phrases if whole(p)]
    assert matcher.any(text) == any(whole(p) for p in matcher.phrases)


# ================================================================ pickling
EVERY_RULE = [
    "length 5..50 words { outside 0.5  ramp 10 }",
    "length ..3 sentences",
    "length 10..400 characters { scope full }",
    "length ..64 tokens",
    HELPFUL,
    'phrases "harm", "help" { match substring  case lower }',
    "phrases " + ", ".join(f'"w{i}"' for i in range(12)) + " { each 0.1 }",
    'banned "dangerous", "illegal", "harmful" { unicode raw }',
    "banned " + ", ".join(f'"b{i}"' for i in range(12)),
    r'regex r"\d+" { each 0.25  cap 1 }',
    r'regex r"https?://\S+" { present 0  absent 1  case insensitive }',
    r'regex r"[a-z]+" { case lower  each 0.01  cap 1 }',
    'tags "think", "answer" { ordered  scope full }',
    'tags "step" { count 1..3 }',
    OPEN_R1_TAG_COUNT,
    'markers "a", "<b>" { count 0..2  each 0.3 }',
    'json { keys "name", "arguments" }',
    "json { scope full }",
    'json { extract first  keys "name": string, "arguments": object }',
    "json { extract fenced }",
    "json { extract tool_calls  tool column reference }",
    "overlap to last_user",
    "overlap to last_user { each 0.2  cap 1  split whitespace }",
    "overlap to column reference { case sensitive  unicode raw }",
    "repetition { ngram 3 }",
    "repetition { ngram 1  split whitespace }",
    "overlong 64 tokens",
    "overlong 20 words { buffer 5 }",
    "equals column reference",
    "equals column reference { compare numeric }",
    "equals last_user { compare exact }",
    "repetition { split tokens  penalty -1 }",
    "repetition { split tokens  ngram 1 }",
    "repetition { ngram 2  penalty -0.5 }",
    "equals column reference { punctuation ignore }",
    "equals column reference { compare exact  punctuation trailing }",
    'equals column reference { tag "answer" }',
    "brevity words",
    "brevity tokens",
    "brevity characters { scope full }",
    "diversity rougeL",
    "diversity fuzzy { case sensitive  unicode raw }",
]
RULE_KINDS = {rule.split()[0] for rule in EVERY_RULE}

SAMPLE = [
    chat("I can help! Here's how: sort the list 3 times [1]. <think>hidden</think> Done."),
    chat("<think>Let me explain</think><answer>42</answer>"),
    '{"name": "f", "arguments": {}}',
    chat(None),
    [{"role": "assistant", "content": [{"type": "text", "text": "harmful w3 w4 b7"}]}],
    "Straße İstanbul 😀\u200b https://x.org done done done",
]
SAMPLE_PROMPTS = [user("How do I sort a list?")] * 3 + [None, "plain prompt", user("İstanbul?")]
SAMPLE_IDS = [[1] * 10, [1] * 100, None, [], [1, 2], [1] * 64]
SAMPLE_REFERENCE = ["42", "42", None, "sort", 3.0, "https://x.org"]


def test_every_lexical_kind_is_covered() -> None:
    assert RULE_KINDS == LEXICAL_KINDS


@pytest.mark.parametrize("rule", EVERY_RULE)
def test_pickle_round_trip(rule: str) -> None:
    original = scorer(rule)

    def run(s: RuleScorer) -> list[float | None]:
        return s.score(Batch(SAMPLE, SAMPLE_PROMPTS, SAMPLE_IDS, {"reference": SAMPLE_REFERENCE}))

    fresh = pickle.loads(pickle.dumps(original))  # before first use
    expected = run(original)
    used = pickle.loads(pickle.dumps(original))  # after first use: lazy matchers were built
    assert run(fresh) == expected
    assert run(used) == expected
    assert_in_range(original, expected)
    batch = Batch(SAMPLE, SAMPLE_PROMPTS, SAMPLE_IDS, {"reference": SAMPLE_REFERENCE})
    for i in range(len(SAMPLE)):
        assert isinstance(original.explain(batch, i), str)


def test_compiled_guide_spec_pickles() -> None:
    compiled = rewardlang.load("specs/guide.reward")
    functions = pickle.loads(pickle.dumps(compiled.reward_funcs))
    kwargs = {"prompts": SAMPLE_PROMPTS, "completions": SAMPLE, "completion_ids": SAMPLE_IDS}
    assert [f(**kwargs) for f in functions] == [f(**kwargs) for f in compiled.reward_funcs]


# ==================================================== anything in, in range out
def assert_in_range(s: RuleScorer, values: list[float | None]) -> None:
    low, high = score_range(s.rule)
    for value in values:
        if value is not None:
            assert isinstance(value, float), (s.rule.kind, value)
            assert math.isfinite(value), (s.rule.kind, value)
            assert low <= value <= high, (s.rule.kind, value, low, high)


BIG = [
    "a" * 1_000_000,
    "harm" * 250_000,
    "<think>" * 140_000,
    "[1] " * 250_000,
    "\u00e9\u0301" * 500_000,
    ("I can help. " * 90_000)[:1_000_000],
    "\U0001f600\u200d" * 300_000,
    "{" * 500_000 + "}" * 500_000,
]
KEYS = st.sampled_from(["role", "content", "text", "x"])
junk = st.recursive(
    st.none() | st.integers() | st.floats(allow_nan=True) | TEXT | st.binary(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(KEYS, children, max_size=3),
    max_leaves=6,
)
message = st.fixed_dictionaries({
    "role": st.sampled_from(["assistant", "user", "tool", "system", None]),
    "content": st.one_of(st.none(), TEXT, junk),
})
completion = st.one_of(
    TEXT,
    st.builds(lambda t: f"<think>{t}</think>{t}", TEXT),
    st.lists(message, max_size=3),
    st.builds(chat, TEXT),
    junk,
)
prompt = st.one_of(st.none(), TEXT, st.lists(message, max_size=3), junk)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    st.lists(st.tuples(completion, prompt, st.one_of(st.none(), st.lists(st.integers(), max_size=80)), junk),
             min_size=1, max_size=4),
    st.sampled_from([None] * 60 + BIG),  # a megabyte now and then (every kind sees each of them below too)
)
def test_any_input_scores_in_range(rows: list[tuple[Any, Any, Any, Any]], big: str | None) -> None:
    completions = [row[0] for row in rows]
    if big is not None:  # now and then a megabyte of adversarial text, as a string and as a message
        completions += [big, chat(big)]
    size = len(completions)
    prompts = [row[1] for row in rows] + [None] * (size - len(rows))
    ids = [row[2] for row in rows] + [None] * (size - len(rows))
    reference = [row[3] for row in rows] + [big] * (size - len(rows))
    for s in SCORERS:
        values = s.score(Batch(completions, prompts, ids, {"reference": reference}))
        assert len(values) == size
        assert_in_range(s, values)


SCORERS = [scorer(rule) for rule in EVERY_RULE]

ADVERSARIAL_RULES = [
    *EVERY_RULE,
    r'regex r"(a+)+$"',  # catastrophic for a backtracking engine, linear on RE2
    r'regex r"(x+x+)+y" { each 0.000001  cap 100 }',  # counting without an early stop
    r'regex r"x*" { each 0.000001  cap 100 }',  # an (empty) match at every character, all counted
    "overlap to column reference { split whitespace }",
]


@pytest.mark.parametrize("rule", ADVERSARIAL_RULES)
def test_megabyte_adversarial_inputs(rule: str) -> None:
    """Every rule gets through each megabyte of adversarial text (linear time: no backtracking, no quadratic loop)."""
    s = scorer(rule)
    # Counting every match costs about a microsecond per match (one RE2 call each): two megabytes will do.
    for big in BIG[:1] if "x*" in rule else BIG:
        values = s.score(Batch([big, chat(big)], [user(big[:1000]), big], [None, list(range(10))],
                               {"reference": [big, big + "b"]}))
        assert len(values) == 2
        assert_in_range(s, values)


def test_very_long_words_do_not_crash_the_word_finder() -> None:
    # pyahocorasick frees its trie recursively; a megabyte-long word once overflowed the C stack.
    finder = matching.WordFinder(["a" * 1_000_000, "b"])
    assert finder.count("a" * 1_000_000 + " b") == 2
    del finder


def test_count_words_and_rare_space_of_texts_with_many_non_ascii_characters() -> None:
    """Past `_MANY_RARE` non-ASCII characters both look for their characters another way: the same answers."""
    many = "é" * (matching._MANY_RARE + 1)
    for extra in ("", "\xa0", "\u200b", "\xa8", "\u3000", "\u200b\u2060"):
        for text in (f"{many} a{extra}b c", f"{extra}{many}", f"x {many}{extra} y"):
            assert matching.count_words(text) == len(fold(text).split()), repr(extra)
            assert matching.has_rare_space(text) == any(c.isspace() and c not in " \n\t" for c in text), repr(extra)
