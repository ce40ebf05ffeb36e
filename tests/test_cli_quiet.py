"""Quiet, conventional `rewardc`: no library bars or warnings unless --verbose, no model imports
for a spec without model rules, and --color on every command that prints colour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROWS = [
    {"prompt": "How do I reset my password?", "completion": "Open Settings, then Security, and click Reset password."},
    {"prompt": "What is the capital of France?", "completion": "Paris is the capital of France."},
    {"prompt": "Can you recommend a book?", "completion": "Try Middlemarch by George Eliot."},
]
MODEL_LIBRARIES = ("torch", "transformers", "sentence_transformers")
# What a user's environment may say to the libraries: left out, so the test sees rewardc's own choice.
LIBRARY_SWITCHES = ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY", "TQDM_DISABLE", "PYTHONWARNINGS")


@pytest.fixture
def rows(tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return path


def rewardc_process(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    """`rewardc` as a user runs it: a fresh process, whose libraries are imported for the first time."""
    env = {name: value for name, value in os.environ.items() if name not in LIBRARY_SWITCHES}
    return subprocess.run(
        [sys.executable, "-m", "rewardlang.cli", *map(str, argv)], capture_output=True, text=True, env=env
    )


@pytest.fixture(scope="module")
def model_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spec with a model rule: relevance, scored with the packaged all-MiniLM-L6-v2."""
    path = tmp_path_factory.mktemp("quiet") / "topic.reward"
    path.write_text('reward topic\nrule on_topic: relevance to prompt\nrule safe: banned "harm"\n', encoding="utf-8")
    return path


def test_score_with_a_model_rule_prints_no_library_output(model_spec: Path, rows: Path) -> None:
    result = rewardc_process("score", model_spec, "--data", rows, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no "Loading weights" or "Batches" bar, no library warning or log line
    assert len(json.loads(result.stdout)["rows"]) == 3


def test_verbose_lets_the_libraries_speak(model_spec: Path, rows: Path) -> None:
    """The same command with --verbose shows transformers' own bar: the quiet above is rewardc's doing."""
    result = rewardc_process("--verbose", "score", model_spec, "--data", rows, "--format", "json")
    assert result.returncode == 0, result.stderr
    assert "Loading weights" in result.stderr


def test_score_without_model_rules_imports_no_model_library(tmp_path: Path, rows: Path) -> None:
    spec = tmp_path / "plain.reward"
    spec.write_text('reward plain\nrule safe: banned "harm"\nrule fresh: repetition { ngram 3 }\n', encoding="utf-8")
    imported = tmp_path / "modules.json"
    program = (
        "import json, sys\n"
        "from rewardlang.cli import main\n"
        "code = main(sys.argv[1:-1])\n"
        "with open(sys.argv[-1], 'w') as out:\n"
        f"    json.dump({{'code': code, 'imported': [m for m in {MODEL_LIBRARIES!r} if m in sys.modules]}}, out)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program, "score", str(spec), "--data", str(rows), "--format", "json", str(imported)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(imported.read_text(encoding="utf-8")) == {"code": 0, "imported": []}
    assert len(json.loads(result.stdout)["rows"]) == 3


MESSY = "reward   x\nrule a:   json\n"


def test_fmt_diff_is_coloured_with_color_always(rewardc, write) -> None:
    spec = write(MESSY)
    coloured = rewardc("fmt", "--diff", "--color", "always", spec)
    plain = rewardc("fmt", "--diff", "--color", "never", spec)
    assert coloured.code == plain.code == 0
    assert "\x1b[31m-reward   x\x1b[0m\n" in coloured.out
    assert "\x1b[32m+reward x\x1b[0m\n" in coloured.out
    assert "\x1b" not in plain.out
    assert "\x1b" not in rewardc("fmt", "--diff", spec).out  # auto: not a terminal here


def test_fmt_color_reaches_its_diagnostics(rewardc, write) -> None:
    spec = write("reward x\nrule a: json {\n")
    assert "\x1b[" in rewardc("fmt", "--color", "always", spec).err
    assert "\x1b[" not in rewardc("fmt", "--color", "never", spec).err


def test_no_color_wins_over_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    from rewardlang.render import use_color

    class Terminal:
        def isatty(self) -> bool:
            return True

    assert use_color("auto", Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_color("auto", Terminal())
    assert use_color("always", Terminal())


def test_help_says_which_commands_print_colour(rewardc) -> None:
    result = rewardc("--help")
    assert result.code == 0
    assert "explain, lsp and completion never print colour" in " ".join(result.out.split())


@pytest.mark.parametrize(
    ("argv", "verbose"),
    [
        (["score", "s.reward", "--data", "d.jsonl"], False),
        (["--verbose", "score", "s.reward", "--data", "d.jsonl"], True),
        (["score", "s.reward", "--data", "d.jsonl", "--verbose"], True),
        (["--verbose", "test", "s.reward"], True),
        (["probe", "s.reward", "--verbose"], True),
        (["probe", "s.reward"], False),
    ],
)
def test_verbose_before_or_after_the_command(argv: list[str], verbose: bool) -> None:
    from rewardlang.cli import build_parser

    assert build_parser().parse_args(argv).verbose is verbose
