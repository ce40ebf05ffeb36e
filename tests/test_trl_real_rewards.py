"""The rewards of real runs inside TRL's real `GRPOTrainer`: two steps with a local judge, a judge
behind an OpenAI-compatible server on 127.0.0.1, a math answer and a JSON tool-call rule.

The policy is the tiny random Qwen2 of `tiny_model.py`; the local judge is the same tiny model
(loaded by the `judge` rule through transformers), and the served judge is the real test server of
`judge_server.py`, answering from it. TRL must log every rule's mean each step and the counters the
rules keep (`judge/<rule>/failures`, `math/<rule>/timeouts`) through the `log_metric` it hands to
reward functions. Nothing touches the Hugging Face Hub.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from judge_server import Behaviour, JudgeServer
from trl_runs import logged, train_two_steps

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

SPEC = """\
reward real

rule judged: judge "Does the reply answer the question?" {{ model "{model}"  choices "no", "yes" }}
rule served: judge "Is the reply polite?" {{ server "{server}"  served_model "tiny"  retries 0 }}
rule correct: math column solution
rule call: json {{ extract first  keys "name": string }}
rule brief: length 1..40 words
"""
PROBLEMS = [
    ("What is 2 + 2?", "$4$"),
    ("What is half of 1?", "$\\frac{1}{2}$"),
    ("What is 10% of 50?", "$5$"),
    ("What is 3 squared?", "$9$"),
]


def _dataset() -> Any:
    from datasets import Dataset

    return Dataset.from_list(
        [{"prompt": [{"role": "user", "content": question}], "solution": solution} for question, solution in PROBLEMS]
    )


def _train(spec: rewardlang.CompiledSpec, model_dir: Path, output_dir: Path) -> list[dict[str, Any]]:
    return train_two_steps(spec.reward_funcs, spec.weights, model_dir, output_dir, _dataset())


_logged = logged


def test_judge_math_and_json_rules_train_and_log_their_counters(
    tiny_model_dir: Path, judge_server: JudgeServer, tmp_path: Path
) -> None:
    judge_server.behaviour = Behaviour(labels=["no", "yes"], reply_template="<think>hmm</think> Verdict: {label}")
    spec = rewardlang.loads(SPEC.format(model=tiny_model_dir, server=judge_server.base_url))
    history = _train(spec, tiny_model_dir, tmp_path / "out")

    for rule in ("judged", "served", "call", "brief"):
        values = _logged(history, f"rewards/real/{rule}/mean")
        assert len(values) == 2, (rule, values)
        assert all(math.isfinite(v) and 0.0 <= v <= 1.0 for v in values), (rule, values)
    # The tiny policy never writes a right answer, but every reference parses: 0, never None (NaN).
    assert _logged(history, "rewards/real/correct/mean") == [0.0, 0.0]
    # Counters reach TRL once per step: 4 completions a step, the server answered every request.
    assert _logged(history, "judge/served/failures") == [0.0, 0.0]
    assert _logged(history, "math/correct/timeouts") == [0.0, 0.0]
    assert judge_server.counters.answered >= 8  # the served judge was really asked, step after step


def test_a_dead_judge_server_scores_none_and_is_counted_in_training(
    tiny_model_dir: Path, judge_server: JudgeServer, tmp_path: Path
) -> None:
    judge_server.behaviour = Behaviour(labels=["no", "yes"], fail_first=10_000, fail_status=500)
    spec = rewardlang.loads(SPEC.format(model=tiny_model_dir, server=judge_server.base_url))
    history = _train(spec, tiny_model_dir, tmp_path / "out")
    # Every request failed: the rule is not applicable on every row, and each step counts 4 failures.
    assert _logged(history, "judge/served/failures") == [4.0, 4.0]
    # TRL logs no mean for a function that applied to no row; the other rules carry the reward.
    assert _logged(history, "rewards/real/served/mean") == [None, None]
    assert all(math.isfinite(v) for v in _logged(history, "reward"))
    assert len(_logged(history, "rewards/real/judged/mean")) == 2
