"""JSON values for the `json` kind: where they are in a completion, their types, and JSON Schema files.

Light at import (standard library only): `jsonschema` and `referencing` are imported
inside the functions that need them, so `rewardc check` of a spec without a schema
never loads them (tests/test_imports.py).

Bounds (docs/language.md, `json`): parsing is linear in the text; `first` tries at
most `MAX_STARTS` start positions and stops at the first one that nests too deeply,
so a megabyte of `{` or `[` costs a bounded amount of work.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urldefrag, urljoin, urlsplit

from rewardlang.rules.models import ModelLoadError

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

JsonType = Literal["string", "number", "integer", "boolean", "object", "array", "null"]
Extract = Literal["whole", "fenced", "first", "tool_calls"]

#: `extract first` tries at most this many `{` / `[` positions before giving up.
MAX_STARTS = 100
#: Python's `int()` refuses longer digit strings; longer integers are read as floats (JSON has one number type).
_MAX_INT_DIGITS = 4300
#: Formats checked (`format` asserted): those jsonschema checks with the standard library alone,
#: so a score never depends on which optional packages are installed. Other formats are annotations.
CHECKED_FORMATS = frozenset({"date", "email", "idn-email", "ipv4", "ipv6", "regex", "uuid"})
#: A schema explanation is cut to this many characters (an error may quote a megabyte of instance).
_MAX_MESSAGE = 160


# ------------------------------------------------------------------- parsing
class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(name)


def _integer(text: str) -> int | float:
    digits = len(text) - text.startswith("-")
    return int(text) if digits <= _MAX_INT_DIGITS else float(text)


_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_int=_integer)
_NOTHING = object()


def parse(text: str) -> tuple[bool, Any]:
    """(valid, value) of `text` with surrounding whitespace removed: strict JSON (no NaN/Infinity)."""
    text = text.strip()
    if not text:
        return False, None
    try:
        return True, _DECODER.decode(text)
    except (ValueError, RecursionError, TypeError):
        return False, None


def first_value(text: str) -> tuple[int, Any] | None:
    """(offset, value) of the first `{` or `[` of `text` that starts a valid JSON value, or None.

    At most `MAX_STARTS` starts are tried, each parsed once from its position; a start
    that nests more deeply than the parser follows (about 1,000 levels) ends the search,
    so hostile input (a megabyte of `[`) costs at most `MAX_STARTS` linear scans.
    """
    position = 0
    for _ in range(MAX_STARTS):
        starts = [index for index in (text.find("{", position), text.find("[", position)) if index != -1]
        if not starts:
            return None
        start = min(starts)
        try:
            value, _end = _DECODER.raw_decode(text, start)
        except RecursionError:
            return None
        except ValueError:
            position = start + 1
            continue
        return start, value
    return None


def fenced_block(text: str) -> str | None:
    """The content of the first ``` fenced block whose info string is empty or `json`, or None.

    An opening fence is three backticks; the rest of its line is the info string. The
    block ends at the next three backticks, or at the end of the text when it is never
    closed (as in CommonMark). Blocks of other languages are skipped. Linear time.
    """
    position = 0
    while True:
        opening = text.find("```", position)
        if opening == -1:
            return None
        line_end = text.find("\n", opening)
        if line_end == -1:
            return None
        info = text[opening + 3 : line_end].strip().lower()
        closing = text.find("```", line_end)
        if info in ("", "json"):
            return text[line_end + 1 : closing if closing != -1 else len(text)]
        if closing == -1:
            return None
        position = closing + 3


# ---------------------------------------------------------------- tool calls
def tool_calls(completion: Any) -> list[Any]:
    """Every tool call of a completion's assistant messages, in order (TRL's parsed `tool_calls`)."""
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, str) or not isinstance(completion, Sequence):
        return []
    calls: list[Any] = []
    for message in completion:
        if isinstance(message, Mapping) and message.get("role", "assistant") == "assistant":
            found = message.get("tool_calls")
            if isinstance(found, list | tuple):
                calls.extend(found)
    return calls


