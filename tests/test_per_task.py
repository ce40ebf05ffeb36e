"""Per-task rules (`when`): conditions, groups, scoring only where a rule applies, TRL's None, data checks.

docs/language.md §12.1 is the reference these tests hold the implementation to.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from rewardlang import analyze
from rewardlang.fmt import format_source

# A rule that scores exactly 1 wherever it applies: what it logs is its applicability.
ALWAYS = "length 0.. characters"


def scores_for(condition: str, column: str, values: list[Any]) -> list[float | None]:
    spec = rewardlang.loads(f"reward t\nrule r: {ALWAYS} {{ when {condition} }}\n")
    return spec.score(["an answer"] * len(values), **{column: values}).rules["r"]


# ------------------------------------------------------------- comparing values
@pytest.mark.parametrize(
    ("condition", "value", "applies"),
    [
        # A spec string equals a text value equal to it, and nothing else.
        ('task = "math"', "math", True),
        ('task = "math"', "Math", False),
        ('task = "math"', " math", False),
        ('task = "math"', None, False),
        ('task = "1"', 1, False),
        ('task = "true"', True, False),
        # A spec number equals a number of that value, or a text that reads as it; never a bool.
        ("level = 2", 2, True),
        ("level = 2", 2.0, True),
        ("level = 2", "2", True),
        ("level = 2", " 2.0 ", True),
        ("level = 2", "2e0", True),
        ("level = 2", 2.5, False),
        ("level = 2", "two", False),
        ("level = 2", "0x2", False),
        ("level = 2", None, False),
        ("level = 1", True, False),
        ("level = 0", False, False),
        ("level = 1.5", 1.5, True),
        ("level = -1", "-1", True),
        ("level = 2", float("nan"), False),
        ("level = 2", [2], False),
        # `in`: any of the values, each compared as above.
        ('task in "math", "code"', "code", True),
        ('task in "math", "code"', "chat", False),
        ('level in 1, "one"', "1", True),
        ('level in 1, "one"', "one", True),
        ('level in 1, "one"', True, False),
        # `has`: present, not None, not an empty text or list.
        ("has ref", "x", True),
        ("has ref", " ", True),
        ("has ref", 0, True),
        ("has ref", False, True),
        ("has ref", [1], True),
        ("has ref", {"a": 1}, True),
        ("has ref", "", False),
        ("has ref", [], False),
        ("has ref", None, False),
    ],
)
def test_a_condition_holds_on_a_row_value_as_documented(condition: str, value: Any, applies: bool) -> None:
    column = condition.split()[1] if condition.startswith("has ") else condition.split()[0]
    assert scores_for(condition, column, [value]) == [1.0 if applies else None]


def test_numpy_numbers_compare_as_numbers_and_numpy_bools_as_bools() -> None:
    import numpy as np

    values = [np.int64(2), np.float32(2.0), np.bool_(True), np.int64(3)]
    assert scores_for("level = 2", "level", values) == [1.0, 1.0, None, None]
    assert scores_for("level = 1", "level", [np.bool_(True)]) == [None]


def test_a_column_missing_from_the_whole_batch_holds_nowhere() -> None:
    spec = rewardlang.loads(f"reward t\nrule r: {ALWAYS} {{ when has task }}\nrule s: {ALWAYS} {{ when task = 1 }}\n")
    scores = spec.score(["a", "b"], other=["x", "y"])
    assert scores.rules == {"r": [None, None], "s": [None, None]}
    assert scores.total == [0.0, 0.0]


def test_a_quoted_column_name_reads_that_column() -> None:
    assert scores_for('"task kind" = "math"', "task kind", ["math", "chat"]) == [1.0, None]


# ------------------------------------------------------------------ validation
def test_a_group_gives_its_condition_to_each_of_its_rules() -> None:
    text = 'reward t\nwhen task in "chat", "tool" {\n    rule a: length ..10 words\n    rule b: json\n}\nrule c: json\n'
    analysis = analyze(text)
    assert analysis.diagnostics == []
    assert analysis.spec is not None
    rules = {rule.name: rule.when for rule in analysis.spec.rules}
    assert rules["c"] is None
    assert rules["a"] == rules["b"]
    assert rules["a"] is not None
    assert (rules["a"].column, rules["a"].op, rules["a"].values) == ("task", "in", ("chat", "tool"))
    # The span of a group rule's condition is the group's condition.
    assert text[rules["a"].span.start : rules["a"].span.end] == 'task in "chat", "tool"'
    assert text[rules["b"].column_span.start : rules["b"].column_span.end] == "task"
    assert [rule.name for rule in analysis.spec.rules] == ["a", "b", "c"]  # source order


def test_a_rule_with_its_own_when_inside_a_group_is_rl140() -> None:
    text = 'reward t\nwhen task = "math" {\n    rule a: json { when has x }\n}\n'
    diagnostics = analyze(text).diagnostics
    assert [(d.code, text[d.span.start : d.span.end]) for d in diagnostics] == [("RL140", "when has x")]
    assert [text[label.span.start : label.span.end] for label in diagnostics[0].labels] == ['task = "math"']


@pytest.mark.parametrize("column", ["prompt", "completion", "completion_ids", "prompts", "trainer_state"])
def test_a_condition_on_a_column_rewards_never_receive_is_rl141(column: str) -> None:
    text = f'reward t\nwhen {column} = "x" {{\n    rule a: json\n    rule b: json\n}}\n'
    diagnostics = analyze(text).diagnostics
    assert [(d.code, text[d.span.start : d.span.end]) for d in diagnostics] == [("RL141", column)]  # once per group


def test_an_empty_group_is_rl221_and_a_duplicate_name_inside_a_group_is_rl101() -> None:
    assert [d.code for d in analyze('reward t\nrule a: json\nwhen has x {}\n').diagnostics] == ["RL221"]
    text = 'reward t\nrule a: json\nwhen has x {\n    rule a: json\n}\n'
    assert [d.code for d in analyze(text).diagnostics] == ["RL101"]


def test_a_syntax_error_elsewhere_leaves_a_group_and_when_options_on_their_own_lines_intact() -> None:
    text = (
        "reward t\n"
        "rule bad: length 10.. { weight }\n"
        'when task = "math" {\n'
        "    rule a: length ..10 words\n"
        "    rule b: length ..10 words {\n"
        "        when has x\n"
        "    }\n"
        "}\n"
        "rule c: length ..5 words {\n"
        '    when task = "chat"\n'
        "}\n"
        "total = a + bad + c\n"
    )
    # One error for the broken rule; rule b's own `when` inside the group is RL140; nothing else
    # (no "incomplete statement" for the group, no unknown rule in the formula).
    assert [d.code for d in analyze(text).diagnostics] == ["RL002", "RL140"]


# ---------------------------------------------------------------------- format
MESSY = """\
reward t
rule   a :  length ..10 words{when  task="math"   weight 2}
when "task kind" in 'chat',2,   {
  # the polite ones
  rule b: phrases "please"


  rule c: json {
     when has   x
  }
}
when has ref {
}
"""

CANONICAL = """\
reward t

