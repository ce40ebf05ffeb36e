"""Issue 8 (hardening), the language front end and `rewardc check` / `rewardc fmt`.

Each test pins the exact behaviour of one failure found by the fuzz campaign:
the diagnostic code and position, or the exit status and message, never just
"no traceback". Bounded-cost items are tested by counting work or sizes, not by
timing.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import rewardlang
from rewardlang import analyze, loads, parse
from rewardlang.codes import CODES
from rewardlang.diagnostics import SpecError
from rewardlang.frontend import MAX_SOURCE_BYTES, SourceTooLarge
from rewardlang.parser import MAX_NESTING, MAX_SOURCE_CHARS
from rewardlang.render import render_error

ROOT = Path(__file__).resolve().parent.parent
MANY = "9" * 5000  # more digits than Python's int() accepts (4300)


def found(text: str) -> list[tuple[str, int, int, int]]:
    """(code, line, column, end column) of every diagnostic of `text`."""
    return [(d.code, d.span.line, d.span.column, d.span.end_column) for d in analyze(text).diagnostics]


# ------------------------------------------------------- 1. enormous numbers
@pytest.mark.parametrize(
    ("text", "number", "line", "column"),
    [
        ("reward x\nrule a: length 1.." + MANY + " words\n", MANY, 2, 19),
        ("reward x\nrule a: length 1..2 words { weight " + MANY + " }\n", MANY, 2, 36),
        ("reward x\nrule a: length 1..2 words\ntotal = a * " + MANY + "\n", MANY, 3, 13),
        ("reward x\nrule a: length 1..2 words { weight 1e" + MANY + " }\n", "1e" + MANY, 2, 36),
        ("reward x\nrule a: length 1..2 words\ngate a > -" + MANY + "\n", MANY, 3, 11),
    ],
    ids=["range", "weight", "formula", "exponent", "gate"],
)
def test_number_with_thousands_of_digits_is_rl009(
    text: str, number: str, line: int, column: int, rewardc, write
) -> None:
    assert found(text) == [("RL009", line, column, column + len(number))]
    with pytest.raises(SpecError) as error:
        parse(text)
    assert [d.code for d in error.value.diagnostics] == ["RL009"]
    with pytest.raises(SpecError):
        loads(text)
    path = write(text)
    result = rewardc("check", path, "--format", "json")
    assert result.code == 1
    assert [(i["code"], i["span"]["line"], i["span"]["column"]) for i in json.loads(result.out)] == [
        ("RL009", line, column)
    ]
    formatted = rewardc("fmt", path)
    assert formatted.code == 1
    assert formatted.out == ""
    assert formatted.err.startswith(f"error[RL009]: number `{number[:39]}…` is too large\n")
    assert "larger than 1e308" in formatted.err


def test_long_fractions_and_small_exponents_are_read_by_value() -> None:
    fraction = parse("reward x\nrule a: length 1..2 words { weight 1." + MANY + " }\n")
    assert fraction.rules[0].weight == 2.0
    tiny = parse("reward x\nrule a: length 1..2 words { outside 1e-" + MANY + " }\n")
    assert tiny.rules[0].outside == 0.0
    zeros = parse("reward x\nrule a: length 1..2 words { weight " + "0" * 5000 + "1 }\n")
    assert zeros.rules[0].weight == 1


def test_largest_number_accepted_is_1e308() -> None:
    rule = "reward x\nrule a: length 1..2 words\ngate a > {}\n"
    assert parse(rule.format("1e308")).gates[0].threshold == 1e308
    assert parse(rule.format("1" + "0" * 308)).gates[0].threshold == 1e308  # 309 digits
    assert found(rule.format("2" + "0" * 308)) == [("RL009", 3, 10, 10 + 309)]
    assert found(rule.format("1" + "0" * 309)) == [("RL009", 3, 10, 10 + 310)]
    assert found(rule.format("1.1e308")) == [("RL009", 3, 10, 17)]


# ----------------------------------------------------------------- digits
def test_arabic_indic_digit_is_rl004_naming_it() -> None:
    (diagnostic,) = analyze("reward x\nrule a: length 1..2 words { weight \u0662 }\n").diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("RL004", 2, 36)
    assert diagnostic.message == "unexpected character `\u0662` (ARABIC-INDIC DIGIT TWO)"
    assert diagnostic.label == "not an ASCII digit"
    assert diagnostic.help == "numbers are written with the ASCII digits 0-9: write `2`"


def test_a_run_of_other_digits_is_spelt_in_ascii() -> None:
    (diagnostic,) = analyze("reward x\nrule a: length 1..\uff12\uff10 words\n").diagnostics
    assert (diagnostic.code, diagnostic.span.column) == ("RL004", 19)
    assert diagnostic.message == "unexpected character `\uff12` (FULLWIDTH DIGIT TWO)"
    assert diagnostic.help.endswith("write `20`")


# ------------------------------------------------------------ 2. regexes
@pytest.mark.parametrize("levels", [500, 5000])
def test_deeply_nested_regex_with_backreference_is_rl115(levels: int) -> None:
    pattern = "(" * levels + "a" + ")" * levels + r"\1"
    text = f'reward x\nrule a: regex r"{pattern}"\n'
    (diagnostic,) = analyze(text).diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("RL115", 2, 15)
    assert diagnostic.span.end_column == 15 + len(pattern) + 3  # r"..."
    assert diagnostic.label == r"invalid escape sequence: \1"


@pytest.mark.parametrize("levels", [500, 5000])
def test_deeply_nested_regex_without_backreference_is_valid(levels: int) -> None:
    text = 'reward x\nrule a: regex r"' + "(" * levels + "a" + ")" * levels + '"\n'
    assert found(text) == []
    assert loads(text).score(["xa", "b"]).rules["a"] == [1.0, 0.0]


def test_shallow_regex_errors_keep_their_codes() -> None:
    assert found('reward x\nrule a: regex r"(a"\n')[0][0] == "RL114"
    assert found('reward x\nrule a: regex r"(a)\\1"\n')[0][0] == "RL115"


# ---------------------------------------------------- 3. no valid rule
def test_default_weight_and_total_with_only_a_broken_rule() -> None:
    text = "reward x\ndefaults { weight 2 }\nrule a: length 1..2 wurds\ntotal = 1\n"
    diagnostics = analyze(text).diagnostics
    assert [(d.code, d.severity.value, d.span.line, d.span.column) for d in diagnostics] == [
        ("RL203", "warning", 2, 12),
        ("RL104", "error", 3, 21),
    ]
    assert diagnostics[0].help == "put weights in the `total` formula instead, e.g. `total = 2 * RULE + ...`"


@pytest.mark.parametrize(
    ("tail", "errors"),
    [
        ("total = 1\n", ["RL104"]),
        ("total = a\n", ["RL104"]),
        ("gate a < 1\n", ["RL104"]),
        ("clip 1..0\n", ["RL104", "RL116"]),
        ("total = a / 0\ngate a > 0 then 0\nclip 0..1\n", ["RL104", "RL123"]),
    ],
)
@pytest.mark.parametrize(
    "defaults",
    ["", "defaults { weight 0 }\n", "defaults { weight 2  case lower  scope full  match substring }\n"],
)
def test_checker_with_no_valid_rule_reports_the_rule_error(defaults: str, tail: str, errors: list[str]) -> None:
    text = "reward x\n" + defaults + "rule a: length 1..2 wurds\n" + tail
    with pytest.raises(SpecError) as error:
        parse(text)
    assert [d.code for d in error.value.diagnostics if d.is_error] == errors
    assert "error[RL104]: unknown unit `wurds`" in render_error(error.value)


# ------------------------------------------------------- 4. fmt --write
def _make_read_only(path: Path) -> None:
    """Read-only for this process, root included: chmod, plus `chattr +i` when running as root."""
    path.chmod(0o444)
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        locked = chattr is not None and subprocess.run([chattr, "+i", str(path)], capture_output=True).returncode == 0
        if not locked:
            pytest.skip("running as root without `chattr +i`: no real read-only file to test with")
    try:
        path.open("a").close()
    except PermissionError:
        return
    pytest.skip("this file system lets the file be written anyway")


def _make_writable(path: Path) -> None:
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run(["chattr", "-i", str(path)], check=False, capture_output=True)
    path.chmod(0o644)


def test_fmt_write_on_read_only_file(rewardc, tmp_path) -> None:
    unformatted = "reward x\nrule a:   json\n"
    locked = tmp_path / "locked.reward"
    other = tmp_path / "other.reward"
    locked.write_text(unformatted)
    other.write_text(unformatted)
    _make_read_only(locked)
    try:
        result = rewardc("fmt", "--write", locked, other)
        assert locked.read_text() == unformatted
    finally:
        _make_writable(locked)
    assert result.code == 2
    assert result.err == (
        f"rewardc: error: {locked}: cannot write (permission denied); left unchanged\nreformatted {other}\n"
    )
    assert other.read_text() == "reward x\n\nrule a: json\n"


# --------------------------------------------------- 5. endless inputs
class _Endless(io.RawIOBase):
    """An endless stream of `y\\n` that counts the bytes it hands out."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:
        size = len(buffer)
        buffer[:size] = (b"y\n" * (size // 2 + 1))[:size]
        self.served += size
        return size


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_endless_stdin_stops_at_the_size_limit(command: str, rewardc, monkeypatch) -> None:
    endless = _Endless()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(endless, buffer_size=65536)))
    result = rewardc(command, "--format", "short", "-") if command == "check" else rewardc(command, "-")
    assert result.code == 1
    if command == "check":
        assert result.err == "<stdin>:1:1: error[RL008]: spec is too large (more than 4,000,000 bytes)\n"
    else:
        assert result.err.startswith("error[RL008]: spec is too large (more than 4,000,000 bytes)\n --> <stdin>:1:1\n")
        assert result.out == ""
    assert MAX_SOURCE_BYTES == 4 * MAX_SOURCE_CHARS
    # What was read: the limit plus one byte, rounded up to one buffer of the reader.
    assert MAX_SOURCE_BYTES + 1 <= endless.served <= MAX_SOURCE_BYTES + 1 + 65536


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dev_zero_is_refused_as_binary(rewardc) -> None:
    result = rewardc("check", "/dev/zero")
    assert (result.code, result.err) == (2, "rewardc: error: /dev/zero: binary file, not a spec (found a NUL byte)\n")


