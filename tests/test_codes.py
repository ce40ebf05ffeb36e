"""Diagnostic codes are objects: one place per code, and every table derives from it.

The code objects of `rewardlang/codes.py` hold severity, title, message templates
and the explanation with its example specs. These tests hold the rest of the
project to them: raise sites name codes that exist, every code is raised
somewhere, the example specs of each explanation do what they say, and the docs'
table is the registry's.
"""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from rewardlang import analyze, codes
from rewardlang.diagnostics import Severity

ROOT = Path(__file__).resolve().parent.parent
SOURCES = sorted((ROOT / "rewardlang").rglob("*.py")) + sorted((ROOT / "trainer").rglob("*.py"))
RAISED = re.compile(r"\bcodes\.(RL\d{3})\b")

# Codes whose explanation has no runnable Wrong example, and why.
NO_WRONG_EXAMPLE = {
    "RL007": "a formula 101 levels deep is too long to show; tests/test_hardening_frontend.py builds one",
    "RL008": "a spec of a million characters; tests/test_golden.py builds one in memory",
    "RL100": "the internal fallback of validation, with no known spec that reaches it",
    "RL213": "it needs a template file; tests/golden/RL213.reward and tests/test_judge.py use one",
    "RL131": "needs a schema file that is not JSON; tests/golden/RL131.reward and tests/test_json_schema.py have one",
    "RL132": "needs an invalid schema file; tests/golden/RL132.reward and tests/test_json_schema.py have one",
    "RL133": "needs a schema file with a bad `$ref`; tests/golden/RL133.reward and tests/test_json_schema.py have one",
    "RL215": "needs a schema file with a misspelled keyword; tests/golden/RL215.reward has one",
    "RL139": "`rewardc test` reports it, not `check`; tests/golden/RL139.reward and tests/test_examples.py fail one",
    "RL222": "grpo-train reports it at start-up from `max_steps`, never `check`; tests/test_schedules.py builds one",
    "RL151": "it needs a broken plugin package installed; tests/test_plugins.py installs some in a temporary folder",
    "RL225": "grpo-train reports it from the training configuration, not `check`; tests/test_group_rules.py",
    "RL219": "it needs a data file (`rewardc check --data`); tests/golden/RL219.reward has one, RL219.data.jsonl",
    "RL220": "it needs a data file (`rewardc check --data`); tests/golden/RL220.reward has one, RL220.data.jsonl",
    "RL153": "needs an environment without model2vec; tests/test_embedding_backends.py runs check in one",
}


def raised_codes() -> dict[str, list[str]]:
    """Code -> the source files that raise it (`codes.RLnnn(...)` or a reference to it)."""
    found: dict[str, list[str]] = {}
    for path in SOURCES:
        if path.name == "codes.py":
            continue
        for code in set(RAISED.findall(path.read_text(encoding="utf-8"))):
            found.setdefault(code, []).append(str(path.relative_to(ROOT)))
    return found


def test_each_code_object_is_bound_to_its_own_name() -> None:
    for name, info in codes.CODES.items():
        assert getattr(codes, name) is info
    bound = {name for name, value in vars(codes).items() if isinstance(value, codes.Code)}
    assert bound == set(codes.CODES)


def test_severity_follows_the_numbering() -> None:
    for name, info in codes.CODES.items():
        expected = Severity.WARNING if name.startswith("RL2") else Severity.ERROR
        assert info.severity is expected, name


def test_raise_sites_name_existing_codes_and_every_code_is_raised() -> None:
    raised = raised_codes()
    assert sorted(set(raised) - set(codes.CODES)) == []
    assert sorted(set(codes.CODES) - set(raised)) == []


def test_no_raise_site_writes_a_code_as_a_string() -> None:
    # A code written as a string literal could be mistyped; the code objects cannot.
    for path in SOURCES:
        if path.name == "codes.py":
            continue
        literals = re.findall(r"""["'](RL\d{3})["']""", path.read_text(encoding="utf-8"))
        assert literals == [], f"{path.relative_to(ROOT)}: {literals}"


@pytest.mark.parametrize("name", sorted(codes.CODES))
def test_message_templates_name_their_fields(name: str) -> None:
    info = codes.CODES[name]
    for template in info.templates:
        fields = [field for _, field, _, _ in string.Formatter().parse(template) if field is not None]
        assert all(field.isidentifier() for field in fields), (name, template)
        filled = template.format(**dict.fromkeys(fields, "X"))
        assert "{" not in filled and "}" not in filled


def test_a_diagnostic_takes_severity_and_message_from_its_code() -> None:
    from rewardlang.source import NO_SPAN

    diagnostic = codes.RL111(NO_SPAN, name="helpfull", label="no rule has this name")
    assert (diagnostic.code, diagnostic.severity) == ("RL111", Severity.ERROR)
    assert diagnostic.message == "unknown rule `helpfull`"
    incomplete = codes.RL006(NO_SPAN, variant="incomplete")
    assert incomplete.message == "incomplete statement"
    with pytest.raises(KeyError):
        codes.RL111(NO_SPAN)  # a missing field is a programming error, found by the first run


@pytest.mark.parametrize("name", sorted(codes.CODES))
def test_explanation_examples_do_what_they_say(name: str) -> None:
    info = codes.CODES[name]
    examples = info.examples
    wrong = [e.spec for e in examples if e.heading == "Wrong"]
    fixed = [e.spec for e in examples if e.heading.startswith("Fixed")]
    if name in NO_WRONG_EXAMPLE:
        assert wrong == []
    else:
        assert len(wrong) == 1, f"{name}: expected one Wrong example"
        found = [d.code for d in analyze(wrong[0]).diagnostics]
        assert name in found, f"{name}: its Wrong example gives {found}"
    assert len(fixed) <= 1
    for spec in fixed:
        diagnostics = analyze(spec).diagnostics
        assert [d.code for d in diagnostics] == [], f"{name}: its Fixed example is not clean: {diagnostics}"


def test_docs_table_of_codes_is_the_registry() -> None:
    text = (ROOT / "docs" / "language.md").read_text(encoding="utf-8")
    section = text.split("## 9. Diagnostics", 1)[1].split("\n## ", 1)[0]
    table = "\n".join(line for line in section.splitlines() if line.startswith("|")) + "\n"
    assert table == codes.markdown_table()


def test_explain_prints_title_and_explanation() -> None:
    assert codes.explain("rl111") == f"error[RL111]: unknown rule\n\n{codes.RL111.explanation}"
    assert codes.explain("RL999") is None
