"""Every rule kind is complete and agrees with itself (docs/contributing.md, "Adding a rule kind").

The checks of a Kind record (model, arguments, template, scorer) also run on the example plugin
kind (`readability`, tests/plugins/rewardlang-readability); the grammar and docs checks are of the
built-in kinds. For each kind in the registry: a grammar production that is an alternative of
`?kind`, a model, a header template whose fields are the header arguments and
which formats back to the same rule, a scorer that scores a batch inside the
kind's score range and pickles, a reference section in docs/language.md whose
examples check clean, a rule in the all-kinds fixture and a generator in the
property tests. The docs' kinds table is the one generated from the records.
"""

from __future__ import annotations

import math
import pickle
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from lark import Lark

from rewardlang import analyze
from rewardlang.fmt import format_source
from rewardlang.kind import Kind
from rewardlang.nodes import Range, RuleBase
from rewardlang.registry import KINDS, kind_of, kinds_table, score_range
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch

try:
    from conftest import ALL_KINDS_SPEC
    from test_properties import KIND_BODIES
except ImportError:  # tests/ turned into a package
    from tests.conftest import ALL_KINDS_SPEC
    from tests.test_properties import KIND_BODIES

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE_DOC = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
NAMES = sorted(KINDS)
# The example plugin's kind, with a rule of it: its record gets the same checks as a built-in's.
PLUGIN_HEADER = 'plugins "rewardlang-readability"\n'
PLUGIN_RULES = {"readability": "rule plain: readability 6..10 { outside 0.2  ramp 3  ignore_code }"}
RECORDS = [*NAMES, *PLUGIN_RULES]


def grammar() -> Lark:
    text = resources.files("rewardlang").joinpath("grammar.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", start=["start", "chunk"], maybe_placeholders=True)


GRAMMAR = grammar()


def productions(name: str) -> list[Any]:
    return [rule for rule in GRAMMAR.rules if rule.origin.name == name]


def fixture_rules() -> dict[str, tuple[str, RuleBase]]:
    """Kind -> (the rule's line in the all-kinds fixture, the validated rule)."""
    spec = analyze(ALL_KINDS_SPEC).spec
    assert spec is not None
    lines = {line.split(":", 1)[0].removeprefix("rule "): line for line in ALL_KINDS_SPEC.splitlines()
             if line.startswith("rule ")}
    found = {rule.kind: (lines[rule.name], rule) for rule in spec.rules}
    for name, line in PLUGIN_RULES.items():
        plugin_spec = analyze(f"reward plugin\n{PLUGIN_HEADER}{line}\n").spec
        assert plugin_spec is not None, f"the example plugin kind `{name}` is not installed (scripts/setup.sh)"
        found[name] = (line, plugin_spec.rules[0])
    return found


FIXTURE = fixture_rules()


# ------------------------------------------------------------------ grammar
def test_every_kind_is_an_alternative_of_the_kind_rule() -> None:
    alternatives = productions("kind")
    assert alternatives and all(rule.options.expand1 for rule in alternatives), "`?kind` inlines its alternative"
    assert sorted(rule.expansion[0].name for rule in alternatives) == NAMES
    assert all(len(rule.expansion) == 1 for rule in alternatives)


@pytest.mark.parametrize("name", NAMES)
def test_production_starts_with_the_kind_keyword_and_has_one_child_per_argument(name: str) -> None:
    for production in productions(name):
        keyword = production.expansion[0]
        assert keyword.is_term and GRAMMAR.get_terminal(keyword.name).pattern.value == name
        children = [symbol for symbol in production.expansion if not (symbol.is_term and symbol.filter_out)]
        assert len(children) == len(KINDS[name].arguments), production


def test_kind_names_are_not_option_names() -> None:
    # The lowerer tells a kind's tree from an option's by its name (`Lowerer.__default__`).
    options = {rule.alias for rule in productions("option")}
    assert options and not options & set(KINDS)


# ------------------------------------------------------------------ records
@pytest.mark.parametrize("name", RECORDS)
def test_model_and_arguments(name: str) -> None:
    kind = kind_of(name)
    assert isinstance(kind, Kind) and kind.name == name
    assert issubclass(kind.model, RuleBase)
    fields = kind.model.model_fields
    for argument in kind.arguments:
        assert fields[argument].is_required(), f"header argument `{argument}` of `{name}` has a default"
    assert {"weight", "scope"} <= set(kind.options)
    assert not set(kind.options) & set(kind.arguments)
    for declared in kind.ranges:
        assert Range in _types(fields[declared.field].annotation), declared