def test_byte_limit_of_a_file(rewardc, write) -> None:
    head = b"reward x\n#"
    at_limit = write(head + b"a" * (MAX_SOURCE_BYTES - len(head)), "at.reward")
    over = write(head + b"a" * (MAX_SOURCE_BYTES + 1 - len(head)), "over.reward")
    assert (at_limit.stat().st_size, over.stat().st_size) == (MAX_SOURCE_BYTES, MAX_SOURCE_BYTES + 1)
    result = rewardc("check", at_limit, "--format", "short")
    expected = f"{at_limit}:1:1: error[RL008]: spec is too large (4,000,000 characters)\n"
    assert (result.code, result.err) == (1, expected)
    result = rewardc("check", over, "--format", "short")
    expected = f"{over}:1:1: error[RL008]: spec is too large (more than 4,000,000 bytes)\n"
    assert (result.code, result.err) == (1, expected)
    with pytest.raises(SourceTooLarge, match=r"spec is too large \(more than 4,000,000 bytes, not read further"):
        rewardlang.load(over)


# -------------------------------------------------------- 6. line endings
CR_ONLY = "reward x\r# comment\rrule a: length 1..2 words\r"


def test_cr_only_line_endings_read_the_same_from_a_string_and_a_file(rewardc, write) -> None:
    assert analyze(CR_ONLY).diagnostics == []
    assert [rule.name for rule in parse(CR_ONLY).rules] == ["a"]
    assert loads(CR_ONLY).names == ["x/a"]
    assert rewardc("check", write(CR_ONLY.encode())).code == 0
    assert analyze(CR_ONLY.replace("\r", "\r\n")).diagnostics == []


