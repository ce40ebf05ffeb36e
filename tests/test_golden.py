"""Golden tests: one small spec per diagnostic code, compared with `rewardc check` output.

`tests/golden/<CODE>.reward` is a spec that triggers CODE; `tests/golden/<CODE>.txt`
is the exact stderr of

    rewardc check --format rich --color never tests/golden/<CODE>.reward

run from the repository root. `<CODE>.short.txt` (short style, stderr) and
`<CODE>.json` (JSON style, stdout) exist for a few codes. A code about data
(`rewardc check --data`) has its data next to the spec, `<CODE>.data.jsonl`. Expected files are
generated, never written by hand: after an intended change to a message run

    REWARDLANG_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py

and review the diff of tests/golden/.

Exemptions from "every code has a golden file" (`EXEMPT`):
- RL008 (spec larger than 1,000,000 characters) is tested in memory below, so
  that the repository does not carry a 1 MB file.
- RL151 (broken plugin kind) needs a broken package installed; tests/test_plugins.py
  builds such packages in a temporary folder and checks the messages.
- RL153 (embedding backend not installed) needs an environment without model2vec;
  tests/test_embedding_backends.py runs `rewardc check` in a process that cannot import it.
- RL100 (invalid value with no more specific code) is the validator's fallback
  and no spec text reaches it today: the grammar types every value (a string
  where a number belongs is RL002), numbers beyond +-1e308 are RL009 before
  validation (so no value is infinite), and every other error the models can
  raise has its own code (RL102, RL104-RL107). A constraint added to a model
  without its own diagnostic would surface as RL100: give it a code instead.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from rewardlang import analyze
from rewardlang.cli import main
from rewardlang.codes import CODES
from rewardlang.diagnostics import Diagnostic
from rewardlang.parser import MAX_SOURCE_CHARS
from rewardlang.render import render

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "golden"
UPDATE = os.environ.get("REWARDLANG_UPDATE_GOLDEN") == "1"

# Codes without a golden file, and why (see the module docstring).
EXEMPT = {
    "RL008": "tested in memory: test_rl008_spec_too_large",
    "RL100": "the validator's fallback, unreachable from spec text",
    "RL222": "grpo-train reports it at start-up (from max_steps), `check` never: tests/test_schedules.py",
    "RL151": "needs a broken plugin package installed: tests/test_plugins.py installs some in a temporary folder",
    "RL153": "needs model2vec missing: tests/test_embedding_backends.py checks in a process that cannot import it",
    "RL225": "grpo-train reports it from the training configuration: tests/test_group_rules.py",
}

# Codes that only `rewardc test` reports (it scores the examples; `check` never does).
TEST_CODES = {"RL139"}

# Extra renderings kept for these codes: suffix -> (--format value, stream).
STYLES = {".txt": ("rich", "err"), ".short.txt": ("short", "err"), ".json": ("json", "out")}
EXTRA_STYLE_CODES = {"RL001"}

SPECS = sorted(GOLDEN.glob("*.reward"))


def _cases() -> list[tuple[Path, str]]:
    return [
        (spec, suffix)
        for spec in SPECS
        for suffix in STYLES
        if suffix == ".txt" or spec.stem in EXTRA_STYLE_CODES or spec.with_suffix(suffix).exists()
    ]


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    capsys.readouterr()  # drop anything printed before
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize(
    ("spec", "suffix"), _cases(), ids=[f"{spec.stem}{suffix}" for spec, suffix in _cases()]
)
def test_golden(
    spec: Path, suffix: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    relative = spec.relative_to(ROOT).as_posix()  # what the output shows as the file name
    style, stream = STYLES[suffix]
    command = "test" if spec.stem in TEST_CODES else "check"
    data = _data_file(spec)
    with_data = ["--data", data.relative_to(ROOT).as_posix()] if data is not None else []
    exit_code, out, err = _run([command, "--format", style, "--color", "never", relative, *with_data], capsys)
    actual = out if stream == "out" else err
    expected_path = GOLDEN / (spec.stem + suffix)
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"{expected_path.name} is missing; run with REWARDLANG_UPDATE_GOLDEN=1"
    expected = expected_path.read_text(encoding="utf-8")
    assert actual == expected, f"output differs from {expected_path.name}; see the module docstring to update"

    if command == "test":
        assert f"error[{spec.stem}]" in err and exit_code == 1
        return
    diagnostics = analyze(spec.read_text(encoding="utf-8"), base=spec.parent).diagnostics  # as `rewardc check` reads it
    if data is not None:
        diagnostics += _data_diagnostics(spec, data)
    assert spec.stem in {d.code for d in diagnostics}, f"{spec.name} does not trigger {spec.stem}"
    if stream == "err":
        assert out == "", "rich and short diagnostics go to stderr only"
    # Exit status: 1 when any error is reported, 0 when there are only warnings.
    assert exit_code == (1 if any(d.is_error for d in diagnostics) else 0)


def _data_file(spec: Path) -> Path | None:
    """`<CODE>.data.jsonl`: the data a code about data is checked against (`rewardc check --data`)."""
    data = spec.with_suffix(".data.jsonl")
    return data if data.exists() else None


def _data_diagnostics(spec: Path, data: Path) -> list[Diagnostic]:
    from rewardlang.cli.check import read_sample
    from rewardlang.conditions import data_diagnostics

    parsed = analyze(spec.read_text(encoding="utf-8"), base=spec.parent).spec
    assert parsed is not None, f"{spec.name}: a spec checked against data must be valid"
    sample = read_sample(str(data), "auto")
    return data_diagnostics(parsed, sample.columns, sample.rows)


def test_golden_file_names_are_known_codes() -> None:
    for spec in SPECS:
        assert spec.stem in CODES, f"{spec.name}: {spec.stem} is not a diagnostic code (stale golden file?)"
    for expected in GOLDEN.iterdir():
        if expected.suffix in (".txt", ".json"):
            stem = expected.name.split(".")[0]
            assert (GOLDEN / f"{stem}.reward").exists(), f"{expected.name} has no {stem}.reward"


def test_every_code_has_a_golden_file() -> None:
    have = {spec.stem for spec in SPECS}
    missing = sorted(set(CODES) - have - set(EXEMPT))
    assert not missing, f"no golden spec for {', '.join(missing)}: add tests/golden/<CODE>.reward"


def test_exemptions_are_real_codes_without_a_golden_file() -> None:
    assert set(EXEMPT) <= set(CODES)
    assert set(EXEMPT).isdisjoint(spec.stem for spec in SPECS), "a code with a golden file is no exemption"


def test_warning_goldens_pass_without_strict_but_fail_with_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    for spec in SPECS:
        relative = spec.relative_to(ROOT).as_posix()
        data = _data_file(spec)
        with_data = ["--data", data.relative_to(ROOT).as_posix()] if data is not None else []
        _, _, err = _run(["check", "--color", "never", relative, *with_data], capsys)
        if "error[" in err or spec.stem in TEST_CODES:
            continue
        exit_code, _, _ = _run(["check", "--strict", "--color", "never", relative, *with_data], capsys)
        assert exit_code == 1, f"{spec.name}: warnings must fail under --strict"


# ------------------------------------------------------------------- RL008
def _big_spec(size: int) -> str:
    head = "reward big\nrule length: length 50..200 words\n"
    filler = "# " + "x" * 98 + "\n"  # 101 characters a line
    text = head + filler * ((size - len(head)) // len(filler) + 1)
    return text[:size]


def test_rl008_spec_too_large() -> None:
    text = _big_spec(MAX_SOURCE_CHARS + 1)
    assert len(text) == 1_000_001
    analysis = analyze(text)
    assert analysis.spec is None
    assert [d.code for d in analysis.diagnostics] == ["RL008"]
    rich = render(analysis.diagnostics, text, "big.reward", style="rich", color=False)
    assert "error[RL008]" in rich
    assert "--> big.reward:1:1" in rich
    assert "1,000,001 characters" in rich
    short = render(analysis.diagnostics, text, "big.reward", style="short")
    assert short.startswith("big.reward:1:1: error[RL008]: ")


def test_rl008_cli_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    text = _big_spec(MAX_SOURCE_CHARS + 1)

    class _Stdin(io.StringIO):
        buffer = io.BytesIO(text.encode())

    monkeypatch.setattr("sys.stdin", _Stdin())
    exit_code, out, err = _run(["check", "--color", "never", "-"], capsys)
    assert exit_code == 1
    assert out == ""
    assert err.startswith("error[RL008]: spec is too large (1,000,001 characters)\n --> <stdin>:1:1\n")
    assert err.endswith("found 1 error\n")


def test_spec_at_the_size_limit_is_accepted() -> None:
    text = _big_spec(MAX_SOURCE_CHARS)
    assert len(text) == MAX_SOURCE_CHARS
    analysis = analyze(text)
    assert not any(d.code == "RL008" for d in analysis.diagnostics)
    assert analysis.spec is not None


@pytest.mark.parametrize("code", [spec.stem for spec in SPECS])
def test_golden_codes_are_explained(code: str, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code, out, err = _run(["explain", code], capsys)
    assert exit_code == 0, err
    assert code in out