def call_value(call: Any) -> tuple[bool, Any]:
    """(valid, value) of one tool call as the JSON value `{"name": ..., "arguments": {...}}`.

    TRL (transformers' `parse_response`) and OpenAI write `{"type": "function", "function":
    {"name", "arguments"}}`; a call without the `function` wrapper is read as the function
    itself. Arguments given as a JSON string are parsed (invalid JSON there: not valid).
    A key the call lacks is absent from the value, so a schema's `required` sees it.
    """
    if not isinstance(call, Mapping):
        return False, None
    function = call.get("function")
    if not isinstance(function, Mapping):
        function = call
    value: dict[str, Any] = {}
    if "name" in function:
        value["name"] = function["name"]
    arguments = function.get("arguments", _NOTHING)
    if isinstance(arguments, str):
        valid, arguments = parse(arguments)
        if not valid:
            return False, None
    if arguments is not _NOTHING:
        value["arguments"] = arguments
    # Checked as the JSON it serializes to (tuples become arrays, number keys strings); NaN, or a
    # value JSON has no form for (a set, a tuple key), makes the call not JSON.
    try:
        return True, _DECODER.decode(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError, RecursionError):
        return False, None


# ---------------------------------------------------------------------- types
def has_type(value: Any, type_name: str) -> bool:
    """Whether a parsed JSON value has a JSON Schema type (`integer`: a number with no fraction)."""
    if type_name == "string":
        return isinstance(value, str)
    if type_name == "boolean":
        return isinstance(value, bool)
    if type_name == "null":
        return value is None
    if type_name == "object":
        return isinstance(value, dict)
    if type_name == "array":
        return isinstance(value, list)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return type_name == "number" or isinstance(value, int) or value.is_integer()


# ------------------------------------------------------------------- schemas
@dataclass(frozen=True)
class SchemaProblem:
    """Why a schema file cannot be used: `unreadable`, `not_json`, `invalid` or `ref`; and the details."""

    kind: Literal["unreadable", "not_json", "invalid", "ref"]
    problem: str  # in words: "no such file", "Expecting value (line 1, column 1)"
    where: str = ""  # for `invalid` and `ref`: the path in the schema, `$.properties.city.type`
    keyword: str = ""  # for `invalid`: the keyword at fault; for `ref`: the reference


class SchemaError(ModelLoadError):
    """A schema that cannot be used at scoring time (it changed after `rewardc check`).

    A setup mistake, not a bad completion: like a model that cannot be loaded, it stops
    scoring with this error instead of scoring every completion `None`.
    """


def shown_path(path: str) -> str:
    """A path as messages show it: relative to the working directory when inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def read_json_file(path: str) -> Any:
    """The JSON in a file; raises OSError, UnicodeDecodeError or ValueError."""
    with open(path, encoding="utf-8") as handle:
        return json.loads(handle.read(), parse_constant=_reject_constant)


def _read(path: str) -> tuple[Any, SchemaProblem | None]:
    try:
        return read_json_file(path), None
    except FileNotFoundError:
        return None, SchemaProblem("unreadable", "no such file")
    except IsADirectoryError:
        return None, SchemaProblem("unreadable", "a folder, not a file")
    except OSError as exc:
        return None, SchemaProblem("unreadable", exc.strerror or str(exc))
    except UnicodeDecodeError:
        return None, SchemaProblem("not_json", "not UTF-8 text")
    except json.JSONDecodeError as exc:
        return None, SchemaProblem("not_json", f"{exc.msg} (line {exc.lineno}, column {exc.colno})")
    except (_NotJson, RecursionError):
        return None, SchemaProblem("not_json", "not strict JSON (NaN, Infinity or nesting too deep)")


def _validator_class(schema: Any) -> Any:
    """The draft's validator class (`$schema`; Draft 2020-12 without it), matching patterns with RE2."""
    from jsonschema.validators import Draft202012Validator, extend, validator_for

    cls = validator_for(schema, default=Draft202012Validator)
    if cls not in _LINEAR:
        linear = {"pattern": _pattern, "patternProperties": _pattern_properties}
        if "additionalProperties" in cls.VALIDATORS:
            linear["additionalProperties"] = _additional_properties
        _LINEAR[cls] = extend(cls, validators=linear)
    return _LINEAR[cls]


