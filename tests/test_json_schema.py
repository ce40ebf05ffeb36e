"""The `json` kind's schema files, extraction modes, typed keys, tool calls and tool name match.

Scores are worked out by hand from docs/language.md (`json`): 0 when no JSON value is
found (or, with `tool`, another tool is named); else 0.5 + 0.5 x (checks passed / checks),
each key of `keys` and the `schema` being one check; 1 without checks; the lowest
score of several tool calls. Schemas are real files in a temporary folder, validated by
the real `jsonschema`.
"""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import rewardlang
from rewardlang import analyze
from rewardlang.cli import main
from rewardlang.fmt import format_source
from rewardlang.kinds.json_format import JsonRule, JsonScorer
from rewardlang.rules import json_values as jv
from rewardlang.rules.models import ModelLoadError
from rewardlang.runtime import Batch

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"

WEATHER_SCHEMA = {
    "type": "object",
    "required": ["name", "arguments"],
    "properties": {
        "name": {"const": "get_weather"},
        "arguments": {"$ref": "args.json"},
    },
}
ARGS_SCHEMA = {
    "type": "object",
    "required": ["city"],
    "properties": {"city": {"type": "string"}, "days": {"type": "integer", "minimum": 1}},
}


def call(name: Any, arguments: Any) -> dict[str, Any]:
    """A tool call as TRL (transformers' `parse_response`) writes it."""
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def calling(*calls: dict[str, Any], answer: str | None = None) -> list[dict[str, Any]]:
    """A TRL completion: the assistant's calls, each tool's result, then maybe the answer."""
    messages: list[dict[str, Any]] = [{"role": "assistant", "content": None, "tool_calls": list(calls)}]
    messages += [{"role": "tool", "name": str(c["function"].get("name")), "content": "{'ok': 1}"} for c in calls]
    if answer is not None:
        messages.append({"role": "assistant", "content": answer})
    return messages


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    """A spec folder with schemas/weather.json referring to its sibling schemas/args.json."""
    folder = tmp_path / "project"
    (folder / "schemas").mkdir(parents=True)
    (folder / "schemas" / "weather.json").write_text(json.dumps(WEATHER_SCHEMA), encoding="utf-8")
    (folder / "schemas" / "args.json").write_text(json.dumps(ARGS_SCHEMA), encoding="utf-8")
    return folder


def compiled(body: str, base: Path | None = None) -> rewardlang.CompiledSpec:
    return rewardlang.loads(f"reward t\nrule r: {body}\n", base=base)


def rule_scores(body: str, completions: list[Any], base: Path | None = None, **columns: list[Any]) -> list[Any]:
    return compiled(body, base).score(completions, **columns).rules["r"]


def explained(body: str, completion: Any, base: Path | None = None, **columns: list[Any]) -> str:
    result = compiled(body, base).score([completion], explain=True, **columns)
    assert result.explanations is not None
    return result.explanations["r"][0]


# ------------------------------------------------------------- extraction
@pytest.mark.parametrize(
    ("extract", "text", "expected"),
    [
        ("whole", '{"name": "a"}', 1.0),
        ("whole", 'Here: {"name": "a"}', 0.0),
        ("fenced", 'Here:\n```json\n{"name": "a"}\n```\nDone.', 1.0),
        ("fenced", 'Here:\n```\n{"name": "a"}\n```', 1.0),  # no info string
        ("fenced", 'Here:\n```JSON\n{"name": "a"}', 1.0),  # never closed: to the end (CommonMark)
        ("fenced", '```python\nx = {"a": 1}\n```\n```json\n{"name": 1}\n```', 0.5),  # python skipped; 1: no string
        ("fenced", '```python\n{"name": "a"}\n```', 0.0),  # only a block of another language
        ("fenced", '{"name": "a"}', 0.0),  # no block at all
        ("fenced", "```json\nnot json\n```", 0.0),
        ("first", 'Sure! {"name": "a", "x": [1]} is the call.', 1.0),
        ("first", 'Use {braces} or [brackets], then {"name": "a"}', 1.0),  # invalid starts skipped
        ("first", 'A list [1, 2] first, then {"name": "a"}', 0.5),  # the array is the first value: no key
        ("first", "no json here", 0.0),
        ("first", "", 0.0),
    ],
)
def test_extract_modes(extract: str, text: str, expected: float) -> None:
    body = f'json {{ extract {extract}  keys "name": string }}'
    assert rule_scores(body, [text]) == [expected]


