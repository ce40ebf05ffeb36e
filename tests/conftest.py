"""Shared fixtures for the front-end tests (parser, checks, CLI, formatter)."""

from __future__ import annotations

import io
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.database import DirectoryBasedExampleDatabase

# Plugins: the tiny chat model's session fixture (`tiny_model_dir`) and the grpo-train
# fixtures (`spec_file`, `data_file`).
pytest_plugins = ["tiny_model", "train_runs", "judge_server"]

# Tests never touch the Hugging Face Hub: an accidental attempt fails fast instead of hanging.
# Set once for the whole suite, so in-process runs and the subprocesses tests start inherit it.
for _variable in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE"):
    os.environ[_variable] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

# The suite writes nothing into the checkout. Hypothesis keeps its files (the example database,
# and caches it writes even without one) in its home folder, `.hypothesis/` under the working
# directory unless told otherwise: here a folder of the system temp dir. The database stays
# there, so a failing example is replayed first on the next run on this machine.
HYPOTHESIS_HOME = Path(tempfile.gettempdir()) / "rewardlang-hypothesis"
set_hypothesis_home_dir(HYPOTHESIS_HOME)
settings.register_profile("rewardlang", database=DirectoryBasedExampleDatabase(HYPOTHESIS_HOME / "examples"))
settings.load_profile("rewardlang")

# A valid spec that uses every rule kind, a defaults block, a total, a gate and a clip.
ALL_KINDS_SPEC = """\
# A spec with every rule kind.
reward everything "All kinds"

defaults { case lower  scope full }

rule length: length 50..200 words { outside 0.5  ramp 10 }
rule helpful: phrases "I can help", 'Here\\'s how' { each 0.3  cap 1 }
rule safety: banned "dangerous", "illegal" { present 0  absent 1  match substring }
rule digits: regex r"\\d+" { each 0.1  cap 0.5 }
rule tags: tags "think", "answer" { count 1..  ordered }
rule marks: markers "<think>\\n", "\\n</think>\\n" { each 0.5  count 1..2 }
rule js: json { keys "a": string, "b"  extract first  tool column expected_tool }
rule rel: relevance to last_user { rescale 0.2..0.8  batch_size 32 }
rule ov: overlap to column reference { split whitespace }
rule sim: similarity rougeL to column "ref answer"
rule rep: repetition { ngram 4  split tokens  penalty -0.5 }
rule long: overlong 256 tokens { buffer 64 }
rule eq: equals column answer { compare exact  punctuation trailing }
rule cls: classifier "org/model" { label "positive"  activation softmax  context prompt  max_length 256 }
rule sums: math column answer { timeout 2 }
rule jd: judge "Is {answer} a polite reply to {last_user}?" { choices "no", "partly", "yes"  batch_size 8 }
rule short: brevity tokens
rule varied: diversity rougeL
total = length + 2 * helpful - -safety + digits + tags + marks + js + rel + ov + sim + rep + long + sums
    + short + varied + eq + cls + jd
gate safety < 0.5 then 0
clip ..3
"""


@pytest.fixture
def all_kinds_spec() -> str:
    return ALL_KINDS_SPEC


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def rewardc(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Run `rewardlang.cli.main(argv)` in-process; `stdin` (bytes) feeds `-`."""
    from rewardlang import cli

    def run(*argv: str | Path, stdin: bytes | None = None) -> CliResult:
        if stdin is not None:
            monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        capsys.readouterr()  # drop anything printed before
        code = cli.main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write text (or bytes) to a file under tmp_path and return its path."""

    def _write(content: str | bytes, name: str = "spec.reward") -> Path:
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
        return path

    return _write
