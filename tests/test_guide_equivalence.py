"""specs/guide.reward, compiled, gives exactly the numbers of the guide's four reward functions.

The guide's functions are the ones written out verbatim in benchmarks/guide_speed.py.
Both sides are called the way TRL calls reward functions, batch by batch, on
realistic completions (benchmarks/completions.py) and on edge cases; every
score of every rule must be equal, not merely close.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

import rewardlang

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is no installed package

from benchmarks.completions import make_rows, trl_batches  # noqa: E402
from benchmarks.guide_speed import BASELINE  # noqa: E402

RULES = ["length", "helpfulness", "safety", "coherence"]


@pytest.fixture(scope="module")
def guide() -> rewardlang.CompiledSpec:
    return rewardlang.load(ROOT / "specs" / "guide.reward")


def compare(guide: rewardlang.CompiledSpec, rows: list[dict[str, Any]], batch: int = 64) -> None:
    functions = guide.reward_funcs
    assert [f.__name__ for f in functions] == [f"guide/{rule}" for rule in RULES]
    assert guide.weights == [1.0] * 4
    for kwargs in trl_batches(rows, batch):
        for rule, compiled, handwritten in zip(RULES, functions, BASELINE, strict=True):
            expected = handwritten(**kwargs)
            got = compiled(**kwargs)
            for i, (want, have) in enumerate(zip(expected, got, strict=True)):
                assert have == want and isinstance(have, float), (
                    rule, kwargs["completions"][i][0]["content"][:200], kwargs["prompts"][i], want, have
                )


def test_benchmark_completions(guide: rewardlang.CompiledSpec) -> None:
    rows = make_rows(3000, seed=7)
    compare(guide, rows)


def row(content: str, question: str = "How do I sort a list in Python?", system: bool = False) -> dict[str, Any]:
    prompt = [{"role": "user", "content": question}]
    if system:
        prompt.insert(0, {"role": "system", "content": "You are helpful."})
    return {"prompt": prompt, "completion": [{"role": "assistant", "content": content}],
            "completion_ids": [1, 2, 3], "reference": "x"}


EDGE_CASES = [
    "",
    " ",
    "\n\n\t",
    "word",
    "w " * 49 + "w",  # 50 words: inside
    "w " * 49,  # 49 words
    "w " * 200,
    "w " * 201,
    "I can help. Here's how. Let me explain.",  # all three phrases: 0.3 + 0.3 + 0.3
    "i can help HERE'S HOW let me EXPLAIN",
    "I can, help. Here\u2019s how. Let me\nexplain.",  # none of them
    "Here's   how",
    "icanhelp I can helpful",
    "This is dangerous, illegal and harmful.",
    "unharmful, illegally, non-dangerous",  # substrings count, as in the guide
    "HARMFUL",
    "harm",
    "Straße STRASSE straße ß ẞ",
    "İstanbul İ i̇ I ı",  # 'İ'.lower() is two characters
    "ǅ ǈ ﬁ Ｈｅｌｌｏ",
    "😊 👍🏽 🚀 ✅ 日本語のテキスト 中文",
    "a\u00a0b c\u2009d e\u3000f g\u200bh i\u2028j k\x1cl m\x85n",  # whitespace that str.split() knows, and not
    "how do i sort a list in python?",
    "How do I sort a list in Python?",
    "how\ndo\ti\r\nsort\x0ba\x0clist",
    "sort. list, python! how? do: i;",
    "sort sort sort sort sort sort",
    "<think>I can help with dangerous things</think> sorted(list)",  # the guide scores the whole text
    "x" * 100_000,
    "in python? " * 300,
]


def test_edge_cases(guide: rewardlang.CompiledSpec) -> None:
    rows = [row(text) for text in EDGE_CASES]
    rows += [row(text, question=q, system=True) for text in EDGE_CASES[:12]
             for q in ("", "   ", "Is it İ or i̇? STRASSE!", "harmful?\u00a0really harmful", "a a a a a a")]
    compare(guide, rows, batch=8)


def test_multi_turn_prompt_uses_the_last_user_message(guide: rewardlang.CompiledSpec) -> None:
    prompt = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "first question about cats"},
        {"role": "assistant", "content": "cats are nice"},
        {"role": "user", "content": "and dogs?"},
    ]
    rows = [{"prompt": prompt, "completion": [{"role": "assistant", "content": text}], "completion_ids": [1],
             "reference": ""} for text in ("cats and dogs?", "dogs are fine", "first question about cats")]
    compare(guide, rows)


def test_known_differences_are_documented(guide: rewardlang.CompiledSpec) -> None:
    """Where the guide spec does not (and should not) reproduce the guide's functions."""
    # 1. The rule scores every assistant message; the guide reads only completion[0].
    completion = [{"role": "assistant", "content": "w " * 30}, {"role": "assistant", "content": "w " * 30}]
    assert guide.score([completion]).rules["length"] == [1.0]
    assert BASELINE[0]([completion]) == [0.5]
    # 2. No user message: the guide scores 0.0 (overlap with ""), the rule does not apply.
    prompts = [[{"role": "system", "content": "x"}]]
    completions = [[{"role": "assistant", "content": "x"}]]
    assert guide.score(completions, prompts).rules["coherence"] == [None]
    assert BASELINE[3](completions, prompts) == [0.0]
    # 3. Words are counted on NFKC text: a character that NFKC turns into whitespace
    #    (U+00A8 DIAERESIS is " \u0308") splits a word the guide sees as one.
    text = "w " * 199 + "x\u00a8y"  # 200 words as written, 201 after NFKC
    assert guide.score([[{"role": "assistant", "content": text}]]).rules["length"] == [0.5]
    assert BASELINE[0]([[{"role": "assistant", "content": text}]]) == [1.0]
    #    Invisible characters are removed first (§6.4): a piece made only of them is no word.
    text = "w " * 200 + "\u200b"  # 201 pieces as written, 200 words after removal
    assert guide.score([[{"role": "assistant", "content": text}]]).rules["length"] == [1.0]
    assert BASELINE[0]([[{"role": "assistant", "content": text}]]) == [0.5]
    # 4. None content: the guide's functions raise; the rules score the empty text.
    empty = [[{"role": "assistant", "content": None}]]
    assert guide.score(empty, [[{"role": "user", "content": "q"}]]).rules == {
        "length": [0.5], "helpfulness": [0.0], "safety": [1.0], "coherence": [0.0]
    }
    with pytest.raises(AttributeError):
        BASELINE[0](empty)
