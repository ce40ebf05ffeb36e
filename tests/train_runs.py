"""A pytest plugin of the grpo-train tests: a small lexical spec, four conversations, the common options.

Registered in conftest.py (`pytest_plugins`), so that its fixtures reach every
test module; its helpers are imported by name.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

# Lexical rules only: fast, no embedding model needed.
SPEC = """\
reward tiny

rule brief: length 1..12 words { ramp 4 }
rule helpful: phrases "I can help", "Here's how" { each 0.5 }
rule safety: banned "dangerous", "illegal" { weight 2 }
rule echo: overlap to column reference
"""
RULES = ["brief", "helpful", "safety", "echo"]

CONVERSATIONS = [
    ("What is the capital of France?", "Paris is the capital of France."),
    ("How do I bake bread?", "Mix flour, water, yeast and salt, then bake."),
    ("Tell me a joke about computers.", "Why did the computer sneeze? It had a virus."),
    ("Can you explain the solar system?", "I can help: the sun and its planets."),
]


@pytest.fixture
def spec_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.reward"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "chats.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        for question, answer in CONVERSATIONS:
            messages = [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
            fh.write(json.dumps({"messages": messages}) + "\n")
    return path


def common_args(spec_file: Path, data_file: Path, model_dir: Path, output_dir: Path) -> list[str]:
    return [
        "--rewards", str(spec_file),
        "--dataset", str(data_file),
        "--model_name_or_path", str(model_dir),
        "--output_dir", str(output_dir),
        "--use_cpu",
        "--report_to", "none",
        "--num_generations", "2",
        "--per_device_train_batch_size", "4",
        "--max_completion_length", "16",
        "--save_strategy", "no",
        "--disable_tqdm", "true",
        "--seed", "0",
    ]


def no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    def boom(*args, **kwargs):
        raise AssertionError("a model or tokenizer was loaded")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", boom)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", boom)
    monkeypatch.setattr("rewardlang_trainer.defaults.default_model_dir", boom)
    monkeypatch.setattr("rewardlang_trainer.defaults.default_dataset", boom)