def test_first_reports_where_the_value_starts() -> None:
    found = jv.first_value('ab {x} {"k": 1} [2]')
    assert found == (7, {"k": 1})
    assert explained("json { extract first }", 'ab {x} {"k": 1}') == "the JSON value at character 7: valid JSON -> 1"


def test_extract_reads_the_scoped_text() -> None:
    text = '<think>{"name": "hidden"}</think>The call: {"name": 7}'
    assert rule_scores('json { extract first  keys "name": string }', [text]) == [0.5]
    assert rule_scores('json { extract first  keys "name": string  scope thinking }', [text]) == [1.0]


# -------------------------------------------------------------- typed keys
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"name": "get_weather", "arguments": {"city": "Oslo"}, "n": 3}, 1.0),
        ({"name": "get_weather", "arguments": "{\"city\": \"Oslo\"}", "n": 3}, 0.5 + 0.5 * 2 / 3),  # a string
        ({"name": 1, "arguments": [], "n": 3.5}, 0.5),  # every type wrong
        ({"name": "x", "arguments": {}, "n": 3.0}, 1.0),  # 3.0 is an integer, as JSON Schema says
        ({"name": "x", "arguments": {}, "n": True}, 0.5 + 0.5 * 2 / 3),  # a boolean is no number
        ({"name": None, "arguments": None}, 0.5),
        ([1, 2], 0.5),  # not an object: no key
    ],
)
def test_typed_keys(value: Any, expected: float) -> None:
    body = 'json { keys "name": string, "arguments": object, "n": integer }'
    assert rule_scores(body, [json.dumps(value)]) == [pytest.approx(expected)]


def test_every_json_type_word() -> None:
    value = {"s": "x", "n": 1.5, "i": 2, "b": False, "o": {}, "a": [], "z": None}
    body = ('json { keys "s": string, "n": number, "i": integer, "b": boolean, "o": object, "a": array, '
            '"z": null }')
    assert rule_scores(body, [json.dumps(value)]) == [1.0]
    swapped = {"s": 1, "n": "1", "i": 1.5, "b": 0, "o": [], "a": {}, "z": 0}
    assert rule_scores(body, [json.dumps(swapped)]) == [0.5]


def test_a_key_listed_twice_counts_once_with_its_first_type() -> None:
    body = 'json { keys "b": string, "a", "b": integer }'
    assert rule_scores(body, ['{"a": 1, "b": "x"}', '{"a": 1, "b": 2}']) == [1.0, 0.75]
    assert explained(body, '{"a": 1, "b": "x"}') == "the answer: keys 2/2 (b, a) -> 1"


def test_plain_and_typed_keys_mix() -> None:
    body = 'json { keys "a", "b": string }'
    assert rule_scores(body, ['{"a": null, "b": 2}', '{"b": "x"}']) == [0.75, 0.75]


def test_unknown_type_word_is_rl104_at_the_word() -> None:
    text = 'reward t\nrule r: json { keys "a": strnig }\n'
    [diagnostic] = analyze(text).diagnostics
    assert (diagnostic.code, diagnostic.span.line, diagnostic.span.column) == ("RL104", 2, 26)
    assert diagnostic.help == "did you mean `string`?"


def test_a_misspelled_tool_target_is_rl110() -> None:
    [diagnostic] = analyze("reward t\nrule r: json { tool last_usr }\n").diagnostics
    assert (diagnostic.code, diagnostic.message, diagnostic.help) == (
        "RL110", "unknown target `last_usr`", "did you mean `last_user`?"
    )
    assert (diagnostic.span.line, diagnostic.span.column) == (2, 16)


def test_typed_keys_format_canonically() -> None:
    messy = 'reward t\nrule r: json {keys "name" :string,"arguments":   object , "x"}\n'
    formatted, diagnostics = format_source(messy)
    assert diagnostics == []
    assert formatted == 'reward t\n\nrule r: json { keys "name": string, "arguments": object, "x" }\n'
    assert format_source(formatted or "")[0] == formatted
    before, after = analyze(messy).spec, analyze(formatted or "").spec
    assert before is not None and after is not None
    assert before.model_dump() == after.model_dump()
    [rule] = before.rules
    assert isinstance(rule, JsonRule)
    assert [(key.text, key.type) for key in rule.keys] == [("name", "string"), ("arguments", "object"), ("x", None)]


