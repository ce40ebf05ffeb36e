"""The training watch of grpo-train (trainer/watch.py): synthetic TRL log histories, one per condition,
the callback on transformers' own TrainerState, and real grpo-train runs on the tiny model.

A synthetic entry has exactly the keys TRL 1.16's GRPOTrainer logs each step, in its order
(`log_entry`); a history ends with the Trainer's end-of-training entry, as `state.log_history` does.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from rewardlang_trainer import train
from rewardlang_trainer.watch import TrainingWatch, WatchedRule, WatchWarning, watch_callback
from train_runs import common_args

SPEC = """\
reward chat

rule length: length 50..200 words { ramp 25 }
rule helpful: phrases "I can help", "Here's how" { each 0.5 }
rule on_topic: overlap to last_user
rule safety: banned "dangerous", "illegal"
"""
MAX_COMPLETION_LENGTH = 128
#: A rule's (mean, std) at a step when a test does not say otherwise: varied, below their best;
#: the banned-word rule at its best on every completion (nothing said it).
STEADY = {"length": (0.5, 0.3), "helpful": (0.3, 0.2), "on_topic": (0.4, 0.1), "safety": (1.0, 0.0)}

Rules = dict[str, tuple[float | None, float | None]]


def log_entry(
    step: int, rules: Rules, mean_length: float = 60.0, clipped: float = 0.05, zero_std: float = 0.1
) -> dict[str, Any]:
    """One step's entry of `trainer.state.log_history`, with the keys TRL logs, in its order."""
    entry: dict[str, Any] = {
        "loss": 0.01,
        "grad_norm": 0.5,
        "learning_rate": 1e-6,
        "num_tokens": 1000.0 * step,
        "completions/mean_length": mean_length,
        "completions/min_length": max(1.0, mean_length - 20),
        "completions/max_length": min(float(MAX_COMPLETION_LENGTH), mean_length + 20),
        "completions/clipped_ratio": clipped,
        "completions/mean_terminated_length": mean_length,
        "completions/min_terminated_length": max(1.0, mean_length - 20),
        "completions/max_terminated_length": mean_length + 10,
    }
    for name, (mean, std) in rules.items():
        entry[f"rewards/chat/{name}/mean"] = mean
        entry[f"rewards/chat/{name}/std"] = std
    entry["reward"] = sum(mean or 0.0 for mean, _ in rules.values())
    entry["reward_std"] = 0.4
    entry["frac_reward_zero_std"] = zero_std
    entry.update(
        {
            "entropy": 1.2,
            "clip_ratio/low_mean": 0.0,
            "clip_ratio/high_mean": 0.0,
            "clip_ratio/region_mean": 0.0,
            "clip_ratio/low_min": 0.0,
            "clip_ratio/high_max": 0.0,
            "step_time": 2.5,
            "epoch": step / 100,
            "step": step,
        }
    )
    return entry


def end_of_training(step: int) -> dict[str, Any]:
    """The entry the Trainer appends when training ends (no rewards in it)."""
    return {"train_runtime": 100.0, "train_samples_per_second": 1.0, "train_steps_per_second": 0.1,
            "total_flos": 0.0, "train_loss": 0.01, "epoch": step / 100, "step": step}  # fmt: skip


def history(steps: int, **changes: Callable[[int], Any]) -> list[dict[str, Any]]:
    """`steps` logged steps of STEADY rules; `changes` replace a rule's (mean, std) or an entry keyword by step."""
    entries = []
    for step in range(1, steps + 1):
        rules: Rules = {name: changes[name](step) if name in changes else value for name, value in STEADY.items()}
        extra = {key: change(step) for key, change in changes.items() if key not in STEADY}
        entries.append(log_entry(step, rules, **extra))
    return [*entries, end_of_training(steps)]


def watch_of(spec: str = SPEC) -> TrainingWatch:
    return TrainingWatch.for_spec(rewardlang.loads(spec), MAX_COMPLETION_LENGTH)