def test_cr_only_diagnostics_point_at_the_same_place_as_from_a_file(rewardc, write) -> None:
    text = "reward x\r# comment\rrule a: length 1..2 wurds\r"
    assert found(text) == [("RL104", 3, 21, 26)]
    result = rewardc("check", write(text.encode()), "--format", "json")
    assert [(i["code"], i["span"]["line"], i["span"]["column"]) for i in json.loads(result.out)] == [("RL104", 3, 21)]
    with pytest.raises(SpecError) as error:
        parse(text)
    assert "3 | rule a: length 1..2 wurds\n" in render_error(error.value)


def test_fmt_of_a_cr_only_string_keeps_the_comment_and_the_rule() -> None:
    from rewardlang.fmt import format_source

    assert format_source(CR_ONLY) == ("reward x\n\n# comment\nrule a: length 1..2 words\n", [])


# ---------------------------------------------------------- 7. bounded cost
def test_rewarded_and_banned_lists_are_compared_in_linear_work(monkeypatch) -> None:
    from rewardlang import check

    calls = {"normalize": 0, "found": 0}
    real_normalize, real_found = check.normalize, check.PhraseMatcher.found

    def counting_normalize(*args: object, **kwargs: object) -> str:
        calls["normalize"] += 1
        return real_normalize(*args, **kwargs)

    def counting_found(self: object, text: str) -> list[int]:
        calls["found"] += 1
        return real_found(self, text)

    monkeypatch.setattr(check, "normalize", counting_normalize)
    monkeypatch.setattr(check.PhraseMatcher, "found", counting_found)
    size = 300
    phrases = ", ".join(f'"good phrase {i} here"' for i in range(size))
    banned = ", ".join(f'"bad{i}"' for i in range(size)) + ', "phrase 7"'
    text = f"reward x\nrule p: phrases {phrases}\nrule b: banned {banned}\n"
    diagnostics = analyze(text).diagnostics
    assert [(d.code, d.span.line) for d in diagnostics] == [("RL201", 2)]
    assert diagnostics[0].message == "`good phrase 7 here` is rewarded by `p` but banned by `b`"
    # Each list entry normalised once by the duplicate check and once here, each phrase searched once:
    # the pairwise check normalised 300 x 301 banned words.
    assert calls == {"normalize": 2 * (size + size + 1), "found": size}