# ------------------------------------------------------------------ schemas
def test_schema_scores_with_a_ref_to_a_sibling_file(schemas: Path) -> None:
    body = 'json { schema "schemas/weather.json" }'
    texts = [
        '{"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}',  # valid: 1
        '{"name": "get_weather", "arguments": {"days": 2}}',  # args.json: city required: 0.5
        '{"name": "get_weather", "arguments": {"city": "Oslo", "days": 0}}',  # args.json: minimum: 0.5
        '{"name": "get_time", "arguments": {"city": "Oslo"}}',  # const: 0.5
        "not json",  # 0
    ]
    assert rule_scores(body, texts, base=schemas) == [1.0, 0.5, 0.5, 0.5, 0.0]
    assert explained(body, texts[1], base=schemas) == (
        "the answer: schema: $.arguments: 'city' is a required property -> 0.5"
    )
    assert explained(body, texts[0], base=schemas) == "the answer: schema: valid -> 1"


def test_schema_and_keys_are_checks_of_equal_weight(schemas: Path) -> None:
    body = 'json { keys "name": string, "arguments": object  schema "schemas/weather.json" }'
    texts = [
        '{"name": "get_weather", "arguments": {"city": "Oslo"}}',  # 3 of 3
        '{"name": "get_weather", "arguments": {}}',  # keys pass, schema fails: 2 of 3
        '{"name": 5}',  # 0 of 3
    ]
    assert rule_scores(body, texts, base=schemas) == [1.0, pytest.approx(0.5 + 0.5 * 2 / 3), 0.5]