rule a: length ..10 words { when task = "math"  weight 2 }
when "task kind" in "chat", 2 {
    # the polite ones
    rule b: phrases "please"

    rule c: json { when has x }
}
when has ref {}
"""


def test_format_writes_conditions_and_groups_canonically_and_is_idempotent() -> None:
    formatted, diagnostics = format_source(MESSY)
    assert diagnostics == []
    assert formatted == CANONICAL
    assert format_source(CANONICAL) == (CANONICAL, [])
    first, second = analyze(MESSY), analyze(CANONICAL)
    assert [d.code for d in first.diagnostics] == [d.code for d in second.diagnostics] == ["RL140", "RL221"]
    assert first.syntax.statements and len(first.syntax.statements) == len(second.syntax.statements)


def test_format_keeps_every_comment_of_a_group_in_its_place() -> None:
    text = (
        "reward t\n"
        'when task = "m" {  # open\n'
        "    # before a\n"
        "    rule a: json  # after a\n"
        "    rule b: json {\n"
        "        # in b\n"
        "        weight 2  # after weight\n"
        "    }\n"
        "    # at the end\n"
        "}  # closed\n"
    )
    expected = text.replace("reward t\n", "reward t\n\n", 1)  # one blank line after the header
    assert format_source(text) == (expected, [])


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ('when "has" = 1', 'when "has" = 1'),  # bare, `has = 1` would be the `has` condition
        ('when has "has"', "when has has"),
        ('when "in" in 1, 2', "when in in 1, 2"),
        ('when "rule" = "x"', 'when rule = "x"'),
        ('when "a b" = "x"', 'when "a b" = "x"'),
    ],
)
def test_format_quotes_a_column_name_only_where_it_must(written: str, canonical: str) -> None:
    text = f"reward t\nrule a: json {{ {written} }}\n"
    formatted, _ = format_source(text)
    assert formatted == f"reward t\n\nrule a: json {{ {canonical} }}\n"
    first, second = analyze(text).spec, analyze(formatted).spec
    assert first is not None and second is not None
    assert first.model_dump() == second.model_dump()


def test_format_round_trip_keeps_the_validated_spec() -> None:
    text = (
        'reward t\nwhen task = "math" {\n  rule a: json\n  rule b: length ..3 words {weight 2}\n}\n'
        "rule c: json {when level in 1,2.5}\n"
    )
    formatted, _ = format_source(text)
    assert formatted is not None
    first, second = analyze(text).spec, analyze(formatted).spec
    assert first is not None and second is not None
    assert first.model_dump() == second.model_dump()


# ------------------------------------------------------- scoring and combining
def test_a_per_task_rule_is_scored_on_its_own_rows_only(judge_server: Any) -> None:
    """A judge (a real HTTP judge on the tiny model) is asked about the chat rows alone."""
    from judge_server import Behaviour

    judge_server.behaviour = Behaviour(labels=["no", "yes"])
    spec = rewardlang.loads(
        "reward t\n"
        f'rule polite: judge "Is it polite?" {{ server "{judge_server.base_url}"  served_model "tiny-judge"'
        '  when task = "chat" }\n'
    )
    completions = ["math answer one", "chat answer one", "math answer two", "chat answer two", "chat answer three"]
    tasks = ["math", "chat", "math", "chat", "chat"]
    scores = spec.score(completions, prompts=["q"] * 5, task=tasks).rules["polite"]
    assert [score is None for score in scores] == [True, False, True, False, False]
    assert judge_server.counters.requests == 3
    asked = sorted(json.dumps(body) for body in judge_server.counters.bodies)
    assert [("chat answer" in body, "math answer" in body) for body in asked] == [(True, False)] * 3


def test_a_rule_that_reads_another_rule_s_scores_sees_them_for_its_own_rows() -> None:
    spec = rewardlang.loads(f'reward t\nrule a: length ..2 words\nrule b: {ALWAYS} {{ when task = "x" }}\n')
    compiled_scores = spec.score(["one", "one two three", "one two"], task=["y", "x", "x"])
    assert compiled_scores.rules == {"a": [1.0, 0.0, 1.0], "b": [None, 1.0, 1.0]}


def test_in_a_formula_a_rule_that_does_not_apply_counts_0_and_a_gate_ignores_it() -> None:
    spec = rewardlang.loads(
        "reward t\n"
        f'rule math_only: {ALWAYS} {{ when task = "math" }}\n'
        'rule chat_only: length ..1 words { when task = "chat" }\n'
        "total = 2 * math_only + chat_only + 1\n"
        "gate chat_only < 1 then -1\n"
    )
    scores = spec.score(["a b", "a b", "a"], task=["math", "chat", "chat"])
    assert scores.rules == {"math_only": [1.0, None, None], "chat_only": [None, 0.0, 1.0]}
    assert scores.total == [3.0, -1.0, 2.0]  # the gate applies to row 2 only: row 1 has no chat_only score


def test_explanations_say_why_a_rule_does_not_apply() -> None:
    spec = rewardlang.loads(f'reward t\nrule r: {ALWAYS} {{ when task = "math" }}\n')
    explained = spec.score(["x", "y", "z"], task=["math", "chat", None], explain=True).explanations
    assert explained is not None
    assert explained["r"][1:] == [
        'not applicable: `task` is "chat" (when task = "math")',
        'not applicable: no `task` (when task = "math")',
    ]
    assert not explained["r"][0].startswith("not applicable")


# -------------------------------------------------------------------------- TRL
def test_trl_logs_a_per_task_rule_s_mean_over_its_own_rows(tiny_model_dir: Path, tmp_path: Path) -> None:
    """Two real GRPOTrainer steps on a mixed dataset: a rule scoring 1 wherever it applies logs 1.0, not the
    fraction of rows it applies to; a rule on every row logs its mean over all of them."""
    from datasets import Dataset

    from trl_runs import logged, train_two_steps

    spec = rewardlang.loads(
        "reward mixed\n"
        f'rule math_rule: {ALWAYS} {{ when task = "math" }}\n'
        'when task = "chat" {\n'
        f"    rule chat_rule: {ALWAYS}\n"
        "}\n"
        "rule every: length 0.. characters { weight 0.5 }\n"
    )
    dataset = Dataset.from_list(
        [
            {"prompt": [{"role": "user", "content": "What is 2 + 2?"}], "task": "math"},
            {"prompt": [{"role": "user", "content": "Say hello."}], "task": "chat"},
        ]
    )
    history = train_two_steps(spec.reward_funcs, spec.weights, tiny_model_dir, tmp_path / "out", dataset)
    # Each step holds both prompts (2 prompts x 2 generations): each per-task rule applies to half the rows.
    assert logged(history, "rewards/mixed/math_rule/mean") == [1.0, 1.0]
    assert logged(history, "rewards/mixed/chat_rule/mean") == [1.0, 1.0]
    assert logged(history, "rewards/mixed/every/mean") == [1.0, 1.0]
    # The reward of each row is the sum over the functions that apply to it: 1 + 0.5 on every row.
    assert logged(history, "reward") == [1.5, 1.5]
    # A rule's std is over its own rows too (all 1: 0), never NaN.
    assert logged(history, "rewards/mixed/math_rule/std") == [0.0, 0.0]


# ------------------------------------------------------------- rewardc check --data
SPEC_READING_COLUMNS = """\
reward tasks
rule answer: math column solutoin { when tsak = "math" }
when task = "maths" {
    rule polite: judge "Is the reply kind to {column.persona}?"
}
rule ok: equals column solution { when task in "math", "chat" }
"""

ROWS = [
    {"prompt": "What is 2 + 2?", "completion": "4", "task": "math", "solution": "4"},
    {"prompt": "Say hello.", "completion": "Hello!", "task": "chat"},
    {"prompt": "Use the tool.", "completion": "{}", "task": "tool"},
]


def _jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_check_data_warns_about_each_missing_column_and_a_condition_that_holds_nowhere(
    rewardc: Any, write: Any, tmp_path: Path
) -> None:
    spec = write(SPEC_READING_COLUMNS)
    data = _jsonl(tmp_path / "rows.jsonl", ROWS)
    assert rewardc("check", "--color", "never", spec).code == 0  # without --data: clean
    result = rewardc("check", "--format", "json", spec, "--data", data)
    assert result.code == 0  # warnings only
    found = [(d["code"], d["message"], d["help"]) for d in json.loads(result.out)]
    assert found == [
        ("RL219", "rule `answer` reads column `solutoin`, which the data does not have", "did you mean `solution`?"),
        ("RL219", '`when tsak = "math"` reads column `tsak`, which the data does not have', "did you mean `task`?"),
        ("RL220", 'no row of the data has `task = "maths"` (3 rows read)',
         'did you mean "math"? `task` holds "math", "chat", "tool"'),
        ("RL219", "rule `polite` reads column `persona`, which the data does not have",
         "the data's columns are `solution`, `task`"),
    ]
    assert rewardc("check", "--strict", spec, "--data", data).code == 1


def test_check_data_reports_a_group_s_condition_once(rewardc: Any, write: Any, tmp_path: Path) -> None:
    data = _jsonl(tmp_path / "rows.jsonl", ROWS)
    for condition, code in [('tsak = "math"', "RL219"), ('task = "maths"', "RL220")]:
        spec = write(f"reward t\nwhen {condition} {{\n    rule a: json\n    rule b: json\n}}\n")
        found = json.loads(rewardc("check", "--format", "json", spec, "--data", data).out)
        assert [(d["code"], d["span"]["line"], d["span"]["column"]) for d in found] == [(code, 2, 6)]


def test_check_data_lists_at_most_eight_values(rewardc: Any, write: Any, tmp_path: Path) -> None:
    spec = write('reward t\nrule r: json { when task = "none of them" }\n')
    data = _jsonl(tmp_path / "rows.jsonl", [{"completion": "x", "task": f"t{i}"} for i in range(10)])
    (diagnostic,) = json.loads(rewardc("check", "--format", "json", spec, "--data", data).out)
    assert diagnostic["help"] == '`task` holds "t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7" and 2 more'


def test_check_data_reads_parquet_too(rewardc: Any, write: Any, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    spec = write('reward t\nrule r: json { when level = 3 }\n')
    data = tmp_path / "rows.parquet"
    pq.write_table(pa.Table.from_pylist([{"completion": "x", "level": 1}, {"completion": "y", "level": 2}]), data)
    (diagnostic,) = json.loads(rewardc("check", "--format", "json", spec, "--data", data).out)
    assert (diagnostic["code"], diagnostic["help"]) == ("RL220", "`level` holds 1, 2")
    as_jsonl = rewardc("check", spec, "--data", data, "--data-format", "jsonl")  # the format given is the one read
    expected = f"rewardc: error: {data}: binary file, not JSON Lines, JSON or Parquet (found a NUL byte)\n"
    assert (as_jsonl.code, as_jsonl.err) == (2, expected)


def test_check_data_usage_errors_exit_2(rewardc: Any, write: Any, tmp_path: Path) -> None:
    spec = write("reward t\nrule r: json\n")
    missing = rewardc("check", spec, "--data", tmp_path / "nope.jsonl")
    assert (missing.code, missing.err) == (2, f"rewardc: error: {tmp_path / 'nope.jsonl'}: no such file\n")
    both = rewardc("check", "-", "--data", "-", stdin=b"reward t\nrule r: json\n")
    assert (both.code, both.err) == (2, "rewardc: error: the spec and the data cannot both come from standard input\n")


# ------------------------------------------------------------- grpo-train start-up
def test_grpo_train_prints_check_s_data_warnings_before_training(
    tiny_model_dir: Path, tmp_path: Path, rewardc: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    from rewardlang_trainer import train
    from train_runs import common_args

    spec = tmp_path / "tasks.reward"
    spec.write_text('reward tasks\nrule answer: length ..20 words { when tsak = "math" }\n', encoding="utf-8")
    data = _jsonl(tmp_path / "rows.jsonl", [
        {"messages": [{"role": "user", "content": "What is 2 + 2?"}, {"role": "assistant", "content": "4"}],
         "task": "math"},
        {"messages": [{"role": "user", "content": "Say hello."}, {"role": "assistant", "content": "Hello!"}],
         "task": "chat"},
    ])
    checked = rewardc("check", "--color", "never", spec, "--data", data)
    assert checked.err.startswith('warning[RL219]: `when tsak = "math"` reads column `tsak`')
    assert "did you mean `task`?" in checked.err
    capsys.readouterr()
    code = train.main([*common_args(spec, data, tiny_model_dir, tmp_path / "out"), "--dry_run"])
    assert code == 0  # a warning never stops a run
    assert checked.err in capsys.readouterr().err  # the same warnings, rendered as check renders them


def test_a_step_without_a_task_s_rows_logs_no_tensorboard_warning(tiny_model_dir: Path, tmp_path: Path) -> None:
    pytest.importorskip("tensorboard")
    import json as json_module
    import subprocess
    import sys

    from train_runs import common_args

    spec = tmp_path / "tasks.reward"
    spec.write_text('reward tasks\nwhen task = "math" {\n    rule answer: length ..20 words\n}\n'
                    'when task = "chat" {\n    rule reply: length ..20 words\n}\n', encoding="utf-8")
    # One math row in four, two prompts a step, two steps: one of the steps samples no math row, so TRL
    # logs `answer`'s mean as None there (no row to average), which TensorBoard's callback warns about.
    rows = [{"messages": [{"role": "user", "content": f"Question {i}?"}, {"role": "assistant", "content": "Yes."}],
             "task": "math" if i == 0 else "chat"} for i in range(4)]
    data = _jsonl(tmp_path / "rows.jsonl", rows)
    args = common_args(spec, data, tiny_model_dir, tmp_path / "out")
    args[args.index("--report_to") + 1] = "tensorboard"
    # A process of its own: transformers' log handler writes to the stderr it found at import.
    code = "import sys; from rewardlang_trainer.train import main; sys.exit(main(sys.argv[1:]))"
    run = subprocess.run([sys.executable, "-c", code, *args, "--max_steps", "2", "--save_strategy", "steps",
                          "--save_steps", "2"], capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    state = json_module.loads((tmp_path / "out" / "checkpoint-2" / "trainer_state.json").read_text(encoding="utf-8"))
    answer = [entry.get("rewards/tasks/answer/mean", "absent") for entry in state["log_history"] if "loss" in entry]
    assert sorted(answer, key=str) == [1.0, None]  # a mean on the step with the math row, none on the other
    assert 'attempting to log a value of "None"' not in run.stdout + run.stderr


# ------------------------------------------------------------------- rewardc score
def test_score_shows_per_task_means_over_the_rows_where_each_rule_applies(
    rewardc: Any, write: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = write(
        "reward tasks\n"
        'rule answer: equals column solution { when task = "math" }\n'
        'when task = "chat" {\n    rule polite: phrases "please"\n}\n'
        "rule brief: length ..3 words\n"
    )
    data = _jsonl(tmp_path / "rows.jsonl", [
        {"completion": "4", "task": "math", "solution": "4"},
        {"completion": "5", "task": "math", "solution": "6"},
        {"completion": "Hello there, please, friend!", "task": "chat"},
        {"completion": "Hey", "task": "chat"},
        {"completion": "{}"},
    ])
    summary = json.loads(rewardc("score", spec, "--data", data, "--format", "json").out)["summary"]
    assert summary["rules"]["answer"] == {"mean": 0.5, "min": 0.0, "max": 1.0, "none": 3}  # over its 2 rows
    def task(label: str, value: str | None, rows: int, **means: tuple[float | None, int]) -> dict[str, Any]:
        rules = {name: {"mean": mean, "rows": count} for name, (mean, count) in means.items()}
        return {"task": label, "values": {"task": value}, "rows": rows, "rules": rules}

    assert summary["tasks"] == [
        task("task=math", "math", 2, answer=(0.5, 2), polite=(None, 0), brief=(1.0, 2)),
        task("task=chat", "chat", 2, answer=(None, 0), polite=(0.5, 2), brief=(0.5, 2)),
        task("task=(none)", None, 1, answer=(None, 0), polite=(None, 0), brief=(1.0, 1)),
    ]
    monkeypatch.setenv("COLUMNS", "120")
    table = rewardc("score", spec, "--data", data, "--color", "never").out
    lines = [line.split() for line in table.splitlines()]
    assert ["task=math", "2", "0.500", "(2)", "n/a", "1.000", "(2)"] in lines
    assert ["task=chat", "2", "n/a", "0.500", "(2)", "0.500", "(2)"] in lines
    assert ["task=(none)", "1", "n/a", "n/a", "1.000", "(1)"] in lines


def test_a_task_is_the_spec_s_value_a_row_matches_so_free_text_makes_no_tasks(
    rewardc: Any, write: Any, tmp_path: Path
) -> None:
    spec = write(
        "reward tasks\n"
        "rule hard: length ..3 words { when level in 2, 3 }\n"
        "rule referenced: equals column reference { when has reference }\n"
    )
    data = _jsonl(tmp_path / "rows.jsonl", [
        {"completion": "a", "level": "2", "reference": "a"},
        {"completion": "b", "level": 2.0, "reference": "free text one"},
        {"completion": "c", "level": 7, "reference": "free text two"},
        {"completion": "d", "level": 3, "reference": ""},
        {"completion": "e"},
    ])
    tasks = json.loads(rewardc("score", spec, "--data", data, "--format", "json").out)["summary"]["tasks"]
    assert [(t["task"], t["values"], t["rows"]) for t in tasks] == [
        ("level=2 reference=(present)", {"level": 2.0, "reference": "(present)"}, 2),
        ("level=(other) reference=(present)", {"level": "(other)", "reference": "(present)"}, 1),
        ("level=3 reference=(none)", {"level": 3.0, "reference": None}, 1),
        ("level=(none) reference=(none)", {"level": None, "reference": None}, 1),
    ]
    assert tasks[0]["rules"] == {"hard": {"mean": 1.0, "rows": 2}, "referenced": {"mean": 0.5, "rows": 2}}
    assert tasks[1]["rules"] == {"hard": {"mean": None, "rows": 0}, "referenced": {"mean": 0.0, "rows": 1}}


def test_score_without_conditions_has_no_per_task_part(rewardc: Any, write: Any, tmp_path: Path) -> None:
    spec = write("reward t\nrule brief: length ..3 words\n")
    data = _jsonl(tmp_path / "rows.jsonl", [{"completion": "hi", "task": "chat"}])
    assert "tasks" not in json.loads(rewardc("score", spec, "--data", data, "--format", "json").out)["summary"]
    assert "per task" not in rewardc("score", spec, "--data", data, "--color", "never").out


# -------------------------------------------------------------- rewardc test, probe
EXAMPLES = """\
reward tasks
rule answer: equals column solution { when task = "math" }
example "a math row" {
    user "What is 2 + 2?"
    completion "4"
    column task "math"
    column solution "4"
    expect answer = 1
}
example "a chat row needs no solution" {
    user "Hi"
    completion "Hello!"
    column task "chat"
    expect answer n/a
}
example "a row without the column" {
    user "Hi"
    completion "Hello!"
    expect answer n/a
}
"""


def test_examples_without_the_condition_column_expect_not_applicable(rewardc: Any, write: Any) -> None:
    spec = write(EXAMPLES)
    assert [d.code for d in analyze(EXAMPLES).diagnostics] == []  # no RL218 for the chat example
    result = rewardc("test", spec)
    assert result.code == 0, result.err
    failing = write(EXAMPLES.replace("expect answer n/a\n}\nexample \"a row", "expect answer = 1\n}\nexample \"a row"))
    assert rewardc("test", failing).code == 1


def test_probe_runs_on_a_spec_with_per_task_rules(rewardc: Any, write: Any, tmp_path: Path) -> None:
    spec = write('reward tasks\nrule brief: length ..5 words { when task = "chat" }\nrule safe: banned "bad"\n')
    data = _jsonl(tmp_path / "rows.jsonl", [
        {"prompt": "Hi", "completion": "Hello there!", "task": "chat"},
        {"prompt": "2 + 2?", "completion": "It is 4.", "task": "math"},
    ])
    result = rewardc("probe", spec, "--data", data, "--format", "json")
    report = json.loads(result.out)
    # The honest median of a per-task rule is over the rows where it applies: the chat row alone.
    assert report["honest"]["scores"] == {"brief": 1.0, "safe": 1.0}
    assert report["probes"] and all(math.isfinite(probe["total"]) for probe in report["probes"])
    assert result.code == (1 if any(probe["reaches"] for probe in report["probes"]) else 0)


# ------------------------------------------------------------------------ docs
def test_the_reference_s_per_task_examples_check_clean_and_are_formatted() -> None:
    import re

    text = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text(encoding="utf-8")
    section = text.split("### 12.1 Per-task rules: `when`", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"^```reward\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    for block in blocks:
        assert analyze(block).diagnostics == []
        assert format_source(block) == (block, [])
