"""Hostile input: every case gives diagnostics or a clear I/O message, the documented
exit code, and never an exception or a traceback."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from rewardlang import analyze
from rewardlang.parser import MAX_SOURCE_CHARS
from rewardlang.render import render

if TYPE_CHECKING:
    from conftest import CliResult

HEADER = "reward x\nrule a: json\n"


def codes_of(result: CliResult) -> list[str]:
    """Codes from a `--format json` run."""
    return [item["code"] for item in json.loads(result.out)]


def assert_renders(text: str) -> None:
    """Every style renders the diagnostics of `text` without raising."""
    diagnostics = analyze(text).diagnostics
    for style in ("rich", "short", "json"):
        render(diagnostics, text, "f.reward", style=style)


# --------------------------------------------------------------- reading
def test_missing_file(rewardc, tmp_path) -> None:
    result = rewardc("check", tmp_path / "missing.reward")
    assert result.code == 2
    assert result.err.strip() == f"rewardc: error: {tmp_path / 'missing.reward'}: no such file"


def test_directory(rewardc, tmp_path) -> None:
    result = rewardc("check", tmp_path)
    assert result.code == 2
    assert "is a directory" in result.err
    assert "Traceback" not in result.err


def test_binary_file_with_nul(rewardc, write) -> None:
    result = rewardc("check", write(b"reward x\n\x00\x01\x02rule a: json\n"))
    assert result.code == 2
    assert "binary" in result.err and "NUL" in result.err


def test_nul_far_into_a_file_is_still_reported(rewardc, write) -> None:
    # Past the binary sniffing window the file is read as text: the NUL is an unexpected character.
    data = b"reward x\nrule a: json\n" + b"#" * 10_000 + b"\nrule b: json \x00\n"
    result = rewardc("check", write(data), "--format", "json")
    assert result.code == 1
    items = json.loads(result.out)
    assert [item["code"] for item in items] == ["RL004"]
    assert items[0]["message"] == "unexpected character `U+0000`"
    assert (items[0]["span"]["line"], items[0]["span"]["column"]) == (4, 14)


def test_non_utf8_bytes(rewardc, write) -> None:
    result = rewardc("check", write(b'reward x\nrule a: phrases "caf\xe9"\n'))
    assert result.code == 2
    assert "not valid UTF-8" in result.err
    assert ":2:" in result.err  # names the line
    assert "0xe9" in result.err


def test_latin1_comment_is_still_not_utf8(rewardc, write) -> None:
    result = rewardc("fmt", write(b"# r\xe9sum\xe9\nreward x\nrule a: json\n"))
    assert result.code == 2
    assert "UTF-8" in result.err


def test_empty_file(rewardc, write) -> None:
    result = rewardc("check", write(""), "--format", "json")
    assert result.code == 1
    assert codes_of(result) == ["RL010"]


def test_only_comments(rewardc, write) -> None:
    result = rewardc("check", write("# nothing here\n# at all\n"), "--format", "json")
    assert result.code == 1
    assert codes_of(result) == ["RL010"]


def test_only_whitespace(rewardc, write) -> None:
    result = rewardc("check", write("  \n\t\n\n"), "--format", "json")
    assert result.code == 1
    assert codes_of(result) == ["RL010"]


def test_ten_megabyte_file_is_refused_quickly(rewardc, write) -> None:
    # One long comment: cheap to build, and it would be valid if it were small.
    path = write("reward x\nrule a: json\n# " + "x" * (10 * 1024 * 1024) + "\n")
    result = rewardc("check", path, "--format", "json")
    assert result.code == 1
    items = json.loads(result.out)
    assert [item["code"] for item in items] == ["RL008"]
    assert "too large" in items[0]["message"]
    rich = rewardc("check", path)
    assert "error[RL008]" in rich.err
    assert len(rich.err) < 2_000  # does not echo the 10 MB line


def test_ten_megabyte_file_of_rules(rewardc, write) -> None:
    rule = 'rule r{}: phrases "some phrase", "another one" {{ each 0.5 }}\n'
    lines = ["reward big\n"]
    size = 0
    i = 0
    while size < 10 * 1024 * 1024:
        line = rule.format(i)
        lines.append(line)
        size += len(line)
        i += 1
    result = rewardc("check", write("".join(lines)), "--format", "json")
    assert result.code == 1
    assert codes_of(result) == ["RL008"]


def test_fmt_refuses_ten_megabyte_file(rewardc, write) -> None:
    result = rewardc("fmt", write("reward x\n#" + "x" * (10 * 1024 * 1024)))
    assert result.code == 1
    assert "RL008" in result.err


# --------------------------------------------------------------- nesting
def test_ten_thousand_parentheses(rewardc, write) -> None:
    """Redundant parentheses add no depth to the tree: the formula is just `a`, accepted."""
    text = HEADER + "total = " + "(" * 10_000 + "a" + ")" * 10_000 + "\n"
    result = rewardc("check", write(text), "--format", "json")
    assert result.code == 0
    assert codes_of(result) == []
    assert_renders(text)


@pytest.mark.parametrize(
    "formula",
    [
        "-(" * 10_000 + "a" + ")" * 10_000,
        "a + (" * 10_000 + "a" + ")" * 10_000,
        "abs(" * 10_000 + "a" + ")" * 10_000,
        "-" * 10_000 + "a",
        "a" + " + a" * 10_000,
        "(" * 5_000 + "a" + " + a)" * 5_000,
    ],
    ids=["neg", "add", "call", "minus-chain", "long-sum", "left-nested"],
)
def test_deeply_nested_formula_is_rl007(rewardc, write, formula) -> None:
    text = HEADER + "total = " + formula + "\n"
    result = rewardc("check", write(text), "--format", "json")
    assert result.code == 1
    items = json.loads(result.out)
    assert [item["code"] for item in items] == ["RL007"]
    assert items[0]["span"]["line"] == 3
    assert_renders(text)
    fmt = rewardc("fmt", write(text, "f.reward"))
    assert fmt.code == 1
    assert "RL007" in fmt.err


def test_unclosed_deep_parentheses(rewardc, write) -> None:
    text = HEADER + "total = " + "(" * 10_000 + "a\n"
    result = rewardc("check", write(text), "--format", "json")
    assert result.code == 1
    assert codes_of(result) == ["RL006"]
    assert_renders(text)


def test_moderate_nesting_is_fine(rewardc, write) -> None:
    text = HEADER + "total = " + "-(" * 20 + "a" + ")" * 20 + "\n"
    assert rewardc("check", write(text)).code == 0


# ------------------------------------------------------------ big values
def test_hundred_thousand_phrases(rewardc, write) -> None:
    items = ", ".join(f'"p{i}"' for i in range(100_000))
    text = f"reward x\nrule a: phrases {items}\n"
    assert len(text) < MAX_SOURCE_CHARS  # just under the size limit: a valid spec
    result = rewardc("check", write(text), "--format", "json")
    assert (result.code, codes_of(result)) == (0, [])


def test_fifty_thousand_character_rule_name(rewardc, write) -> None:
    name = "n" * 50_000
    assert rewardc("check", write(f"reward x\nrule {name}: json\n")).code == 0


def test_long_name_in_a_diagnostic_renders_compactly(rewardc, write) -> None:
    name = "n" * 50_000
    text = f"reward x\nrule {name}: json\nrule {name}: json\nrule b: json\ntotal = b + {name}x\n"
    result = rewardc("check", write(text))
    assert result.code == 1
    assert "error[RL101]" in result.err and "error[RL111]" in result.err
    assert len(result.err) < 4_000  # the source excerpt is windowed, names in messages shortened
    short = rewardc("check", write(text), "--format", "short")
    assert all(len(line) < 300 for line in short.err.splitlines())


def test_long_unknown_keyword_is_shortened(rewardc, write) -> None:
    word = "w" * 50_000
    result = rewardc("check", write(f"reward x\nrule a: json {{ {word} 1 }}\n"))
    assert result.code == 1
    assert "error[RL001]" in result.err
    assert len(result.err) < 2_000


def test_very_long_string(rewardc, write) -> None:
    text = 'reward x\nrule a: phrases "' + "y" * 200_000 + '"\n'
    assert rewardc("check", write(text)).code == 0


# -------------------------------------------------------------- strings
@pytest.mark.parametrize(
    "line",
    ['rule a: phrases "abc', "rule a: phrases 'abc", 'rule a: phrases "abc\\"', 'rule a: banned "x", "y'],
)
def test_unterminated_strings_are_rl003(rewardc, write, line) -> None:
    result = rewardc("check", write(f"reward x\n{line}\nrule b: json\n"), "--format", "json")
    assert result.code == 1
    items = json.loads(result.out)
    assert [item["code"] for item in items] == ["RL003"]
    assert items[0]["span"]["line"] == 2


def test_string_with_newline_inside(rewardc, write) -> None:
    result = rewardc("check", write('reward x\nrule a: phrases "one\ntwo"\n'), "--format", "json")
    assert result.code == 1
    assert codes_of(result)[0] == "RL003"


def test_lone_brace(rewardc, write) -> None:
    result = rewardc("check", write("{"), "--format", "json")
    assert result.code == 1
    items = json.loads(result.out)
    assert items
    assert all(item["span"]["line"] == 1 for item in items)
    assert_renders("{")


@pytest.mark.parametrize("text", ["}", "reward x\n}", "reward x\nrule a: json }\n", "reward x\nrule a: json { { }\n"])
def test_stray_braces(rewardc, write, text) -> None:
    result = rewardc("check", write(text), "--format", "json")
    assert result.code == 1
    assert codes_of(result)


# -------------------------------------------------------------- unicode
@pytest.mark.parametrize(
    ("char", "name"),
    [("\u200b", "U+200B"), ("\u202e", "U+202E"), ("\u200f", "U+200F"), ("\ufeff", "U+FEFF"), ("\u00a0", "U+00A0")],
)
def test_invisible_characters_outside_strings_are_rl004(rewardc, write, char, name) -> None:
    text = f"reward x\nrule a:{char} json\n"
    result = rewardc("check", write(text), "--format", "json")
    assert result.code == 1
    items = json.loads(result.out)
    assert [item["code"] for item in items] == ["RL004"]
    assert name in items[0]["message"]
    assert (items[0]["span"]["line"], items[0]["span"]["column"]) == (2, 8)
    assert_renders(text)


@pytest.mark.parametrize("char", ["☃", "é", "日", "😀", "\u0301", "ا"])
def test_visible_foreign_characters_outside_strings_are_rl004(rewardc, write, char) -> None:
    text = f"reward x\nrule a: json {char}\n"
    result = rewardc("check", write(text), "--format", "json")
    assert result.code == 1
    assert codes_of(result) == ["RL004"]
    assert_renders(text)


def test_unicode_in_strings_and_comments_is_fine(rewardc, write) -> None:
    text = (
        "# commentaire: café ☃ \u202eevil\u202c \u200b\n"
        "reward x \"Straße 😀\"\n"
        'rule a: phrases "日本語", "\u200bzero width", "\u202ertl", "e\u0301", "مرحبا"\n'
    )
    result = rewardc("check", write(text))
    assert (result.code, result.err) == (0, "")
    spec = analyze(text).spec
    assert spec is not None
    assert spec.rules[0].phrases[0].text == "日本語"


def test_diagnostic_on_a_line_with_wide_characters_renders(rewardc, write) -> None:
    text = 'reward x\nrule a: phrases "日本語😀" { wieght 1 }\n'
    result = rewardc("check", write(text))
    assert result.code == 1
    lines = result.err.splitlines()
    source_line = next(line for line in lines if "wieght 1" in line)
    caret_line = lines[lines.index(source_line) + 1]
    # The carets sit under `wieght` in display columns (wide characters count twice).
    prefix = source_line[: source_line.index("wieght")]
    width = sum(2 if c in "日本語😀" else 1 for c in prefix)
    assert caret_line.index("^") == width
    assert caret_line.count("^") == len("wieght")


def test_control_characters_do_not_reach_the_terminal(rewardc, write) -> None:
    text = "reward x\nrule a: json \x1b[31m\n"
    result = rewardc("check", write(text), "--color", "never")
    assert result.code == 1
    assert "\x1b" not in result.err


# ----------------------------------------------------------- line endings
def test_crlf_line_endings(rewardc, write) -> None:
    assert rewardc("check", write(b"reward x\r\nrule a: json\r\n# c\r\n")).code == 0


def test_crlf_positions(rewardc, write) -> None:
    path = write(b"reward x\r\nrule a: json { wieght 1 }\r\n")
    result = rewardc("check", path, "--format", "short")
    assert result.code == 1
    assert result.err.startswith(f"{path}:2:16: error[RL001]")


def test_old_mac_line_endings(rewardc, write) -> None:
    assert rewardc("check", write(b"reward x\rrule a: json\r")).code == 0


def test_bom(rewardc, write) -> None:
    assert rewardc("check", write(b"\xef\xbb\xbfreward x\nrule a: json\n")).code == 0


def test_bom_positions(rewardc, write) -> None:
    path = write(b"\xef\xbb\xbfreward x\nrule a: jsn\n")
    result = rewardc("check", path, "--format", "short")
    assert result.err.startswith(f"{path}:2:9: error[RL149]")


def test_fmt_normalises_crlf_and_bom(rewardc, write) -> None:
    path = write(b"\xef\xbb\xbfreward x\r\nrule a: json\r\n")
    result = rewardc("fmt", path)
    assert result.code == 0
    assert result.out == "reward x\n\nrule a: json\n"


def test_no_trailing_newline(rewardc, write) -> None:
    assert rewardc("check", write("reward x\nrule a: json")).code == 0
    assert rewardc("check", write("reward x\nrule a: json # c")).code == 0


def test_tabs_and_odd_whitespace(rewardc, write) -> None:
    assert rewardc("check", write("reward\tx\n\trule\ta:\tjson\t{\tweight\t1\t}\n\f")).code == 0


# ----------------------------------------------------------- odd numbers
@pytest.mark.parametrize(
    ("option", "exit_code", "codes"),
    [
        ("weight 1e999", 1, ["RL009"]),  # beyond a float
        ("weight 99999999999999999999999999", 1, ["RL105"]),  # a float, but outside -100..100
        ("weight 1e-400", 0, ["RL207"]),  # underflows to 0: valid, with the weight-0 warning
        ("weight 0.0000000000001", 0, []),
        ("outside -1e308", 1, ["RL105"]),
    ],
)
def test_extreme_numbers_are_diagnosed(rewardc, write, option, exit_code, codes) -> None:
    text = f"reward x\nrule a: length 1..2 words {{ {option} }}\nrule b: json\n"
    result = rewardc("check", write(text), "--format", "json")
    assert (result.code, codes_of(result)) == (exit_code, codes)


def test_huge_integer_limit_is_out_of_range(rewardc, write) -> None:
    result = rewardc("check", write("reward x\nrule a: overlong 99999999999999999999999 tokens\n"), "--format", "json")
    assert result.code == 1
    assert codes_of(result) == ["RL105"]
