"""A spec's examples, read into validated `ast.Example`s: from `example` blocks and examples files.

    example "a helpful answer" {
        user "How do I reset my password?"
        completion "Here's how: open Settings > Account > Reset password."
        expect helpful >= 0.4
        expect total >= 1
    }
    examples "chat.examples.jsonl"

An example block holds messages (`system`, `user`, `assistant`, ... written as
`ROLE "text"`, the conversation so far) or a plain `prompt "text"`, the
`completion` (the reply scored: an assistant message after messages, a plain
string otherwise), dataset `column`s and `expect` lines. An examples file holds
one JSON object per line, a row as `rewardc score` reads it (`prompt` +
`completion`, or `messages`, other keys being dataset columns) plus `name` and
`expect` (`{"helpful": ">= 0.4", "total": 1, "on_topic": null}`: a number is
`=`, null is `n/a`, a string is written as in a spec). Its diagnostics point into
that file (`Diagnostic.file`).

This is the front end of examples (`validate.py` calls `build_examples`); running
them is `rewardlang.spectest`. Standard library and light modules only: `rewardc
check` reads examples without scoring them.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from rewardlang import ast, codes
from rewardlang import syntax as syn
from rewardlang.conversations import ROLES, prompt_problem
from rewardlang.diagnostics import Diagnostic, Label, SourceFile, one_of, suggestion_help
from rewardlang.jsonlines import BOM, BadLine, json_type, read_lines
from rewardlang.rows import Row, to_row
from rewardlang.source import SourceMap, Span

MAX_EXAMPLES_BYTES = 64 * 1024 * 1024  # an examples file larger than this is not read
# The keys of an examples-file record that are not part of the row.
_EXAMPLE_KEYS = ("name", "expect")
_ITEMS = ("prompt", "completion", "column", "expect")  # an example block's items besides messages
_NUMBER = r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_EXPECTATION = re.compile(rf"\s*(=|==|<=|>=|<|>)?\s*({_NUMBER})\s*(?:within\s+({_NUMBER}))?\s*")


def build_examples(statements: list[syn.Statement], base: str | os.PathLike[str] | None) -> tuple[
    list[ast.Example], list[Diagnostic]
]:
    """Every example of a spec's statements, in source order, and what is wrong with the others."""
    examples: list[ast.Example] = []
    diagnostics: list[Diagnostic] = []
    blocks = 0
    for statement in statements:
        if isinstance(statement, syn.Example):
            blocks += 1
            example = _from_block(statement, f"example {blocks}", diagnostics)
            if example is not None:
                examples.append(example)
        elif isinstance(statement, syn.ExamplesFile):
            examples += _from_file(statement, base, diagnostics)
    return examples, diagnostics


def example_rows(examples: Sequence[ast.Example]) -> list[Row]:
    """Examples (a spec's `examples`) as rows to score, numbered from 1 in order."""
    return [
        Row(number, _list(example.prompt), _list(example.completion), _list(example.completion_ids),
            dict(example.columns))
        for number, example in enumerate(examples, start=1)
    ]


def _list(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def parse_expectation(subject: str, value: Any) -> dict[str, Any] | str:
    """An expectation given as data (an examples file, `rewardlang.testing`), or why it is not one.

    A number is `=`; None is `n/a`; a string is written as in a spec: `">= 0.5"`,
    `"= 1 within 0.1"`, `"0.8"`, `"n/a"`.
    """
    if value is None:
        return {"subject": subject, "op": "n/a"}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"subject": subject, "op": "=", "value": value}
    if not isinstance(value, str):
        return f"expected a number, null or a string such as \">= 0.5\", got {json_type(value)}"
    if value.strip() == "n/a":
        return {"subject": subject, "op": "n/a"}
    match = _EXPECTATION.fullmatch(value)
    if match is None:
        return f"cannot read {json.dumps(value[:60])}: write \">= 0.5\", \"= 1 within 0.1\", a number or \"n/a\""
    op, number, within = match.groups()
    if within is not None and op not in (None, "=", "=="):
        return f"{json.dumps(value[:60])}: `within` goes with `=` only"
    data: dict[str, Any] = {"subject": subject, "op": "=" if op in (None, "==") else op, "value": float(number)}
    if within is not None:
        data["within"] = float(within)
    return data


