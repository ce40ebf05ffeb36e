"""The per-call path of compiled reward functions (issue 13, part 5): what it skips must not change a score.

- a scorer that proves its scores in range (`RuleScorer.in_range`) skips the compiler's clamp:
  it may claim so only where every score it can return lies in the rule's range;
- a spec of one function (one rule, nothing combined) scores each call on its own, with the
  dataset columns read lazily and the rules' metrics still logged;
- targets are extracted once per run of equal prompts (TRL's copies), never shared between
  prompts that differ.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rewardlang
from rewardlang.registry import score_range
from rewardlang.runtime import Batch


def one_rule(body: str) -> rewardlang.CompiledSpec:
    return rewardlang.loads(f"reward r\nrule x: {body}\n")


@pytest.mark.parametrize(
    ("body", "claimed"),
    [
        ('markers "<think>", "</think>"', True),
        ('markers "<a>", "<b>", "<c>" { each 0.1 }', True),
        ('phrases "a", "b", "c" { each 0.3  cap 1 }', True),
        ('banned "x" { present -1  absent 0.5 }', True),
        ("length 5..10 words { outside 0.1 }", True),
        ("length 5..10 words { outside 0.1  ramp 3 }", False),  # a ramp's arithmetic may round past `outside`
        ("overlong 512 tokens { buffer 128 }", True),
        ('regex r"a"', False),  # no proof: clamped as before
        ("overlap to last_user", False),
    ],
)
def test_only_scorers_with_a_proof_skip_the_clamp(body: str, claimed: bool) -> None:
    compiled = one_rule(body)
    assert compiled._in_range == {"x": claimed}


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.text(alphabet="ab<>/thinkc x", max_size=40), min_size=1, max_size=6),
    st.lists(st.integers(0, 700), min_size=6, max_size=6),
)
def test_scores_of_scorers_that_skip_the_clamp_are_in_range(texts: list[str], lengths: list[int]) -> None:
    bodies = [
        'markers "<think>", "</think>", "a" { count 0..1 }',
        'phrases "a", "b", "ab" { each 0.4  cap 1 }',
        'banned "ab" { present -1  absent 0.5 }',
        "length 2..6 words { outside 0.1 }",
        "overlong 512 tokens { buffer 128 }",
    ]
    completions = [[{"role": "assistant", "content": text}] for text in texts]
    ids = [[0] * n for n in lengths[: len(texts)]]
    for body in bodies:
        compiled = one_rule(body)
        low, high = score_range(compiled.scorers["x"].rule)
        for value in compiled.score(completions, completion_ids=ids).rules["x"]:
            assert value is None or (type(value) is float and low <= value <= high), (body, value)


def test_the_soft_overlong_table_gives_the_penalty_of_every_length() -> None:
    scorer = one_rule("overlong 512 tokens { buffer 128 }").scorers["x"]
    lengths = list(range(700))
    batch = Batch([""] * len(lengths), completion_ids=[[0] * n for n in lengths])
    assert scorer.score(batch) == [scorer.penalty(n) for n in lengths]
    assert scorer.score(Batch(["", ""], completion_ids=[None, [0] * 600])) == [None, -1.0]


def test_a_one_function_spec_reads_its_columns_and_logs_its_metrics() -> None:
    compiled = one_rule("overlap to column reference { each 0.5  cap 1  split whitespace }")
    (function,) = compiled.reward_funcs
    logged: list[tuple[str, float]] = []
    kwargs: dict[str, Any] = {
        "prompts": [[{"role": "user", "content": "q"}]] * 2,
        "completions": [[{"role": "assistant", "content": "paris is big"}], [{"role": "assistant", "content": "no"}]],
        "completion_ids": [[1], [2]],
        "reference": ["Paris big", None],
        "trainer_state": None,
        "log_extra": lambda *a, **k: None,
        "log_metric": lambda name, value: logged.append((name, value)),
    }
    assert function(**kwargs) == [1.0, None]
    assert function(**kwargs) == [1.0, None]  # a second call with the same objects scores the same
    assert compiled.score(kwargs["completions"], reference=kwargs["reference"]).rules["x"] == [1.0, None]
    assert logged == []  # this rule counts nothing: nothing logged


def test_targets_of_equal_prompt_copies_and_of_different_prompts() -> None:
    compiled = one_rule("overlap to last_user { split whitespace  case lower  unicode raw  scope full }")
    prompts = [
        [{"role": "user", "content": "red green"}],
        [{"role": "user", "content": "red green"}],  # an equal copy, as TRL's dataloader passes it
        [{"role": "user", "content": "blue"}],
        [{"role": "user", "content": "red green"}],
        "plain red",
        "plain red",
        None,
        [{"role": "user", "content": np.array([1, 2])}],  # `==` of this message is no bool
        [{"role": "user", "content": np.array([1, 2])}],
    ]
    completions = [[{"role": "assistant", "content": "red blue plain"}]] * len(prompts)
    got = compiled.score(completions, prompts=prompts).rules["x"]
    alone = [compiled.score(completions[:1], prompts=[prompt]).rules["x"][0] for prompt in prompts]
    assert got == alone
    assert got[:7] == [0.5, 0.5, 1.0, 0.5, 1.0, 1.0, None]
