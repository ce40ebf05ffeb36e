"""`rewardc fmt`: the canonical form, comments, blank lines, wrapping and formula parentheses."""

from __future__ import annotations

import os
import stat
from collections import Counter
from pathlib import Path

import pytest

from rewardlang import analyze
from rewardlang.fmt import WIDTH, format_source


def fmt(text: str) -> str:
    formatted, diagnostics = format_source(text)
    assert diagnostics == [], diagnostics
    assert formatted is not None
    return formatted


def same_spec(a: str, b: str) -> None:
    first, second = analyze(a).spec, analyze(b).spec
    assert first is not None and second is not None
    assert first.model_dump() == second.model_dump()


def comments(text: str) -> Counter[str]:
    return Counter(c.text.rstrip() for c in analyze(text).syntax.comments)


MESSY = """\
  # header comment
reward   messy   "desc"   # trailing on header



defaults{case    insensitive}
rule  a : length 1 .. 10 words{weight 2.0 outside 0.250}   # after a


# before b
rule b:phrases "x",  'y' ,{
  # inside block
  each 0.5   # trailing each

  cap 1
}
total=(a*2)+b - (a - b)
gate a<0.5 then -1
clip -1..1
# end comment
"""

MESSY_FORMATTED = """\
# header comment
reward messy "desc"  # trailing on header

defaults { case insensitive }
rule a: length 1..10 words { weight 2  outside 0.25 }  # after a

# before b
rule b: phrases "x", "y" {
    # inside block
    each 0.5  # trailing each

    cap 1
}
total = a * 2 + b - (a - b)
gate a < 0.5 then -1
clip -1..1
# end comment
"""


def test_messy_spec_canonical_output() -> None:
    assert fmt(MESSY) == MESSY_FORMATTED


def test_canonical_output_is_a_fixed_point() -> None:
    assert fmt(MESSY_FORMATTED) == MESSY_FORMATTED


def test_formatting_keeps_the_spec_and_every_comment() -> None:
    same_spec(MESSY, MESSY_FORMATTED)
    assert comments(MESSY) == comments(MESSY_FORMATTED)
    assert len(comments(MESSY)) == 7


def test_all_kinds_spec_is_stable(all_kinds_spec: str) -> None:
    once = fmt(all_kinds_spec)
    assert fmt(once) == once
    same_spec(all_kinds_spec, once)
    assert comments(once) == comments(all_kinds_spec)
    assert all(len(line) <= WIDTH for line in once.splitlines() if not line.startswith("total ="))
    # More than three options: the block goes over several lines.
    assert 'rule cls: classifier "org/model" {\n    label "positive"\n    activation softmax\n' in once


# ------------------------------------------------------------- comments
def test_own_line_and_trailing_comments_in_blocks() -> None:
    text = (
        "reward x\n"
        "rule c: json { # open\n"
        "  weight 1 # w\n"
        "  # before close\n"
        "} # after close\n"
        "total = c # t\n"
    )
    assert fmt(text) == (
        "reward x\n"
        "\n"
        "rule c: json {  # open\n"
        "    weight 1  # w\n"
        "    # before close\n"
        "}  # after close\n"
        "total = c  # t\n"
    )


def test_comment_in_a_block_forces_multi_line_layout() -> None:
    text = "reward x\nrule a: json {\n  # why\n  weight 2 }\n"
    assert fmt(text) == "reward x\n\nrule a: json {\n    # why\n    weight 2\n}\n"


def test_comments_inside_long_lists_are_kept() -> None:
    text = (
        "reward x\n"
        "rule b: phrases\n"
        '    "one",   # first\n'
        "    # own line in list\n"
        '    "two",\n'
        '    "three" { each 0.5 }\n'
    )
    formatted = fmt(text)
    assert comments(formatted) == comments(text) == Counter({"# first": 1, "# own line in list": 1})
    same_spec(text, formatted)
    assert fmt(formatted) == formatted
    assert 'rule b: phrases "one", "two", "three" { each 0.5 }' in formatted


def test_comment_at_end_of_file_without_newline() -> None:
    assert fmt("reward x\nrule a: json\n# bye") == "reward x\n\nrule a: json\n# bye\n"


