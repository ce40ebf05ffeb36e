"""The language server's answers as pure functions of (text, position): `rewardlang.lsp_features`.

tests/test_lsp.py drives the same functions through a real client; here each context is
pinned down on its own, positions are checked in every encoding, and random text at random
places must never make a function raise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.importorskip("lsprotocol")
from lsprotocol import types as lsp

from rewardlang import codes
from rewardlang.fmt import format_source
from rewardlang.frontend import analyze
from rewardlang.lsp_features import (
    Document,
    completion,
    definition,
    diagnostics,
    find_references,
    formatting,
    hover,
    symbols,
    tokens,
)
from rewardlang.lsp_positions import UTF8, UTF16, UTF32, Positions
from rewardlang.registry import KINDS, options_for

URI = "file:///specs/demo.reward"

SPEC = """\
reward demo "a demo"
# RL204 would be a warning here
defaults { case lower }
schedule warm: 0 -> 1 over 100
rule brief: length ..120 words { outside 0.5 }
rule pattern: regex r"\\d+"
when task = "math" {
    rule accuracy: math column solution
    rule concise: brevity words { correct accuracy }
}
total = brief + warm * pattern + max(accuracy, concise)
gate brief < 0.9 then 0
example "short" { user "hi" completion "hello" expect brief = 1 expect total >= 0 }
"""


def at(text: str, needle: str, shift: int = 0, nth: int = 0) -> lsp.Position:
    """The UTF-16 position of the `nth` occurrence of `needle` in `text`, `shift` characters in."""
    offset = -1
    for _ in range(nth + 1):
        offset = text.index(needle, offset + 1)
    line, character = Positions(text).position(offset + shift)
    return lsp.Position(line, character)


def labels(items: list[lsp.CompletionItem]) -> list[str]:
    return [item.label for item in items]


def hover_text(document: Document, position: lsp.Position) -> str:
    answer = hover(document, position)
    assert answer is not None and isinstance(answer.contents, lsp.MarkupContent)
    return answer.contents.value


# ------------------------------------------------------------------ positions
LINE = "a😀b\u00e9c"  # an astral character (2 UTF-16 units, 4 UTF-8), a 2-byte one


@pytest.mark.parametrize(
    ("encoding", "columns"),
    [(UTF16, [0, 1, 3, 4, 5, 6]), (UTF8, [0, 1, 5, 6, 8, 9]), (UTF32, [0, 1, 2, 3, 4, 5])],
)
def test_positions_count_code_units_of_the_encoding(encoding: str, columns: list[int]) -> None:
    positions = Positions(f"x\n{LINE}\n", encoding)
    for index, column in enumerate(columns):
        assert positions.position(2 + index) == (1, column)
        assert positions.offset(1, column) == 2 + index


def test_positions_past_a_line_or_the_text_are_clamped_and_half_a_pair_is_its_character() -> None:
    positions = Positions(f"{LINE}\nz", UTF16)
    assert positions.offset(0, 99) == len(LINE)  # the line's end, not the next line
    assert positions.offset(7, 0) == len(LINE) + 2  # past the last line: the end of the text
    assert positions.offset(-1, 0) == 0
    assert positions.offset(0, 2) == 1  # inside the surrogate pair: the emoji's start
    assert positions.end == (1, 1)


def test_windows_line_endings_keep_lines_and_columns() -> None:
    positions = Positions("ab\r\ncd\rx", UTF16)
    assert positions.position(positions.text.index("d")) == (1, 1)
    assert positions.position(positions.text.index("x")) == (2, 0)


# ------------------------------------------------------------------ diagnostics
def test_diagnostics_are_the_front_ends_with_ranges_and_related_places() -> None:
    text = "reward x\nrule 😀b: banned \"a\"\nrule topic: relevance to last_user { weight 2 }\ntotal = topic\n"
    document = Document(text)
    published = diagnostics(document, URI)
    assert list(published) == [URI]
    found = published[URI]
    expected = analyze(text).diagnostics
    assert [d.code for d in found] == [d.code for d in expected] == ["RL004", "RL203"]
    assert found[0].range == lsp.Range(lsp.Position(1, 5), lsp.Position(1, 7))  # 😀: two UTF-16 units
    weight = expected[1]
    assert found[1].message == f"{weight.message}\n{weight.label}\nhelp: {weight.help}"
    assert found[1].severity == lsp.DiagnosticSeverity.Warning
    label = weight.labels[0]
    assert found[1].related_information == [
        lsp.DiagnosticRelatedInformation(lsp.Location(URI, lsp.Range(lsp.Position(3, 8), lsp.Position(3, 13))),
                                         label.message)
    ]


def test_diagnostics_in_an_examples_file_go_to_that_file(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    (folder / "cases.jsonl").write_text('{"completion": "x", "expect": {"nosuch": 1}}\n', encoding="utf-8")
    spec = folder / "spec.reward"
    text = 'reward x\nrule brief: length ..3 words\nexamples "cases.jsonl"\n'
    published = diagnostics(Document(text, str(spec)), spec.as_uri())
    other = (folder / "cases.jsonl").as_uri()
    assert set(published) == {spec.as_uri(), other}
    in_file = [d for d in analyze(text, str(folder)).diagnostics if d.file is not None]
    assert [d.code for d in published[other]] == [d.code for d in in_file] == ["RL111"]  # no rule `nosuch`
    assert published[other][0].range.start.line == 0


# ------------------------------------------------------------------ hover
def test_hover_on_a_kind_shows_its_record() -> None:
    document = Document(SPEC)
    kind = KINDS["length"]
    assert hover_text(document, at(SPEC, "length ..120", 2)) == (
        f"**`{kind.header}`** (rule kind)\n\n{kind.summary}\n\nScores: {kind.range_doc}\n\n"
        "Options: " + ", ".join(f"`{option}`" for option in kind.options)
    )


def test_hover_on_an_option_is_that_kinds_field() -> None:
    text = "reward x\nrule a: regex \"x\" { case insensitive }\nrule b: phrases \"y\" { case lower }\n"
    document = Document(text)
    regex_case, phrases_case = hover_text(document, at(text, "case")), hover_text(document, at(text, "case", nth=1))
    assert regex_case.startswith("**`case`** (option of `regex`)\n\nValue: `insensitive`, `sensitive` or `lower`")
    assert "Default: `sensitive`" in regex_case  # regex's own default
    assert "Default: `insensitive`" in phrases_case
    assert hover_text(document, at(text, "case", 1)) == regex_case


def test_hover_on_an_option_in_defaults() -> None:
    text = hover_text(Document(SPEC), at(SPEC, "case lower"))
    assert text.startswith("**`case`** (option of `defaults`)") and "Default:" not in text.split("---")[0]
    assert "May be set in `defaults`." in text


def test_hover_on_targets_codes_keywords_functions_and_rule_names() -> None:
    document = Document(SPEC + "rule topic: relevance to last_user\n")
    full = document.text
    assert hover_text(document, at(full, "last_user")).startswith("**`last_user`** (target: a named target)")
    assert codes.RL110.explanation.split("\n\n")[0] in hover_text(document, at(full, "last_user"))
    assert hover_text(document, at(full, "RL204", 2)).startswith(f"**warning[RL204]: {codes.RL204.title}**")
    assert hover_text(document, at(full, "gate", 1)).startswith(
        '**`gate`** (keyword)\n\n```text\ngate: "gate" NAME COMPARISON number ("then" number)?\n```')
    assert hover_text(document, at(full, "max(")) == "**`max(...)`** (formula function, 1 to 64 arguments)"
    assert hover_text(document, at(full, "brief +")).startswith(
        "```reward\nrule brief: length ..120 words\n```\n\n**`length RANGE UNIT`**")
    assert hover_text(document, at(full, "warm *")).startswith("```reward\nschedule warm: 0 -> 1 over 100\n```")


def test_hover_on_a_word_of_a_rules_header() -> None:
    text = hover_text(Document(SPEC), at(SPEC, "words {"))
    assert text == "**`words`** (the `unit` of `length`)\n\nValue: `words`, `characters`, `tokens` or `sentences`"


def test_hover_where_there_is_nothing_to_say() -> None:
    document = Document(SPEC)
    assert hover(document, at(SPEC, '"a demo"', 2)) is None  # inside a string
    assert hover(document, at(SPEC, "would be")) is None  # a comment's plain words
    assert hover(document, lsp.Position(100, 0)) is None


def test_hover_explains_the_code_of_a_diagnostic_under_the_cursor() -> None:
    text = "reward x\nrule a: length 1..2 words\nrule a: length 1..3 words\n"
    shown = hover_text(Document(text), at(text, "a:", nth=1))
    assert f"**error[RL101]: {codes.RL101.title}**" in shown


def test_hover_in_plain_text_for_clients_without_markdown() -> None:
    answer = hover(Document(SPEC), at(SPEC, "length ..120", 2), markdown=False)
    assert answer is not None and isinstance(answer.contents, lsp.MarkupContent)
    kind = KINDS["length"]
    assert answer.contents.kind == lsp.MarkupKind.PlainText
    assert answer.contents.value.startswith(f"{kind.header} (rule kind)\n\n{kind.summary.replace('`', '')}")


# ------------------------------------------------------------------ completion
def complete(text: str, marker: str = "|") -> list[str]:
    offset = text.index(marker)
    text = text.replace(marker, "", 1)
    line, character = Positions(text).position(offset)
    return labels(completion(Document(text), lsp.Position(line, character)))


def test_completion_of_statements_kinds_targets() -> None:
    assert complete("reward x\n|") == [
        "reward", "defaults", "rule", "total", "gate", "clip", "example", "examples", "when", "schedule", "plugins"]
    assert complete("reward x\nru|") == complete("reward x\n|")  # the word being typed is the editor's to filter
    kinds = complete("reward x\nrule a: |")
    assert kinds[: len(KINDS)] == list(KINDS)
    assert complete("reward x\nrule a: relevance to |") == ["last_user", "prompt", "system", "column"]
    assert complete("reward x\nrule a: equals |") == ["last_user", "prompt", "system", "column"]
    assert complete("reward x\nrule a: equals column |") == []
    assert complete("reward x\nwhen task = \"a\" {\n    |\n}") == ["rule"]


def test_completion_follows_each_kinds_header_template() -> None:
    units = ["words", "characters", "tokens", "sentences"]
    assert complete("reward x\nrule a: length 50..200 |") == units
    assert complete("reward x\nrule a: length ..200 |") == units
    assert complete("reward x\nrule a: length -1..2 |") == units
    assert complete("reward x\nrule a: overlong 256 |") == units
    assert complete("reward x\nrule a: length 50..200 words |") == []  # the header is complete
    assert complete("reward x\nrule a: relevance |") == ["to"]
    assert complete("reward x\nrule a: similarity |")[:2] == ["rouge1", "rouge2"]
    assert complete("reward x\nrule a: similarity rougeL |") == ["to"]
    assert complete("reward x\nrule a: similarity rougeL to |") == ["last_user", "prompt", "system", "column"]
    assert complete('reward x\nrule a: banned "x", |') == []
    assert complete("reward x\nrule a: relevance ot |") == []  # not the kind's header


def test_completion_of_the_options_of_the_rule_at_the_cursor() -> None:
    assert complete("reward x\nrule a: length 1..2 words { | }") == options_for("length")
    assert complete("reward x\nrule a: json { keys \"a\"  | }") == [o for o in options_for("json") if o != "keys"]
    assert complete("reward x\nrule a: length 1..2 words {\n  weight 2\n  |\n}") == [
        o for o in options_for("length") if o != "weight"]
    assert complete("reward x\nrule a: regex \"x\" { case | }") == ["insensitive", "sensitive", "lower"]
    assert complete("reward x\nrule a: length 1..2 words { weight 0 -> | }") == []
    assert complete("reward x\ndefaults { | }") == ["weight", "scope", "case", "unicode", "match", "split"]
    assert complete("reward x\nrule a: json { tool | }") == ["last_user", "prompt", "system", "column"]


def test_completion_of_rule_names_in_formulas_gates_and_examples() -> None:
    spec = SPEC.replace("total = brief + warm * pattern + max(accuracy, concise)", "total = brief + |")
    assert complete(spec) == ["brief", "pattern", "accuracy", "concise", "warm", "min", "max", "clip", "abs"]
    assert complete("reward x\nrule a: length 1..2 words\ntotal = a +\n    |") == ["a", "min", "max", "clip", "abs"]
    assert complete("reward x\nrule a: length 1..2 words\ntotal = a\n|")[0] == "reward"  # a new statement
    assert complete(SPEC.replace("gate brief", "gate |"))[:4] == ["brief", "pattern", "accuracy", "concise"]
    assert complete(SPEC.replace("{ correct accuracy }", "{ correct | }")) == [
        "brief", "pattern", "accuracy", "concise"]
    assert complete(SPEC.replace("expect total", "expect |")) == ["brief", "pattern", "accuracy", "concise", "total"]
    assert "completion" in complete(SPEC.replace('user "hi"', '| user "hi"'))


def test_no_completion_inside_strings_comments_and_numbers() -> None:
    assert complete('reward x "a |') == []
    assert complete('reward x "a |b"') == []
    assert complete("reward x\n# rule a: |") == []
    assert complete("reward x\nclip 0..1|2") == []


# ------------------------------------------------------------------ definitions, references, symbols
def test_definition_and_references_of_rule_names_and_schedules() -> None:
    document = Document(SPEC)
    accuracy = at(SPEC, "accuracy:")
    [where] = definition(document, at(SPEC, "accuracy,"), URI)
    assert (where.range.start, where.range.end) == (accuracy, lsp.Position(accuracy.line, accuracy.character + 8))
    used = [location.range.start for location in find_references(document, accuracy, URI, True)]
    assert used == [accuracy, at(SPEC, "accuracy,"), at(SPEC, "accuracy }")]  # the definition, the formula, `correct`
    brief = find_references(document, at(SPEC, "brief:"), URI, False)
    assert [r.range.start for r in brief] == [at(SPEC, "brief +"), at(SPEC, "brief <"), at(SPEC, "brief = 1")]
    assert [r.range.start for r in definition(document, at(SPEC, "warm *"), URI)] == [at(SPEC, "warm:")]
    assert definition(document, at(SPEC, "max("), URI) == []  # a function, not a rule
    assert definition(document, at(SPEC, "total >="), URI) == []


def test_symbols_are_the_rules_in_order_with_their_kinds() -> None:
    found = symbols(Document(SPEC))
    assert [(s.name, s.detail) for s in found] == [
        ("brief", "length"), ("pattern", "regex"), ("accuracy", "math"), ("concise", "brevity")]
    assert found[0].selection_range == lsp.Range(at(SPEC, "brief:"), at(SPEC, "brief:", 5))


# ------------------------------------------------------------------ formatting
def test_formatting_is_fmts_output_and_nothing_when_canonical_or_broken() -> None:
    messy = "reward  x\n\n\nrule a :length 1..2 words{weight 2}\n"
    formatted, _ = format_source(messy)
    assert formatted is not None
    assert formatting(Document(messy)) == [
        lsp.TextEdit(lsp.Range(lsp.Position(0, 0), lsp.Position(4, 0)), formatted)]
    assert formatting(Document(formatted)) == []
    assert formatting(Document("reward x\nrule a: length 1..2 {")) == []


# ------------------------------------------------------------------ robustness
def test_an_open_string_runs_to_the_end_of_its_line() -> None:
    assert [(t.kind, t.text) for t in tokens('rule a: "open\nrule')] == [
        ("name", "rule"), ("name", "a"), ("symbol", ":"), ("open", '"open'), ("name", "rule")]


FRAGMENTS = st.sampled_from([
    "reward", "rule", " ", "\n", "a", ":", "{", "}", "length", "1..2", "words", '"', "'", '"""', "#", "total",
    "=", "+", "(", ")", ",", "gate", "<", "0.5", "example", "expect", "when", "column", "to", "😀", "\r\n",
    "weight", "->", "over", "case", "\x00", "é", "r\"", "n/a", "schedule", "defaults", "brevity", "correct",
])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pieces=st.lists(FRAGMENTS, max_size=30), line=st.integers(-1, 12), character=st.integers(-1, 40),
       encoding=st.sampled_from([UTF8, UTF16, UTF32]))