def run(entries: list[dict[str, Any]], watch: TrainingWatch | None = None) -> list[tuple[str, int, str | None]]:
    """Feed a history to a watch; (condition, step, rule) of each warning, in order."""
    watch = watch or watch_of()
    for entry in entries:
        watch.observe(entry)
    return [(w.condition, w.step, w.rule) for w in watch.warnings]


# ------------------------------------------------------------------------------- the rules watched
def test_the_watch_knows_each_rule_by_its_trl_name_with_its_score_range_and_paying_end() -> None:
    weighted = watch_of(SPEC.replace('"illegal"', '"illegal" { weight -1 }') + "rule noted: tags 'a' { weight 0 }\n")
    assert list(weighted.rules) == [
        WatchedRule("length", "chat/length", 0.0, 1.0),
        WatchedRule("helpful", "chat/helpful", 0.0, 1.0),
        WatchedRule("on_topic", "chat/on_topic", 0.0, 1.0),
        WatchedRule("safety", "chat/safety", 0.0, 1.0, paid=True, best_is_high=False),
        WatchedRule("noted", "chat/noted", 0.0, 1.0, paid=False, best_is_high=True),
    ]
    # With a formula TRL logs the total too (`chat/total`); the rules keep their names, and a formula
    # ignores weights: every rule pays at its high end.
    formula = watch_of(SPEC.replace('"illegal"', '"illegal" { weight -1 }') + "total = length + helpful * safety\n")
    assert [(r.key, r.paid, r.best_is_high) for r in formula.rules] == [
        ("chat/length", True, True), ("chat/helpful", True, True),
        ("chat/on_topic", True, True), ("chat/safety", True, True),
    ]  # fmt: skip
    assert watch_of().max_completion_length == MAX_COMPLETION_LENGTH


def test_entries_without_training_rewards_are_not_steps() -> None:
    watch = watch_of()
    eval_entry = {"eval_reward": 1.0, "eval_rewards/chat/length/mean": 1.0, "epoch": 0.1, "step": 3}
    assert watch.observe(end_of_training(3)) == []
    assert watch.observe(eval_entry) == []
    assert watch.steps_seen == []
    watch.observe(log_entry(4, dict(STEADY)))
    assert watch.steps_seen == [4]


