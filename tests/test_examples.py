"""Examples in specs (docs/language.md §11): reading them, checking them, `rewardc test`, `rewardlang.testing`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from rewardlang import analyze, loads
from rewardlang.ast import Expectation
from rewardlang.cli import main
from rewardlang.examples import example_rows, parse_expectation
from rewardlang.fmt import format_source
from rewardlang.spectest import run_examples
from rewardlang.testing import assert_examples, assert_scores, score_one

ROOT = Path(__file__).resolve().parent.parent

SPEC = '''reward demo
rule brief: length ..8 words
rule helpful: phrases "here's how", "for example" { each 0.5 }
rule safety: banned "harm"
rule exact: equals column answer

example "a short helpful answer" {
    system "Be brief."
    user "How do I reset?"
    completion "Here's how: press reset."
    expect brief = 1
    expect helpful = 0.5
    expect exact n/a
    expect total >= 2.5
}
'''


def codes_of(text: str, base: Path | None = None) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in analyze(text, base).diagnostics]


# ------------------------------------------------------------------ reading
def test_an_example_block_reads_as_a_conversation_and_a_reply() -> None:
    spec = analyze(SPEC).spec
    assert spec is not None
    (example,) = spec.examples
    assert example.name == "a short helpful answer"
    assert example.prompt == (
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "How do I reset?"}
    )
    assert example.completion == ({"role": "assistant", "content": "Here's how: press reset."},)
    assert [(e.subject, e.op, e.value) for e in example.expectations] == [
        ("brief", "=", 1.0), ("helpful", "=", 0.5), ("exact", "n/a", None), ("total", ">=", 2.5)
    ]
    (row,) = example_rows(spec.examples)
    assert (row.number, row.prompt[1]["content"], row.completion[0]["role"], row.columns) == (
        1, "How do I reset?", "assistant", {}
    )


def test_a_plain_prompt_gives_a_plain_completion_and_columns_keep_their_type() -> None:
    spec = analyze('reward x\nrule a: length ..5 words\nexample { prompt "p"  completion "c"  column answer 42 '
                   ' column "odd name" "v"  expect a = 1 }\n').spec
    assert spec is not None
    (example,) = spec.examples
    assert (example.name, example.prompt, example.completion, example.columns) == (
        "example 1", "p", "c", {"answer": 42, "odd name": "v"}
    )


def test_triple_quoted_strings_drop_the_first_break_the_closing_line_and_the_indentation() -> None:
    text = ('reward x\nrule a: length ..50 words\nexample {\n    prompt "p"\n    completion """\n'
            '        First line,\n          indented \\u00e9\n\n        last.\n        """\n}\n')
    spec = analyze(text).spec
    assert spec is not None
    assert spec.examples[0].completion == "First line,\n  indented é\n\nlast."


def test_a_comment_sign_and_a_keyword_inside_a_triple_quoted_string_are_text() -> None:
    text = ('reward x\nrule a: length ..50 words\nexample {\n  prompt "p"\n  completion """\n  # not a comment\n'
            'rule b: nothing\n  """\n}\nrule c: lengthh 5\n')
    analysis = analyze(text)
    assert [(d.code, d.span.line) for d in analysis.diagnostics] == [("RL149", 10)]  # `lengthh`: no such kind
    assert analysis.syntax.comments == []


def test_n_over_a_in_a_formula_is_still_a_division() -> None:
    spec = analyze("reward x\nrule n: length ..5 words\nrule a: length ..9 words\ntotal = n/a\n").spec
    assert spec is not None and spec.total is not None and spec.total.op == "div"


# --------------------------------------------------------------- checking
def test_check_reports_each_problem_of_examples_at_its_place() -> None:
    text = '''reward x
rule a: length ..5 words
rule m: relevance to last_user
rule e: equals column answer
clip 0..3
example "one" {
    usr "Hi"
    completion "Hello"
}
example "two" { user "Hi" }
example "three" { prompt "p"  user "Hi"  completion "c" }
example "four" {
    user "Hi"
    completion "c"
    completion "d"
    column answer "x"
    column answer "y"
}
example "five" {
    user "Hi"
    completion "Hello"
    column answer "x"
    expect b = 1
    expect a >= 2
    expect total n/a
    expect total > 3
    expect m = 0.5
    expect a = 1 within -1
}
example "six" { user "   "  completion "c"  column answer "x" }
example "seven" { user "Hi"  completion "c" }
'''
    assert codes_of(text) == [
        ("RL136", 7, 5),
        ("RL135", 10, 9),
        ("RL135", 11, 19),
        ("RL103", 15, 5),
        ("RL103", 17, 5),
        ("RL105", 28, 25),
        ("RL135", 30, 9),
        ("RL218", 31, 1),
    ]
    text = text.replace("    expect a = 1 within -1\n", "")
    assert codes_of(text)[5:10] == [
        ("RL111", 23, 12), ("RL138", 24, 5), ("RL138", 25, 5), ("RL138", 26, 5), ("RL217", 27, 5)
    ]


