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

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

pytest.importorskip("torch")
pytest.importorskip("trl")

from rewardlang_trainer import train  # noqa: E402
from train_runs import RULES, common_args, no_model_loads  # noqa: E402


def test_bad_spec_exits_1_before_any_model_loads(tmp_path, data_file, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    bad = tmp_path / "bad.reward"
    bad.write_text("reward bad\n\nrule brief: length 10..5 wordz\n", encoding="utf-8")
    code = train.main(["--rewards", str(bad), "--dataset", str(data_file), "--output_dir", str(tmp_path / "out")])
    assert code == 1
    err = capsys.readouterr().err
    assert "bad.reward:3:" in err
    assert not (tmp_path / "out").exists()


def test_unreadable_spec_exits_2(tmp_path, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    code = train.main(["--rewards", str(tmp_path / "missing.reward"), "--output_dir", str(tmp_path / "out")])
    assert code == 2
    assert "missing.reward" in capsys.readouterr().err


def test_missing_data_file_exits_2(tmp_path, spec_file, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    code = train.main(
        ["--rewards", str(spec_file), "--dataset", str(tmp_path / "nope.jsonl"), "--output_dir", str(tmp_path / "out")]
    )
    assert code == 2
    assert "nope.jsonl" in capsys.readouterr().err


def test_without_rewards_the_default_spec_file_is_used(tmp_path, monkeypatch, capsys) -> None:
    no_model_loads(monkeypatch)
    code = train.main(["--dataset", str(tmp_path / "nope.jsonl"), "--output_dir", str(tmp_path / "out")])
    assert code == 2  # the spec loads and checks, then the data is missing
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "rewards: chat/total, chat/length, chat/finished, chat/on_topic, chat/fresh "
        "(weights [1.0, 0.0, 0.0, 0.0, 0.0])"
    )


def test_help_names_the_default_spec_file(monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option: argparse wraps at hyphens too
    (line,) = [line for line in train._make_parser().format_help().splitlines() if "--rewards REWARDS " in line]
    assert line.endswith(
        "Path of the reward spec (.reward). Default: grpo-train's default spec, a chat assistant answering in "
        "full sentences, on topic, without repeating itself "
        f"(default_chat.reward, shipped in the rewardlang_trainer package: {train.DEFAULT_SPEC}). "
        "(default: None)"  # TRL's parser adds the dataclass default
    )
    assert Path(str(train.DEFAULT_SPEC)).is_file()


def test_a_spec_error_is_shown_as_rewardc_check_shows_it(tmp_path, data_file, monkeypatch, capsys) -> None:
    from rewardlang.cli import main as rewardc

    no_model_loads(monkeypatch)
    bad = tmp_path / "bad.reward"
    bad.write_text("reward bad\n\nrule brief: length 10..5 wordz\n", encoding="utf-8")
    assert train.main(["--rewards", str(bad), "--dataset", str(data_file), "--output_dir", str(tmp_path / "o")]) == 1
    shown = capsys.readouterr().err
    assert rewardc(["check", "--color", "never", str(bad)]) == 1
    checked = capsys.readouterr().err
    assert shown == checked.rsplit("found ", 1)[0] + "\n"  # the same diagnostics, without the summary line


def test_dry_run_prints_every_rule_score(tiny_model_dir, tmp_path, spec_file, data_file, capsys) -> None:
    out = tmp_path / "out"
    code = train.main([*common_args(spec_file, data_file, tiny_model_dir, out), "--dry_run"])
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
    argv = [*common_args(spec_file, data_file, tiny_model_dir, out), "--max_steps", "2", "--learning_rate", "1e-4"]
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


def _signal_during_step(monkeypatch: pytest.MonkeyPatch, signum: int, at_call: int = 1) -> list[int]:
    """Send `signum` to this process from inside the `at_call`-th training step (a real signal)."""
    from trl import GRPOTrainer

    calls: list[int] = []
    original = GRPOTrainer.training_step

    def step_then_signal(self, *args, **kwargs):
        calls.append(self.state.global_step)
        if len(calls) == at_call:
            os.kill(os.getpid(), signum)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(GRPOTrainer, "training_step", step_then_signal)
    return calls


def _state(folder: Path) -> dict:
    return json.loads((folder / "trainer_state.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("signum", [2, 15], ids=["SIGINT", "SIGTERM"])
def test_a_signal_saves_a_checkpoint_and_resume_continues_from_it(
    tiny_model_dir, tmp_path, spec_file, data_file, monkeypatch, capsys, signum
) -> None:
    import signal

    out = tmp_path / "out"
    argv = [*common_args(spec_file, data_file, tiny_model_dir, out), "--max_steps", "3", "--learning_rate", "1e-4"]
    handler_before = signal.getsignal(signum)
    calls = _signal_during_step(monkeypatch, signum)

    code = train.main(argv)
    assert code == 128 + signum
    assert signal.getsignal(signum) is handler_before  # the handlers are restored
    assert calls == [0]  # the step that was running finished; no further step started
    checkpoint = out / "checkpoint-1"
    assert _state(checkpoint)["global_step"] == 1
    assert (checkpoint / "optimizer.pt").is_file() and (checkpoint / "rng_state.pth").is_file()
    assert not (out / "config.json").exists()  # no final model: the run is not finished
    captured = capsys.readouterr()
    assert signal.Signals(signum).name in captured.err
    assert f"checkpoint saved to {checkpoint}" in captured.out
    assert f"--resume_from_checkpoint {checkpoint}" in captured.out

    # Resume: the newest checkpoint in output_dir; training continues at step 2 up to max_steps.
    monkeypatch.undo()
    resumed = [*argv, "--resume_from_checkpoint", "last"]
    histories: list[list[dict]] = []
    import transformers

    original_save = transformers.Trainer.save_model

    def save_and_record(self, *args, **kwargs):
        histories.append(list(self.state.log_history))
        return original_save(self, *args, **kwargs)

    monkeypatch.setattr(transformers.Trainer, "save_model", save_and_record)
    assert train.main(resumed) == 0
    stdout = capsys.readouterr().out
    assert f"resuming from {checkpoint}" in stdout
    (history,) = histories
    steps = [entry["step"] for entry in history if "rewards/tiny/brief/mean" in entry]
    assert steps == [1, 2, 3]  # step 1 comes from the checkpoint's state, 2 and 3 are new
    assert (out / "config.json").is_file()


def test_resume_from_a_missing_checkpoint_is_a_clear_error(
    tiny_model_dir, tmp_path, spec_file, data_file, capsys
) -> None:
    out = tmp_path / "out"
    common = common_args(spec_file, data_file, tiny_model_dir, out)
    assert train.main([*common, "--resume_from_checkpoint", "last"]) == 2
    assert "no checkpoint-<step> folder" in capsys.readouterr().err
    assert train.main([*common, "--resume_from_checkpoint", str(tmp_path / "nope")]) == 2
    assert "no such checkpoint folder" in capsys.readouterr().err
    (tmp_path / "plain").mkdir()
    assert train.main([*common, "--resume_from_checkpoint", str(tmp_path / "plain")]) == 2
    assert "not a checkpoint" in capsys.readouterr().err


def test_resume_command_drops_overwrite_and_an_earlier_resume() -> None:
    argv = ["--rewards", "a b.reward", "--overwrite", "--resume_from_checkpoint", "x", "--max_steps", "3"]
    assert train._resume_command(argv, "out/checkpoint-2") == (
        "grpo-train --rewards 'a b.reward' --max_steps 3 --resume_from_checkpoint out/checkpoint-2"
    )


def test_lora_run_saves_an_adapter_and_logs_completions_per_rule(
    tiny_model_dir, tmp_path, spec_file, data_file, capsys
) -> None:
    pytest.importorskip("peft")
    import pandas as pd

    out = tmp_path / "out"
    argv = [
        *common_args(spec_file, data_file, tiny_model_dir, out),
        "--max_steps", "1",
        "--use_peft",
        "--lora_r", "4",
        "--lora_alpha", "8",
        "--lora_target_modules", "q_proj", "v_proj",
        "--log_completions", "true",
        "--num_completions_to_print", "1",
    ]
    assert train.main(argv) == 0
    adapter = json.loads((out / "adapter_config.json").read_text(encoding="utf-8"))
    assert adapter["peft_type"] == "LORA" and adapter["r"] == 4
    assert set(adapter["target_modules"]) == {"q_proj", "v_proj"}
    assert any(out.glob("adapter_model.safetensors"))
    assert not (out / "model.safetensors").exists()  # only the adapter, not a full copy of the model

    # --log_completions: one parquet per logging step, with a column per rule.
    (table,) = sorted((out / "completions").glob("completions_*.parquet"))
    frame = pd.read_parquet(table)
    assert len(frame) == 4  # one step: per_device_train_batch_size 4 completions
    assert set(frame["completion"].map(lambda messages: messages[0]["role"])) == {"assistant"}
    for rule in RULES:
        assert f"tiny/{rule}" in frame.columns
    assert frame[[f"tiny/{rule}" for rule in RULES]].notna().all().all()


def test_defaults_on_a_cpu_follow_the_hardware_and_yield_to_the_user(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    values = train._defaults({}, [1.0, 2.0])
    assert values["bf16"] is False and values["use_cpu"] is True
    assert values["reward_weights"] == [1.0, 2.0] and "log_completions" not in values  # TRL's default
    # The first run stays short and within 4 GB on a CPU: LoRA, with activation checkpointing.
    assert (values["max_steps"], values["max_prompt_length"], values["max_completion_length"]) == (10, 64, 40)
    assert values["use_peft"] is True and values["lora_target_modules"] == "all-linear"
    assert values["activation_checkpointing"] is True

    own_data = train._defaults({"dataset": "x"}, [1.0])
    assert own_data["activation_checkpointing"] is False  # a full fine-tune: only slows a CPU down
    assert "use_peft" not in own_data and "max_steps" not in own_data

    explicit = {"gradient_checkpointing": True, "fp16": True, "dataset": "x", "model_name_or_path": "m"}
    mine = train._defaults(explicit, [1.0])
    assert "activation_checkpointing" not in mine and "bf16" not in mine and "max_steps" not in mine
    assert "max_prompt_length" not in mine  # the guide's 512 for the user's own data


def test_defaults_on_a_gpu_use_bf16_only_where_supported(monkeypatch) -> None:
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for supported in (True, False):
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, supported=supported, **k: supported)
        values = train._defaults({"dataset": "x", "model_name_or_path": "m"}, [1.0])
        assert values["bf16"] is supported
        assert values["activation_checkpointing"] is True and "use_cpu" not in values


def test_a_second_ctrl_c_stops_at_once_and_handlers_are_restored() -> None:
    import signal

    from rewardlang_trainer.interrupt import InterruptCheckpoint

    before = signal.getsignal(signal.SIGINT)
    with InterruptCheckpoint() as interrupt:
        os.kill(os.getpid(), signal.SIGTERM)
        assert interrupt.received == "SIGTERM"
        os.kill(os.getpid(), signal.SIGTERM)  # a repeated SIGTERM only keeps the request
        assert interrupt.received == "SIGTERM"
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after a request: stop now
    assert signal.getsignal(signal.SIGINT) is before


def test_reward_table_averages_up_to_three_steps_at_each_end(capsys) -> None:
    history = [{"step": s, "rewards/x/a/mean": float(s)} for s in range(1, 11)] + [{"train_runtime": 1.0}]
    train._print_reward_table(history, ["x/a"])
    out = capsys.readouterr().out
    assert "(steps 1-3 -> steps 8-10)" in out
    assert "2.000" in out and "9.000" in out  # mean of 1..3 and of 8..10