def test_relative_schema_path_resolves_from_the_spec_folder(
    schemas: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = schemas / "weather.reward"
    spec.write_text('reward w\nrule call: json { schema "schemas/weather.json" }\n', encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # neither the spec's folder nor the schema's
    assert main(["check", "--strict", str(spec)]) == 0
    assert capsys.readouterr().err == ""
    loaded = rewardlang.load(spec)
    assert loaded.score(['{"name": "get_weather", "arguments": {"city": "Oslo"}}']).rules["call"] == [1.0]
    # The same text analysed from the working directory does not find it.
    [diagnostic] = analyze(spec.read_text(encoding="utf-8")).diagnostics
    assert diagnostic.code == "RL130"


def test_draft_comes_from_dollar_schema(tmp_path: Path) -> None:
    # `items` as an array is Draft 7's tuple form; Draft 2020-12 (the default) refuses it.
    tuple_schema = {"type": "array", "items": [{"type": "string"}, {"type": "integer"}]}
    (tmp_path / "draft7.json").write_text(
        json.dumps({"$schema": "http://json-schema.org/draft-07/schema#", **tuple_schema}), encoding="utf-8"
    )
    (tmp_path / "default.json").write_text(json.dumps(tuple_schema), encoding="utf-8")
    assert analyze('reward t\nrule r: json { schema "draft7.json" }\n', base=tmp_path).diagnostics == []
    assert rule_scores('json { schema "draft7.json" }', ['["a", 1]', '["a", "b"]'], base=tmp_path) == [1.0, 0.5]
    [diagnostic] = analyze('reward t\nrule r: json { schema "default.json" }\n', base=tmp_path).diagnostics
    assert diagnostic.code == "RL132"
    assert diagnostic.message.startswith(f"`{jv.shown_path(str(tmp_path / 'default.json'))}` is not a valid JSON "
                                         "Schema: `items` at `$.items`: ")


def test_formats_checked_are_the_standard_library_ones(tmp_path: Path) -> None:
    schema = {"properties": {"mail": {"format": "email"}, "when": {"format": "date"}, "site": {"format": "uri"}}}
    (tmp_path / "f.json").write_text(json.dumps(schema), encoding="utf-8")
    body = 'json { schema "f.json" }'
    texts = [
        '{"mail": "a@b.org", "when": "2026-12-01"}',
        '{"mail": "nobody"}',  # not an email: asserted
        '{"when": "December"}',  # not a date: asserted
        '{"site": "not a uri"}',  # `uri` is an annotation only
    ]
    assert rule_scores(body, texts, base=tmp_path) == [1.0, 0.5, 0.5, 1.0]


def test_schema_patterns_run_in_linear_time(tmp_path: Path) -> None:
    # `^(a+)+$` backtracks exponentially in Python's `re` on "aaa...b"; on RE2 it is linear.
    schema = {"properties": {"s": {"pattern": "^(a+)+$"}}, "patternProperties": {"^(x+)+$": {"type": "integer"}}}
    (tmp_path / "p.json").write_text(json.dumps(schema), encoding="utf-8")
    body = 'json { schema "p.json" }'
    texts = [
        json.dumps({"s": "a" * 100_000 + "b"}),  # no match: 0.5
        json.dumps({"s": "aaaa"}),  # 1
        json.dumps({"x" * 100_000 + "y": "not checked", "xx": 3}),  # the long key does not match: 1
        json.dumps({"xx": "not an integer"}),  # 0.5
    ]
    assert rule_scores(body, texts, base=tmp_path) == [0.5, 1.0, 1.0, 0.5]
    closed = {"properties": {"a": {}}, "patternProperties": {"^(x+)+$": {}}, "additionalProperties": False}
    (tmp_path / "closed.json").write_text(json.dumps(closed), encoding="utf-8")
    texts = [json.dumps({"a": 1, "xxx": 2}), json.dumps({"x" * 100_000 + "y": 1})]
    assert rule_scores('json { schema "closed.json" }', texts, base=tmp_path) == [1.0, 0.5]
    line = explained('json { schema "closed.json" }', json.dumps({"b": 1}), base=tmp_path)
    assert line == "the answer: schema: $: 'b' does not match any of the regexes: '^(x+)+$' -> 0.5"
    strict = {"properties": {"a": {}}, "additionalProperties": False}
    (tmp_path / "strict.json").write_text(json.dumps(strict), encoding="utf-8")
    line = explained('json { schema "strict.json" }', json.dumps({"b": 1, "c": 2}), base=tmp_path)
    assert line == "the answer: schema: $: Additional properties are not allowed ('b', 'c' were unexpected) -> 0.5"


@pytest.mark.parametrize(
    ("schema", "keyword", "where"),
    [
        ({"properties": {"s": {"pattern": "(?=a)b"}}}, "pattern", "$.properties.s.pattern"),  # lookahead
        ({"patternProperties": {"(a)\\1": {}}}, "patternProperties", "$.patternProperties.(a)\\1"),
    ],
)
def test_a_pattern_re2_cannot_run_is_rl134(tmp_path: Path, schema: Any, keyword: str, where: str) -> None:
    (tmp_path / "p.json").write_text(json.dumps(schema), encoding="utf-8")
    [(code, line, column, message)] = check('schema "p.json"', tmp_path)
    assert (code, line, column) == ("RL132", 2, 16)
    assert f"`{keyword}` at `{where}`: RE2 (linear time) cannot run " in message


def test_draft4_ids_and_relative_refs(tmp_path: Path) -> None:
    (tmp_path / "leaf.json").write_text('{"type": "string"}', encoding="utf-8")
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "properties": {"a": {"$ref": "leaf.json"}}}
    (tmp_path / "s.json").write_text(json.dumps(schema), encoding="utf-8")
    assert check('schema "s.json"', tmp_path) == []
    assert rule_scores('json { schema "s.json" }', ['{"a": "x"}', '{"a": 1}'], base=tmp_path) == [1.0, 0.5]


def test_boolean_schema(tmp_path: Path) -> None:
    (tmp_path / "no.json").write_text("false", encoding="utf-8")
    assert rule_scores('json { schema "no.json" }', ['{"a": 1}', "nope"], base=tmp_path) == [0.5, 0.0]


# ---------------------------------------------------------- check-time codes
def check(body: str, base: Path) -> list[tuple[str, int, int, str]]:
    text = f"reward t\nrule r: json {{ {body} }}\n"
    return [(d.code, d.span.line, d.span.column, d.message) for d in analyze(text, base=base).diagnostics]


def test_missing_schema_is_rl132_at_the_option(tmp_path: Path) -> None:
    shown = jv.shown_path(str(tmp_path / "nope.json"))
    assert check('extract first  schema "nope.json"', tmp_path) == [
        ("RL130", 2, 31, f"cannot read the JSON Schema file `{shown}`: no such file")
    ]


def test_a_folder_is_rl132(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    shown = jv.shown_path(str(tmp_path / "dir.json"))
    assert check('schema "dir.json"', tmp_path) == [
        ("RL130", 2, 16, f"cannot read the JSON Schema file `{shown}`: a folder, not a file")
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"type": "object",}', "Expecting property name enclosed in double quotes (line 1, column 19)"),
        ("", "Expecting value (line 1, column 1)"),
        ('{"maximum": NaN}', "not strict JSON (NaN, Infinity or nesting too deep)"),
    ],
)
def test_not_json_is_rl133_naming_line_and_column(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "s.json").write_text(content, encoding="utf-8")
    shown = jv.shown_path(str(tmp_path / "s.json"))
    assert check('schema "s.json"', tmp_path) == [
        ("RL131", 2, 16, f"the JSON Schema file `{shown}` is not JSON: {problem}")
    ]