# ------------------------------------------------------- patterns on RE2
# jsonschema matches `pattern` and `patternProperties` with Python's backtracking `re`: a
# schema pattern such as `^(a+)+$` and a long completion would stall a step. These run
# them on RE2 (linear time) instead, as `regex` rules do; `rewardc check` refuses a pattern
# RE2 cannot run (RL132).
_LINEAR: dict[Any, Any] = {}  # draft validator class -> the same class with RE2 patterns
_PATTERNS: dict[str, Any] = {}  # compiled RE2 patterns, by pattern (bounded: `_MAX_PATTERNS`)
_MAX_PATTERNS = 4096


def _re2_options() -> Any:
    import re2

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own error lines to stderr
    return options


def _re2(pattern: str) -> Any:
    program = _PATTERNS.get(pattern)
    if program is None:
        import re2

        program = re2.compile(pattern, _re2_options())
        if len(_PATTERNS) < _MAX_PATTERNS:
            _PATTERNS[pattern] = program
    return program


def _pattern(validator: Any, pattern: str, instance: Any, schema: Any) -> Iterator[Any]:
    from jsonschema.exceptions import ValidationError

    if validator.is_type(instance, "string") and _re2(pattern).search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator: Any, patterns: dict[str, Any], instance: Any, schema: Any) -> Iterator[Any]:
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        program = _re2(pattern)
        for key, value in instance.items():
            if program.search(key) is not None:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator: Any, extra_schema: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """jsonschema's `additionalProperties`, with the keys of `patternProperties` matched on RE2."""
    from jsonschema.exceptions import ValidationError

    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = [_re2(pattern) for pattern in schema.get("patternProperties", {})]
    extras = sorted(
        (key for key in instance if key not in properties and not any(p.search(key) is not None for p in patterns)),
        key=str,
    )
    if validator.is_type(extra_schema, "object"):
        for extra in extras:
            yield from validator.descend(instance[extra], extra_schema, path=extra)
    elif not extra_schema and extras:
        if "patternProperties" in schema:
            verb = "does" if len(extras) == 1 else "do"
            listed = ", ".join(repr(pattern) for pattern in sorted(schema["patternProperties"]))
            yield ValidationError(f"{', '.join(repr(e) for e in extras)} {verb} not match any of the regexes: {listed}")
        else:
            verb = "was" if len(extras) == 1 else "were"
            yield ValidationError(
                f"Additional properties are not allowed ({', '.join(repr(e) for e in extras)} {verb} unexpected)"
            )


