"""Weight schedules (docs/language.md §12.2): a rule's weight, or a named formula term, that follows
TRL's training step.

The values of every form at hand-computed steps; the diagnostics at their spans; the formatter's
round trip; the compiled functions, totals and `log_metric` calls at given steps; `rewardc score
--step`; RL222 for a run shorter than its schedule; and a real two-step `GRPOTrainer` run on the tiny
model whose log history holds each scheduled weight at the value of the step TRL scored at.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from rewardlang import analyze, parse
from rewardlang.cli import main
from rewardlang.fmt import format_source
from rewardlang.schedules import Schedule, step_of, unfinished_schedules


def _weight(text: str) -> Schedule:
    weight = parse(f"reward s\nrule a: length 1..5 words {{ weight {text} }}\n").rules[0].weight
    assert isinstance(weight, Schedule)
    return weight


# ------------------------------------------------------------------- values
@pytest.mark.parametrize(
    ("written", "values"),
    [
        ("0 -> 1 over 100", {0: 0.0, 25: 0.25, 99: 0.99, 100: 1.0, 150: 1.0}),
        ("0 -> 1 over 50..150", {0: 0.0, 50: 0.0, 100: 0.5, 149: 0.99, 150: 1.0, 400: 1.0}),
        ("2 -> 0.5 over 10", {0: 2.0, 4: 1.4, 10: 0.5, 11: 0.5}),
        ("1 -> 0 at 200", {0: 1.0, 199: 1.0, 200: 0.0, 300: 0.0}),
        ("points 0: 0, 100: 1, 500: 0.2", {0: 0.0, 50: 0.5, 100: 1.0, 300: 0.6, 500: 0.2, 900: 0.2}),
        ("points 10: 2, 20: 4", {0: 2.0, 10: 2.0, 15: 3.0, 20: 4.0, 30: 4.0}),
        ("points 5: -1", {0: -1.0, 5: -1.0, 6: -1.0}),
    ],
)
def test_value_at_each_form(written: str, values: dict[int, float]) -> None:
    schedule = _weight(written)
    assert {step: schedule.value_at(step) for step in values} == pytest.approx(values, abs=1e-12)


@pytest.mark.parametrize(
    ("written", "form", "points"),
    [
        ("0 -> 1 over 100", "linear", [(0, 0), (100, 1)]),
        ("0 -> 1 over 50..150", "linear", [(50, 0), (150, 1)]),
        ("1 -> 0 at 200", "switch", [(0, 1), (200, 0)]),
        ("points 0: 0, 100: 1, 500: 0.2", "points", [(0, 0), (100, 1), (500, 0.2)]),
    ],
)
def test_every_form_lowers_to_points_and_keeps_its_written_form(
    written: str, form: str, points: list[tuple[int, float]]
) -> None:
    schedule = _weight(written)
    assert (schedule.form, [(p.step, p.weight) for p in schedule.points]) == (form, points)
    assert schedule.describe() == written


def test_step_of_reads_trainer_state_global_step() -> None:
    from transformers import TrainerState

    assert step_of(TrainerState(global_step=7)) == 7
    assert step_of(None) == 0  # a plain call, `rewardc score` without --step


# -------------------------------------------------------------- diagnostics
def _only(text: str) -> tuple[str, str, str]:
    """(code, message, the source text under the span) of the one diagnostic of `text`."""
    found = analyze(text).diagnostics
    assert len(found) == 1, found
    span = found[0].span
    return found[0].code, found[0].message, text[span.start : span.end]


RULE = "reward s\nrule a: length 1..5 words { weight %s }\n"


@pytest.mark.parametrize(
    ("weight", "expected"),
    [
        ("points 0: 0, 100: 1, 50: 0.5", ("RL143", "a schedule's steps must increase: step 50 is not after step 100",
                                          "50")),
        ("points 0: 0, 0: 1", ("RL143", "a schedule's steps must increase: step 0 is not after step 0", "0")),
        ("1 -> 0 at 0", ("RL143", "a schedule's steps must increase: step 0 is not after step 0", "0")),
        ("0 -> 1 over 0", ("RL143", "a schedule's steps must increase: step 0 is not after step 0", "0")),
        ("0 -> 1 over 150..50", ("RL143", "a schedule's steps must increase: step 50 is not after step 150", "50")),
        ("0 -> 1 over 50..", ("RL143", "a warm-up needs both ends of its step range", "50..")),
        ("points -1: 0, 5: 1", ("RL105", "`step` is out of range", "-1")),
        ("points 0: 0, 2.5: 1", ("RL106", "`step` must be a whole number", "2.5")),
        ("points 0: 0, 5: 200", ("RL105", "`weight` is out of range", "200")),
        ("0 -> -101 at 5", ("RL105", "`weight` is out of range", "-101")),
    ],
)
def test_invalid_schedules_are_reported_at_their_span(weight: str, expected: tuple[str, str, str]) -> None:
    assert _only(RULE % weight) == expected


def test_a_schedule_name_must_not_be_a_rule_another_schedule_or_total() -> None:
    text = (
        "reward s\nrule a: length 1..5 words\n"
        "schedule a: 0 -> 1 over 5\nschedule w: 0 -> 1 over 5\nschedule w: 1 -> 0 at 5\nschedule total: 0 -> 1 at 3\n"
        "total = a + w * a\n"
    )
    found = [(d.code, d.message, text[d.span.start : d.span.end], d.span.line) for d in analyze(text).diagnostics]
    assert found == [
        ("RL101", "`a` names both a schedule and a rule", "a", 3),
        ("RL101", "`w` names both a schedule and another schedule", "w", 5),
        ("RL119", "`total` is a reserved name", "total", 6),
    ]


def test_a_formula_may_name_a_schedule_and_a_gate_may_not() -> None:
    clean = "reward s\nrule a: length 1..5 words\nschedule w: 0 -> 1 over 5\ntotal = a + w * a\n"
    assert analyze(clean).diagnostics == []
    gated = clean + "gate w < 1 then 0\n"
    assert _only(gated) == ("RL144", "`gate w` compares a schedule, not a rule's score", "w")


def test_a_misspelled_schedule_in_a_formula_is_an_unknown_name_with_a_suggestion() -> None:
    text = "reward s\nrule a: length 1..5 words\nschedule warmup: 0 -> 1 over 5\ntotal = a + warmpu * a\n"
    assert [(d.code, d.help) for d in analyze(text).diagnostics] == [("RL111", "did you mean `warmup`?")]


@pytest.mark.parametrize("schedule", ["points 0: 0, 0: 1", "0 -> 1 over 5..", "points -1: 0"])
def test_a_broken_schedule_is_reported_once_not_again_where_the_formula_names_it(schedule: str) -> None:
    text = f"reward s\nrule a: length 1..5 words\nschedule w: {schedule}\ntotal = a + w * a\n"
    assert [d.span.line for d in analyze(text).diagnostics] == [3]


def test_an_unused_schedule_is_rl223() -> None:
    text = "reward s\nrule a: length 1..5 words\nschedule warmup: 0 -> 1 over 5\n"
    assert _only(text) == ("RL223", "schedule `warmup` is not used by the total", "warmup")


def test_weight_zero_warnings_see_through_schedules() -> None:
    two = "reward s\nrule a: length 1..5 words { weight %s }\nrule b: length 1..9 words\n"
    assert _only(two % "points 0: 0, 10: 0")[0] == "RL207"  # 0 at every step
    assert analyze(two % "0 -> 1 over 10").diagnostics == []  # 0 at the start only
    assert _only(RULE % "0 -> 0 at 10")[0] == "RL117"


def test_a_scheduled_weight_under_a_formula_is_ignored_rl203() -> None:
    text = "reward s\nrule a: length 1..5 words { weight 0 -> 1 over 10 }\ntotal = 2 * a\n"
    assert _only(text) == ("RL203", "the weight of `a` is ignored", "weight 0 -> 1 over 10")


def test_defaults_may_schedule_every_weight() -> None:
    spec = parse("reward s\ndefaults { weight 0 -> 1 over 10 }\nrule a: length 1..5 words\nrule b: json { weight 2 }\n")
    scheduled, plain = (rule.weight for rule in spec.rules)
    assert (scheduled.model_dump(), plain) == (_weight("0 -> 1 over 10").model_dump(), 2.0)  # type: ignore[union-attr]


# ----------------------------------------------------------------------- fmt
def test_fmt_round_trips_every_form() -> None:
    text = (
        "reward s\n"
        "defaults {weight 1->0.5 at 7}\n"
        "rule a: length 1..5 words {weight 0->1 over 100}  # warm-up\n"
        "rule b: length 1..5 words { weight points 0:0,100:1,500:0.2, scope full }\n"
        "rule c: length 1..5 words { weight 0 -> 2.5 over 50..150 }\n"
        "schedule fw: points 0: 0, 100: 1, 500: 0.2,\n"
        "schedule late :0 -> 1 at 10   # switch\n"
        "total = a + fw * b + late * c\n"
    )
    formatted, errors = format_source(text)
    assert errors == []
    assert formatted == (
        "reward s\n"
        "\n"
        "defaults { weight 1 -> 0.5 at 7 }\n"
        "rule a: length 1..5 words { weight 0 -> 1 over 100 }  # warm-up\n"
        "rule b: length 1..5 words { weight points 0: 0, 100: 1, 500: 0.2  scope full }\n"
        "rule c: length 1..5 words { weight 0 -> 2.5 over 50..150 }\n"
        "schedule fw: points 0: 0, 100: 1, 500: 0.2\n"
        "schedule late: 0 -> 1 at 10  # switch\n"
        "total = a + fw * b + late * c\n"
    )
    assert format_source(formatted) == (formatted, [])
    assert parse(formatted).model_dump() == parse(text).model_dump()


# ------------------------------------------------------------------ compiled
SCHEDULED = """\
reward s
rule short: length 1..3 words { weight 0 -> 1 over 100 }
rule long: length 4..10 words { weight 2 -> 0 at 50 }
rule plain: length 1..10 words { weight 0.5 }
"""
COMPLETIONS = ["one two", "one two three four five"]  # short 1 / long 0 / plain 1; short 0 / long 1 / plain 1


def test_a_schedule_compiles_to_a_total_plus_weight_zero_rules() -> None:
    compiled = rewardlang.loads(SCHEDULED)
    assert compiled.names == ["s/total", "s/short", "s/long", "s/plain"]
    assert compiled.weights == [1.0, 0.0, 0.0, 0.0]
    named = rewardlang.loads("reward n\nrule a: length 1..3 words\nschedule w: 0 -> 1 over 4\ntotal = w * a\n")
    assert (named.names, named.weights) == (["n/total", "n/a"], [1.0, 0.0])


@pytest.mark.parametrize(
    ("step", "totals", "weights"),
    [
        (0, [0 * 1 + 2 * 0 + 0.5, 0 * 0 + 2 * 1 + 0.5], {"weight/short": 0.0, "weight/long": 2.0}),
        (25, [0.25 + 0 + 0.5, 0 + 2 + 0.5], {"weight/short": 0.25, "weight/long": 2.0}),
        (50, [0.5 + 0 + 0.5, 0 + 0 + 0.5], {"weight/short": 0.5, "weight/long": 0.0}),
        (1000, [1 + 0 + 0.5, 0 + 0 + 0.5], {"weight/short": 1.0, "weight/long": 0.0}),
    ],
)
def test_total_without_a_formula_weights_each_rule_as_at_the_step(
    step: int, totals: list[float], weights: dict[str, float]
) -> None:
    scores = rewardlang.loads(SCHEDULED).score(COMPLETIONS, at_step=step)
    assert scores.rules == {"short": [1.0, 0.0], "long": [0.0, 1.0], "plain": [1.0, 1.0]}
    assert (scores.total, scores.weights) == (pytest.approx(totals), weights)


FORMULA = """\
reward f
rule short: length 1..3 words
rule long: length 4..10 words
schedule warmup: points 0: 0, 10: 1, 20: 0.5
schedule late: 0 -> 3 at 15
total = short + warmup * long + late * long
"""


@pytest.mark.parametrize(
    ("step", "totals"),
    [(0, [1.0, 0.0]), (5, [1.0, 0.5]), (15, [1.0, 0.75 + 3]), (40, [1.0, 0.5 + 3])],
)
def test_a_formula_reads_each_schedule_at_the_step(step: int, totals: list[float]) -> None:
    scores = rewardlang.loads(FORMULA).score(COMPLETIONS, at_step=step)
    assert scores.total == pytest.approx(totals)


def test_each_call_logs_the_scheduled_weights_once_through_log_metric() -> None:
    from transformers import TrainerState

    compiled = rewardlang.loads(SCHEDULED + "schedule extra: 0 -> 4 over 10\n")
    calls: list[tuple[str, float]] = []
    state = TrainerState(global_step=5)
    kwargs: dict[str, Any] = {
        "prompts": ["Hi", "Hi"], "completions": COMPLETIONS, "completion_ids": None,
        "trainer_state": state, "log_metric": lambda name, value: calls.append((name, value)),
    }
    rewards = [function(**kwargs) for function in compiled.reward_funcs]  # as TRL calls them, one step
    assert rewards[0] == pytest.approx([0.05 * 1 + 2 * 0 + 0.5, 0.05 * 0 + 2 * 1 + 0.5])
    assert rewards[1:] == [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]
    assert calls == [("weight/short", 0.05), ("weight/long", 2.0), ("schedule/extra", 2.0)]


def test_a_formula_logs_its_schedules_and_not_the_ignored_rule_weights() -> None:
    compiled = rewardlang.loads(FORMULA.replace("rule short: length 1..3 words", "rule short: length 1..3 words "
                                                "{ weight 0 -> 1 over 2 }"))
    assert list(compiled.logged_schedules) == ["schedule/warmup", "schedule/late"]
    assert compiled.logged_weights(15) == {"schedule/warmup": 0.75, "schedule/late": 3.0}


# ------------------------------------------------------------- rewardc score
def _score(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    spec = tmp_path / "s.reward"
    spec.write_text(SCHEDULED, encoding="utf-8")
    data = tmp_path / "d.jsonl"
    data.write_text("".join(json.dumps({"prompt": "Hi", "completion": c}) + "\n" for c in COMPLETIONS),
                    encoding="utf-8")
    capsys.readouterr()
    code = main(["score", str(spec), "--data", str(data), "--color", "never", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_score_step_weights_the_total_as_at_that_step_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _score(tmp_path, capsys, "--step", "25", "--format", "json")
    document = json.loads(out)
    assert code == 0
    assert [row["total"] for row in document["rows"]] == pytest.approx([0.75, 2.5])
    assert (document["summary"]["step"], document["summary"]["weights"]) == (
        25, {"weight/short": 0.25, "weight/long": 2.0}
    )


def test_score_step_table_shows_the_weights_and_their_schedules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    code, out, _ = _score(tmp_path, capsys, "--step", "50")
    assert code == 0
    weights = out.split("scheduled weights at step 50", 1)[1].split("\n")
    rows = [line.split() for line in weights if line.strip().startswith("weight/")]
    assert rows == [["weight/short", "0.500", "0", "->", "1", "over", "100"], ["weight/long", "0.000", "2", "->", "0",
                                                                            "at", "50"]]


def test_score_without_step_scores_at_step_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = _score(tmp_path, capsys, "--format", "json")
    assert [row["total"] for row in json.loads(out)["rows"]] == pytest.approx([0.5, 2.5])


def test_score_step_refuses_a_negative_step(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _score(tmp_path, capsys, "--step", "-1")
    assert (code, out, err.splitlines()[-1]) == (2, "", "rewardc: error: argument --step: must be at least 0")


# ----------------------------------------------------------------- grpo-train
def test_rl222_names_each_schedule_that_outlasts_the_run() -> None:
    text = "reward s\nrule a: length 1..5 words { weight 0 -> 1 over 1000 }\nrule b: json { weight 1 -> 0 at 20 }\n"
    compiled = rewardlang.loads(text)
    found = unfinished_schedules(compiled.logged_schedules, max_steps=200)
    assert [(d.code, d.message, d.help, text[d.span.start : d.span.end]) for d in found] == [
        ("RL222", "`weight/a` changes until step 1000, past the run's last step (200 steps)",
         "the run's last step (step 199) scores with 0.199: shorten the schedule or train longer",
         "0 -> 1 over 1000"),
    ]
    assert unfinished_schedules(compiled.logged_schedules, max_steps=1000) == []
    assert unfinished_schedules(compiled.logged_schedules, max_steps=-1) == []  # epochs decide: unknown


TRAINED = """\
reward sched
rule brief: length 1..12 words { outside 0.5  weight 0 -> 1 over 2 }
rule lower: regex "[a-z]" { weight 2 -> 1 at 1 }
rule varied: repetition { weight 1 -> 0.5 over 20 }
"""
RULES = ["brief", "lower", "varied"]


def _grpo_train(
    tmp_path: Path, data_file: Path, model_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], *extra: str,
) -> tuple[list[dict[str, Any]], str, str]:
    """grpo-train on TRAINED for two steps: TRL's log history as the run ends, and stdout and stderr."""
    pytest.importorskip("trl")
    import transformers

    from rewardlang_trainer import train
    from train_runs import common_args

    histories: list[list[dict[str, Any]]] = []
    original_save = transformers.Trainer.save_model

    def save_and_record(self: Any, *args: Any, **kwargs: Any) -> Any:
        histories.append(list(self.state.log_history))
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "save_model", save_and_record)
    spec = tmp_path / "sched.reward"
    spec.write_text(TRAINED, encoding="utf-8")
    capsys.readouterr()
    assert train.main([*common_args(spec, data_file, model_dir, tmp_path / "out"), "--max_steps", "2", *extra]) == 0
    out, err = capsys.readouterr()
    (history,) = histories
    return history, out, err


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_two_grpo_train_steps_log_each_scheduled_weight_at_the_step_trl_scored(
    tiny_model_dir: Path, tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from trl_runs import logged

    history, out, err = _grpo_train(tmp_path, data_file, tiny_model_dir, monkeypatch, capsys)
    # TRL scores a step's completions before its optimizer step: at global_step 0, then 1.
    # (TRL averages each metric in float32: 0.975 comes back as 0.97500002.)
    assert [logged(history, f"weight/{rule}") for rule in RULES] == [
        [0.0, 0.5], [2.0, 1.0], [1.0, pytest.approx(0.975, abs=1e-6)],
    ]
    steps = [entry for entry in history if "rewards/sched/total/mean" in entry]
    assert len(steps) == 2
    for entry in steps:
        weighted = sum(entry[f"weight/{rule}"] * entry[f"rewards/sched/{rule}/mean"] for rule in RULES)
        assert entry["rewards/sched/total/mean"] == pytest.approx(weighted, abs=1e-5)
        assert entry["reward"] == pytest.approx(entry["rewards/sched/total/mean"], abs=1e-5)  # weights [1, 0, 0, 0]
        assert all(math.isfinite(entry[f"rewards/sched/{rule}/mean"]) for rule in RULES)

    spec = tmp_path / "sched.reward"
    warning = f"{spec}:4:34: warning[RL222]: `weight/varied` changes until step 20, past the run's last step (2 steps)"
    assert warning in err.splitlines()
    table = out.splitlines()
    start = table.index("scheduled weights (first -> last logged step):")
    assert table[start + 1 : start + 4] == [
        "  weight/brief   0.000 -> 0.500  steps 1-2  0 -> 1 over 2",
        "  weight/lower   2.000 -> 1.000  steps 1-2  2 -> 1 at 1",
        "  weight/varied  1.000 -> 0.975  steps 1-2  1 -> 0.5 over 20",
    ]


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_with_steps_per_generation_the_weights_follow_the_generating_step(
    tiny_model_dir: Path, tmp_path: Path, data_file: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Gradient accumulation 2, one generation every 4 micro-batches (2 optimizer steps): TRL scores once,
    at global_step 0, and the two steps train on those rewards; only the first step logs."""
    from trl_runs import logged

    history, _, _ = _grpo_train(
        tmp_path, data_file, tiny_model_dir, monkeypatch, capsys,
        "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "2", "--steps_per_generation", "4",
    )
    assert [entry["step"] for entry in history if "weight/brief" in entry] == [1]
    assert [logged(history, f"weight/{rule}") for rule in RULES] == [[0.0], [2.0], [1.0]]


# ---------------------------------------------------------------------- docs
def test_the_reference_worked_example_scores_as_documented() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "language.md").read_text(encoding="utf-8")
    section = doc.split("### 12.2 Weight schedules", 1)[1].split("\n### ", 1)[0]
    (example,) = re.findall(r"^```reward\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert analyze(example).diagnostics == []
    compiled = rewardlang.loads(example)
    totals = [
        compiled.score(["<think>6*7</think>42"], prompts=["6 x 7?"], at_step=step, answer=["42"]).total
        for step in (0, 50, 100, 300)
    ]
    assert totals == [[1.0], [2.0], [3.0], [4.0]]
