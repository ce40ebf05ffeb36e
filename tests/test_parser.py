"""Syntax: error codes, positions and hints; the model a valid spec parses into; spans."""

from __future__ import annotations

from pathlib import Path

import pytest

import rewardlang
from rewardlang import analyze, ast, registry
from rewardlang.diagnostics import Diagnostic
from rewardlang.kinds.banned import BannedRule
from rewardlang.kinds.classifier import ClassifierRule
from rewardlang.kinds.equals import EqualsRule
from rewardlang.kinds.json_format import JsonRule
from rewardlang.kinds.length import LengthRule
from rewardlang.kinds.overlap import OverlapRule
from rewardlang.kinds.overlong import OverlongRule
from rewardlang.kinds.phrases import PhrasesRule
from rewardlang.kinds.regex import RegexRule
from rewardlang.kinds.relevance import RelevanceRule
from rewardlang.kinds.repetition import RepetitionRule
from rewardlang.kinds.similarity import SimilarityRule
from rewardlang.kinds.tags import TagsRule
from rewardlang.render import render_error


# ------------------------------------------------------------------ helpers
def diagnostics(text: str) -> list[Diagnostic]:
    return analyze(text).diagnostics


def single(text: str, code: str) -> Diagnostic:
    """The one diagnostic of `text`, which must carry `code`."""
    found = diagnostics(text)
    assert [d.code for d in found] == [code], found
    return found[0]