def test_importing_the_watch_loads_no_training_stack() -> None:
    code = (
        "import sys, rewardlang_trainer.watch\n"
        "print(sorted(m for m in ('torch', 'transformers', 'trl', 'datasets') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert result.stdout.strip() == "[]"


# ---------------------------------------------------------------------------------- healthy runs
def test_a_healthy_noisy_run_raises_no_warning() -> None:
    # 60 steps of a small run: every logged mean wanders by 0.1 (seeded), `length` is learned to its
    # best by step 20 (learning, not gaming: the other rules hold), lengths and zero-variance
    # groups wander too; `safety` never fires (at its best, std 0: a constraint that holds).
    rng = random.Random(0)

    def noisy(level: float, spread: float = 0.1) -> float:
        return min(1.0, max(0.0, level + rng.gauss(0, spread)))

    entries = history(
        60,
        length=lambda s: (1.0, 0.0) if s >= 20 else (noisy(0.3 + 0.035 * s), 0.3),
        helpful=lambda s: (noisy(0.3), 0.2),
        on_topic=lambda s: (noisy(0.45), 0.15),
        mean_length=lambda s: 60.0 + rng.gauss(0, 10),
        clipped=lambda s: noisy(0.1),
        zero_std=lambda s: noisy(0.25, 0.15),
    )
    assert run(entries) == []


# ------------------------------------------------------------------------------------ saturation
def climbs_then_saturates(step: int) -> tuple[float, float]:
    """`length` climbs 0.4, 0.55, 0.7, 0.85, then sits at 1 (its best) from step 5 on."""
    return (1.0, 0.0) if step >= 5 else (0.4 + 0.15 * (step - 1), 0.2)


def test_a_rule_that_saturates_while_another_falls_is_reported_once_with_the_step_and_rule() -> None:
    watch = watch_of()
    entries = history(
        30,
        length=climbs_then_saturates,
        helpful=lambda s: (0.6, 0.2) if s < 5 else (0.3, 0.2),  # pays less from the step `length` saturates
    )
    assert run(entries, watch) == [("saturation", 9, "length")]  # 5 logged steps at its best: 5..9
    assert str(watch.warnings[0]) == (
        "step 9: rule `length` saturates at 1.00 (its best score is 1) from step 5 while `helpful` "
        "(0.60 -> 0.30) falls (means over steps 1-4 -> from step 5): the policy may be gaming `length`; "
        "run `rewardc probe` on the spec and tighten the rule"
    )


def test_saturation_names_every_rule_that_falls_and_a_penalty_that_rises() -> None:
    spec = SPEC.replace('"illegal"', '"illegal" { weight -1 }')  # `safety` is a penalty: paid at 0
    entries = history(
        12,
        length=climbs_then_saturates,
        helpful=lambda s: (0.6, 0.2) if s < 5 else (0.3, 0.2),
        on_topic=lambda s: (0.5 - 0.01 * s, 0.1),  # a drift of 0.1 over the run: less than FALL_FRACTION
        safety=lambda s: (0.1, 0.3) if s < 5 else (0.5, 0.5),
    )
    watch = watch_of(spec)
    assert run(entries, watch) == [("saturation", 9, "length")]
    assert "while `helpful` (0.60 -> 0.30) and `safety` (0.10 -> 0.50, a penalty) fall" in watch.warnings[0].message


def test_a_rule_at_its_best_from_the_start_is_not_saturating_even_when_others_fall() -> None:
    # `safety` sits at 1 from step 1 and never varies: nothing was climbed, nothing is being gamed.
    entries = history(30, helpful=lambda s: (0.6, 0.2) if s < 5 else (0.3, 0.2))
    assert run(entries) == []


def test_a_fall_within_the_noise_is_not_reported() -> None:
    # `helpful` swings by 0.3 from step to step and loses 0.17 on the plateau: more than
    # FALL_FRACTION, less than FALL_T standard errors.
    entries = history(
        30,
        length=climbs_then_saturates,
        helpful=lambda s: ((0.45 if s % 2 else 0.75) if s < 5 else (0.33 if s % 2 else 0.53), 0.2),
    )
    assert run(entries) == []


def test_one_step_of_climb_is_enough_to_compare_with() -> None:
    entries = history(
        12,
        length=lambda s: (0.5, 0.2) if s == 1 else (1.0, 0.0),
        helpful=lambda s: (0.6, 0.2) if s == 1 else (0.3 + 0.01 * (s % 2), 0.2),
    )
    assert run(entries) == [("saturation", 6, "length")]


# ---------------------------------------------------------------------------------------- length
def test_completions_drifting_to_max_completion_length_are_reported_once() -> None:
    entries = history(
        30,
        mean_length=lambda s: 40.0 if s < 4 else 120.0,  # 120 >= 0.9 x 128 from step 4
        clipped=lambda s: 0.0 if s < 4 else 0.3,
    )
    watch = watch_of()
    assert run(entries, watch) == [("length_ceiling", 8, None)]  # 5 logged steps there: 4..8
    assert str(watch.warnings[0]) == (
        "step 8: completions drift to max_completion_length (128): mean length 120.0 tokens, 30% cut off, "
        "for 5 logged steps (mean length 40.0 tokens at step 1); the rewards see truncated answers: raise "
        "max_completion_length, or pay for brevity (a `length` or `overlong` rule)"
    )


def test_most_completions_cut_off_is_the_ceiling_even_without_max_completion_length() -> None:
    watch = TrainingWatch(watch_of().rules, max_completion_length=None)
    entries = history(20, clipped=lambda s: 0.1 if s < 3 else 0.75)
    assert run(entries, watch) == [("length_ceiling", 7, None)]


def test_completions_at_the_ceiling_from_the_first_step_are_no_drift() -> None:
    assert run(history(20, mean_length=lambda s: 128.0, clipped=lambda s: 1.0)) == []


def test_one_step_back_below_the_ceiling_restarts_the_count() -> None:
    entries = history(20, clipped=lambda s: 0.0 if s in (1, 2, 6) else 0.6)
    assert run(entries) == [("length_ceiling", 11, None)]  # steps 7..11


def test_completions_collapsing_towards_empty_are_reported_once() -> None:
    entries = history(30, mean_length=lambda s: 80.0 if s < 6 else 12.0)  # 12 <= 0.25 x 80 from step 6
    watch = watch_of()
    assert run(entries, watch) == [("length_collapse", 10, None)]
    assert watch.warnings[0].message.startswith(
        "completions collapse to a mean length of 12.0 tokens for 5 logged steps (from 80.0 tokens at step 1)"
    )


# --------------------------------------------------------------------------------- zero variance
def test_most_groups_with_zero_reward_variance_for_several_steps_is_reported_once() -> None:
    entries = history(30, zero_std=lambda s: 0.1 if s < 4 else 0.875)
    watch = watch_of()
    assert run(entries, watch) == [("zero_variance", 8, None)]
    assert watch.warnings[0].message.startswith(
        "88% of the groups score all their completions the same (zero reward variance) for 5 logged steps"
    )


def test_half_the_groups_with_zero_variance_is_not_most() -> None:
    assert run(history(30, zero_std=lambda s: 0.5)) == []


# --------------------------------------------------------------------------------- constant rule
def test_a_rule_that_never_varies_below_its_best_is_reported_once() -> None:
    watch = watch_of()
    assert run(history(30, helpful=lambda s: (0.0, 0.0)), watch) == [("constant_rule", 5, "helpful")]
    assert str(watch.warnings[0]) == (
        "step 5: rule `helpful` gave all completions one score on each of 5 logged steps (std 0; now 0.00, "
        "its best score is 1): GRPO cannot learn from a rule that never varies; check that completions can "
        "reach it (`rewardc score --explain` on a few) or grade it"
    )


def test_a_rule_that_varied_once_is_not_constant() -> None:
    assert run(history(30, helpful=lambda s: (0.0, 0.25 if s == 2 else 0.0))) == []


def test_steps_where_a_rule_did_not_apply_are_skipped() -> None:
    # TRL logs None for a rule that returned None (not applicable) on every completion of a step.
    entries = history(12, helpful=lambda s: (None, None) if s % 2 else (0.0, 0.0))
    assert run(entries) == [("constant_rule", 10, "helpful")]  # its 5th step with a value


def test_a_weight_zero_rule_is_only_logged_and_not_watched_for_variance() -> None:
    spec = SPEC.replace('"Here\'s how" { each 0.5 }', '"Here\'s how" { each 0.5  weight 0 }')
    assert run(history(30, helpful=lambda s: (0.0, 0.0)), watch_of(spec)) == []


# ------------------------------------------------------------------------- several conditions at once
def test_each_condition_fires_once_even_when_it_persists() -> None:
    entries = history(
        40,
        length=climbs_then_saturates,
        helpful=lambda s: (0.6, 0.2) if s < 5 else (0.3, 0.2),
        on_topic=lambda s: (0.2, 0.0),
        mean_length=lambda s: 80.0 if s < 10 else 15.0,
        zero_std=lambda s: 0.9 if s >= 20 else 0.1,
    )
    assert run(entries) == [
        ("constant_rule", 5, "on_topic"),
        ("saturation", 9, "length"),
        ("length_collapse", 14, None),
        ("zero_variance", 24, None),
    ]


# -------------------------------------------------------------------------------------- callback
def test_the_callback_prints_new_warnings_once_on_the_main_process_and_replays_a_resumed_history(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from transformers import TrainerControl, TrainerState

    entries = history(8, helpful=lambda s: (0.0, 0.0))[:-1]  # constant `helpful`: fires at step 5
    # A run resumed at step 3: the restored history is observed, nothing printed for it.
    watch = watch_of()
    callback = watch_callback(watch)
    state, control = TrainerState(log_history=list(entries[:3]), global_step=3), TrainerControl()
    callback.on_train_begin(None, state, control)
    assert watch.steps_seen == [1, 2, 3]
    for entry in entries[3:]:
        logs = {k: v for k, v in entry.items() if k != "step"}  # Trainer.log hands `logs` without `step`
        state.global_step = entry["step"]
        state.log_history.append(entry)
        callback.on_log(None, state, control, logs=logs)
    assert watch.steps_seen == [1, 2, 3, 4, 5, 6, 7, 8]
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"grpo-train: warning: {watch.warnings[0]}\n"
    assert watch.warnings[0].step == 5

    # Another rank: the same watch, silent.
    other = watch_of()
    callback = watch_callback(other)
    state = TrainerState(global_step=0, is_world_process_zero=False)
    for entry in entries:
        state.global_step = entry["step"]
        callback.on_log(None, state, control, logs=entry)
    assert [w.step for w in other.warnings] == [5]
    assert capsys.readouterr().err == ""


def test_the_end_of_run_table_lists_the_warnings_under_it(capsys: pytest.CaptureFixture[str]) -> None:
    entries = history(6, helpful=lambda s: (0.0, 0.0))
    warning = WatchWarning("constant_rule", 5, "helpful", "rule `helpful` ...")
    train._print_reward_table(entries, ["chat/length", "chat/helpful"], [warning])
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2:] == ["training watch: 1 warning (docs/training.md):", "  step 5: rule `helpful` ..."]
    train._print_reward_table(entries, ["chat/length", "chat/helpful"], [])
    assert "training watch" not in capsys.readouterr().out


def test_the_docs_list_every_threshold_with_its_value() -> None:
    from rewardlang_trainer import watch as module

    docs = (Path(__file__).parents[1] / "docs" / "training.md").read_text(encoding="utf-8")
    section = docs[docs.index("## Training watch") :]
    listed = dict(re.findall(r"`([A-Z_]+) = ([^`]+)`", section))
    constants = {
        name: repr(value)
        for name, value in vars(module).items()
        if name.isupper() and isinstance(value, int | float) and not isinstance(value, bool)
    }
    assert listed == constants


# -------------------------------------------------------------------------- real grpo-train runs
REAL_SPEC = """\
reward tiny

rule chars: length 1..40 characters { ramp 40 }
"""
NEVER = 'rule never: phrases "zebra crossing" { each 1 }\n'  # the tiny model never writes it


def _train(spec: str, tmp_path: Path, tiny_model_dir: Path, data_file: Path) -> int:
    spec_path = tmp_path / "watch.reward"
    spec_path.write_text(spec, encoding="utf-8")
    argv = [*common_args(spec_path, data_file, tiny_model_dir, tmp_path / "out"), "--max_steps", "6"]
    return train.main([*argv, "--learning_rate", "1e-4"])


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_grpo_train_watches_its_run_and_prints_a_warning_live_and_under_the_table(
    tiny_model_dir: Path, data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _train(REAL_SPEC + NEVER, tmp_path, tiny_model_dir, data_file) == 0
    captured = capsys.readouterr()
    # `never` scores 0 on every completion: the 5th logged step is the first the watch may say so,
    # and it says so once although the rule stays constant at step 6.
    line = (
        "step 5: rule `never` gave all completions one score on each of 5 logged steps (std 0; now 0.00, "
        "its best score is 1): GRPO cannot learn from a rule that never varies; check that completions can "
        "reach it (`rewardc score --explain` on a few) or grade it"
    )
    assert [x for x in captured.err.splitlines() if x.startswith("grpo-train: warning:")] == [
        f"grpo-train: warning: {line}"
    ]
    table = captured.out[captured.out.index("mean reward per rule") :].splitlines()
    assert table[4:6] == ["training watch: 1 warning (docs/training.md):", f"  {line}"]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_a_healthy_grpo_train_run_prints_no_watch_warning(
    tiny_model_dir: Path, data_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _train(REAL_SPEC, tmp_path, tiny_model_dir, data_file) == 0
    captured = capsys.readouterr()
    assert "mean reward per rule (steps 1-3 -> steps 4-6)" in captured.out
    assert "grpo-train: warning" not in captured.err
    assert "training watch" not in captured.out