def test_no_text_and_no_position_makes_a_feature_raise(
    pieces: list[str], line: int, character: int, encoding: str,
) -> None:
    document = Document("".join(pieces), None, encoding)
    position = lsp.Position(max(line, 0), max(character, 0))
    diagnostics(document, URI)
    hover(document, position)
    completion(document, position)
    definition(document, position, URI)
    find_references(document, position, URI, True)
    formatting(document)
    symbols(document)


def test_the_features_import_nothing_heavy(all_kinds_spec: str) -> None:
    script = textwrap.dedent(
        f"""
        import json, sys
        from lsprotocol import types as lsp
        from rewardlang import lsp as server  # the server module itself, with pygls
        from rewardlang import lsp_features as f
        document = f.Document({all_kinds_spec!r})
        for line in range(30):
            for character in range(0, 60, 3):
                where = lsp.Position(line, character)
                f.hover(document, where); f.completion(document, where); f.definition(document, where, "u")
        f.diagnostics(document, "u"); f.formatting(document); f.symbols(document)
        heavy = ("torch", "transformers", "sentence_transformers", "trl", "datasets", "rewardlang.compiler",
                 "rewardlang.scoring", "rewardlang_trainer")
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy)))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_rewardc_lsp_without_the_lsp_extra_says_what_to_install() -> None:
    script = "import sys; sys.modules['pygls'] = None\nfrom rewardlang.cli import main\nsys.exit(main(['lsp']))"
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr == (
        "rewardc: error: the language server needs pygls and lsprotocol (pygls is not installed); "
        "install them with `pip install 'rewardlang[lsp]'`\n"
    )
