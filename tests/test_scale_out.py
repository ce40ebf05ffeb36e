"""Scale-out: the ready accelerate configs, vLLM options, and two real processes on CPU.

`torchrun --standalone --nproc_per_node 2 -m rewardlang_trainer.train ...` puts accelerate in
MULTI_CPU mode (gloo): two ranks generate, score and train together with the tiny offline model.
A SIGTERM to torchrun (what a cluster scheduler sends) reaches both ranks, which agree on the
step, save one checkpoint and stop; a second torchrun resumes from it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")

pytest.importorskip("torch")
pytest.importorskip("trl")

CONFIGS = Path(__file__).resolve().parent.parent / "trainer" / "accelerate"

SPEC = """\
reward tiny

rule brief: length 1..12 words { ramp 4 }
rule safety: banned "dangerous", "illegal" { weight 2 }
"""
QUESTIONS = [
    "What is the capital of France?", "How do I bake bread?", "Tell me a joke.", "Explain the solar system.",
    "What is rain?", "Why is the sky blue?", "Name a fruit.", "Say hello.",
]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("multi_gpu.yaml", "MULTI_GPU"),
        ("deepspeed_zero2.yaml", "DEEPSPEED"),
        ("deepspeed_zero3.yaml", "DEEPSPEED"),
        ("fsdp.yaml", "FSDP"),
    ],
)
def test_accelerate_configs_load_in_accelerate(name: str, kind: str) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    path = CONFIGS / name
    config = load_config_from_file(str(path))  # rejects unknown keys
    assert config.distributed_type.value == kind
    assert "accelerate launch --config_file trainer/accelerate/" + name in path.read_text(encoding="utf-8")
    if kind == "DEEPSPEED":
        stage = config.deepspeed_config["zero_stage"]
        assert stage == int(name[-6])  # deepspeed_zero2 -> 2, deepspeed_zero3 -> 3
    if kind == "FSDP":
        # A full state dict, so the saved model is a plain folder that from_pretrained loads.
        assert config.fsdp_config["fsdp_state_dict_type"] == "FULL_STATE_DICT"


def test_vllm_options_pass_through_to_grpo_config() -> None:
    from rewardlang_trainer import train

    parser = train._make_parser()
    _, training_args, _ = parser.parse_args_and_config(
        [
            "--use_vllm", "true",
            "--vllm_mode", "colocate",
            "--vllm_gpu_memory_utilization", "0.25",
            "--vllm_tensor_parallel_size", "2",
            "--output_dir", "unused",
            "--use_cpu", "true",
            "--bf16", "false",
        ]
    )
    assert training_args.use_vllm is True
    assert training_args.vllm_mode == "colocate"
    assert training_args.vllm_gpu_memory_utilization == 0.25
    assert training_args.vllm_tensor_parallel_size == 2


def test_use_vllm_without_vllm_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    if importlib.util.find_spec("vllm") is not None:
        pytest.skip("vllm is installed")
    from rewardlang_trainer import train

    spec = tmp_path / "tiny.reward"
    spec.write_text(SPEC, encoding="utf-8")
    code = train.main(["--rewards", str(spec), "--use_vllm", "true", "--output_dir", str(tmp_path / "out")])
    assert code == 2
    assert "pip install vllm" in capsys.readouterr().err


# ------------------------------------------------------------------------------- two processes
@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    (tmp_path / "tiny.reward").write_text(SPEC, encoding="utf-8")
    with (tmp_path / "chats.jsonl").open("w", encoding="utf-8") as fh:
        for question in QUESTIONS:
            messages = [{"role": "user", "content": question}, {"role": "assistant", "content": "ok"}]
            fh.write(json.dumps({"messages": messages}) + "\n")
    return tmp_path


def _torchrun(model_dir: Path, output_dir: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "rewardlang_trainer.train",
        "--rewards", "tiny.reward",
        "--dataset", "chats.jsonl",
        "--model_name_or_path", str(model_dir),
        "--output_dir", output_dir,
        "--num_generations", "2",
        "--per_device_train_batch_size", "2",
        "--max_completion_length", "8",
        "--report_to", "none",
        "--save_strategy", "no",
        "--disable_tqdm", "true",
        "--log_raw", "true",  # these tests read TRL's metric dicts from stdout
        "--seed", "0",
        *extra,
    ]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")  # offline variables: conftest.py
    return env


def test_two_cpu_processes_train_together(tiny_model_dir: Path, run_dir: Path) -> None:
    import pandas as pd

    result = subprocess.run(
        _torchrun(tiny_model_dir, "out", "--max_steps", "2", "--log_completions", "true"),
        cwd=run_dir, env=_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = run_dir / "out"
    assert (out / "config.json").is_file() and any(out.glob("*.safetensors"))
    # Rank 0 alone prints the summaries.
    assert result.stdout.count("mean reward per rule") == 1
    assert result.stdout.count("model saved to out") == 1
    # Both ranks contributed: each step gathers 2 ranks x 2 completions = 4 rows (one rank would give 2),
    # and 2 of the 8 prompts per step make a quarter epoch.
    tables = sorted((out / "completions").glob("completions_*.parquet"))
    assert [len(pd.read_parquet(t)) for t in tables] == [4, 4]
    logged = [line for line in result.stdout.splitlines() if "'rewards/tiny/brief/mean'" in line]
    epochs = [json.loads(line.replace("'", '"'))["epoch"] for line in logged]
    assert epochs == ["0.25", "0.5"]


def test_sigterm_to_torchrun_saves_one_checkpoint_that_resumes(tiny_model_dir: Path, run_dir: Path) -> None:
    log = run_dir / "first.log"
    with log.open("w") as fh:
        process = subprocess.Popen(
            _torchrun(tiny_model_dir, "out", "--max_steps", "100000"),
            cwd=run_dir, env=_env(), stdout=fh, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while "'rewards/tiny/brief/mean'" not in log.read_text(errors="replace"):
            assert process.poll() is None, log.read_text(errors="replace")[-3000:]
            assert time.monotonic() < deadline, "training never logged a step"
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)  # torchrun forwards it to both ranks
        process.wait(timeout=300)
    finally:
        if process.poll() is None:
            # torchrun starts its workers in sessions of their own: SIGTERM lets it stop them, where
            # a SIGKILL to its group would leave them training (max_steps 100000) after a failure.
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
    text = log.read_text(errors="replace")
    assert text.count("SIGTERM received") == 2, text[-3000:]  # both ranks heard it
    (checkpoint,) = (run_dir / "out").glob("checkpoint-*")  # one step, agreed by both ranks
    step = int(checkpoint.name.split("-")[1])
    assert json.loads((checkpoint / "trainer_state.json").read_text())["global_step"] == step
    assert (checkpoint / "rng_state_0.pth").is_file() and (checkpoint / "rng_state_1.pth").is_file()
    assert f"checkpoint saved to out/checkpoint-{step}" in text

    result = subprocess.run(
        _torchrun(tiny_model_dir, "out", "--max_steps", str(step + 1), "--resume_from_checkpoint", "last"),
        cwd=run_dir, env=_env(), capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"resuming from out/checkpoint-{step}" in result.stdout
    steps_logged = [line for line in result.stdout.splitlines() if "'rewards/tiny/brief/mean'" in line]
    assert len(steps_logged) == 1  # exactly the one step after the checkpoint
    assert (run_dir / "out" / "config.json").is_file()