def _re2_problem(pattern: str) -> str | None:
    import re2

    try:
        re2.compile(pattern, _re2_options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        return detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
    return None


def _unsupported_pattern(schema: Any) -> SchemaProblem | None:
    """The first `pattern` (or `patternProperties` key) of the schema that RE2 cannot run."""
    stack: list[tuple[Any, list[Any]]] = [(schema, [])]
    while stack:
        node, where = stack.pop()
        if isinstance(node, dict):
            found = [(node["pattern"], [*where, "pattern"])] if isinstance(node.get("pattern"), str) else []
            if isinstance(node.get("patternProperties"), dict):
                found += [(key, [*where, "patternProperties", key]) for key in node["patternProperties"]]
            for pattern, path in found:
                detail = _re2_problem(pattern)
                if detail is not None:
                    keyword = "pattern" if path[-1] == "pattern" else "patternProperties"
                    return SchemaProblem("invalid", f"RE2 (linear time) cannot run {json.dumps(pattern)[:80]}: "
                                         f"{detail}", _json_path(path), keyword)
            stack.extend((child, [*where, key]) for key, child in reversed(list(node.items()))
                         if key not in _DATA_KEYWORDS)
        elif isinstance(node, list):
            stack.extend((child, [*where, i]) for i, child in reversed(list(enumerate(node))))
    return None


def _json_path(parts: Iterator[Any] | Sequence[Any]) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _identified(schema: Any, cls: Any, uri: str) -> Any:
    """The schema with `uri` as its id when it has none, so relative `$ref`s resolve from its file."""
    key = "$id" if "$id" in cls.META_SCHEMA else "id"  # Drafts 3 and 4 spell it `id`
    if isinstance(schema, dict) and key not in schema:
        return {key: uri, **schema}
    return schema


def _registry(cls: Any) -> tuple[Any, Any]:
    """A registry that reads `$ref`s to local files (relative to the schema's file), never the network;
    and its retrieve function."""
    from urllib.request import url2pathname  # pulls in http.client and email: not on `rewardc check`'s path

    from referencing import Registry, Resource
    from referencing.exceptions import NoSuchResource

    specification = _specification(cls)

    def retrieve(uri: str) -> Any:
        parts = urlsplit(uri)
        if parts.scheme != "file":
            raise NoSuchResource(uri)
        path = url2pathname(parts.path)
        try:
            contents = read_json_file(path)
        except (OSError, ValueError, RecursionError) as exc:
            raise NoSuchResource(uri) from exc
        return Resource.from_contents(_identified(contents, cls, uri), default_specification=specification)

    return Registry(retrieve=retrieve), retrieve  # type: ignore[call-arg]


def _specification(cls: Any) -> Any:
    from referencing.jsonschema import specification_with

    return specification_with(cls.META_SCHEMA.get("$id") or cls.META_SCHEMA.get("id", ""))


def schema_problem(path: str) -> SchemaProblem | None:
    """What is wrong with the schema file at `path` for `rewardc check`, or None when it can be used."""
    schema, problem = _read(path)
    if problem is not None:
        return problem
    if not isinstance(schema, dict | bool):
        return SchemaProblem("invalid", f"a schema is an object or a boolean, not {type(schema).__name__}", "$")
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for

    if isinstance(schema, dict) and "$schema" in schema and validator_for(schema, default=None) is None:
        named = json.dumps(schema["$schema"])[:80]
        return SchemaProblem("invalid", f"no JSON Schema draft is named {named}", "$.$schema", "$schema")
    cls = _validator_class(schema)
    error = best_match(cls(cls.META_SCHEMA).iter_errors(schema))
    if error is not None:
        keyword = next((str(part) for part in reversed(error.path) if isinstance(part, str)), str(error.validator))
        return SchemaProblem("invalid", _short(error.message), _json_path(error.path), keyword)
    return _unsupported_pattern(schema) or _unresolved_ref(schema, cls, path)


_DATA_KEYWORDS = frozenset({"enum", "const", "default", "examples"})  # values, not schemas: no `$ref` there

# ------------------------------------------------------ misspelled keywords
# JSON Schema ignores keywords it does not know, so `"requried": ["city"]` checks nothing.
_ANNOTATIONS = frozenset({
    "$schema", "$id", "id", "$defs", "definitions", "$comment", "title", "description", "default", "examples",
    "deprecated", "readOnly", "writeOnly", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$vocabulary",
    "contentMediaType", "contentEncoding", "contentSchema",
})
_ONE_SCHEMA = frozenset({
    "not", "if", "then", "else", "additionalProperties", "additionalItems", "contains", "propertyNames",
    "unevaluatedItems", "unevaluatedProperties", "contentSchema", "items",
})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems", "items"})
_SCHEMA_MAPS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas", "dependencies"}
)


@dataclass(frozen=True)
class Misspelled:
    """A key of a schema object that is no keyword of its draft but close to one."""

    key: str
    where: str  # the JSON path of the schema object holding it
    keyword: str  # the keyword it is probably meant to be


def misspelled_keywords(path: str) -> list[Misspelled]:
    """Keys of the schema's subschemas that look like misspelled keywords (`requried`), in file order."""
    import difflib

    schema, problem = _read(path)
    if problem is not None or not isinstance(schema, dict):
        return []
    known = sorted(set(_validator_class(schema).VALIDATORS) | _ANNOTATIONS)
    found: list[Misspelled] = []
    stack: list[tuple[Any, list[Any]]] = [(schema, [])]
    while stack:
        node, where = stack.pop()
        if not isinstance(node, dict):
            continue
        children: list[tuple[Any, list[Any]]] = []
        for key, value in node.items():
            if key in _SCHEMA_MAPS and isinstance(value, dict):
                children += [(child, [*where, key, name]) for name, child in value.items()]
            elif key in _SCHEMA_LISTS and isinstance(value, list):
                children += [(child, [*where, key, i]) for i, child in enumerate(value)]
            elif key in _ONE_SCHEMA:
                children.append((value, [*where, key]))
            elif key not in known:
                close = difflib.get_close_matches(key, known, n=1, cutoff=0.8)
                if close:
                    found.append(Misspelled(key, _json_path(where), close[0]))
        stack.extend(reversed(children))
    return found


