"""`rewardc completion bash|zsh`: the scripts parse, and bash completes what the parser accepts."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from rewardlang.cli import build_parser

bash = pytest.mark.skipif(shutil.which("bash") is None, reason="bash is not installed")


@pytest.fixture
def bash_script(rewardc, tmp_path: Path) -> Path:
    result = rewardc("completion", "bash")
    assert result.code == 0, result.err
    path = tmp_path / "rewardc.bash"
    path.write_text(result.out, encoding="utf-8")
    return path


def complete(script: Path, line: str, cwd: Path | None = None) -> list[str]:
    """What bash's completion function offers for `line` (the cursor at its end), as bash calls it."""
    program = (
        'source "$1"; read -ra COMP_WORDS <<< "$2"; [[ "$2" == *" " ]] && COMP_WORDS+=("");'
        ' COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _rewardc; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program, "complete", str(script), line],
        capture_output=True, text=True, check=True, cwd=cwd,
    )
    return [word for word in result.stdout.splitlines() if word]


@bash
def test_bash_script_is_valid(bash_script: Path) -> None:
    result = subprocess.run(["bash", "-n", str(bash_script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@bash
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("rewardc ch", ["check"]),
        ("rewardc check --fo", ["--format"]),
        ("rewardc check --format ", ["rich", "short", "json"]),
        ("rewardc score spec.reward --progress ", ["auto", "always", "never"]),
        ("rewardc completion ", ["bash", "zsh"]),
        ("rewardc --vers", ["--version"]),
        ("rewardc --verb", ["--verbose"]),
    ],
)
def test_bash_completes_commands_options_and_choices(bash_script: Path, line: str, expected: list[str]) -> None:
    assert complete(bash_script, line) == expected


@bash
def test_bash_completes_file_names_for_specs_and_data(bash_script: Path, tmp_path: Path) -> None:
    (tmp_path / "chat.reward").write_text("", encoding="utf-8")
    (tmp_path / "rows.jsonl").write_text("", encoding="utf-8")
    assert complete(bash_script, "rewardc check ch", cwd=tmp_path) == ["chat.reward"]
    assert complete(bash_script, "rewardc score chat.reward --data ro", cwd=tmp_path) == ["rows.jsonl"]
    assert complete(bash_script, "rewardc explain ch", cwd=tmp_path) == []  # a code, not a file


@bash
def test_bash_offers_every_option_of_every_command(bash_script: Path) -> None:
    """Generated from the parser: each sub-command's options are exactly what argparse accepts."""
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in commands.items():
        options = sorted(o for a in sub._actions for o in a.option_strings)
        assert sorted(complete(bash_script, f"rewardc {name} -")) == options, name


def test_zsh_script_is_valid(rewardc, tmp_path: Path) -> None:
    zsh = shutil.which("zsh")
    if zsh is None:
        pytest.skip("zsh is not installed")
    result = rewardc("completion", "zsh")
    assert result.code == 0, result.err
    assert result.out.startswith("#compdef rewardc\n")
    path = tmp_path / "_rewardc"
    path.write_text(result.out, encoding="utf-8")
    checked = subprocess.run([zsh, "-n", str(path)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    # Installed as the README says (a folder on $fpath, then compinit), it completes `rewardc`.
    program = 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -d "$2"; print -r -- "$_comps[rewardc]"'
    registered = subprocess.run(
        [zsh, "-f", "-c", program, "zsh", str(tmp_path), str(tmp_path / "zcompdump")],
        capture_output=True, text=True,
    )
    assert registered.stdout == "_rewardc\n", registered.stderr


def test_unknown_shell_is_a_usage_error(rewardc) -> None:
    result = rewardc("completion", "fish")
    assert result.code == 2
    assert "invalid choice: 'fish'" in result.err
