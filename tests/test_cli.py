"""`rewardc`: exit codes, output formats, stdin, explain, fmt, and the installed script."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CLEAN = "reward x\nrule a: json\n"
# Four errors on four lines: RL104, RL149 (a misspelled kind), RL102, RL111.
BAD = (
    "reward x\n"
    "rule b: length 1..2 wrds\n"
    "rule a: jsn\n"
    "rule c: json { each 1 }\n"
    "total = a + b + c + zz\n"
)
WARNING_ONLY = 'reward x\nrule a: phrases "x", "x"\n'
SHORT_LINE = re.compile(
    r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning)\[(?P<code>RL\d{3})\]: (?P<msg>.+)$"
)


# ------------------------------------------------------------ exit codes
def test_clean_spec_exits_0_and_prints_nothing(rewardc, write) -> None:
    result = rewardc("check", write(CLEAN))
    assert (result.code, result.out, result.err) == (0, "", "")


def test_all_kinds_spec_is_clean(rewardc, write, all_kinds_spec) -> None:
    result = rewardc("check", write(all_kinds_spec))
    assert (result.code, result.out, result.err) == (0, "", "")


def test_bad_spec_exits_1_with_rich_diagnostics(rewardc, write) -> None:
    path = write(BAD)
    result = rewardc("check", path)
    assert result.code == 1
    assert result.out == ""
    err = result.err
    assert "error[RL149]: unknown rule kind `jsn`" in err
    assert f"--> {path}:3:9" in err
    assert "= help: did you mean `json`?" in err
    assert "3 | rule a: jsn" in err
    assert err.rstrip().endswith("found 4 errors")
    # Diagnostics come sorted by position.
    order = [err.index(f"error[{code}]") for code in ("RL104", "RL149", "RL102", "RL111")]
    assert order == sorted(order)
    assert "Traceback" not in err


def test_missing_file_exits_2(rewardc, tmp_path) -> None:
    result = rewardc("check", tmp_path / "nope.reward")
    assert result.code == 2
    assert "nope.reward: no such file" in result.err
    assert "Traceback" not in result.err


def test_io_error_wins_over_spec_errors_but_other_files_are_still_checked(rewardc, write, tmp_path) -> None:
    bad = write(BAD, "bad.reward")
    result = rewardc("check", tmp_path / "missing.reward", bad, "--format", "short")
    assert result.code == 2
    assert "missing.reward: no such file" in result.err
    assert f"{bad}:3:9: error[RL149]" in result.err


def test_several_files_are_all_checked(rewardc, write) -> None:
    good = write(CLEAN, "good.reward")
    bad = write(BAD, "bad.reward")
    result = rewardc("check", good, bad, "--format", "short")
    assert result.code == 1
    assert all(line.startswith(f"{bad}:") for line in result.err.splitlines())
    assert len(result.err.splitlines()) == 4


@pytest.mark.parametrize(
    "argv",
    [
        ["bogus"],
        [],
        ["check"],
        ["check", "--format", "xml", "x.reward"],
        ["check", "--max-errors", "0", "x.reward"],
        ["check", "--max-errors", "many", "x.reward"],
        ["check", "--color", "sometimes", "x.reward"],
        ["fmt", "--check", "--write", "x.reward"],
    ],
)
def test_usage_errors_exit_2(rewardc, argv) -> None:
    result = rewardc(*argv)
    assert result.code == 2
    assert result.out == ""
    assert result.err  # says what is wrong
    assert "Traceback" not in result.err


def test_unknown_subcommand_names_the_choices(rewardc) -> None:
    result = rewardc("chekc", "x.reward")
    assert result.code == 2
    assert "check" in result.err


def test_version_and_help_exit_0(rewardc) -> None:
    assert rewardc("--version").code == 0
    assert rewardc("--help").code == 0
    assert rewardc("check", "--help").code == 0


# -------------------------------------------------------------- warnings
def test_warnings_exit_0_unless_strict(rewardc, write) -> None:
    path = write(WARNING_ONLY)
    relaxed = rewardc("check", path)
    assert relaxed.code == 0
    assert "warning[RL204]" in relaxed.err
    assert "found 1 warning" in relaxed.err
    strict = rewardc("check", "--strict", path)
    assert strict.code == 1
    assert "warning[RL204]" in strict.err


def test_strict_on_a_clean_spec_exits_0(rewardc, write) -> None:
    assert rewardc("check", "--strict", write(CLEAN)).code == 0


# ------------------------------------------------------------ --max-errors
@pytest.mark.parametrize("limit", [1, 2, 3])
def test_max_errors_limits_shown_errors(rewardc, write, limit) -> None:
    result = rewardc("check", write(BAD), "--format", "short", "--max-errors", str(limit))
    assert result.code == 1
    lines = result.err.splitlines()
    assert len(lines) == limit
    assert [SHORT_LINE.match(line)["code"] for line in lines] == ["RL104", "RL149", "RL102"][:limit]


def test_max_errors_above_count_shows_everything(rewardc, write) -> None:
    result = rewardc("check", write(BAD), "--format", "short", "--max-errors", "50")
    assert len(result.err.splitlines()) == 4


def test_max_errors_rich_summary_mentions_the_stop(rewardc, write) -> None:
    result = rewardc("check", write(BAD), "--max-errors", "1")
    assert result.code == 1
    assert result.err.count("error[") == 1
    assert "--max-errors" in result.err.splitlines()[-1]


def test_max_errors_applies_across_files(rewardc, write) -> None:
    one = write(BAD, "one.reward")
    two = write(BAD, "two.reward")
    result = rewardc("check", one, two, "--format", "short", "--max-errors", "5")
    lines = result.err.splitlines()
    assert len(lines) == 5
    assert sum(line.startswith(str(two)) for line in lines) == 1


# ---------------------------------------------------------------- formats
def test_short_format_line_shape(rewardc, write) -> None:
    path = write(BAD)
    result = rewardc("check", path, "--format", "short")
    assert result.code == 1
    assert result.out == ""
    lines = result.err.splitlines()
    assert len(lines) == 4
    parsed = [SHORT_LINE.match(line) for line in lines]
    assert all(parsed), lines
    assert [(m["file"], int(m["line"]), int(m["col"]), m["sev"], m["code"]) for m in parsed] == [
        (str(path), 2, 21, "error", "RL104"),
        (str(path), 3, 9, "error", "RL149"),
        (str(path), 4, 16, "error", "RL102"),
        (str(path), 5, 21, "error", "RL111"),
    ]
    assert lines[1] == f"{path}:3:9: error[RL149]: unknown rule kind `jsn`"


def test_short_format_warning(rewardc, write) -> None:
    path = write(WARNING_ONLY)
    result = rewardc("check", path, "--format", "short")
    assert result.err == f"{path}:2:22: warning[RL204]: `x` is listed twice in `a`\n"


def test_json_format_is_valid_json_on_stdout(rewardc, write) -> None:
    path = write(BAD)
    result = rewardc("check", path, "--format", "json")
    assert result.code == 1
    items = json.loads(result.out)
    assert [item["code"] for item in items] == ["RL104", "RL149", "RL102", "RL111"]
    first = items[1]
    assert first["file"] == str(path)
    assert first["severity"] == "error"
    assert first["message"] == "unknown rule kind `jsn`"
    assert (first["span"]["line"], first["span"]["column"]) == (3, 9)
    assert first["span"]["end"] - first["span"]["start"] == 3
    assert first["help"].startswith("did you mean `json`? ")
    assert isinstance(first["labels"], list)
    assert "Traceback" not in result.err


def test_json_format_on_clean_spec_is_an_empty_list(rewardc, write) -> None:
    result = rewardc("check", write(CLEAN), "--format", "json")
    assert result.code == 0
    assert json.loads(result.out) == []


def test_json_format_keeps_secondary_labels(rewardc, write) -> None:
    result = rewardc("check", write("reward x\nrule a: json\nrule a: json\n"), "--format", "json")
    (item,) = json.loads(result.out)
    assert item["code"] == "RL101"
    assert item["labels"][0]["message"] == "first defined here"
    assert item["labels"][0]["span"]["line"] == 2


def test_color_always_adds_ansi_and_never_does_not(rewardc, write) -> None:
    path = write(BAD)
    assert "\x1b[" in rewardc("check", path, "--color", "always").err
    assert "\x1b[" not in rewardc("check", path, "--color", "never").err


# ------------------------------------------------------------------ stdin
def test_check_reads_stdin(rewardc) -> None:
    result = rewardc("check", "-", "--format", "short", stdin=BAD.encode())
    assert result.code == 1
    assert result.err.splitlines()[0].startswith("<stdin>:2:21: error[RL104]")


def test_check_reads_clean_stdin(rewardc) -> None:
    result = rewardc("check", "-", stdin=CLEAN.encode())
    assert (result.code, result.out, result.err) == (0, "", "")


def test_check_stdin_not_utf8_exits_2(rewardc) -> None:
    result = rewardc("check", "-", stdin=b"reward x\n\xff\xfe\n")
    assert result.code == 2
    assert "<stdin>" in result.err and "UTF-8" in result.err


# ---------------------------------------------------------------- explain
def test_explain_known_code(rewardc) -> None:
    result = rewardc("explain", "RL001")
    assert result.code == 0
    assert "RL001" in result.out
    assert len(result.out.strip().splitlines()) >= 3


def test_explain_unknown_code_exits_2(rewardc) -> None:
    result = rewardc("explain", "RL999")
    assert result.code == 2
    assert "RL999" in result.err
    assert result.out == ""


def test_every_code_a_module_raises_is_documented() -> None:
    """Every `codes.RLnnn` in the package (each module found by glob, none listed here) exists and is explained."""
    from rewardlang import codes

    package = Path(codes.__file__).parent
    used = {
        code
        for path in package.rglob("*.py")
        for code in re.findall(r"\bcodes\.(RL\d{3})\b", path.read_text(encoding="utf-8"))
    }
    assert {"RL001", "RL101", "RL111"} <= used  # raised by the parser, validation and the checks
    assert sorted(used - set(codes.CODES)) == []
    for code in sorted(used):
        assert codes.explain(code), code


# -------------------------------------------------------------------- fmt
UNFORMATTED = "reward   x\nrule a:json{weight 2}\n\n\n\ntotal=(a)\n"
FORMATTED = "reward x\n\nrule a: json { weight 2 }\n\ntotal = a\n"


def test_fmt_prints_canonical_form(rewardc, write) -> None:
    result = rewardc("fmt", write(UNFORMATTED))
    assert result.code == 0
    assert result.out == FORMATTED


def test_fmt_check_exits_1_then_0_after_write(rewardc, write) -> None:
    path = write(UNFORMATTED)
    check = rewardc("fmt", "--check", path)
    assert check.code == 1
    assert "would reformat" in check.err
    assert path.read_text() == UNFORMATTED  # --check never writes
    written = rewardc("fmt", "--write", path)
    assert written.code == 0
    assert path.read_text() == FORMATTED
    again = rewardc("fmt", "--check", path)
    assert (again.code, again.out) == (0, "")


def test_fmt_diff_prints_unified_diff(rewardc, write) -> None:
    path = write(UNFORMATTED)
    result = rewardc("fmt", "--diff", path)
    assert result.code == 0
    lines = result.out.splitlines()
    assert lines[0] == f"--- a/{path}"
    assert lines[1] == f"+++ b/{path}"
    assert lines[2].startswith("@@")
    assert "-reward   x" in lines
    assert "+reward x" in lines
    assert "+rule a: json { weight 2 }" in lines
    assert path.read_text() == UNFORMATTED


def test_fmt_diff_of_formatted_file_is_empty(rewardc, write) -> None:
    result = rewardc("fmt", "--diff", write(FORMATTED))
    assert (result.code, result.out) == (0, "")


def test_fmt_syntax_error_exits_1_with_diagnostics(rewardc, write) -> None:
    path = write("reward x\nrule a: json @\n")
    result = rewardc("fmt", path)
    assert result.code == 1
    assert result.out == ""
    assert "error[RL004]" in result.err
    assert f"{path}:2:14" in result.err
    written = rewardc("fmt", "--write", path)
    assert written.code == 1
    assert path.read_text() == "reward x\nrule a: json @\n"


def test_fmt_formats_specs_with_semantic_errors(rewardc, write) -> None:
    result = rewardc("fmt", write("reward x\nrule a:json{each 1}\n"))
    assert result.code == 0
    assert result.out == "reward x\n\nrule a: json { each 1 }\n"


def test_fmt_reads_stdin(rewardc) -> None:
    result = rewardc("fmt", "-", stdin=UNFORMATTED.encode())
    assert (result.code, result.out) == (0, FORMATTED)


def test_fmt_missing_file_exits_2(rewardc, tmp_path) -> None:
    assert rewardc("fmt", tmp_path / "nope.reward").code == 2


# ------------------------------------------------------ installed script
def _script() -> list[str]:
    script = Path(sys.executable).parent / "rewardc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "rewardlang.cli"]


@pytest.mark.parametrize("style", ["rich", "short", "json"])
def test_installed_script_bad_spec_has_no_traceback(write, style) -> None:
    path = write(BAD)
    command = [*_script(), "check", "--format", style, str(path)]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "RL149" in (proc.stdout + proc.stderr)


def test_installed_script_clean_spec_is_silent(write) -> None:
    proc = subprocess.run([*_script(), "check", str(write(CLEAN))], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "", "")


def test_module_entry_point_reads_stdin() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "rewardlang.cli", "check", "-", "--format", "short"],
        input=BAD,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0].startswith("<stdin>:2:21: error[RL104]")
    assert "Traceback" not in proc.stderr


def test_messages_never_carry_control_characters(rewardc, write) -> None:
    path = write('reward x\nrule a: phrases "a\\nb", "a\\nb", "\\x1b[2J", "\\x1b[2J"\nrule t: tags "a\\nb"\n')
    short = rewardc("check", path, "--format", "short")
    assert short.code == 1
    lines = short.err.splitlines()
    assert len(lines) == 3
    assert all(SHORT_LINE.match(line) for line in lines), lines
    rich = rewardc("check", path, "--color", "never")
    assert "\x1b" not in rich.err


def test_ctrl_c_exits_130_and_a_closed_pipe_exits_0(rewardc, write, monkeypatch) -> None:
    import signal

    from rewardlang.cli import check
    from rewardlang.exits import EXIT_INTERRUPTED

    assert EXIT_INTERRUPTED == 128 + signal.SIGINT == 130

    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(check, "check", interrupted)
    assert rewardc("check", write(CLEAN)).code == 130

    def reader_gone(*args: object) -> int:
        raise BrokenPipeError

    monkeypatch.setattr(check, "check", reader_gone)
    assert rewardc("check", write(CLEAN)).code == 0
