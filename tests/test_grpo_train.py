"""`grpo-train` (rewardlang_trainer.train.main) end to end, offline, with the tiny model.

A bad spec exits 1 before any model loads; a missing data file exits 2; `--dry_run` prints
every rule's scores; a 2-step run saves the model and logs `rewards/<spec>/<rule>/mean` for
every rule; a second run into the same non-empty output_dir is refused without touching it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

for _variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ.setdefault(_variable, "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

pytest.importorskip("torch")
pytest.importorskip("trl")

from rewardlang_trainer import train  # noqa: E402
from tiny_model import tiny_model_dir  # noqa: E402,F401  (session fixture)

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


def _common(spec_file: Path, data_file: Path, model_dir: Path, output_dir: Path) -> list[str]:
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


def _no_model_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    import transformers

    def boom(*args, **kwargs):
        raise AssertionError("a model or tokenizer was loaded")

    monkeypatch.setattr(transformers.AutoModelForCausalLM, "from_pretrained", boom)
    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", boom)
    monkeypatch.setattr("rewardlang_trainer.defaults.default_model_dir", boom)
    monkeypatch.setattr("rewardlang_trainer.defaults.default_dataset", boom)


def test_bad_spec_exits_1_before_any_model_loads(tmp_path, data_file, monkeypatch, capsys) -> None:
    _no_model_loads(monkeypatch)
    bad = tmp_path / "bad.reward"
    bad.write_text("reward bad\n\nrule brief: length 10..5 wordz\n", encoding="utf-8")
    code = train.main(["--rewards", str(bad), "--dataset", str(data_file), "--output_dir", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err
    assert "bad.reward:3:" in err
    assert not (tmp_path / "out").exists()


def test_unreadable_spec_exits_2(tmp_path, monkeypatch, capsys) -> None:
    _no_model_loads(monkeypatch)
    code = train.main(["--rewards", str(tmp_path / "missing.reward"), "--output_dir", str(tmp_path / "out")])
    assert code == 2
    assert "missing.reward" in capsys.readouterr().err


def test_missing_data_file_exits_2(tmp_path, spec_file, monkeypatch, capsys) -> None:
    _no_model_loads(monkeypatch)
    code = train.main(
        ["--rewards", str(spec_file), "--dataset", str(tmp_path / "nope.jsonl"), "--output_dir", str(tmp_path / "out")]
    )
    assert code == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_dry_run_prints_every_rule_score(tiny_model_dir, tmp_path, spec_file, data_file, capsys) -> None:
    out = tmp_path / "out"
    code = train.main([*_common(spec_file, data_file, tiny_model_dir, out), "--dry_run"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "dataset: 4 of 4 rows kept" in stdout
    score_lines = [line for line in stdout.splitlines() if line.strip().startswith("scores:")]
    assert len(score_lines) == 2 * 2  # 2 prompts x num_generations 2
    for line in score_lines:
        for rule in RULES:
            assert f"{rule}=" in line, line
        assert "total=" in line
    assert "dry run: no training" in stdout
    assert not out.exists()


def test_two_step_run_saves_model_logs_every_rule_and_refuses_to_overwrite(
    tiny_model_dir, tmp_path, spec_file, data_file, capsys, monkeypatch
) -> None:
    import transformers

    histories = []
    original_save = transformers.Trainer.save_model

    def save_and_record(self, *args, **kwargs):
        histories.append(list(self.state.log_history))
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "save_model", save_and_record)

    out = tmp_path / "out"
    argv = [*_common(spec_file, data_file, tiny_model_dir, out), "--max_steps", "2", "--learning_rate", "1e-4"]
    assert train.main(argv) == 0
    stdout = capsys.readouterr().out
    assert (out / "config.json").is_file()
    assert any(out.glob("*.safetensors"))

    (history,) = histories
    for rule in RULES:
        key = f"rewards/tiny/{rule}/mean"
        values = [entry[key] for entry in history if key in entry]
        assert len(values) == 2, (key, values)  # logging_steps defaults to 1
        assert f"tiny/{rule}" in stdout  # the start/end table
    assert "mean reward per rule" in stdout

    # A second run into the same folder: refused, nothing touched.
    before = {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*")}
    assert train.main(argv) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--overwrite" in err
    assert {p: (p.stat().st_mtime_ns, p.stat().st_size) for p in out.rglob("*")} == before
    assert len(histories) == 1


def test_long_prompts_lose_their_oldest_turns(tiny_model_dir) -> None:
    from datasets import Dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    long_turns = []
    for i in range(30):
        long_turns += [
            {"role": "user", "content": f"question number {i} about the weather today"},
            {"role": "assistant", "content": f"answer number {i} about sunshine and rain"},
        ]
    prompt = [{"role": "system", "content": "be brief"}, *long_turns, {"role": "user", "content": "last one?"}]
    short = [{"role": "user", "content": "hi"}]
    dataset = Dataset.from_list([{"prompt": prompt}, {"prompt": short}])

    trimmed = train.trim_prompts(dataset, tokenizer, max_tokens=120)
    first, second = trimmed[0]["prompt"], trimmed[1]["prompt"]
    assert first[0] == {"role": "system", "content": "be brief"}
    assert first[1]["role"] == "user" and first[-1]["content"] == "last one?"
    assert len(first) < len(prompt)
    text = tokenizer.apply_chat_template(first, tokenize=False, add_generation_prompt=True)
    assert len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= 120
    assert second == short