def _types(annotation: Any) -> tuple[Any, ...]:
    return getattr(annotation, "__args__", (annotation,))


@pytest.mark.parametrize("name", RECORDS)
def test_template_fields_are_the_header_arguments(name: str) -> None:
    kind = kind_of(name)
    assert kind.template_fields == kind.arguments
    assert kind.template.split(" ", 1)[0] == name
    assert kind.header.split(" ", 1)[0] == name


@pytest.mark.parametrize("name", RECORDS)
def test_template_round_trips_through_fmt(name: str) -> None:
    line, rule = FIXTURE[name]
    text = f"reward one\n{PLUGIN_HEADER if name in PLUGIN_RULES else ''}{line}\n"
    formatted, diagnostics = format_source(text)
    assert diagnostics == [] and formatted is not None
    assert format_source(formatted) == (formatted, [])
    assert formatted.splitlines()[-1 if name in PLUGIN_RULES else 2].startswith(f"rule {rule.name}: {name}")
    before, after = analyze(text).spec, analyze(formatted).spec
    assert before is not None and after is not None
    assert after.rules[0].model_dump() == before.rules[0].model_dump()


# ------------------------------------------------------------------ scorers
COMPLETIONS: list[Any] = [
    "<think>\nplan it\n</think>\n<answer>\n42\n</answer>",
    "",
    [{"role": "assistant", "content": "I can help. Here's how: 12 dangerous " * 40}],
    '{"a": 1, "b": [2, 3]}',
    [{"role": "assistant", "content": None}],
]
COLUMNS: dict[str, list[Any]] = {
    "reference": ["plan it", "x", "here is how", None, "y"],
    "ref answer": ["42", "", "I can help", "a b", None],
    "answer": ["42", None, "12", "1", "0"],
}
IDS = [[1, 2, 3], [], [7] * 300, [5], [1]]


@pytest.mark.parametrize("name", RECORDS)
def test_scorer_scores_a_batch_in_range_and_pickles(name: str) -> None:
    kind = kind_of(name)
    _, rule = FIXTURE[name]
    low, high = score_range(rule)
    assert math.isfinite(low) and math.isfinite(high) and low <= high
    if kind.is_penalty(rule):
        assert high <= 0
    assert issubclass(kind.scorer, RuleScorer)
    scorer = kind.scorer(rule)
    # No prompts: kinds that compare with the prompt (and load a model for it) are not applicable here.
    batch = Batch(COMPLETIONS, None, IDS, COLUMNS)
    scores = scorer.score(batch)
    assert len(scores) == len(COMPLETIONS)
    for value in scores:
        assert value is None or (type(value) is float and low <= value <= high), (value, low, high)
    again = pickle.loads(pickle.dumps(scorer))
    assert again.score(Batch(COMPLETIONS, None, IDS, COLUMNS)) == scores


# -------------------------------------------------------------- docs, tests
@pytest.mark.parametrize("name", NAMES)
def test_reference_section_has_an_example_that_checks_clean(name: str) -> None:
    heading = re.search(rf"^### `{re.escape(name)}`$", LANGUAGE_DOC, re.MULTILINE)
    assert heading, f"docs/language.md §7 lacks a section `{name}`"
    section = re.split(r"^##", LANGUAGE_DOC[heading.end() :], maxsplit=1, flags=re.MULTILINE)[0]
    examples = re.findall(r"^```reward\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert examples, f"the `{name}` section has no example spec"
    for example in examples:
        analysis = analyze(example)
        assert analysis.diagnostics == [], (example, analysis.diagnostics)
        assert analysis.spec is not None and name in {rule.kind for rule in analysis.spec.rules}


def test_docs_kinds_table_is_generated_from_the_records() -> None:
    table = kinds_table()
    assert table in LANGUAGE_DOC, "paste this table into docs/language.md §7:\n" + table


def test_every_kind_is_in_the_all_kinds_fixture() -> None:
    assert sorted(FIXTURE) == sorted(RECORDS)


def test_every_kind_has_a_property_test_generator() -> None:
    assert sorted(KIND_BODIES) == NAMES