def test_rl201_keeps_word_and_substring_matching() -> None:
    text = (
        'reward x\nrule p: phrases "harmless fun", "no harm done"\n'
        'rule w: banned "harm"\nrule s: banned "harm" { match substring }\n'
    )
    assert [(d.code, d.span.column, d.message) for d in analyze(text).diagnostics] == [
        ("RL201", 17, "`harmless fun` is rewarded by `p` but banned by `s`"),
        ("RL201", 33, "`no harm done` is rewarded by `p` but banned by `w`"),
        ("RL201", 33, "`no harm done` is rewarded by `p` but banned by `s`"),
    ]


def test_syntax_errors_compute_expected_tokens_once_per_parser_state(monkeypatch) -> None:
    from lark.parsers.lalr_interactive_parser import InteractiveParser

    from rewardlang import parser

    monkeypatch.setattr(parser, "_ACCEPTS", {})
    calls = 0
    real = InteractiveParser.accepts

    def counting(self: InteractiveParser) -> set[str]:
        nonlocal calls
        calls += 1
        return real(self)

    monkeypatch.setattr(InteractiveParser, "accepts", counting)
    text = "reward x\n" + "".join(f"rule r{i}: length 1..2 words {{ wieght 1 }}\n" for i in range(2000))
    diagnostics = analyze(text).diagnostics
    assert len(diagnostics) == 2000
    assert {d.code for d in diagnostics} == {"RL001"}
    assert calls == 1


def test_rendering_splits_the_source_once(monkeypatch) -> None:
    from rewardlang import render

    calls = 0
    real = render.normalize_newlines

    def counting(text: str) -> str:
        nonlocal calls
        calls += 1
        return real(text)

    monkeypatch.setattr(render, "normalize_newlines", counting)
    text = "reward x\n" + "".join(f"rule r{i}: length 1..2 wurds\n" for i in range(3000))
    diagnostics = analyze(text).diagnostics
    output = render.render(diagnostics, text, "f.reward")
    assert output.count("error[RL104]") == 3000
    assert "3001 | rule r2999: length 1..2 wurds\n" in output
    assert calls == 1
    colored = render.render(diagnostics, text, "f.reward", color=True)
    assert colored.count("\x1b[1;31merror[RL104]\x1b[0m") == 3000


def test_fmt_never_writes_a_spec_past_the_size_limit(rewardc, write) -> None:
    # A raw control character in a string is one character; formatted, it is the escape `\x01`.
    head = 'reward x\nrule a: phrases "'
    text = head + "\x01" * (MAX_SOURCE_CHARS // 2 - len(head) - 3) + '"\n'
    assert len(text) < MAX_SOURCE_CHARS
    path = write(text)
    result = rewardc("fmt", "--write", path)
    assert result.code == 1
    first = result.err.splitlines()[0]
    size = re.fullmatch(r"error\[RL008\]: the formatted spec would be too large \(([\d,]+) characters\)", first)
    assert size is not None and int(size.group(1).replace(",", "")) > MAX_SOURCE_CHARS
    assert path.read_text() == text
    printed = rewardc("fmt", path)
    assert (printed.code, printed.out) == (1, "")


# ------------------------------------------------------- 8. docs agree
def test_formula_nesting_limit_is_exactly_100_levels() -> None:
    assert MAX_NESTING == 100
    base = "reward x\nrule a: length 1..2 words\ntotal = "
    for formula in ("-" * 100 + "a", "a" + " + a" * 100, "abs(" * 100 + "a" + ")" * 100, "(" * 500 + "a" + ")" * 500):
        assert found(base + formula + "\n") == []
    for formula in ("-" * 101 + "a", "a" + " + a" * 101, "abs(" * 101 + "a" + ")" * 101):
        assert [code for code, *_ in found(base + formula + "\n")] == ["RL007"]


def test_language_reference_states_the_limits() -> None:
    reference = " ".join((ROOT / "docs" / "language.md").read_text(encoding="utf-8").split())
    assert f"Nesting is limited to {MAX_NESTING} levels" in reference
    assert "The largest magnitude accepted is `1e308`" in reference
    assert f"A spec holds at most {MAX_SOURCE_CHARS:,} characters" in reference
    assert f"read at most {MAX_SOURCE_BYTES:,} bytes" in reference


def test_diagnostics_table_lists_every_code() -> None:
    reference = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = reference[reference.index("## 9. Diagnostics") : reference.index("## 10.")]
    rows = re.findall(r"^\| (RL\d+) \| (error|warning) \| (.+) \|$", section, re.MULTILINE)
    assert rows == [(code, info.severity, info.title) for code, info in sorted(CODES.items())]
