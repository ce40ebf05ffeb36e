"""`json`: a JSON value, found in the answer or in TRL's parsed tool calls, checked by keys, a schema, a tool name.

Score of one value: 0 when there is none (not JSON, no fenced block, no JSON value,
no tool call) or, with `tool`, when it names another tool; otherwise 0.5 + 0.5 × the
fraction of its checks that pass, where each of `keys` is one check (present, with its
type when one is given) and `schema` is one (valid against the JSON Schema file); 1
without checks. Several tool calls: the lowest score of them (all must pass).
docs/language.md, `json`, has the details; `rewardlang/rules/json_values.py` the bounds.

Valid means strict JSON (RFC 8259) once surrounding whitespace is removed:
`NaN`/`Infinity`, which Python's parser accepts, are rejected. Nesting deeper
than Python's parser can follow (about a thousand levels) counts as invalid.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any, Literal

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.kind import Kind, RuleSpans
from rewardlang.nodes import Phrase, RuleBase, SpecFile, Target
from rewardlang.rules import json_values as jv
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch

_SHOWN = 40  # characters of a tool name an explanation quotes


class JsonKey(Phrase):
    """A key of `keys`, with the JSON type its value must have (`"name": string`), or any type."""

    type: jv.JsonType | None = None


# The option is spelled `schema`, which shadows pydantic v1's deprecated `BaseModel.schema()`:
# this model never calls that method, so pydantic's warning about it is noise.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message='Field name "schema"', category=UserWarning)

    class JsonRule(RuleBase):
        kind: Literal["json"]
        keys: tuple[JsonKey, ...] = ()
        extract: jv.Extract = "whole"
        schema: SpecFile | None = None  # type: ignore[assignment]
        tool: Target | None = None


def _has_key(value: Any, key: str, type_name: str | None) -> bool:
    """A key counts when the value is an object holding it, with the listed type if one is given."""
    return isinstance(value, dict) and key in value and (type_name is None or jv.has_type(value[key], type_name))


def parse(text: str) -> tuple[bool, Any]:
    """(valid, value) of `text` with surrounding whitespace removed."""
    return jv.parse(text)


class JsonScorer(RuleScorer):
    rule: JsonRule

    def __init__(self, rule: JsonRule):
        super().__init__(rule)
        # A key listed twice (RL204 warns) counts once, with the first type given.
        first: dict[str, str | None] = {}
        for key in rule.keys:
            first.setdefault(key.text, key.type)
        self.keys = tuple(first.items())
        self.checks = len(self.keys) + (rule.schema is not None)
        self._validator: Any = None  # built on first use; never pickled

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_validator"] = None
        return state

    # ----------------------------------------------------------- values
    def _values(self, batch: Batch, index: int) -> tuple[list[tuple[bool, Any]], str]:
        """The JSON values to check in completion `index` ((valid, value) each), and where they came from."""
        if self.rule.extract == "tool_calls":
            calls = jv.tool_calls(batch.completions[index])
            return [jv.call_value(call) for call in calls], f"{len(calls) or 'no'} tool call" + "s" * (len(calls) > 1)
        text = batch.texts(self.rule.scope)[index]
        if self.rule.extract == "fenced":
            block = jv.fenced_block(text)
            if block is None:
                return [], "no ```json block"
            return [jv.parse(block)], "the fenced block"
        if self.rule.extract == "first":
            found = jv.first_value(text)
            if found is None:
                return [], "no JSON value"
            return [(True, found[1])], f"the JSON value at character {found[0]}"
        return [jv.parse(text)], "the answer"

    def _check(self, valid: bool, value: Any, expected_tool: str | None) -> tuple[float, str]:
        """The score of one value, and why."""
        if not valid:
            return 0.0, "not valid JSON"
        notes: list[str] = []
        if self.rule.tool is not None:
            name = value.get("name") if isinstance(value, dict) else None
            shown = json.dumps(name)[:_SHOWN] if isinstance(name, str) else "no name"
            if name != expected_tool:
                return 0.0, f"tool {shown}, expected {json.dumps(expected_tool)[:_SHOWN]}"
            notes.append(f"tool {shown}")
        if not self.checks:
            return 1.0, "; ".join(notes) or "valid JSON"
        passed = 0
        if self.keys:
            present = [key for key, type_name in self.keys if _has_key(value, key, type_name)]
            passed += len(present)
            notes.append(f"keys {len(present)}/{len(self.keys)} ({', '.join(present) or 'none'})")
        if self.rule.schema is not None:
            error = jv.first_error(self._schema_validator(), value, self.rule.schema)
            passed += error is None
            notes.append("schema: valid" if error is None else f"schema: {error}")
        return 0.5 + 0.5 * passed / self.checks, "; ".join(notes)

    def _schema_validator(self) -> Any:
        if self._validator is None:
            assert self.rule.schema is not None
            try:
                self._validator = jv.build_validator(self.rule.schema)
            except jv.SchemaError as exc:
                raise jv.SchemaError(f"rule `{self.rule.name}`: {exc}") from None
        return self._validator

    # ---------------------------------------------------------- scoring
    def _expected_tools(self, batch: Batch) -> list[str | None]:
        if self.rule.tool is None:
            return [None] * batch.size
        return [None if t is None or not t.strip() else t.strip() for t in batch.targets(self.rule.tool)]

    def _score(self, batch: Batch, index: int, expected: str | None) -> tuple[float | None, str]:
        if self.rule.tool is not None and expected is None:
            return None, f"no expected tool ({self.rule.tool.describe()} missing) -> not applicable"
        values, source = self._values(batch, index)
        if not values:
            return 0.0, f"{source} -> 0"
        verdicts = [self._check(valid, value, expected) for valid, value in values]
        if len(verdicts) == 1:
            score, why = verdicts[0]
            return score, f"{source}: {why} -> {score:g}"
        lowest = min(range(len(verdicts)), key=lambda i: verdicts[i][0])
        score, why = verdicts[lowest]
        return score, f"{source}, lowest call {lowest + 1}: {why} -> {score:g}"

    def score(self, batch: Batch) -> list[float | None]:
        expected = self._expected_tools(batch)
        return [self._score(batch, index, expected[index])[0] for index in range(batch.size)]

    def explain(self, batch: Batch, index: int) -> str:
        return self._score(batch, index, self._expected_tools(batch)[index])[1]


# ------------------------------------------------------------------- checks
def check_schema_file(rule: JsonRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """The schema file must exist, be JSON, be a valid JSON Schema and have resolvable `$ref`s."""
    if rule.schema is None:
        return
    problem = jv.schema_problem(rule.schema)
    file = jv.shown_path(rule.schema)
    where = span("schema")
    if problem is None:
        for typo in jv.misspelled_keywords(rule.schema):
            yield codes.RL215(
                where, file=file, key=typo.key, where=typo.where, label="a keyword JSON Schema ignores",
                help=f"did you mean `{typo.keyword}`? JSON Schema ignores keywords it does not know, "
                "so this one checks nothing",
            )
        return
    if problem.kind == "unreadable":
        yield codes.RL130(
            where, file=file, problem=problem.problem, label=problem.problem,
            help="paths in a spec are relative to the spec file's folder (docs/language.md §6.7)",
        )
    elif problem.kind == "not_json":
        yield codes.RL131(where, file=file, problem=problem.problem, label="not JSON",
                          help="a JSON Schema file holds one JSON object")
    elif problem.kind == "invalid":
        yield codes.RL132(
            where, file=file, keyword=problem.keyword or "(root)", where=problem.where, problem=problem.problem,
            label="not a valid JSON Schema",
            help="the schema is checked against its draft's metaschema (`$schema`; default Draft 2020-12)",
        )
    else:
        yield codes.RL133(
            where, file=file, ref=json.dumps(problem.keyword), where=problem.where, label="unresolvable `$ref`",
            help="a `$ref` to another file is relative to the schema file; nothing is fetched from the network",
        )


def check_scope(rule: JsonRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """`scope` chooses a part of the text; tool calls are not text."""
    if rule.extract == "tool_calls" and "scope" in rule.model_fields_set:
        yield codes.RL214(
            span("scope"), scope=rule.scope, label="has no effect",
            help="tool calls are read from the assistant messages' `tool_calls`, not from their text; "
            "remove `scope`",
        )


KIND = Kind(
    model=JsonRule,
    arguments=(),
    template="json",
    scorer=JsonScorer,
    summary="a JSON value (the answer, a fenced block, the first value or tool calls): 0 when none; else "
    "0.5 + 0.5 × the fraction of `keys` and `schema` checks passed (1 without checks)",
    checks=(check_schema_file, check_scope),
)