def test_a_misspelled_role_or_rule_gets_a_suggestion() -> None:
    head = 'reward x\nrule brief: length ..5 words\n'
    role = analyze(head + 'example { asistant "x"  user "u"  completion "c" }\n').diagnostics
    rule = analyze(head + 'example { user "u"  completion "c"  expect breif = 1 }\n').diagnostics
    nothing_close = analyze(head + 'example { user "u"  completion "c"  expect zzz = 1 }\n').diagnostics
    assert [(d.code, d.help) for d in role + rule + nothing_close] == [
        ("RL136", "did you mean `assistant`?"),
        ("RL111", "did you mean `brief`?"),
        ("RL111", "defined rules: `brief` or `total`"),
    ]


def test_an_example_of_a_rule_that_failed_to_validate_is_not_an_unknown_rule() -> None:
    diagnostics = analyze('reward x\nrule a: length ..5 words { each 1 }\nexample { user "u"  completion "c"'
                          '  expect a = 1 }\n').diagnostics
    assert [d.code for d in diagnostics] == ["RL102"]


# --------------------------------------------------------------- files
def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_examples_file_is_read_relative_to_the_spec(tmp_path: Path) -> None:
    lines = [
        {"name": "plain", "prompt": "p", "completion": "Here's how.", "expect": {"helpful": 0.5, "total": ">= 1"}},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "harm"}],
         "answer": "harm", "expect": {"safety": "= 0", "exact": "n/a", "brief": "= 1 within 0.1"}},
    ]
    (tmp_path / "cases").mkdir()
    write(tmp_path / "cases" / "more.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n")
    spec_text = SPEC + 'examples "cases/more.jsonl"\n'
    spec = analyze(spec_text, tmp_path).spec
    assert spec is not None
    names = [example.name for example in spec.examples]
    assert names == ["a short helpful answer", "plain", "line 2"]
    second = spec.examples[2]
    assert second.prompt == ({"role": "user", "content": "Hi"},)
    assert second.completion == ({"role": "assistant", "content": "harm"},)
    assert second.columns == {"answer": "harm"}
    assert second.expectations[2].within == 0.1
    assert second.file is not None and second.file.name.endswith("more.jsonl")


def test_examples_file_diagnostics_point_into_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "x.jsonl", '{"completion": "c", "expect": {"brief": "about 1"}}\n\n{"completion": 5}\n'
                                'not json\n{"completion": "c", "expect": {"nope": 1}}\n')
    spec_file = write(tmp_path / "s.reward", "reward x\nrule brief: length ..5 words\nexamples \"x.jsonl\"\n"
                                             "examples \"missing.jsonl\"\n")
    assert main(["check", "--format", "short", "--color", "never", str(spec_file)]) == 1
    err = capsys.readouterr().err.replace(str(tmp_path) + "/", "")
    lines = [re.sub(r"^.*?(x\.jsonl|s\.reward)", r"\1", line) for line in err.splitlines()]
    assert lines == [
        "s.reward:4:10: error[RL137]: cannot read examples file `missing.jsonl`: no such file",
        ("x.jsonl:1:32: error[RL137]: example on line 1 cannot be read: `expect` of `brief`: cannot read \"about 1\": "
         "write \">= 0.5\", \"= 1 within 0.1\", a number or \"n/a\""),
        ("x.jsonl:3:1: error[RL135]: example `line 3` cannot be scored: `completion` is a number, not a string or a "
         "list of messages"),
        "x.jsonl:4:1: error[RL137]: example on line 4 cannot be read: invalid JSON (Expecting value)",
        "x.jsonl:5:32: error[RL111]: unknown rule `nope`",
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"op": "n/a"}),
        (1, {"op": "=", "value": 1}),
        (">= 0.5", {"op": ">=", "value": 0.5}),
        ("0.8", {"op": "=", "value": 0.8}),
        ("== 2", {"op": "=", "value": 2.0}),
        ("= 1 within 0.1", {"op": "=", "value": 1.0, "within": 0.1}),
        (" n/a ", {"op": "n/a"}),
    ],
)
def test_expectations_written_as_data(value: object, expected: dict[str, object]) -> None:
    assert parse_expectation("r", value) == {"subject": "r", **expected}


