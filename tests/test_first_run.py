"""The first run teaches: `grpo-train` with no arguments moves every rule of its default spec up.

This is the README's first command (`bash scripts/train.sh` runs `grpo-train` with no arguments):
the packaged SmolLM2-135M-Instruct, 64 packaged chitchat prompts, trainer/specs/default_chat.reward,
grpo-train's CPU defaults for the packaged run (10 steps, LoRA), on its default seed (42). The end
table compares each rule's mean over the first 3 steps with its mean over the last 3; every rule
of the spec, and the total, must end higher than it started. Slow: about 4 minutes on two idle
cores (docs/performance-training.md, section 3).
"""

from __future__ import annotations

import re

import pytest

pytest.importorskip("trl")
pytest.importorskip("sentence_transformers")

from rewardlang_trainer import train

pytestmark = pytest.mark.slow


ROW = re.compile(r"^  (chat/\w+)\s+(-?\d+\.\d+)\s+(-?\d+\.\d+)\s+\S+ (up|down|same)$")


def test_every_rule_of_the_default_spec_moves_up(tmp_path, capsys) -> None:
    import rewardlang

    assert train.main(["--output_dir", str(tmp_path / "out"), "--use_cpu", "--report_to", "none"]) == 0
    out = capsys.readouterr().out
    table = out[out.index("mean reward per rule") :]
    matches = [m for m in map(ROW.match, table.splitlines()) if m]
    rows = {m.group(1): (float(m.group(2)), float(m.group(3)), m.group(4)) for m in matches}
    names = rewardlang.load(train.DEFAULT_SPEC).names
    assert sorted(rows) == sorted(names), table
    assert {name: verdict for name, (_, _, verdict) in rows.items()} == dict.fromkeys(names, "up"), table
    steps = train._defaults({}, [1.0])["max_steps"]  # the first run's default
    assert sum(line.startswith("step ") for line in out.splitlines()) == steps  # one progress line per step