def test_trailing_whitespace_in_comments_is_trimmed() -> None:
    assert fmt("reward x   # c   \nrule a: json\n") == "reward x  # c\n\nrule a: json\n"


def test_hash_inside_strings_is_not_a_comment() -> None:
    text = 'reward x\nrule a: phrases "a # b", \'c # d\'  # real\n'
    assert fmt(text) == 'reward x\n\nrule a: phrases "a # b", "c # d"  # real\n'


def test_comment_after_raw_string_ending_in_backslash_is_kept() -> None:
    text = 'reward x\nrule a: phrases r"a\\"  # he said "hi"\n'
    assert analyze(text).spec is not None
    assert fmt(text) == text.replace("reward x\n", "reward x\n\n")


# ------------------------------------------------------------ blank lines
def test_blank_lines_between_statements_collapse_to_one() -> None:
    text = "reward x\nrule a: json\n\n\n\n\nrule b: json\n\n\n\n# c1\n\n\n# c2\nrule c: json\n\n\n"
    assert fmt(text) == "reward x\n\nrule a: json\n\nrule b: json\n\n# c1\n\n# c2\nrule c: json\n"


def test_statements_without_blank_lines_stay_together() -> None:
    text = "reward x\nrule a: json\nrule b: json\ntotal = a + b\n"
    assert fmt(text) == "reward x\n\nrule a: json\nrule b: json\ntotal = a + b\n"


def test_header_only() -> None:
    assert fmt("reward x\n\n\n") == "reward x\n"


# --------------------------------------------------------------- values
def test_values_are_written_canonically() -> None:
    text = "reward x\nrule a: json { weight 1.0 }\nrule b: length .5..1e3 words { outside 0.50 }\n"
    assert fmt(text) == (
        "reward x\n\nrule a: json { weight 1 }\nrule b: length 0.5..1000 words { outside 0.5 }\n"
    )


def test_strings_use_double_quotes_unless_they_hold_one_and_raw_strings_stay_raw() -> None:
    text = "reward x\nrule a: phrases 'a\"b', 'c\\'d', \"e\\\"f'g\", r'x\"y', \"t\\tab\"\nrule r: regex r\"\\d+\\s\"\n"
    formatted = fmt(text)
    assert formatted == (
        "reward x\n\n"
        'rule a: phrases \'a"b\', "c\'d", "e\\"f\'g", r\'x"y\', "t\\tab"\n'
        'rule r: regex r"\\d+\\s"\n'
    )
    same_spec(text, formatted)


def test_empty_block_and_flags() -> None:
    text = 'reward x\nrule a: json {}\nrule t: tags "b" {ordered count 1..}\n'
    assert fmt(text) == 'reward x\n\nrule a: json {}\nrule t: tags "b" { ordered  count 1.. }\n'


def test_targets_and_columns() -> None:
    text = 'reward x\nrule a: equals column "ref answer"\nrule b: overlap to column reference\n'
    assert fmt(text) == text.replace("reward x\n", "reward x\n\n")


# --------------------------------------------------------------- wrapping
def test_long_lists_are_wrapped() -> None:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
             "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo", "sierra", "tango"]
    text = "reward x\nrule banned_words: banned " + ", ".join(f'"{w}"' for w in words) + " { weight 2 }\n"
    formatted = fmt(text)
    assert formatted == (
        "reward x\n"
        "\n"
        "rule banned_words: banned\n"
        '        "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel",\n'
        '        "india", "juliet", "kilo", "lima", "mike", "november", "oscar", "papa",\n'
        '        "quebec", "romeo", "sierra", "tango" {\n'
        "    weight 2\n"
        "}\n"
    )
    assert all(len(line) <= WIDTH for line in formatted.splitlines())
    same_spec(text, formatted)
    assert fmt(formatted) == formatted


def test_wrapped_lists_fill_lines_up_to_the_width() -> None:
    items = ", ".join(f'"item number {i:03d}"' for i in range(60))
    formatted = fmt(f"reward x\nrule p: phrases {items}\n")
    body = formatted.splitlines()[3:]
    assert len(body) > 5
    assert all(line.startswith('        "') and len(line) <= WIDTH for line in body)
    # Each full line leaves no room for the next item.
    assert all(len(line) + len(' "item number 000",') > WIDTH for line in body[:-1])
    assert fmt(formatted) == formatted


