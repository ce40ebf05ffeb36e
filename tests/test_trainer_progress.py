"""grpo-train's output: one progress line per step; TRL's raw metric dicts only with `--log_raw`.

The line is checked as a function of a log entry, then in two real 2-step runs of the tiny
model (with and without `--log_raw`) whose logged values must be the same.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from rewardlang_trainer import train
from rewardlang_trainer.progress import progress_line
from train_runs import RULES, common_args

NAMES = ["chat/total", "chat/length", "chat/on_topic"]


def test_the_line_shows_the_step_each_rule_and_the_seconds() -> None:
    logs = {"rewards/chat/total/mean": 2.4149, "rewards/chat/length/mean": 0.62, "rewards/chat/on_topic/mean": 0.1,
            "loss": 0.01, "completions/mean_length": 30.0}
    assert progress_line(logs, 3, 20, NAMES, 1.94) == "step  3/20  total 2.415  length 0.620  on_topic 0.100  1.9 s"


def test_a_rule_without_a_mean_shows_a_dash_and_the_summary_entry_no_line() -> None:
    logs = {"rewards/chat/total/mean": 1.0, "rewards/chat/length/mean": None}
    assert progress_line(logs, 12, 12, NAMES, 0.04) == "step 12/12  total 1.000  length -  on_topic -  0.0 s"
    assert progress_line({"train_runtime": 12.0, "train_loss": 0.1}, 12, 12, NAMES, 1.0) is None


def _run(tmp_path, name, spec_file, data_file, tiny_model_dir, capsys, *extra):
    out = tmp_path / name
    argv = [*common_args(spec_file, data_file, tiny_model_dir, out), "--max_steps", "2", "--save_strategy", "steps",
            "--save_steps", "2", *extra]
    assert train.main(argv) == 0
    stdout = capsys.readouterr().out
    state = json.loads((out / "checkpoint-2" / "trainer_state.json").read_text(encoding="utf-8"))
    timing = ("time", "runtime", "per_second", "flos")
    history = [{k: v for k, v in entry.items() if not any(t in k for t in timing)} for entry in state["log_history"]]
    return stdout, history


def test_raw_dicts_only_with_log_raw_and_the_same_values_logged(
    tiny_model_dir, tmp_path, spec_file, data_file, capsys
) -> None:
    quiet, quiet_history = _run(tmp_path, "quiet", spec_file, data_file, tiny_model_dir, capsys)
    raw, raw_history = _run(tmp_path, "raw", spec_file, data_file, tiny_model_dir, capsys, "--log_raw")

    lines = [line for line in quiet.splitlines() if line.startswith("step ")]
    assert [line.split()[1] for line in lines] == ["1/2", "2/2"]
    for line in lines:
        assert all(f"  {rule} " in line for rule in RULES), line
        assert line.endswith(" s")
    assert "{'loss'" not in quiet and "'rewards/" not in quiet
    assert raw.count("'rewards/tiny/brief/mean'") == 2  # transformers' printer: one dict per step
    assert next(line for line in raw.splitlines() if line.startswith("step ")).split()[1] == "1/2"
    assert quiet_history == raw_history and len(quiet_history) == 2
