"""How `rewardc check`, `fmt` and `explain` end: as the program, at once (no interpreter teardown),
with every byte of their output written and their exit code; called as a function, they return
and leave the garbage collector as they found it."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path

from rewardlang.cli import main
from rewardlang.fmt import format_source

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "specs" / "chat.reward"


def rewardc(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rewardlang.cli", *argv], capture_output=True, text=True, timeout=120, check=False
    )


def test_fmt_writes_all_its_output_before_it_exits() -> None:
    formatted, diagnostics = format_source(CHAT.read_text(encoding="utf-8"))
    assert formatted is not None and diagnostics == []
    done = rewardc("fmt", str(CHAT), str(CHAT))  # two files: twice the text, all of it
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == formatted * 2


def test_check_exits_with_its_code_and_every_line_of_its_report(tmp_path: Path) -> None:
    bad = tmp_path / "bad.reward"
    bad.write_text("reward x\nrule a: lenght 1..2 words\n", encoding="utf-8")
    done = rewardc("check", str(bad))
    assert done.returncode == 1
    assert done.stderr.startswith("error[RL149]: unknown rule kind `lenght`\n")
    assert done.stderr.endswith("found 1 error\n")
    assert rewardc("check", str(CHAT)).returncode == 0
    as_json = rewardc("check", "--format", "json", str(bad))
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)[0]["code"] == "RL149"  # the whole document, parsed


def test_explain_exits_with_its_text() -> None:
    done = rewardc("explain", "RL149")
    assert (done.returncode, done.stderr) == (0, "")
    assert "RL149" in done.stdout and done.stdout.endswith("\n")


def test_called_as_a_function_it_returns_and_restores_the_collector() -> None:
    assert gc.isenabled()
    assert main(["check", str(CHAT)]) == 0
    assert gc.isenabled()
    gc.disable()
    try:
        assert main(["check", str(CHAT)]) == 0
        assert not gc.isenabled()  # a caller's own setting stands
    finally:
        gc.enable()


def test_the_program_imports_lark_without_regex_and_regex_stays_importable() -> None:
    script = f"""
import runpy, sys
import rewardlang.cli
def stop(code):
    raise SystemExit(code)
rewardlang.cli._exit_now = stop
sys.argv = ["rewardc", "check", {str(CHAT)!r}]
try:
    runpy.run_module("rewardlang.cli", run_name="__main__")
except SystemExit as exc:
    code = exc.code
import lark.utils
before = "regex" in sys.modules
import regex
print(code, before, lark.utils._has_regex, regex.__name__)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (0, "0 False False regex\n"), done.stderr


def test_main_as_a_function_imports_lark_as_usual() -> None:
    script = f"""
from rewardlang.cli import main
code = main(["check", {str(CHAT)!r}])
import lark.utils
print(code, lark.utils._has_regex)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (0, "0 True\n"), done.stderr