@pytest.mark.parametrize("value", [True, [1], "> 1 within 0.1", "about 1", ""])
def test_expectations_that_are_not_data_say_why(value: object) -> None:
    assert isinstance(parse_expectation("r", value), str)


@pytest.mark.parametrize(
    ("op", "value", "within", "actual", "holds"),
    [
        ("=", 0.5, None, 0.5000001, True),
        ("=", 0.5, None, 0.50001, False),
        ("=", 0.6, 0.05, 0.64, True),
        ("=", 0.6, 0.05, 0.66, False),
        (">=", 1.0, None, 1.0, True),
        (">", 1.0, None, 1.0, False),
        ("<", 0.2, None, 0.1, True),
        ("<=", 0.2, None, 0.3, False),
        ("n/a", None, None, None, True),
        ("n/a", None, None, 0.0, False),
        (">=", 0.0, None, None, False),
    ],
)
def test_what_each_test_holds_for(op: str, value: float | None, within: float | None, actual: float | None,
                                  holds: bool) -> None:
    expectation = Expectation.model_validate({"subject": "r", "op": op, "value": value, "within": within})
    assert expectation.holds(actual) is holds


# ------------------------------------------------------------------ format
def test_a_text_ending_in_a_quote_is_written_triple_quoted() -> None:
    text = 'reward x\nrule a: length ..5 words\nexample { prompt "p"  completion "a\\nsaid \\"b\\"" }\n'
    formatted, _ = format_source(text)
    assert formatted is not None and '    completion """\n        a\n        said "b"\n        """\n' in formatted
    spec = analyze(formatted).spec
    assert spec is not None and spec.examples[0].completion == 'a\nsaid "b"'


def test_fmt_keeps_examples_and_writes_texts_of_several_lines_triple_quoted() -> None:
    text = ('reward x\nrule a: length ..50 words\nexample "e" { user "Hi"  # greet\n completion "one\\ntwo \\\\ \\t"\n'
            ' column "odd name" 3  expect a = 1 within 0.5 expect total n/a }\nexamples "f.jsonl"\n')
    formatted, errors = format_source(text)
    assert errors == []
    assert formatted == (
        'reward x\n\nrule a: length ..50 words\nexample "e" {\n    user "Hi"  # greet\n    completion """\n'
        '        one\n        two \\\\ \\t\n        """\n    column "odd name" 3\n    expect a = 1 within 0.5\n'
        '    expect total n/a\n}\nexamples "f.jsonl"\n'
    )
    assert format_source(formatted) == (formatted, [])
    before, after = analyze(text).syntax, analyze(formatted).syntax
    assert before.statements[2].options[1].value.value == after.statements[2].options[1].value.value == "one\ntwo \\ \t"


@pytest.mark.parametrize(
    "value", ["  every line\n  indented", "a\n   \nb", 'has """\nx', "one\n"]
)
def test_fmt_writes_texts_a_triple_quoted_string_cannot_hold_as_escapes(value: str) -> None:
    escaped = json.dumps(value)
    text = f'reward x\nrule a: length ..5 words\nexample {{ prompt "p"  completion {escaped} }}\n'
    formatted, _ = format_source(text)
    assert formatted is not None and 'completion """' not in formatted
    spec = analyze(formatted).spec
    assert spec is not None and spec.examples[0].completion == value


# ------------------------------------------------------------------- test
def test_run_examples_reports_the_actual_score_and_the_rules_reason() -> None:
    compiled = loads(SPEC.replace("expect helpful = 0.5", "expect helpful = 1"))
    report = run_examples(compiled)
    assert [(o.expectation.subject, o.actual, o.passed) for o in report.outcomes] == [
        ("brief", 1.0, True), ("helpful", 0.5, False), ("exact", None, True), ("total", 2.5, True)
    ]
    (failure,) = report.failures
    assert failure.explanation == "found: \"here's how\" -> 0.5"
    (diagnostic,) = report.diagnostics()
    assert (diagnostic.code, diagnostic.message, diagnostic.span.line, diagnostic.label) == (
        "RL139", "`helpful` scored 0.500 in example `a short helpful answer`, expected = 1", 12, "got 0.500"
    )
    assert diagnostic.note == "rule `helpful`: found: \"here's how\" -> 0.5"