def _refs(schema: Any, uri: str) -> Iterator[tuple[str, str, list[Any]]]:
    """(ref, base URI, path in the schema) of every `$ref` of a schema document, in file order."""
    stack: list[tuple[Any, str, list[Any]]] = [(schema, uri, [])]
    while stack:
        node, base, where = stack.pop()
        if isinstance(node, dict):
            own_id = node.get("$id") if isinstance(node.get("$id"), str) else None
            base = urljoin(base, own_id) if own_id else base
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref, base, [*where, "$ref"]
            for key, child in reversed(list(node.items())):
                if key not in _DATA_KEYWORDS:
                    stack.append((child, base, [*where, key]))
        elif isinstance(node, list):
            stack.extend((child, base, [*where, i]) for i, child in reversed(list(enumerate(node))))


def _loaded_registry(schema: Any, cls: Any, uri: str) -> Any:
    """The schema and every local file its `$ref`s reach (transitively), read once and crawled.

    jsonschema does not keep what a lookup retrieves: a file left to be retrieved on
    demand would be read and crawled again on every validation (10x slower here).
    """
    from referencing import Resource
    from referencing.exceptions import NoSuchResource

    registry, retrieve = _registry(cls)
    registry = registry.with_resource(uri, Resource.from_contents(schema, _specification(cls)))
    pending, seen = [(schema, uri)], {uri}
    while pending:
        document, document_uri = pending.pop()
        for ref, base, _ in _refs(document, document_uri):
            target = urldefrag(urljoin(base, ref)).url
            if not target or target in seen or urlsplit(target).scheme != "file":
                continue
            seen.add(target)
            try:
                resource = retrieve(target)
            except NoSuchResource:
                continue  # `rewardc check` reports it (RL133); validation fails on it with a clear error
            registry = registry.with_resource(target, resource)
            pending.append((resource.contents, target))
    return registry.crawl()


def _unresolved_ref(schema: Any, cls: Any, path: str) -> SchemaProblem | None:
    """The first `$ref` of the schema that cannot be resolved (a missing sibling file, a bad pointer)."""
    from referencing.exceptions import Unresolvable

    uri = _file_uri(path)
    schema = _identified(schema, cls, uri)
    registry = _loaded_registry(schema, cls, uri)
    for ref, base, where in _refs(schema, uri):
        try:
            registry.resolver(base).lookup(ref)
        except Unresolvable:
            return SchemaProblem("ref", "cannot be resolved", _json_path(where), ref)
    return None


def _file_uri(path: str) -> str:
    from pathlib import Path

    return Path(path).absolute().as_uri()


def _short(message: str) -> str:
    return message if len(message) <= _MAX_MESSAGE else message[: _MAX_MESSAGE - 1] + "…"


def build_validator(path: str) -> Validator:
    """A validator for the schema file at `path`: its draft from `$schema` (default 2020-12),
    `$ref`s to local files resolved from the schema's folder, the `CHECKED_FORMATS` asserted."""
    from jsonschema import FormatChecker

    schema, problem = _read(path)
    if problem is not None:
        raise SchemaError(f"JSON Schema `{shown_path(path)}`: {problem.problem}")
    cls = _validator_class(schema)
    uri = _file_uri(path)
    schema = _identified(schema, cls, uri)
    registry = _loaded_registry(schema, cls, uri)
    formats = FormatChecker(formats=())
    formats.checkers = {name: check for name, check in cls.FORMAT_CHECKER.checkers.items() if name in CHECKED_FORMATS}
    validator: Validator = cls(schema, registry=registry, format_checker=formats)
    return validator


def first_error(validator: Validator, value: Any, path: str) -> str | None:
    """`$.arguments: 'city' is a required property` for the most relevant error, or None when valid."""
    from jsonschema.exceptions import best_match
    from referencing.exceptions import Unresolvable

    try:
        error = best_match(validator.iter_errors(value))
    except (Unresolvable, RecursionError) as exc:
        raise SchemaError(f"JSON Schema `{shown_path(path)}`: {exc}") from exc
    if error is None:
        return None
    return f"{_json_path(error.absolute_path)}: {_short(error.message)}"