def test_short_lists_stay_on_one_line() -> None:
    text = 'reward x\nrule a: phrases\n  "one",\n  "two"\n'
    assert fmt(text) == 'reward x\n\nrule a: phrases "one", "two"\n'


def test_many_options_go_one_per_line() -> None:
    text = 'reward x\nrule a: phrases "x" { each 1 cap 1 case lower match word }\n'
    assert fmt(text) == (
        'reward x\n\nrule a: phrases "x" {\n    each 1\n    cap 1\n    case lower\n    match word\n}\n'
    )


# --------------------------------------------------------------- formulas
RULES = "reward x\nrule a: json\nrule b: json\nrule c: json\n"


@pytest.mark.parametrize(
    ("written", "canonical"),
    [
        ("a - (b - c)", "a - (b - c)"),
        ("(a * b) + c", "a * b + c"),
        ("(a + b) * c", "(a + b) * c"),
        ("(a - b) - c", "a - b - c"),
        ("a * (b * c)", "a * (b * c)"),
        ("a / (b / c)", "a / (b / c)"),
        ("(a / b) * c", "a / b * c"),
        ("a + (b * c)", "a + b * c"),
        ("-(a + b)", "-(a + b)"),
        ("-(a)", "-a"),
        ("-(-a)", "--a"),
        ("-(a * b)", "-(a * b)"),
        ("(-a) * b", "-a * b"),
        ("((a))", "a"),
        ("a - (-b)", "a - -b"),
        ("min((a), (b + c))", "min(a, b + c)"),
        ("clip(( a ),0,1)", "clip(a, 0, 1)"),
        ("2.50*a", "2.5 * a"),
    ],
)
def test_formula_parentheses_are_minimal_but_keep_the_tree(written: str, canonical: str) -> None:
    text = RULES + f"total = {written}\n"
    formatted = fmt(text)
    assert formatted.splitlines()[-1] == f"total = {canonical}"
    same_spec(text, formatted)


# ------------------------------------------------------------- errors
def test_syntax_errors_stop_formatting() -> None:
    formatted, diagnostics = format_source("reward x\nrule a: json @\nrule b: json {\n")
    assert formatted is None
    assert [d.code for d in diagnostics] == ["RL004", "RL006"]


def test_semantic_errors_do_not_stop_formatting() -> None:
    assert fmt("reward x\nrule a:json{each 1}\ntotal=zz\n") == "reward x\n\nrule a: json { each 1 }\ntotal = zz\n"


# ---------------------------------------------- `rewardc fmt --write` is atomic
WRITE_BEFORE = "reward   x\nrule a:json{weight 2}\n"
WRITE_AFTER = "reward x\n\nrule a: json { weight 2 }\n"


def test_fmt_write_keeps_the_file_mode_and_leaves_no_temporary_file(rewardc, write) -> None:
    path = write(WRITE_BEFORE)
    path.chmod(0o640)
    result = rewardc("fmt", "--write", path)
    assert (result.code, result.err) == (0, f"reformatted {path}\n")
    assert path.read_text() == WRITE_AFTER
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_fmt_write_through_a_symbolic_link_keeps_the_link(rewardc, write) -> None:
    real = write(WRITE_BEFORE, "real.reward")
    link = real.parent / "link.reward"
    link.symlink_to(real.name)
    result = rewardc("fmt", "--write", link)
    assert result.code == 0
    assert link.is_symlink()
    assert link.readlink() == Path(real.name)
    assert real.read_text() == WRITE_AFTER


def test_fmt_write_that_fails_leaves_the_old_file_whole(rewardc, write, monkeypatch) -> None:
    """The rename is the last step: when it fails, the file is as it was and no temporary file is left."""
    path = write(WRITE_BEFORE)

    def failing_replace(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", failing_replace)
    result = rewardc("fmt", "--write", path)
    assert result.code == 2
    assert result.err == f"rewardc: error: {path}: cannot write (No space left on device); left unchanged\n"
    assert path.read_text() == WRITE_BEFORE
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]
