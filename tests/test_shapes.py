"""Issue 10's missing shapes: repetition over token ids with TRL's semantics, `equals` ignoring punctuation.

TRL's own `get_repetition_penalty_reward` runs side by side with the rule on generated
id lists (the floats must be equal, not close); everything else is hand-computed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from trl.rewards import get_repetition_penalty_reward

import rewardlang
from rewardlang import analyze
from rewardlang.diagnostics import Diagnostic
from rewardlang.fmt import format_source
from rewardlang.registry import score_range
from rewardlang.scoring import ScoreRequest, score
from rewardlang.text import remove_punctuation, strip_trailing_punctuation
from trl_runs import train_two_steps


def compile_rule(rule: str) -> rewardlang.CompiledSpec:
    return rewardlang.loads(f"reward t\nrule r: {rule}\n")


def rule_scores(rule: str, completions: list[Any], completion_ids: list[Any] | None = None,
                **columns: list[Any]) -> list[float | None]:
    return compile_rule(rule).score(completions, completion_ids=completion_ids, **columns).rules["r"]


def diagnostics(text: str) -> list[tuple[str, int, int]]:
    """(code, line, column) of every diagnostic of a spec."""
    found: list[Diagnostic] = analyze(text).diagnostics
    return [(d.code, d.span.line, d.span.column) for d in found]


# ========================================================= repetition: TRL
NGRAMS = [1, 2, 3, 4, 7]
PENALTIES = [-1.0, -0.5, -2.5, -0.1, -100.0, -1e-300]
# Small vocabularies make repeats common; the wide one makes them rare; long lists, many n-grams.
id_lists = st.lists(
    st.one_of(
        st.lists(st.integers(0, 3), max_size=40),
        st.lists(st.integers(0, 50_000), max_size=40),
        st.lists(st.integers(0, 9), min_size=200, max_size=600),
        st.lists(st.integers(-5, 2**70), max_size=20),  # ids of any size, as Python ints
    ),
    min_size=1,
    max_size=8,
)


@cache
def token_rule(n: int, penalty: float) -> rewardlang.CompiledSpec:
    return compile_rule(f"repetition {{ split tokens  ngram {n}  penalty {penalty!r} }}")


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(NGRAMS), st.sampled_from(PENALTIES), id_lists)
def test_token_penalty_is_trls_repetition_penalty(n: int, penalty: float, ids: list[list[int]]) -> None:
    trl = get_repetition_penalty_reward(ngram_size=n, max_penalty=penalty)
    (reward,) = token_rule(n, penalty).reward_funcs
    # Called as TRL's GRPOTrainer calls a reward function: keywords only.
    ours = reward(prompts=["p"] * len(ids), completions=["x"] * len(ids), completion_ids=ids, trainer_state=None)
    expected = trl(completion_ids=ids)
    assert ours == expected
    assert [type(v) for v in ours] == [float] * len(ids)


def test_trls_docstring_example() -> None:
    ids = [[1, 2, 3, 4], [5, 5, 5, 5, 5]]
    assert rule_scores("repetition { split tokens  ngram 2  penalty -1 }", ["a", "b"], ids) == [0.0, -0.75]


def test_trl_defaults_are_ngram_3_and_penalty_minus_1() -> None:
    ids = [[1, 2, 1, 2, 1, 2], [1, 2], [], [9, 9, 9, 9]]
    trl = get_repetition_penalty_reward()
    assert rule_scores("repetition { split tokens  penalty -1 }", ["x"] * 4, ids) == trl(completion_ids=ids)
    assert trl(completion_ids=ids) == [-0.5, 0.0, 0.0, -0.5]


# ================================================ repetition: tokens, by hand
@pytest.mark.parametrize(
    ("rule", "ids", "expected"),
    [
        ("repetition { split tokens }", [1, 2, 3, 1, 2, 3], 3 / 4),  # trigrams 123 231 312 123
        ("repetition { split tokens }", [1, 2], 1.0),  # shorter than n: no repeats
        ("repetition { split tokens }", [], 1.0),
        ("repetition { split tokens  ngram 1 }", [7, 7, 7, 8], 2 / 4),
        ("repetition { split tokens  ngram 1  penalty -2 }", [7, 7, 7, 8], -1.0),  # (1 - 2/4) x -2
        ("repetition { split tokens  penalty -1 }", [1, 2], 0.0),  # shorter than n: TRL's 0.0
        ("repetition { split tokens  ngram 2  penalty -0.5 }", [4, 4, 4, 4, 4], -0.375),  # (1 - 1/4) x -0.5
    ],
)
def test_token_repetition(rule: str, ids: list[int], expected: float) -> None:
    assert rule_scores(rule, ["ignored text"], [ids]) == [expected]


def test_tokens_are_the_ids_not_the_text() -> None:
    # The text loops; the ids do not (and the other way round): only the ids count.
    texts = ["go go go go go", "one two three four"]
    ids = [[1, 2, 3, 4, 5], [3, 3, 3, 3, 3]]
    assert rule_scores("repetition { split tokens  ngram 2 }", texts, ids) == [1.0, 0.25]
    assert rule_scores("repetition { ngram 2 }", texts, ids) == [0.25, 1.0]


def test_missing_or_bad_token_ids_are_not_applicable() -> None:
    rule = "repetition { split tokens  penalty -1 }"
    assert rule_scores(rule, ["a", "b"]) == [None, None]  # no completion_ids at all
    ids: list[Any] = [None, "1 2 3", [1, "2", 3], [1.0, 2.0], [1, 1, 1, 1]]
    assert rule_scores(rule, ["x"] * 5, ids) == [None, None, None, None, -0.5]


def test_token_ids_from_an_array() -> None:
    numpy = pytest.importorskip("numpy")
    ids = [numpy.array([5, 5, 5, 5, 5]), (1, 2, 3, 4)]
    assert rule_scores("repetition { split tokens  ngram 2  penalty -1 }", ["a", "b"], ids) == [-0.75, 0.0]


def test_word_penalty() -> None:
    # The penalty form works on words too: "a b c a b c" has 3 distinct of 4 trigrams.
    assert rule_scores("repetition { penalty -1 }", ["a b c a b c", "a b", "x y z"]) == [-0.25, 0.0, 0.0]


def test_token_n_grams_are_counted_exactly_past_the_word_cells() -> None:
    # 60,000 ids x n = 3 is past EXACT_CELLS, where words are counted by hash: ids never are.
    ids = [i % 20_000 for i in range(60_000)]
    trl = get_repetition_penalty_reward(ngram_size=3, max_penalty=-1.0)
    assert rule_scores("repetition { split tokens  penalty -1 }", ["x"], [ids]) == trl(completion_ids=[ids])


def test_token_repetition_explains() -> None:
    compiled = compile_rule("repetition { split tokens  ngram 2  penalty -1 }")
    found = compiled.score(["a", "b", "c"], completion_ids=[[5, 5, 5, 5, 5], [1], None], explain=True)
    assert found.explanations == {"r": [
        "1 distinct of 4 token 2-grams: (1 - 1/4) x -1 -> -0.75",
        "fewer than 2 tokens -> 0",
        "no completion_ids (token ids): not applicable",
    ]}
    ratio = compile_rule("repetition { split tokens }").score(["a"], completion_ids=[[1, 2, 3, 1, 2, 3]], explain=True)
    assert ratio.explanations == {"r": ["3 distinct of 4 token 3-grams -> 0.75"]}


# ================================================= repetition: ranges, checks
def test_score_range_follows_the_penalty() -> None:
    assert score_range(compile_rule("repetition").spec.rules[0]) == (0.0, 1.0)
    assert score_range(compile_rule("repetition { split tokens  penalty -2.5 }").spec.rules[0]) == (-2.5, 0.0)


def test_a_penalty_is_no_rl202() -> None:
    assert diagnostics("reward t\nrule r: repetition { split tokens  penalty -1 }\n") == []
    # The ordinary "never above zero" check still runs for the other kinds.
    assert diagnostics('reward t\nrule r: phrases "x" { each -1 }\n') == [("RL202", 2, 6)]


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ("split tokens  penalty 0", [("RL105", 2, 36)]),
        ("split tokens  penalty 0.5", [("RL105", 2, 36)]),
        ("split tokens  penalty -101", [("RL105", 2, 36)]),
        ("split token", [("RL104", 2, 22)]),
    ],
)
def test_bad_penalty_and_split(block: str, expected: list[tuple[str, int, int]]) -> None:
    assert diagnostics(f"reward t\nrule r: repetition {{ {block} }}\n") == expected


def test_split_tokens_is_for_repetition_only() -> None:
    assert diagnostics("reward t\nrule r: overlap to last_user { split tokens }\n") == [("RL104", 2, 32)]
    assert diagnostics("reward t\ndefaults { split tokens }\nrule r: repetition\n") == [("RL104", 2, 12)]


def test_rl217_text_options_on_token_ids() -> None:
    text = "reward t\nrule r: repetition { split tokens  case sensitive  unicode raw  scope answer }\n"
    assert diagnostics(text) == [("RL216", 2, 36), ("RL216", 2, 52), ("RL216", 2, 65)]
    message = analyze(text).diagnostics[0].message
    assert message == "`case` has no effect on token ids"


@pytest.mark.parametrize(
    "text",
    [
        "reward t\nrule r: repetition { split tokens  scope full }\n",  # the whole completion: what ids are
        "reward t\ndefaults { case sensitive  scope answer }\nrule r: repetition { split tokens }\n",
        "reward t\nrule r: repetition { case sensitive  scope answer }\n",  # words: the options apply
    ],
)
def test_no_rl217(text: str) -> None:
    assert diagnostics(text) == []


# ======================================================= equals: punctuation
@pytest.mark.parametrize(
    ("options", "text", "target", "expected"),
    [
        ("", "Paris.", "paris", 0.0),  # keep (default): today's behaviour
        ("punctuation keep", "Paris.", "paris", 0.0),
        ("punctuation trailing", "Paris.", "paris", 1.0),
        ("punctuation trailing", "paris", "Paris!!", 1.0),  # both sides
        ("punctuation trailing", "Paris . ! ", "paris", 1.0),  # the run at the end, spaces included
        ("punctuation trailing", "Paris, France.", "paris france", 0.0),  # the comma is not trailing
        ("punctuation trailing", "  Paris \t\n  France ", "paris france", 1.0),  # whitespace collapsed
        ("punctuation trailing", "Paris\u3002", "paris", 1.0),  # ideographic full stop: category Po
        ("punctuation ignore", "Paris, France.", "paris france", 1.0),
        ("punctuation ignore", "U.S.A.", "usa", 1.0),
        ("punctuation ignore", "well-known", "wellknown", 1.0),  # removed, nothing in its place
        ("punctuation ignore", "well-known", "well known", 0.0),
        ("punctuation ignore", "\u201cHello\u201d \u2026 world", "hello world", 1.0),  # typographic quotes, ellipsis
        ("punctuation ignore", "(42)", "42", 1.0),
        ("punctuation ignore", "$5", "5", 0.0),  # `$` is a symbol (Sc), not punctuation
        ("punctuation ignore", "a+b", "ab", 0.0),  # so is `+` (Sm)
        ("punctuation ignore", "\u00bfQu\u00e9?", "que", 0.0),  # ¿ ? removed; é is not e
        ("punctuation ignore", "\u00bfQu\u00e9?", "qu\u00e9", 1.0),
        ("compare exact  punctuation trailing", "Paris.", "Paris", 1.0),
        ("compare exact  punctuation trailing", "Paris.", "paris", 0.0),  # exact keeps case
        ("compare exact  punctuation ignore", "O'Brien  ,  Jr.", "OBrien Jr", 1.0),
        ("compare exact  punctuation ignore", "\uff21.", "A", 0.0),  # exact does no NFKC: full-width A stays
        ("compare exact", "Paris  France", "Paris France", 0.0),  # keep: exact only strips the ends
        ("compare exact  punctuation keep", " Paris ", "Paris", 1.0),
    ],
)
def test_equals_punctuation(options: str, text: str, target: str, expected: float) -> None:
    assert rule_scores(f"equals column answer {{ {options} }}", [text], answer=[target]) == [expected]


def test_a_target_of_only_punctuation_is_not_applicable() -> None:
    rule = "equals column answer { punctuation ignore }"
    assert rule_scores(rule, ["", "?!", "ok"], answer=["?!", "...", "ok."]) == [None, None, 1.0]
    # An answer of only punctuation against a real target is simply wrong.
    assert rule_scores(rule, ["?!"], answer=["yes"]) == [0.0]
    # `keep` is unchanged: a target "?!" is compared as written.
    assert rule_scores("equals column answer", ["?!"], answer=["?!"]) == [1.0]


def test_equals_punctuation_explains() -> None:
    compiled = compile_rule("equals column answer { punctuation trailing }")
    found = compiled.score(["Paris.", "x", "y"], answer=["paris", "?", None], explain=True)
    assert found.rules["r"] == [1.0, None, None]
    assert found.explanations == {"r": [
        "normalized, punctuation trailing: 'paris' vs 'paris' -> 1",
        "normalized, punctuation trailing: the column answer target is only punctuation: not applicable",
        "no column answer target: not applicable",
    ]}


def test_rl136_punctuation_with_numeric() -> None:
    for mode in ("trailing", "ignore"):
        text = f"reward t\nrule r: equals column a {{ compare numeric  punctuation {mode} }}\n"
        assert diagnostics(text) == [("RL134", 2, 44)]
        assert analyze(text).diagnostics[0].message == f"`punctuation {mode}` does not apply to `compare numeric`"
    assert diagnostics("reward t\nrule r: equals column a { compare numeric  punctuation keep }\n") == []
    assert diagnostics("reward t\nrule r: equals column a { punctuation trailng }\n") == [("RL104", 2, 27)]


def test_punctuation_helpers() -> None:
    assert remove_punctuation("a!\"#%&'()*,-./:;?@[\\]_{}b $+<=>^`|~") == "ab $+<=>^`|~"
    assert remove_punctuation("\u00ab\u0645\u0631\u062d\u0628\u0627\u061f\u00bb \u2014 \u3010x\u3011") == (
        "\u0645\u0631\u062d\u0628\u0627  x"  # « » ؟ — 【 】 are all category P
    )
    assert strip_trailing_punctuation("a.b. ?\n") == "a.b"
    assert strip_trailing_punctuation("...") == ""
    assert strip_trailing_punctuation("") == ""


def test_punctuation_is_linear_on_a_megabyte() -> None:
    big = ". " * 500_000 + "x"  # a long run of punctuation and spaces that is not at the end
    rule = "equals column answer { punctuation trailing }"
    assert rule_scores(rule, [big, "x" + ". " * 500_000], answer=["x", "x"]) == [0.0, 1.0]
    assert rule_scores("equals column answer { punctuation ignore }", [big], answer=["x"]) == [1.0]


# ============================================= fmt, rewardc score --explain
MESSY = """reward   shapes
rule loops :repetition{split   tokens ngram 2
  penalty -0.5}