# ------------------------------------------------------------------ blocks
def _from_block(block: syn.Example, default_name: str, diagnostics: list[Diagnostic]) -> ast.Example | None:
    name = block.name.value if block.name is not None else default_name
    head = block.name.span if block.name is not None else block.span.head(len("example"))
    prompt: syn.Option | None = None
    completion: syn.Option | None = None
    messages: list[dict[str, Any]] = []
    columns: dict[str, Any] = {}
    column_options: dict[str, syn.Option] = {}
    expectations: list[dict[str, Any]] = []
    failed = False
    for option in block.options:
        value = option.value
        if option.key in ("prompt", "completion"):
            first = prompt if option.key == "prompt" else completion
            if first is not None:
                diagnostics.append(_twice(option, first, option.key))
                failed = True
            elif option.key == "prompt":
                prompt = option
            else:
                completion = option
        elif isinstance(value, syn.ColumnValue):
            if value.name in column_options:
                diagnostics.append(_twice(option, column_options[value.name], f"column {value.name}"))
                failed = True
                continue
            column_options[value.name] = option
            columns[value.name] = value.value.value
        elif isinstance(value, syn.Expectation):
            expectation = _expectation(value, diagnostics)
            failed |= expectation is None
            if expectation is not None:
                expectations.append(expectation)
        elif option.key in ROLES and isinstance(value, syn.String):
            messages.append({"role": option.key, "content": value.value})
        else:
            diagnostics.append(
                codes.RL136(
                    option.key_span,
                    role=option.key,
                    label="not a message role",
                    help=suggestion_help(option.key, (*sorted(ROLES), *_ITEMS))
                    or f"an example holds {one_of(_ITEMS)} lines, and messages: {one_of(sorted(ROLES))}",
                )
            )
            failed = True
    if completion is None:
        diagnostics.append(
            codes.RL135(
                head,
                name=name,
                label="no `completion`",
                help='add the reply to score: completion "..."',
            )
        )
        return None
    if prompt is not None and messages:
        diagnostics.append(
            codes.RL135(
                prompt.span,
                variant="mixed",
                name=name,
                label="a plain prompt",
                help="write the conversation as messages (`user \"...\"`) or as one `prompt \"...\"`, not both",
            )
        )
        return None
    text = completion.value.value if isinstance(completion.value, syn.String) else ""
    data: dict[str, Any] = {"name": name, "span": block.span, "columns": columns, "expectations": expectations}
    if messages:
        problem = prompt_problem(messages)
        if problem is not None:
            shown = problem.message.replace("`prompt`", "its messages")
            diagnostics.append(
                codes.RL135(head, variant="messages", name=name, problem=shown, label="in this example",
                            help="give it a `user` message with some text")
            )
            return None
        data["prompt"] = tuple(messages)
        data["completion"] = ({"role": "assistant", "content": text},)
    else:
        if prompt is not None:
            data["prompt"] = prompt.value.value if isinstance(prompt.value, syn.String) else ""
        data["completion"] = text
    if failed:
        return None
    return ast.Example.model_validate(data)


def _expectation(value: syn.Expectation, diagnostics: list[Diagnostic]) -> dict[str, Any] | None:
    data: dict[str, Any] = {
        "subject": value.subject.text,
        "subject_span": value.subject.span,
        "op": value.op.text,
        "span": value.span,
    }
    if value.value is not None:
        data["value"] = value.value.value
    if value.within is not None:
        if value.within.value < 0:
            diagnostics.append(
                codes.RL105(value.within.span, field="within", label="must be at least 0",
                            help="`within` is how far the score may be from the value, either way")
            )
            return None
        data["within"] = value.within.value
    return data


def _twice(option: syn.Option, first: syn.Option, what: str) -> Diagnostic:
    return codes.RL103(
        option.span,
        option=what,
        labels=(Label(first.span, "first given here"),),
        help="an example holds one of each; write another `example` for another case",
    )