def test_rewardc_test_passes_fails_and_reports_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path / "good.reward", SPEC)
    bad = write(tmp_path / "bad.reward", SPEC.replace("expect total >= 2.5", "expect total > 2.5"))
    assert main(["test", str(good)]) == 0
    assert capsys.readouterr().out == f"{good}: 1 examples, 4 expectations: ok\n"
    assert main(["test", "--format", "short", str(good), str(bad)]) == 1
    captured = capsys.readouterr()
    assert captured.err == (f"{bad}:14:5: error[RL139]: `total` scored 2.500 in example `a short helpful answer`, "
                            "expected > 2.5\n")
    assert captured.out.splitlines() == [
        f"{good}: 1 examples, 4 expectations: ok",
        f"{bad}: 1 examples, 4 expectations: 1 failed",
        "2 examples, 8 expectations, 1 failed",
    ]
    assert main(["test", "--format", "json", str(bad)]) == 1
    document = json.loads(capsys.readouterr().out)
    assert (document["passed"], document["examples"], document["expectations"], document["failed"]) == (False, 1, 4, 1)
    (result,) = document["files"][0]["examples"]
    assert result["scores"] == {"brief": 1.0, "helpful": 0.5, "safety": 1.0, "exact": None}
    assert result["expectations"][3] == {
        "subject": "total", "expected": "> 2.5", "actual": 2.5, "passed": False,
        "explanation": "rule scores brief 1.000, helpful 0.500, safety 1.000, exact n/a",
    }
    assert [d["code"] for d in document["files"][0]["diagnostics"]] == ["RL139"]


def test_rewardc_test_on_a_spec_with_errors_or_no_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = write(tmp_path / "broken.reward", 'reward x\nrule a: length ..5 words\nexample { user "u" }\n')
    empty = write(tmp_path / "empty.reward", "reward x\nrule a: length ..5 words\n")
    assert main(["test", "--format", "short", str(broken)]) == 1
    captured = capsys.readouterr()
    assert "error[RL135]" in captured.err and captured.out == f"{broken}: not run (the spec has errors)\n"
    assert main(["test", str(empty)]) == 0
    assert capsys.readouterr().out == f"{empty}: no examples\n"
    assert main(["test", str(tmp_path / "missing.reward")]) == 2


# ----------------------------------------------------------------- testing
def test_the_pytest_helpers() -> None:
    compiled = loads(SPEC)
    assert assert_examples(compiled).passed
    scores = score_one(compiled, "Here's how, for example.", prompt="p", answer="no")
    assert (scores["helpful"], scores["exact"], scores["total"]) == (1.0, 0.0, 3.0)
    assert assert_scores(compiled, "harm", prompt=[{"role": "user", "content": "u"}], safety=0, exact=None).total == 1.0
    with pytest.raises(AssertionError) as failure:
        assert_scores(compiled, "harm", safety=1, total=">= 2")
    assert str(failure.value).splitlines() == [
        "spec `demo`: 2 of 2 expectations not met",
        "  `safety` scored 0.000 in example `assert_scores`, expected = 1",
        "    rule `safety`: found: 'harm' -> 0",
        "  `total` scored 1.000 in example `assert_scores`, expected >= 2",
        "    the total: rule scores brief 1.000, helpful 0.000, safety 0.000, exact n/a",
    ]
    with pytest.raises(ValueError, match="no rule 'nope'"):
        assert_scores(compiled, "x", nope=1)


def test_the_testing_guide_examples_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "docs" / "testing.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"^```reward\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    spec = write(tmp_path / "guide.reward", block)
    assert main(["test", str(spec)]) == 0
    assert capsys.readouterr().out == f"{spec}: 2 examples, 4 expectations: ok\n"


def test_the_reference_examples_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text[text.index("## 11. Examples") : text.index("## 12. ")]
    blocks = re.findall(r"^```reward\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert len(blocks) == 1
    spec = write(tmp_path / "doc.reward", blocks[0])
    assert main(["test", str(spec)]) == 0
    assert capsys.readouterr().out == f"{spec}: 3 examples, 8 expectations: ok\n"


@pytest.mark.parametrize(("doc", "heading"), [("language.md", "### 11.4"), ("testing.md", "## Running them")])
def test_the_documented_pytest_helpers_pass(doc: str, heading: str, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    section = text[text.index(heading):]
    code = re.findall(r"^```python\n(.*?)^```", section, re.MULTILINE | re.DOTALL)[0]
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    exec(compile(code, f"docs/{doc}", "exec"), namespace)  # the documentation's own example
    tests = [value for name, value in namespace.items() if name.startswith("test_") and callable(value)]
    assert len(tests) >= 2
    for test in tests:
        test()
