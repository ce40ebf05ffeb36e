"""Validation and semantic checks: codes, positions, labels and suggestions."""

from __future__ import annotations

import pytest

from rewardlang import analyze
from rewardlang.diagnostics import Diagnostic, Severity


def diagnostics(text: str) -> list[Diagnostic]:
    return analyze(text).diagnostics


def single(text: str, code: str) -> Diagnostic:
    found = diagnostics(text)
    assert [d.code for d in found] == [code], found
    return found[0]


def where(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def at(d: Diagnostic) -> tuple[int, int]:
    return d.span.line, d.span.column


def covers(text: str, d: Diagnostic) -> str:
    return text[d.span.start : d.span.end]


# ------------------------------------------------------------ bad values
def test_misspelled_unit_is_rl104_with_suggestion() -> None:
    text = "reward chat\nrule length: length 50..200 wrds\n"
    d = single(text, "RL104")
    assert d.message == "unknown unit `wrds`"
    assert at(d) == where(text, "wrds")
    assert covers(text, d) == "wrds"
    assert d.label == "expected `words`, `characters`, `tokens` or `sentences`"
    assert d.help == "did you mean `words`?"


@pytest.mark.parametrize(
    ("text", "word", "suggestion"),
    [
        ("reward x\nrule a: json { scope anser }\n", "anser", "answer"),
        ("reward x\ndefaults { scope anser }\nrule a: json\n", "anser", "answer"),
        ("reward x\nrule a: similarity rouge to last_user\n", "rouge", "rougeL"),
        ('reward x\nrule a: phrases "x" { match substrng }\n', "substrng", "substring"),
        ("reward x\nrule a: overlong 10 tokns\n", "tokns", "tokens"),
        ("reward x\nrule a: equals prompt { compare exakt }\n", "exakt", "exact"),
    ],
)
def test_unknown_words_are_rl104_with_suggestion(text: str, word: str, suggestion: str) -> None:
    d = single(text, "RL104")
    assert f"`{word}`" in d.message
    assert covers(text, d).endswith(word)
    assert d.help == f"did you mean `{suggestion}`?"


def test_unknown_target_is_rl110_with_suggestion() -> None:
    text = "reward chat\nrule on_topic: relevance to last_usr\n"
    d = single(text, "RL110")
    assert d.message == "unknown target `last_usr`"
    assert at(d) == where(text, "last_usr")
    assert covers(text, d) == "last_usr"
    assert d.help == "did you mean `last_user`?"
    assert "`column NAME`" in d.label


def test_unknown_target_without_close_match_suggests_a_column() -> None:
    d = single("reward x\nrule a: overlap to reference\n", "RL110")
    assert d.help == "for a dataset column write `column reference`"


def test_option_not_applicable_is_rl102_listing_accepted_options() -> None:
    text = "reward x\nrule b: json { each 1 }\n"
    d = single(text, "RL102")
    assert d.message == "option `each` does not apply to `json` rules"
    assert at(d) == where(text, "each")
    assert covers(text, d) == "each"
    assert d.help == "`json` rules accept `extract`, `keys`, `schema`, `scope`, `tool`, `weight` or `when`"


def test_option_not_applicable_to_length_rules() -> None:
    text = 'reward x\nrule a: length 1..2 words { keys "k" }\n'
    d = single(text, "RL102")
    assert "`length` rules" in d.message
    assert "`outside`" in d.help and "`ramp`" in d.help


def test_option_not_allowed_in_defaults_is_rl102() -> None:
    text = "reward x\ndefaults { each 1 }\nrule a: json\n"
    d = single(text, "RL102")
    assert d.message == "option `each` cannot be set in `defaults`"
    assert at(d) == where(text, "each")
    assert "`weight`" in d.help


def test_duplicate_rule_is_rl101_with_secondary_label() -> None:
    text = "reward x\nrule a: json\nrule a: repetition { ngram 2 }\n"
    d = single(text, "RL101")
    assert d.message == "rule `a` is defined twice"
    assert at(d) == (3, 6)
    assert d.label == "defined again here"
    assert len(d.labels) == 1
    assert d.labels[0].message == "first defined here"
    assert (d.labels[0].span.line, d.labels[0].span.column) == (2, 6)
    assert text[d.labels[0].span.start : d.labels[0].span.end] == "a"


def test_option_given_twice_is_rl103() -> None:
    text = "reward x\nrule a: json { weight 1  weight 2 }\n"
    d = single(text, "RL103")
    assert at(d) == where(text, "weight 2")
    assert d.labels[0].message == "first given here"
    assert at(d.labels[0]) == where(text, "weight 1")


def test_total_given_twice_is_rl103() -> None:
    d = single("reward x\nrule a: json\ntotal = a\ntotal = a\n", "RL103")
    assert at(d) == (4, 1)
    assert d.labels[0].span.line == 3


def test_out_of_range_is_rl105() -> None:
    text = "reward x\nrule a: json { weight 1000 }\n"
    d = single(text, "RL105")
    assert d.message == "`weight` is out of range"
    assert d.label == "must be at most 100"
    assert covers(text, d).endswith("1000")


def test_fraction_where_whole_number_needed_is_rl106() -> None:
    d = single("reward x\nrule a: repetition { ngram 2.5 }\n", "RL106")
    assert d.message == "`ngram` must be a whole number"
    assert "2.5" in d.label


def test_empty_phrase_is_rl107() -> None:
    text = 'reward x\nrule a: phrases "ok", ""\n'
    d = single(text, "RL107")
    assert covers(text, d) == '""'


def test_blank_phrase_is_rl107() -> None:
    text = 'reward x\nrule a: banned "  "\n'
    d = single(text, "RL107")
    assert covers(text, d) == '"  "'


def test_unknown_function_is_rl112_with_suggestion() -> None:
    text = "reward x\nrule a: json\ntotal = mx(a, 1)\n"
    d = single(text, "RL112")
    assert covers(text, d) == "mx"
    assert d.help == "did you mean `max`?"


def test_wrong_arity_is_rl113() -> None:
    text = "reward x\nrule a: json\ntotal = clip(a)\n"
    d = single(text, "RL113")
    assert d.message == "`clip` takes 3 arguments, not 1"
    assert covers(text, d) == "clip(a)"


def test_invalid_regex_is_rl114() -> None:
    text = 'reward x\nrule a: regex "(abc"\n'
    d = single(text, "RL114")
    assert covers(text, d) == '"(abc"'


def test_backtracking_regex_is_rl115() -> None:
    d = single('reward x\nrule a: regex r"(a)\\1"\n', "RL115")
    assert "linear" in d.message


@pytest.mark.parametrize(
    ("rule", "label"),
    [
        ("length 10..5 words", "the range is inverted: 10 is above 5"),
        ("length 1.2..1.8 words", "no whole number lies between 1.2 and 1.8"),
        ('tags "t" { count ..-1 }', "a count is never below 0, so nothing is at most -1"),
        ("relevance to prompt { rescale 0.5..0.5 }", "the range is empty: both ends are equal"),
        ('markers "a" { count 3..1 }', "the range is inverted: 3 is above 1"),
    ],
)
def test_impossible_ranges_are_rl116(rule: str, label: str) -> None:
    d = single(f"reward x\nrule a: {rule}\n", "RL116")
    assert d.label == label


def test_inverted_clip_is_rl116() -> None:
    text = "reward x\nrule a: json\nclip 3..1\n"
    d = single(text, "RL116")
    assert covers(text, d) == "3..1"


def test_all_weights_zero_is_rl117() -> None:
    single("reward x\nrule a: json { weight 0 }\nrule b: json { weight 0 }\n", "RL117")


def test_no_rules_is_rl118() -> None:
    d = single("reward x\n", "RL118")
    assert d.message == "spec `x` has no rules"


def test_reserved_rule_name_is_rl119() -> None:
    text = "reward x\nrule total: json\n"
    d = single(text, "RL119")
    assert at(d) == where(text, "total")


def test_regex_mixing_counting_and_presence_is_rl120() -> None:
    text = 'reward x\nrule a: regex "a" { each 1  present 1 }\n'
    d = single(text, "RL120")
    assert at(d) == where(text, "each")
    assert at(d.labels[0]) == where(text, "present")


def test_regex_cap_without_each_is_rl120() -> None:
    d = single('reward x\nrule a: regex "a" { cap 1 }\n', "RL120")
    assert d.message == "`cap` needs `each`"


def test_bad_tag_name_is_rl121() -> None:
    text = 'reward x\nrule a: tags "<b>"\n'
    d = single(text, "RL121")
    assert covers(text, d) == '"<b>"'


@pytest.mark.parametrize("marker", ['"<think>\\n"', '"\\n</think>\\n"'])
def test_think_marker_under_scope_answer_is_rl211(marker: str) -> None:
    text = f'reward x\nrule a: markers {marker}, "</answer>" {{ scope answer }}\n'
    d = single(text, "RL211")
    assert covers(text, d) == marker
    assert diagnostics(text.replace("{ scope answer }", "")) == []  # `markers` look in the full text by default


def test_markers_are_compared_as_written() -> None:
    text = 'reward x\nrule a: markers "a", "<think>", "<think>\\n", "A", " a", "a"\n'
    d = single(text, "RL204")
    assert covers(text, d) == '"a"' and d.span.start == text.rindex('"a"')
    assert d.label == "duplicate"


def test_overlong_buffer_above_limit_is_rl122() -> None:
    d = single("reward x\nrule a: overlong 10 tokens { buffer 20 }\n", "RL122")
    assert d.message == "buffer 20 is larger than the limit 10"


def test_division_by_zero_is_rl123() -> None:
    text = "reward x\nrule a: json\ntotal = a / 0\n"
    d = single(text, "RL123")
    assert at(d) == (3, 13)
    assert covers(text, d) == "0"


# ---------------------------------------------------------------- formulas
def test_unknown_rule_in_total_is_rl111_with_suggestion() -> None:
    text = "reward x\nrule length: length ..5 words\nrule b: json\ntotal = lenght + b\n"
    d = single(text, "RL111")
    assert d.message == "unknown rule `lenght`"
    assert at(d) == where(text, "lenght")
    assert covers(text, d) == "lenght"
    assert d.help == "did you mean `length`?"


def test_unknown_rule_without_close_match_lists_defined_rules() -> None:
    d = single("reward x\nrule a: json\nrule b: json\ntotal = a + b + zz\n", "RL111")
    assert d.help == "defined rules: `a` or `b`"


def test_unknown_rule_in_gate_is_rl111() -> None:
    text = "reward x\nrule safety: json\ngate safty < 1\n"
    d = single(text, "RL111")
    assert at(d) == where(text, "safty")
    assert d.help == "did you mean `safety`?"


def test_broken_rules_do_not_cascade_into_unknown_rule_errors() -> None:
    text = (
        "reward x\n"
        "rule a: jsn\n"  # unknown kind
        "rule b: relevance to usr\n"  # bad target
        "rule c: length 1..2 wrds\n"  # bad unit
        "rule d: json {\n"  # unclosed block
        "rule e: json\n"
        "gate a < 1\n"
        "gate b < 1\n"
        "total = a + b + c + d + e\n"
    )
    codes = [d.code for d in diagnostics(text)]
    assert codes == ["RL149", "RL110", "RL104", "RL006"]


def test_many_errors_are_all_reported_sorted_by_position() -> None:
    text = (
        "reward x\n"
        "rule b: length 1..2 wrds\n"
        "rule a: jsn\n"
        "rule c: json { each 1 }\n"
        "rule d: json\n"
        "rule d: repetition\n"
        "total = a + b + c + d + zz\n"
    )
    found = diagnostics(text)
    assert [d.code for d in found] == ["RL104", "RL149", "RL102", "RL101", "RL111"]
    starts = [d.span.start for d in found]
    assert starts == sorted(starts)
    assert [d.span.line for d in found] == [2, 3, 4, 6, 7]
    assert analyze(text).spec is None


# ---------------------------------------------------------------- warnings
@pytest.mark.parametrize(
    ("text", "code"),
    [
        ('reward x\nrule a: phrases "x"\nrule b: banned "x"\n', "RL201"),
        ('reward x\nrule a: banned "x" { present 0  absent 0 }\nrule b: json\n', "RL202"),
        ("reward x\nrule a: json { weight 2 }\ntotal = a\n", "RL203"),
        ('reward x\nrule a: phrases "x", "X"\n', "RL204"),
        ("reward x\nrule a: json\nrule b: json\ntotal = a\n", "RL205"),
        ('reward x\nrule a: regex "a*"\n', "RL206"),
        ("reward x\nrule a: json\nrule b: json { weight 0 }\n", "RL207"),
        ("reward x\nrule a: length 1..5 tokens { scope answer }\n", "RL208"),
        ("reward x\nrule a: json\ngate a < 5\n", "RL209"),
        ("reward x\ndefaults { match substring }\nrule a: json\n", "RL210"),
    ],
)
def test_warnings_do_not_block_the_spec(text: str, code: str) -> None:
    analysis = analyze(text)
    assert [d.code for d in analysis.diagnostics] == [code]
    assert analysis.diagnostics[0].severity is Severity.WARNING
    assert analysis.errors == []
    assert analysis.spec is not None


def test_duplicate_phrase_warning_points_at_both() -> None:
    text = 'reward x\nrule a: phrases "x", "X"\n'
    d = single(text, "RL204")
    assert covers(text, d) == '"X"'
    assert text[d.labels[0].span.start : d.labels[0].span.end] == '"x"'
    assert "after normalisation" in d.label


def test_clean_spec_has_no_diagnostics(all_kinds_spec: str) -> None:
    analysis = analyze(all_kinds_spec)
    assert analysis.diagnostics == []
    assert analysis.spec is not None


# ---------------------------------------------- cascades and known bugs
def test_default_weight_with_total_warns_once() -> None:
    text = "reward x\ndefaults { weight 2 }\nrule a: json\nrule b: json\nrule c: json\ntotal = a + b + c\n"
    assert [d.code for d in diagnostics(text)] == ["RL203"]


def test_huge_number_does_not_cascade() -> None:
    text = "reward x\nrule a: json { weight 1e999 }\nrule b: json\n"
    assert [d.code for d in diagnostics(text)] == ["RL009"]


def test_deep_formula_error_points_at_the_formula() -> None:
    text = "reward x\nrule a: json\ntotal = " + "-(" * 1000 + "a" + ")" * 1000 + "\n"
    d = single(text, "RL007")
    assert d.span.line == 3


def test_deep_formula_does_not_hide_other_errors() -> None:
    text = "reward x\nrule a: json { each 1 }\ntotal = " + "-(" * 1000 + "a" + ")" * 1000 + "\n"
    assert sorted(d.code for d in diagnostics(text)) == ["RL007", "RL102"]


def test_a_rule_read_by_a_gate_may_have_weight_0() -> None:
    text = "reward x\nrule a: json\nrule copied: similarity rougeL to prompt { weight 0 }\ngate copied > 0.7 then 0\n"
    assert analyze(text).diagnostics == []