# ------------------------------------------------------------------- files
def _from_file(
    statement: syn.ExamplesFile, base: str | os.PathLike[str] | None, diagnostics: list[Diagnostic]
) -> list[ast.Example]:
    written = statement.path.value
    folder = os.path.abspath(base) if base is not None else os.getcwd()
    path = os.path.normpath(os.path.join(folder, os.path.expanduser(written)))
    data = _read(path, written, statement.path.span, diagnostics)
    if data is None:
        return []
    text = data.removeprefix(BOM).decode("utf-8", "replace")
    file = SourceFile(_shown_path(path), text)
    lines = SourceMap(text)
    examples: list[ast.Example] = []
    for number, record in read_lines([data]):
        span = lines.line_span(number)
        example = _from_record(number, record, span, file, lines, diagnostics)
        if example is not None:
            examples.append(example)
    return examples


def _read(path: str, written: str, span: Span, diagnostics: list[Diagnostic]) -> bytes | None:
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_EXAMPLES_BYTES + 1)
    except OSError as exc:
        reason = {FileNotFoundError: "no such file", IsADirectoryError: "is a directory",
                  PermissionError: "permission denied"}.get(type(exc), exc.strerror or str(exc))
        diagnostics.append(codes.RL137(span, path=written, reason=reason, label=reason,
                                       help=f"the path is relative to the spec's folder: {path}"))
        return None
    if len(data) > MAX_EXAMPLES_BYTES:
        diagnostics.append(codes.RL137(span, path=written, reason=f"larger than {MAX_EXAMPLES_BYTES:,} bytes",
                                       label="too large", help="keep examples files small: a few hundred cases"))
        return None
    return data


def _shown_path(path: str) -> str:
    """How messages name the examples file: relative to the working directory when it is below it."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else path


def _from_record(
    number: int, record: Any, span: Span, file: SourceFile, lines: SourceMap, diagnostics: list[Diagnostic]
) -> ast.Example | None:
    def bad(reason: str, at: Span = span) -> None:
        diagnostics.append(codes.RL137(at, variant="line", line=number, reason=reason, in_file=file,
                                       label="this example", help=_RECORD_HELP))

    if isinstance(record, BadLine):
        bad(record.reason)
        return None
    if not isinstance(record, dict):
        bad(f"a line holds {json_type(record)}, not an object")
        return None
    name = record.get("name", f"line {number}")
    if not isinstance(name, str):
        bad(f"`name` is {json_type(name)}, not a string", _key_span(lines, span, "name"))
        return None
    row = to_row(number, {key: value for key, value in record.items() if key not in _EXAMPLE_KEYS})
    if isinstance(row, BadLine):  # a row that cannot be scored
        diagnostics.append(codes.RL135(span, variant="record", name=name, problem=row.reason, in_file=file,
                                       label="this example", help=_RECORD_HELP))
        return None
    expect = record.get("expect", {})
    if not isinstance(expect, dict):
        bad(f"`expect` is {json_type(expect)}, not an object of rule names", _key_span(lines, span, "expect"))
        return None
    expectations: list[dict[str, Any]] = []
    for subject, value in expect.items():
        at = _key_span(lines, span, subject)
        parsed = parse_expectation(subject, value)
        if isinstance(parsed, str):
            bad(f"`expect` of `{subject}`: {parsed}", at)
            return None
        expectations.append({**parsed, "span": at, "subject_span": at})
    data = {
        "name": name,
        "prompt": _tuple(row.prompt),
        "completion": _tuple(row.completion),
        "completion_ids": _tuple(row.completion_ids),
        "columns": row.columns,
        "expectations": expectations,
        "span": span,
        "file": file,
    }
    try:
        return ast.Example.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        bad(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}")
        return None


_RECORD_HELP = ('one JSON object per line: {"name": "...", "prompt": "...", "completion": "...", '
                '"expect": {"RULE": ">= 0.5"}}, or "messages" instead of prompt and completion')


def _tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _key_span(lines: SourceMap, line: Span, key: str) -> Span:
    """Where `"key"` is written on the line (the whole line if it cannot be found)."""
    quoted = json.dumps(key, ensure_ascii=False)
    found = lines.text.find(quoted, line.start, line.end)
    return lines.span(found, found + len(quoted)) if found != -1 else line