def test_not_utf8_is_rl133(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_bytes(b'{"title": "\xff"}')
    [(code, _, _, message)] = check('schema "s.json"', tmp_path)
    assert (code, message.endswith("is not JSON: not UTF-8 text")) == ("RL131", True)


@pytest.mark.parametrize(
    ("schema", "keyword", "where"),
    [
        ({"properties": {"city": {"type": "text"}}}, "type", "$.properties.city.type"),
        ({"required": "name"}, "required", "$.required"),
        ({"properties": {"n": {"minimum": "1"}}}, "minimum", "$.properties.n.minimum"),
        ({"$schema": "https://example.com/my-draft"}, "$schema", "$.$schema"),
        ([{"type": "object"}], "(root)", "$"),
    ],
)
def test_invalid_schema_is_rl134_naming_keyword_and_path(
    tmp_path: Path, schema: Any, keyword: str, where: str
) -> None:
    (tmp_path / "s.json").write_text(json.dumps(schema), encoding="utf-8")
    [(code, line, column, message)] = check('schema "s.json"', tmp_path)
    shown = jv.shown_path(str(tmp_path / "s.json"))
    assert (code, line, column) == ("RL132", 2, 16)
    assert message.startswith(f"`{shown}` is not a valid JSON Schema: `{keyword}` at `{where}`: ")


@pytest.mark.parametrize(
    ("ref", "where"),
    [
        ("missing.json", "$.properties.a.$ref"),
        ("#/$defs/nothing", "$.properties.a.$ref"),
        ("args.json#/properties/nowhere", "$.properties.a.$ref"),
        ("https://example.com/schema.json", "$.properties.a.$ref"),  # never fetched
    ],
)
def test_unresolvable_ref_is_rl135(tmp_path: Path, ref: str, where: str) -> None:
    (tmp_path / "args.json").write_text(json.dumps(ARGS_SCHEMA), encoding="utf-8")
    (tmp_path / "s.json").write_text(json.dumps({"properties": {"a": {"$ref": ref}}}), encoding="utf-8")
    shown = jv.shown_path(str(tmp_path / "s.json"))
    assert check('schema "s.json"', tmp_path) == [
        ("RL133", 2, 16, f"`{shown}`: the `$ref` {json.dumps(ref)} at `{where}` cannot be resolved")
    ]


def test_resolvable_refs_check_clean(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "leaf.json").write_text('{"type": "string"}', encoding="utf-8")
    # sub/mid.json refers to leaf.json relative to itself, not to the first schema.
    (tmp_path / "sub" / "mid.json").write_text('{"$ref": "leaf.json"}', encoding="utf-8")
    schema = {
        "$defs": {"n": {"type": "integer"}},
        "properties": {"a": {"$ref": "#/$defs/n"}, "b": {"$ref": "sub/mid.json"}},
        "enum": [{"$ref": "not a reference: data"}, {"a": 1, "b": "x"}],
    }
    (tmp_path / "s.json").write_text(json.dumps(schema), encoding="utf-8")
    assert check('schema "s.json"', tmp_path) == []
    assert rule_scores('json { schema "s.json" }', ['{"a": 1, "b": "x"}', '{"a": 1, "b": 2}'], base=tmp_path) == [
        1.0,
        0.5,
    ]


def test_misspelled_keywords_are_rl216_warnings(tmp_path: Path) -> None:
    schema = {
        "type": "object",
        "requried": ["city"],  # a typo: JSON Schema ignores it
        "properties": {"requried": {"type": "string", "maxLenght": 3}, "x-custom": {}},  # a property name; a typo
        "x-vendor-extension": True,  # not close to any keyword: left alone
        "$defs": {"d": {"anyOf": [{"enumm": [1]}]}},
    }
    (tmp_path / "s.json").write_text(json.dumps(schema), encoding="utf-8")
    shown = jv.shown_path(str(tmp_path / "s.json"))
    diagnostics = analyze('reward t\nrule r: json { schema "s.json" }\n', base=tmp_path).diagnostics
    assert [(d.code, d.span.column, d.message, d.help.split("?")[0]) for d in diagnostics] == [
        ("RL215", 16, f"`{shown}`: `requried` at `$` is no JSON Schema keyword", "did you mean `required`"),
        ("RL215", 16, f"`{shown}`: `maxLenght` at `$.properties.requried` is no JSON Schema keyword",
         "did you mean `maxLength`"),
        ("RL215", 16, f"`{shown}`: `enumm` at `$.$defs.d.anyOf[0]` is no JSON Schema keyword", "did you mean `enum`"),
    ]
    assert all(not d.is_error for d in diagnostics)
    # A warning only: the rule still scores, and the misspelled keyword checks nothing.
    assert rule_scores('json { schema "s.json" }', ['{"requried": "abcdef"}'], base=tmp_path) == [1.0]


def test_scope_with_tool_calls_is_rl215() -> None:
    text = "reward t\ndefaults { scope full }\nrule r: json { extract tool_calls }\nrule s: json { extract first }\n"
    assert [(d.code, d.span.line, d.span.column) for d in analyze(text).diagnostics] == [("RL214", 2, 12)]
    assert analyze("reward t\nrule r: json { extract tool_calls }\n").diagnostics == []


def test_a_schema_gone_after_check_stops_scoring_with_a_clear_error(schemas: Path) -> None:
    spec = compiled('json { schema "schemas/weather.json" }', schemas)
    (schemas / "schemas" / "weather.json").unlink()
    with pytest.raises(ModelLoadError, match=r"rule `r`: JSON Schema `.*weather\.json`: no such file"):
        spec.score(['{"a": 1}'])


# --------------------------------------------------------------- tool calls
def test_tool_calls_trl_shape(schemas: Path) -> None:
    body = 'json { extract tool_calls  schema "schemas/weather.json" }'
    completions = [
        calling(call("get_weather", {"city": "Oslo"}), answer="Sunny."),  # 1
        calling(call("get_weather", '{"city": "Oslo"}')),  # arguments as a JSON string: parsed: 1
        calling(call("get_weather", "{city: Oslo}")),  # arguments not JSON: 0
        calling(call("get_weather", {"city": 3})),  # 0.5
        calling(call("get_weather", {"city": "Oslo"}), call("get_weather", {})),  # lowest: 0.5
        [{"role": "assistant", "content": '{"name": "get_weather", "arguments": {"city": "Oslo"}}'}],  # text: 0
        "plain text",  # no messages: 0
        [{"role": "assistant", "content": None, "tool_calls": []}],  # 0
    ]
    assert rule_scores(body, completions, base=schemas) == [1.0, 1.0, 0.0, 0.5, 0.5, 0.0, 0.0, 0.0]
    assert explained(body, completions[4], base=schemas) == (
        "2 tool calls, lowest call 2: schema: $.arguments: 'city' is a required property -> 0.5"
    )
    assert explained(body, completions[7], base=schemas) == "no tool call -> 0"


def test_tool_calls_of_every_assistant_message_count(schemas: Path) -> None:
    first = calling(call("get_weather", {"city": "Oslo"}))
    later = {"role": "assistant", "content": "", "tool_calls": [call("get_weather", {"days": 2})]}
    # A tool message's own `tool_calls` (never real) is not the assistant's.
    tool_noise = {"role": "tool", "content": "x", "tool_calls": [call("get_weather", {"days": 2})]}
    body = 'json { extract tool_calls  schema "schemas/weather.json" }'
    assert rule_scores(body, [[*first, later], [*first, tool_noise]], base=schemas) == [0.5, 1.0]


def test_tool_call_shapes() -> None:
    assert jv.call_value({"name": "f", "arguments": {"a": 1}}) == (True, {"name": "f", "arguments": {"a": 1}})
    assert jv.call_value({"type": "function", "function": {"name": "f"}}) == (True, {"name": "f"})
    assert jv.call_value(call("f", "[1]")) == (True, {"name": "f", "arguments": [1]})
    assert jv.call_value(call("f", "NaN")) == (False, None)
    assert jv.call_value("f(1)") == (False, None)
    # Checked as JSON: a tuple is an array; NaN, a set or a tuple key is no JSON.
    assert jv.call_value(call("f", {"a": (1, 2)})) == (True, {"name": "f", "arguments": {"a": [1, 2]}})
    assert jv.call_value(call("f", {"a": float("nan")})) == (False, None)
    assert jv.call_value(call("f", {"a": {1, 2}})) == (False, None)
    assert jv.call_value(call("f", {("a",): 1})) == (False, None)
    assert jv.tool_calls({"role": "assistant", "tool_calls": [1, 2]}) == [1, 2]
    assert jv.tool_calls(None) == []


def test_tool_calls_with_typed_keys() -> None:
    body = 'json { extract tool_calls  keys "name": string, "arguments": object }'
    completions = [calling(call("f", {})), calling(call("f", "[1]")), calling({"type": "function", "function": {}})]
    assert rule_scores(body, completions) == [1.0, 0.75, 0.5]


# --------------------------------------------------------------- tool name
def test_tool_name_match_against_a_column() -> None:
    body = "json { extract tool_calls  tool column expected_tool }"
    completions = [
        calling(call("get_weather", {})),  # right: 1
        calling(call("get_time", {})),  # wrong: 0
        calling(call("get_weather", {}), call("get_time", {})),  # one wrong: 0
        calling(call("get_weather", {})),  # no expected tool: None
        "no call",  # 0
        calling(call("get_weather", {})),  # expected " get_weather " (trimmed): 1
    ]
    expected = ["get_weather", "get_weather", "get_weather", None, "get_weather", " get_weather "]
    assert rule_scores(body, completions, expected_tool=expected) == [1.0, 0.0, 0.0, None, 0.0, 1.0]
    assert rule_scores(body, completions[:1]) == [None]  # no such column
    assert explained(body, completions[1], expected_tool=["get_weather"]) == (
        '1 tool call: tool "get_time", expected "get_weather" -> 0'
    )


def test_tool_name_with_other_checks_and_text_json(schemas: Path) -> None:
    body = 'json { extract first  tool column expected_tool  keys "arguments": object }'
    texts = ['{"name": "a", "arguments": {}}', '{"name": "a", "arguments": 1}', '{"name": "b", "arguments": {}}']
    assert rule_scores(body, texts, expected_tool=["a", "a", "a"]) == [1.0, 0.5, 0.0]


# -------------------------------------------------------------- hostile input
MEGABYTE = 1_000_000


@pytest.mark.parametrize("extract", ["whole", "fenced", "first"])
@pytest.mark.parametrize(
    "text",
    ["{" * MEGABYTE, "[" * MEGABYTE, '{"a": "' + "x" * MEGABYTE, "[1," * (MEGABYTE // 3), "```\n" * (MEGABYTE // 4)],
    ids=["braces", "brackets", "open-string", "open-array", "fences"],
)
def test_a_megabyte_of_hostile_text_scores_zero(extract: str, text: str) -> None:
    assert rule_scores(f'json {{ extract {extract}  keys "a" }}', [text]) == [0.0]


def test_first_tries_a_bounded_number_of_starts() -> None:
    # The value after MAX_STARTS failed starts is not looked for: the search is bounded.
    prefix = "{x} " * jv.MAX_STARTS
    assert jv.first_value(prefix + '{"a": 1}') is None
    assert jv.first_value("{x} " * (jv.MAX_STARTS - 1) + '{"a": 1}') == (4 * (jv.MAX_STARTS - 1), {"a": 1})


def test_a_megabyte_tool_call_argument_string(schemas: Path) -> None:
    body = 'json { extract tool_calls  schema "schemas/weather.json" }'
    completions = [calling(call("get_weather", "[" * MEGABYTE)), calling(call("get_weather", {"city": "x" * MEGABYTE}))]
    assert rule_scores(body, completions, base=schemas) == [0.0, 1.0]
    # An error quoting a megabyte of instance is cut short in the explanation.
    line = explained(body, calling(call("get_weather", {"city": ["x" * MEGABYTE]})), base=schemas)
    assert line.startswith("1 tool call: schema: $.arguments.city: ['xxxx") and line.endswith("… -> 0.5")
    assert len(line) < 300


# ------------------------------------------------------------------ pickling
def test_scorer_pickles_without_its_validator(schemas: Path) -> None:
    rule = analyze('reward t\nrule r: json { schema "schemas/weather.json" }\n', base=schemas).spec
    assert rule is not None
    json_rule = rule.rules[0]
    assert isinstance(json_rule, JsonRule)
    scorer = JsonScorer(json_rule)
    texts = ['{"name": "get_weather", "arguments": {"city": "Oslo"}}', '{"name": "x"}']
    first = scorer.score(Batch(texts))
    assert scorer._validator is not None  # built once, on first use
    built = scorer._validator
    scorer.score(Batch(texts))
    assert scorer._validator is built
    again = pickle.loads(pickle.dumps(scorer))
    assert again._validator is None
    assert again.score(Batch(texts)) == first == [1.0, 0.5]
    whole = pickle.loads(pickle.dumps(compiled('json { schema "schemas/weather.json" }', schemas)))
    assert whole.score(texts).rules["r"] == [1.0, 0.5]


# ------------------------------------------------------------------ the CLI
def test_rewardc_score_explain(schemas: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = schemas / "tools.reward"
    spec.write_text(
        'reward tools\nrule call: json { extract tool_calls  schema "schemas/weather.json" }\n'
        "rule right: json { extract tool_calls  tool column expected_tool }\n",
        encoding="utf-8",
    )
    rows = [
        {"prompt": [{"role": "user", "content": "Weather in Oslo?"}], "expected_tool": "get_weather",
         "completion": calling(call("get_weather", {"days": 1}), answer="Sunny.")},
        {"prompt": "Weather?", "completion": '{"name": "get_weather"}', "expected_tool": "get_weather"},
    ]
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    capsys.readouterr()
    assert main(["score", str(spec), "--data", str(data), "--format", "json", "--explain"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [item["scores"] for item in document["rows"]] == [{"call": 0.5, "right": 1.0}, {"call": 0.0, "right": 0.0}]
    assert [item["explanations"] for item in document["rows"]] == [
        {"call": "1 tool call: schema: $.arguments: 'city' is a required property -> 0.5",
         "right": '1 tool call: tool "get_weather" -> 1'},
        {"call": "no tool call -> 0", "right": "no tool call -> 0"},
    ]


# ----------------------------------------------------------------- imports
def _modules_after(code: str) -> list[str]:
    report = "print(json.dumps(sorted(m for m in ('jsonschema', 'referencing') if m in sys.modules)))"
    script = textwrap.dedent(code) + f"\nimport sys, json\n{report}\n"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_check_without_a_schema_does_not_import_jsonschema(tmp_path: Path) -> None:
    plain = tmp_path / "plain.reward"
    plain.write_text('reward t\nrule r: json { extract tool_calls  keys "name": string }\n', encoding="utf-8")
    assert _modules_after(f"import rewardlang.cli\nassert rewardlang.cli.main(['check', {str(plain)!r}]) == 0") == []
    # The detection works: checking a spec with a schema does import it.
    with_schema = str(SPECS / "tools.reward")
    code = f"import rewardlang.cli\nassert rewardlang.cli.main(['check', {with_schema!r}]) == 0"
    assert _modules_after(code) == ["jsonschema", "referencing"]