def where(text: str, needle: str, nth: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of `needle` in `text`."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def at(d: Diagnostic) -> tuple[int, int]:
    return d.span.line, d.span.column


def spec_of(text: str) -> ast.Spec:
    analysis = analyze(text)
    assert analysis.spec is not None, analysis.diagnostics
    assert not analysis.errors
    return analysis.spec


def source_of(text: str, node: ast.Node) -> str:
    return text[node.span.start : node.span.end]


# -------------------------------------------------------- syntax errors
def test_misspelled_option_keyword_is_rl001_with_did_you_mean() -> None:
    text = "reward chat\nrule length: length 50..200 words { outside 0.5  wieght 1.5 }\n"
    d = single(text, "RL001")
    assert d.is_error
    assert d.message == "unknown keyword `wieght`"
    assert at(d) == where(text, "wieght") == (2, 50)
    assert (d.span.end_line, d.span.end_column) == (2, 56)  # end is exclusive
    assert d.help == "did you mean `weight`?"
    # The label lists the options of a `length` rule only, plus the closing brace.
    assert d.label.startswith("expected one of")
    for word in ("`outside`", "`ramp`", "`weight`", "`}`"):
        assert word in d.label
    assert "`each`" not in d.label


def test_misspelled_option_in_phrases_block_suggests_each() -> None:
    text = 'reward x\nrule a: phrases "x" { eahc 1 }\n'
    d = single(text, "RL001")
    assert at(d) == where(text, "eahc")
    assert d.help == "did you mean `each`?"


def test_misspelled_option_in_defaults_suggests_weight() -> None:
    d = single("reward x\ndefaults { wieght 1 }\nrule a: json\n", "RL001")
    assert d.help == "did you mean `weight`?"


# A kind that is not a keyword parses as a plugin kind; validation reports it (tests/test_plugins.py).
PLUGIN_HELP = 'a plugin kind needs its package installed and named in the spec\'s `plugins "PACKAGE"` statement'


def test_misspelled_rule_kind_is_rl149() -> None:
    text = "reward x\nrule a: lenght 1..2 words\n"
    d = single(text, "RL149")
    assert d.message == "unknown rule kind `lenght`"
    assert at(d) == where(text, "lenght")
    assert d.help == "did you mean `length`? " + PLUGIN_HELP


def test_uppercase_kind_suggests_lowercase() -> None:
    d = single("reward x\nrule a: JSON\n", "RL149")
    assert d.help == "did you mean `json`? " + PLUGIN_HELP


@pytest.mark.parametrize(
    ("text", "word", "keyword"),
    [
        ("reward x\nrul a: json\n", "rul", "rule"),
        ("reward x\nrule a: json\ntotl = a\n", "totl", "total"),
        ("reward x\nrule a: json\ngte a < 1\n", "gte", "gate"),
        ("reward x\ndefault { weight 1 }\nrule a: json\n", "default", "defaults"),
    ],
)
def test_misspelled_statement_keyword_is_rl001_with_did_you_mean(text: str, word: str, keyword: str) -> None:
    d = diagnostics(text)[0]
    assert d.code == "RL001"
    assert d.message == f"unknown keyword `{word}`"
    assert at(d) == where(text, word)
    assert d.help == f"did you mean `{keyword}`?"


def test_equals_instead_of_colon_is_rl002_with_help() -> None:
    text = "reward x\nrule a = json\n"
    d = single(text, "RL002")
    assert d.message == "unexpected `=`"
    assert at(d) == where(text, "=")
    assert d.label == "expected `:`"
    assert "rule NAME: KIND" in d.help


def test_missing_comma_in_list_is_rl002_with_help() -> None:
    text = 'reward x\nrule a: phrases "x" "y"\n'
    d = single(text, "RL002")
    assert at(d) == where(text, '"y"')
    assert d.help == "separate list items with commas"


def test_range_without_dots_is_rl002() -> None:
    text = "reward x\nrule a: length 50 words\n"
    d = single(text, "RL002")
    assert at(d) == where(text, "words")
    assert "`..`" in d.label


@pytest.mark.parametrize("quote", ['"', "'"])
def test_unterminated_string_is_rl003_spanning_to_end_of_line(quote: str) -> None:
    text = f"reward x\nrule a: phrases {quote}abc\nrule b: json\n"
    d = single(text, "RL003")
    assert d.message == "unterminated string"
    assert at(d) == where(text, quote + "abc")
    assert (d.span.end_line, d.span.end_column) == (2, len(f"rule a: phrases {quote}abc") + 1)
    assert quote in d.help


def test_string_with_newline_inside_is_rl003() -> None:
    text = 'reward x\nrule a: phrases "ab\ncd"\n'
    d = diagnostics(text)[0]
    assert d.code == "RL003"
    assert at(d) == (2, 17)


def test_unterminated_raw_string_is_rl003() -> None:
    text = 'reward x\nrule a: regex r"abc\n'
    d = diagnostics(text)[0]
    assert d.code == "RL003"
    assert at(d) == where(text, 'r"abc')


def test_unexpected_character_is_rl004() -> None:
    text = "reward x\nrule a: json @\n"
    d = single(text, "RL004")
    assert d.message == "unexpected character `@`"
    assert at(d) == where(text, "@")


def test_invisible_character_is_named_by_code_point() -> None:
    text = "reward x\nrule a\u200b: json\n"
    d = single(text, "RL004")
    assert "U+200B" in d.message
    assert at(d) == (2, 7)


def test_unknown_escape_is_rl005_at_the_backslash() -> None:
    text = 'reward x\nrule a: phrases "a\\qb"\n'
    d = single(text, "RL005")
    assert d.message == "unknown escape `\\q` in string"
    assert at(d) == where(text, "\\q")
    assert d.span.end - d.span.start == 2
    assert 'r"' in d.help  # points at raw strings for regexes


def test_unclosed_block_is_rl006_with_help() -> None:
    text = "reward x\nrule a: json {\n"
    d = single(text, "RL006")
    assert at(d) == (2, len("rule a: json {") + 1)
    assert d.help == "close the options block with `}`"
    assert "`}`" in d.label


def test_missing_kind_at_end_of_input_is_rl006() -> None:
    d = single("reward x\nrule a:", "RL006")
    assert at(d) == (2, 8)
    assert "`length`" in d.label


def test_number_too_large_is_rl009() -> None:
    text = "reward x\nrule a: length 1..2 words { outside 1e999 }\n"
    d = single(text, "RL009")
    assert at(d) == where(text, "1e999")


@pytest.mark.parametrize("text", ["rule a: json\n", "", "# only a comment\n"])
def test_missing_header_is_rl010(text: str) -> None:
    d = single(text, "RL010")
    assert at(d) == (1, 1)  # the top of the file, where the header belongs, even after a comment
    assert "reward" in d.help


def test_second_header_is_rl011_with_label() -> None:
    text = "reward x\nrule a: json\nreward y\n"
    d = single(text, "RL011")
    assert at(d) == (3, 1)
    assert [label.message for label in d.labels] == ["first header here"]
    assert (d.labels[0].span.line, d.labels[0].span.column) == (1, 1)


def test_late_header_is_rl011() -> None:
    d = single("rule a: json\nreward x\n", "RL011")
    assert at(d) == (2, 1)


def test_every_syntax_error_is_reported_in_order() -> None:
    text = (
        "reward x\n"
        "rule a: json @\n"  # RL004
        "rule b: phrases \"x\" \"y\"\n"  # RL002
        "rule c: lenght 1..2 words\n"  # RL149 (a plugin kind's syntax; no kind of that name)
        "rule d: json {\n"  # RL006 (the block runs into the next statement)
        "rule e: length 1..2 wrds\n"  # RL104, still checked after the syntax errors
    )
    found = diagnostics(text)
    assert [d.code for d in found] == ["RL004", "RL002", "RL149", "RL006", "RL104"]
    assert [d.span.line for d in found] == [2, 3, 4, 5, 6]
    assert at(found[-1]) == where(text, "wrds")  # spans stay right after per-statement re-parsing
    assert [d.span.start for d in found] == sorted(d.span.start for d in found)


# ------------------------------------------------------------ valid specs
def test_every_rule_kind_parses_into_its_model(all_kinds_spec: str) -> None:
    spec = spec_of(all_kinds_spec)
    assert spec.name == "everything"
    assert spec.description == "All kinds"
    assert sorted(rule.kind for rule in spec.rules) == sorted(registry.KINDS)  # each kind once
    assert [type(rule) for rule in spec.rules] == [registry.RULE_MODELS[rule.kind] for rule in spec.rules]
    assert spec.rule_names == [rule.name for rule in spec.rules]

    length = spec.rule("length")
    assert isinstance(length, LengthRule)
    assert (length.range.low, length.range.high, length.unit) == (50, 200, "words")
    assert (length.outside, length.ramp) == (0.5, 10)

    helpful = spec.rule("helpful")
    assert isinstance(helpful, PhrasesRule)
    assert [p.text for p in helpful.phrases] == ["I can help", "Here's how"]
    assert (helpful.each, helpful.cap) == (0.3, 1)

    safety = spec.rule("safety")
    assert isinstance(safety, BannedRule)
    assert [p.text for p in safety.phrases] == ["dangerous", "illegal"]
    assert (safety.present, safety.absent, safety.match) == (0, 1, "substring")

    digits = spec.rule("digits")
    assert isinstance(digits, RegexRule)
    assert digits.pattern == "\\d+"
    assert (digits.each, digits.cap, digits.present, digits.absent) == (0.1, 0.5, None, None)

    tags = spec.rule("tags")
    assert isinstance(tags, TagsRule)
    assert [t.text for t in tags.tags] == ["think", "answer"]
    assert (tags.count.low, tags.count.high, tags.ordered) == (1, None, True)

    js = spec.rule("js")
    assert isinstance(js, JsonRule)
    assert [k.text for k in js.keys] == ["a", "b"]

    rel = spec.rule("rel")
    assert isinstance(rel, RelevanceRule)
    assert rel.target.model_dump() == {"kind": "last_user", "column": None}
    assert (rel.rescale.low, rel.rescale.high, rel.batch_size, rel.model) == (0.2, 0.8, 32, None)

    ov = spec.rule("ov")
    assert isinstance(ov, OverlapRule)
    assert (ov.target.kind, ov.target.column, ov.split) == ("column", "reference", "whitespace")

    sim = spec.rule("sim")
    assert isinstance(sim, SimilarityRule)
    assert (sim.metric, sim.target.kind, sim.target.column) == ("rougeL", "column", "ref answer")

    rep = spec.rule("rep")
    assert isinstance(rep, RepetitionRule)
    assert (rep.ngram, rep.split, rep.penalty) == (4, "tokens", -0.5)

    long = spec.rule("long")
    assert isinstance(long, OverlongRule)
    assert (long.limit, long.unit, long.buffer) == (256, "tokens", 64)

    eq = spec.rule("eq")
    assert isinstance(eq, EqualsRule)
    assert (eq.target.column, eq.compare, eq.punctuation) == ("answer", "exact", "trailing")

    cls = spec.rule("cls")
    assert isinstance(cls, ClassifierRule)
    assert (cls.model, cls.label, cls.activation, cls.context, cls.max_length, cls.batch_size) == (
        "org/model",
        "positive",
        "softmax",
        "prompt",
        256,
        16,
    )

    assert [g.model_dump() for g in spec.gates] == [{"rule": "safety", "comparison": "<", "threshold": 0.5, "value": 0}]
    assert spec.clip is not None and (spec.clip.low, spec.clip.high) == (None, 3)
    assert isinstance(spec.total, ast.Binary)


def test_defaults_apply_only_where_the_kind_accepts_the_option(all_kinds_spec: str) -> None:
    spec = spec_of(all_kinds_spec)  # defaults { case lower  scope full }
    assert spec.defaults.case == "lower" and spec.defaults.scope == "full"
    for rule in spec.rules:
        assert rule.scope == "full", rule.name  # every kind has `scope`
        if "case" in type(rule).model_fields:
            assert rule.case == "lower", rule.name
        else:
            assert not hasattr(rule, "case"), rule.name
    assert not hasattr(spec.rule("length"), "case")
    assert not hasattr(spec.rule("js"), "case")


def test_rule_options_override_defaults() -> None:
    text = (
        "reward x\n"
        "defaults { match substring  split whitespace  weight 2 }\n"
        'rule a: phrases "x" { match word }\n'
        'rule b: banned "y"\n'
        "rule c: overlap to prompt\n"
        "rule d: length ..5 words { weight 3 }\n"
    )
    spec = spec_of(text)
    a, b, c, d = spec.rules
    assert isinstance(a, PhrasesRule) and a.match == "word" and a.weight == 2
    assert isinstance(b, BannedRule) and b.match == "substring"
    assert not hasattr(b, "split")
    assert isinstance(c, OverlapRule) and c.split == "whitespace" and not hasattr(c, "match")
    assert isinstance(d, LengthRule) and d.weight == 3


def test_model_defaults_without_options() -> None:
    text = (
        "reward x\n"
        'rule p: phrases "x"\n'
        'rule b: banned "x"\n'
        'rule r: regex "x"\n'
        'rule t: tags "answer"\n'
        "rule j: json\n"
        "rule v: relevance to prompt\n"
        "rule o: overlap to system\n"
        "rule s: similarity bleu to last_user\n"
        "rule n: repetition\n"
        "rule l: overlong 100 tokens\n"
        "rule e: equals column reference\n"
        'rule c: classifier "m"\n'
    )
    spec = spec_of(text)
    p, b, r, t, j, v, o, s, n, lg, e, c = spec.rules
    assert spec.defaults.model_dump() == ast.Defaults().model_dump()
    assert (p.each, p.cap, p.case, p.unicode, p.match, p.weight, p.scope) == (
        1, 1, "insensitive", "nfkc", "word", 1, "answer"
    )
    assert (b.present, b.absent) == (0, 1)
    assert (r.case, r.each, r.cap, r.present, r.absent) == ("sensitive", None, None, None, None)
    assert (t.count.low, t.count.high, t.ordered) == (1, 1, False)
    assert j.keys == ()
    assert (v.model, v.rescale, v.batch_size) == (None, None, 64)
    assert (o.target.kind, o.each, o.cap, o.split) == ("system", None, 1, "words")
    assert (s.metric, s.target.kind) == ("bleu", "last_user")
    assert (n.ngram, n.split) == (3, "words")
    assert (lg.limit, lg.buffer, lg.effective_buffer) == (100, None, 25)
    assert (e.compare, e.target.column) == ("normalized", "reference")
    assert (c.label, c.activation, c.context, c.batch_size, c.max_length) == (0, "sigmoid", "none", 16, 512)
    assert spec.total is None and spec.gates == () and spec.clip is None


def test_string_escapes_are_decoded() -> None:
    text = (
        "reward x\n"
        'rule a: phrases "a\\nb", "t\\tt", "q\\"q", "b\\\\s", "\\u00e9", "\\x41", "\\U0001F600", '
        "'it\\'s', \"z\\0z\", \"c\\rr\"\n"
    )
    spec = spec_of(text)
    assert [p.text for p in spec.rules[0].phrases] == [
        "a\nb",
        "t\tt",
        'q"q',
        "b\\s",
        "é",
        "A",
        "😀",
        "it's",
        "z\0z",
        "c\rr",
    ]


def test_raw_strings_keep_backslashes() -> None:
    spec = spec_of('reward x\nrule a: regex r"\\d+\\n"\nrule b: phrases r\'say "hi"\', r"a\\b"\n')
    assert spec.rules[0].pattern == "\\d+\\n"
    assert [p.text for p in spec.rules[1].phrases] == ['say "hi"', "a\\b"]


def test_comments_are_ignored_and_collected() -> None:
    text = (
        "# top\n"
        "reward x  # after header\n"
        'rule a: phrases "a # not a comment", \'b # nor this\'  # real\n'
        "# end"
    )
    analysis = analyze(text)
    assert analysis.diagnostics == []
    assert [p.text for p in analysis.spec.rules[0].phrases] == ["a # not a comment", "b # nor this"]
    assert [(c.text, c.span.line, c.span.column) for c in analysis.syntax.comments] == [
        ("# top", 1, 1),
        ("# after header", 2, 11),
        ("# real", 3, where(text, "# real")[1]),
        ("# end", 4, 1),
    ]


def test_negative_and_fractional_numbers() -> None:
    text = (
        "reward x\n"
        'rule a: banned "x" { present -1  absent .5  weight -2.5 }\n'
        "rule b: length 1..2 words { outside -0.25  ramp 1e3 }\n"
        "gate a > -0.5 then -2\n"
        "clip -1..2.5e-1\n"
    )
    spec = spec_of(text)
    a, b = spec.rules
    assert (a.present, a.absent, a.weight) == (-1, 0.5, -2.5)
    assert (b.outside, b.ramp) == (-0.25, 1000)
    assert spec.gates[0].threshold == -0.5 and spec.gates[0].value == -2
    assert (spec.clip.low, spec.clip.high) == (-1, 0.25)


def test_one_sided_ranges() -> None:
    spec = spec_of(
        "reward x\nrule a: length ..120 words\nrule b: length 50.. characters\nrule c: tags \"t\" { count 2.. }\n"
    )
    a, b, c = spec.rules
    assert (a.range.low, a.range.high) == (None, 120)
    assert (b.range.low, b.range.high, b.unit) == (50, None, "characters")
    assert (c.count.low, c.count.high) == (2, None)
    assert a.range.contains(0) and not a.range.contains(121)
    assert b.range.contains(10**9) and not b.range.contains(49)


def test_keywords_can_name_rules_and_columns() -> None:
    spec = spec_of("reward rule\nrule rule: json\nrule weight: json\nrule column: equals column column\n")
    assert spec.name == "rule"
    assert spec.rule_names == ["rule", "weight", "column"]
    assert spec.rules[2].target.column == "column"


# ---------------------------------------------------------------- formulas
RULES = "reward x\nrule a: json\nrule b: json\nrule c: json\n"


def total_of(formula: str) -> ast.Expr:
    spec = spec_of(RULES + f"total = {formula}\n")
    assert spec.total is not None
    return spec.total


def shape(expr: ast.Expr) -> object:
    """A compact tree: ('add', 'a', ('mul', 'b', 'c'))."""
    if isinstance(expr, ast.Ref):
        return expr.rule
    if isinstance(expr, ast.Num):
        return expr.value
    if isinstance(expr, ast.Unary):
        return ("neg", shape(expr.operand))
    if isinstance(expr, ast.Binary):
        return (expr.op, shape(expr.left), shape(expr.right))
    assert isinstance(expr, ast.Call)
    return (expr.function, *(shape(a) for a in expr.args))


@pytest.mark.parametrize(
    ("formula", "tree"),
    [
        ("a + b * c", ("add", "a", ("mul", "b", "c"))),
        ("a * b + c", ("add", ("mul", "a", "b"), "c")),
        ("(a + b) * c", ("mul", ("add", "a", "b"), "c")),
        ("a - b - c", ("sub", ("sub", "a", "b"), "c")),
        ("a - (b - c)", ("sub", "a", ("sub", "b", "c"))),
        ("a / b / c", ("div", ("div", "a", "b"), "c")),
        ("a / b * c", ("mul", ("div", "a", "b"), "c")),
        ("-(a - b)", ("neg", ("sub", "a", "b"))),
        ("-a * b", ("mul", ("neg", "a"), "b")),
        ("a - -b", ("sub", "a", ("neg", "b"))),
        ("--a", ("neg", ("neg", "a"))),
        ("2 * a + 0.5", ("add", ("mul", 2.0, "a"), 0.5)),
        ("((a))", "a"),
        ("min(a, b) + max(c)", ("add", ("min", "a", "b"), ("max", "c"))),
        ("clip(a + b, 0, 1)", ("clip", ("add", "a", "b"), 0.0, 1.0)),
        ("abs(-a)", ("abs", ("neg", "a"))),
    ],
)
def test_formula_precedence_and_associativity(formula: str, tree: object) -> None:
    assert shape(total_of(formula)) == tree


# ------------------------------------------------------------------- spans
def test_spans_point_at_the_right_text(all_kinds_spec: str) -> None:
    text = all_kinds_spec
    spec = spec_of(text)
    assert source_of(text, spec) == 'reward everything "All kinds"'
    assert source_of(text, spec.rule("length")) == "rule length: length 50..200 words { outside 0.5  ramp 10 }"
    assert source_of(text, spec.rule("length").range) == "50..200"
    assert [source_of(text, p) for p in spec.rule("helpful").phrases] == ['"I can help"', "'Here\\'s how'"]
    assert source_of(text, spec.rule("rel").target) == "last_user"
    assert source_of(text, spec.rule("ov").target) == "column reference"
    assert source_of(text, spec.rule("tags").count) == "1.."
    assert source_of(text, spec.gates[0]) == "gate safety < 0.5 then 0"
    assert source_of(text, spec.clip) == "..3"
    total = spec.total
    assert source_of(text, total).startswith("length + 2 * helpful - -safety + digits")
    assert source_of(text, total).endswith("+ eq + cls + jd")
    # Walk down the left spine to `length + 2 * helpful - -safety`.
    node = total
    while source_of(text, node) != "length + 2 * helpful - -safety":
        assert isinstance(node, ast.Binary)
        node = node.left
    assert isinstance(node, ast.Binary) and node.op == "sub"
    assert source_of(text, node.right) == "-safety"
    assert source_of(text, node.right.operand) == "safety"
    assert source_of(text, node.left) == "length + 2 * helpful"
    assert source_of(text, node.left.right) == "2 * helpful"
    for rule in spec.rules:
        line = text[rule.span.start : rule.span.end]
        assert line.startswith(f"rule {rule.name}:")
        assert text.count("\n", 0, rule.span.start) + 1 == rule.span.line


def test_syntax_tree_spans() -> None:
    text = "reward x\nrule  helpful :  phrases \"a\" {  each 0.3\n cap 1 }\n"
    analysis = analyze(text)
    assert analysis.diagnostics == []
    rule = analysis.syntax.statements[1]
    assert text[rule.name.span.start : rule.name.span.end] == "helpful"
    assert text[rule.kind.span.start : rule.kind.span.end] == "phrases"
    options = [(o.key, text[o.key_span.start : o.key_span.end], text[o.span.start : o.span.end]) for o in rule.options]
    assert options == [("each", "each", "each 0.3"), ("cap", "cap", "cap 1")]
    assert text[rule.block_span.start : rule.block_span.end].startswith("{")
    assert text[rule.block_span.start : rule.block_span.end].endswith("}")
    cap = rule.options[1]
    assert (cap.span.line, cap.span.column, cap.span.end_line, cap.span.end_column) == (3, 2, 3, 7)


# -------------------------------------------------------------- public API
def test_parse_returns_spec_and_raises_spec_error_with_every_diagnostic() -> None:
    spec = rewardlang.parse("reward demo\nrule brief: length ..120 words")
    assert spec.rules[0].name == "brief"
    with pytest.raises(rewardlang.SpecError) as info:
        rewardlang.parse("reward x\nrule a: json { each 1 }\nrule b: jsn\n", filename="f.reward")
    error = info.value
    assert [d.code for d in error.diagnostics] == ["RL102", "RL149"]
    assert str(error).startswith("f.reward:2:16: error[RL102]:")
    assert "(and 1 more error)" in str(error)
    assert "--> f.reward:3:9" in render_error(error)


def test_parse_file_reports_missing_file_as_source_error(tmp_path: Path) -> None:
    with pytest.raises(rewardlang.SourceError, match="no such file"):
        rewardlang.parse_file(tmp_path / "missing.reward")


def test_misspelled_option_in_defaults_lists_only_shared_options() -> None:
    d = single("reward x\ndefaults { wieght 1 }\nrule a: json\n", "RL001")
    assert "`weight`" in d.label
    assert "`absent`" not in d.label


def test_analyze_accepts_a_leading_bom() -> None:
    assert analyze("\ufeffreward x\nrule a: json\n").diagnostics == []