rule city: equals column city {punctuation   trailing compare exact}
"""
FORMATTED = """reward shapes

rule loops: repetition { split tokens  ngram 2  penalty -0.5 }
rule city: equals column city { punctuation trailing  compare exact }
"""


def test_fmt_round_trips_the_new_options() -> None:
    formatted, found = format_source(MESSY)
    assert found == []
    assert formatted == FORMATTED
    assert format_source(FORMATTED) == (FORMATTED, [])
    before, after = analyze(MESSY).spec, analyze(FORMATTED).spec
    assert before is not None and after is not None
    assert before.model_dump() == after.model_dump()


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


SCORED_ROWS = [
    {"prompt": "Capital of France?", "completion": "Paris.", "city": "paris", "completion_ids": [5, 5, 5, 5, 5]},
    {"prompt": "Capital of Peru?", "completion": "Lima!", "city": "Lima", "completion_ids": [1, 2, 3]},
    {"prompt": "Capital of Chad?", "completion": "N'Djamena", "city": "N'Djamena."},  # no completion_ids
]


def test_rewardc_score_explains_both(rewardc: Callable[..., Any], write: Callable[..., Path], tmp_path: Path) -> None:
    spec = write(FORMATTED)
    data = write_jsonl(tmp_path / "rows.jsonl", SCORED_ROWS)
    result = rewardc("score", spec, "--data", data, "--format", "json", "--explain")
    assert result.code == 0, result.err
    rows = json.loads(result.out)["rows"]
    assert [row["scores"] for row in rows] == [
        {"loops": -0.375, "city": 0.0},  # exact keeps case: "Paris" is not "paris"
        {"loops": 0.0, "city": 1.0},
        {"loops": None, "city": 1.0},
    ]
    assert [row["explanations"] for row in rows] == [
        {"loops": "1 distinct of 4 token 2-grams: (1 - 1/4) x -0.5 -> -0.375",
         "city": "exact, punctuation trailing: 'Paris' vs 'paris' -> 0"},
        {"loops": "2 distinct of 2 token 2-grams: (1 - 2/2) x -0.5 -> 0",
         "city": "exact, punctuation trailing: 'Lima' vs 'Lima' -> 1"},
        {"loops": "no completion_ids (token ids): not applicable",
         "city": "exact, punctuation trailing: \"N'Djamena\" vs \"N'Djamena\" -> 1"},
    ]


def test_scoring_api_passes_completion_ids_through(tmp_path: Path) -> None:
    compiled = rewardlang.loads("reward t\nrule r: repetition { split tokens  ngram 1  penalty -1 }\n")
    data = write_jsonl(tmp_path / "rows.jsonl", SCORED_ROWS)
    result = score(ScoreRequest(compiled, str(data)))
    assert [row.scores["r"] for row in result.rows] == [-0.8, 0.0, None]  # (1 - 1/5) x -1
    assert result.summary()["rules"]["r"]["none"] == 1


def test_spec_examples_batch_with_g_completions() -> None:
    # G completions of one prompt, as TRL passes them: scored one by one or together, the same.
    compiled = compile_rule("repetition { split tokens  penalty -1 }")
    ids = [[1, 2, 3] * k for k in range(1, 6)]
    together = compiled.score(["x"] * 5, completion_ids=ids).rules["r"]
    alone = [compiled.score(["x"], completion_ids=[i]).rules["r"][0] for i in ids]
    assert together == alone
    # k repeats of one trigram: 3 distinct of 3k - 2 trigrams, (1 - 3 / (3k - 2)) x -1.
    assert together == [0.0, (1 - 3 / 4) * -1, (1 - 3 / 7) * -1, (1 - 3 / 10) * -1, (1 - 3 / 13) * -1]


# ======================================================= inside TRL's trainer
@pytest.mark.filterwarnings("ignore::FutureWarning")  # transformers' notices about its own internals
def test_grpo_trainer_logs_the_rules_next_to_trls_own_penalty(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Two real GRPO steps: TRL's own repetition penalty, as a reward function of its own, logs the
    same mean as the rule, on the same generated ids; the `equals` rule reads its dataset column."""
    pytest.importorskip("torch")
    from datasets import Dataset

    spec = rewardlang.loads(
        "reward shapes\n"
        "rule no_loops: repetition { split tokens  ngram 2  penalty -1 }\n"
        "rule city: equals column city { punctuation trailing }\n"
    )
    trl_penalty = get_repetition_penalty_reward(ngram_size=2, max_penalty=-1.0)
    questions = [("What is the capital of France?", "Paris"), ("And of Peru?", "Lima"),
                 ("And of Chad?", "N'Djamena"), ("And of Japan?", "Tokyo")]
    dataset = Dataset.from_list([{"prompt": [{"role": "user", "content": q}], "city": c} for q, c in questions])
    history = train_two_steps(
        [*spec.reward_funcs, trl_penalty], [*spec.weights, 0.0], tiny_model_dir, tmp_path / "run", dataset,
        max_completion_length=24,
    )
    steps = [entry for entry in history if "rewards/shapes/no_loops/mean" in entry]
    assert len(steps) == 2
    for entry in steps:
        assert entry["rewards/shapes/no_loops/mean"] == entry["rewards/repetition_penalty_reward/mean"]
        assert entry["rewards/shapes/no_loops/std"] == entry["rewards/repetition_penalty_reward/std"]
        assert 0.0 <= entry["rewards/shapes/city/mean"] <= 1.0  # a random model: 0, but scored, not None
