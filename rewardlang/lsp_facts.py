"""What the language server says on hover and in completions: words made from the language's own facts.

Nothing here is a table of its own. A keyword is explained by the grammar lines that spell it
(`rewardlang.lsp_grammar`), a kind by its record (`rewardlang.registry`: header, summary,
score range, options), an option by its kind's model field (its values, bounds and default,
as the validator reads them), a target by the target type and RL110's explanation, a code
by its registry entry (what `rewardc explain` prints).
"""

from __future__ import annotations

import types
import typing
from typing import Any

import annotated_types
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from rewardlang import ast, codes, nodes, plugins
from rewardlang.diagnostics import one_of
from rewardlang.lsp_grammar import grammar_facts
from rewardlang.registry import KINDS, kind_of

NAMED_TARGETS = tuple(kind for kind in typing.get_args(nodes.TargetKind) if kind != "column")


def code_text(code: str) -> str | None:
    """A code's explanation, as `rewardc explain CODE` prints it, in Markdown."""
    text = codes.explain(code)
    if text is None:
        return None
    title, _, body = text.partition("\n\n")
    return f"**{title}**\n\n```text\n{body.rstrip()}\n```"


def keyword_text(word: str) -> str | None:
    """The grammar lines that spell keyword `word`, with the grammar's comments on them."""
    usages = grammar_facts().usages.get(word)
    if not usages:
        return None
    lines = [f"**`{word}`** (keyword)", "", "```text", *(usage.line for usage in usages), "```"]
    comments = list(dict.fromkeys(usage.comment for usage in usages if usage.comment))
    return "\n".join([*lines, *("\n" + comment for comment in comments)])


def kind_names() -> list[str]:
    """Every rule kind a spec may use here: the built-in ones and the installed plugins'."""
    return [*KINDS, *(name for name in plugins.installed() if name not in KINDS)]


def kind_text(name: str) -> str | None:
    try:
        kind = kind_of(name)
    except (KeyError, plugins.PluginError):
        return None
    options = ", ".join(f"`{option}`" for option in kind.options)
    return (
        f"**`{kind.header}`** (rule kind)\n\n{kind.summary}\n\n"
        f"Scores: {kind.range_doc}\n\nOptions: {options}"
    )


def kind_detail(name: str) -> str:
    try:
        return kind_of(name).header
    except (KeyError, plugins.PluginError):
        return "rule kind"


def header_parts(kind: str) -> list[str]:
    """A kind's header after its name, as its template writes it: `["to", "{target}"]` for `relevance`."""
    try:
        return kind_of(kind).template.split()[1:]
    except (KeyError, plugins.PluginError):
        return []


def argument_field(kind: str, argument: str) -> FieldInfo | None:
    try:
        record = kind_of(kind)
    except (KeyError, plugins.PluginError):
        return None
    return record.model.model_fields.get(argument) if argument in record.arguments else None


def takes_target(info: FieldInfo) -> bool:
    return nodes.Target in (info.annotation, *typing.get_args(info.annotation))


def field_words(info: FieldInfo) -> list[str]:
    """The words a field accepts (`unit`: words, characters...); [] when it takes no word."""
    return _literals(info.annotation)


def argument_text(word: str, kind: str, argument: str) -> str | None:
    """A word of a rule's header (`words` in `length 1..2 words`): which argument it is and what it may be."""
    info = argument_field(kind, argument)
    if info is None:
        return None
    return f"**`{word}`** (the `{argument}` of `{kind}`)\n\nValue: {describe(info.annotation, info.metadata)}"


def option_field(option: str, kind: str | None) -> FieldInfo | None:
    """The model field behind option `option` of a rule of `kind` (None: a `defaults` block)."""
    if kind is None:
        return ast.Defaults.model_fields.get(option) if option in ast.DEFAULTABLE else None
    try:
        record = kind_of(kind)
    except (KeyError, plugins.PluginError):
        return None
    return record.model.model_fields.get(option) if option in record.options else None


def option_words(option: str, kind: str | None) -> list[str]:
    """The words option `option` accepts (`scope`: answer, thinking, full); [] when it takes no word."""
    info = option_field(option, kind)
    return field_words(info) if info is not None else []


def option_text(option: str, kind: str | None) -> str | None:
    """An option's values, bounds and default for a rule of `kind` (or in `defaults`), and the kinds accepting it."""
    lines: list[str] = []
    info = option_field(option, kind)
    where = f"`{kind}`" if kind is not None else "`defaults`"
    if info is not None:
        lines.append(f"**`{option}`** (option of {where})")
        lines.append("")
        lines.append(f"Value: {describe(info.annotation, info.metadata)}")
        if info.default is not PydanticUndefined and kind is not None:  # `defaults` leaves unset what it does not set
            lines.append("")
            lines.append(f"Default: {_default(info.default)}")
    elif kind is not None:
        lines.append(f"**`{option}`**: not an option of {where}")
    accepting = [name for name in KINDS if option in KINDS[name].options]
    if accepting:
        lines += ["", "Accepted by: " + ", ".join(f"`{name}`" for name in accepting)]
    if option in ast.DEFAULTABLE:
        lines += ["", "May be set in `defaults`."]
    grammar = keyword_text(option)
    if not lines and grammar is None:
        return None
    return "\n".join(lines) + ("\n\n" + grammar if grammar else "")


def target_text(name: str) -> str:
    what = "the dataset column NAME" if name == "column" else "a named target"
    targets = ", ".join(f"`{target}`" for target in (*NAMED_TARGETS, "column NAME"))
    about = codes.RL110.explanation.split("\n\n", 1)[0]  # the paragraph that says what each target is
    return f"**`{name}`** (target: {what})\n\nTargets: {targets}\n\n{about}"


def function_text(name: str) -> str:
    low, high = ast.FUNCTION_ARITY[name]
    count = str(low) if low == high else f"{low} to {high}"
    return f"**`{name}(...)`** (formula function, {count} argument{'s' if high > 1 else ''})"


# ------------------------------------------------------------- field types in words
def describe(annotation: Any, metadata: list[Any] | tuple[Any, ...] = ()) -> str:
    """A field's type as the reference writes values: `a number, -100..100`, `` `words` or `tokens` ``."""
    bounds = _bounds(metadata)
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        base, *extra = typing.get_args(annotation)
        inner: list[Any] = []
        for item in extra:
            inner += item.metadata if isinstance(item, FieldInfo) else [item]
        return describe(base, [*metadata, *inner])
    if origin is typing.Literal:
        return one_of([str(value) for value in typing.get_args(annotation)])
    if origin in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        return ", or ".join(describe(member) for member in members)
    if origin is tuple:
        return "a list of strings" if _is_phrases(annotation) else "a list"
    if annotation is bool:
        return "on when written (a flag)"
    if annotation in (int, float):
        return ("a whole number" if annotation is int else "a number") + (f", {bounds}" if bounds else "")
    if annotation is str:
        return "a string"
    if isinstance(annotation, type) and issubclass(annotation, nodes.Node):
        return {
            "Range": "a range (`LOW..HIGH`, `LOW..`, `..HIGH`)",
            "Target": "a target",
            "Schedule": "a schedule (`0 -> 1 over 100`, `1 -> 0 at 200`, `points 0: 0, 100: 1`)",
            "Condition": 'a condition (`task = "math"`, `task in "a", "b"`, `has reference`)',
        }.get(annotation.__name__, annotation.__name__)
    return getattr(annotation, "__name__", str(annotation))


def _bounds(metadata: list[Any] | tuple[Any, ...]) -> str:
    """`-100..100`, `at least 1`, `above 0 and at most 1000000000`: the bounds a field's metadata sets."""
    words = {annotated_types.Ge: "at least", annotated_types.Gt: "above", annotated_types.Le: "at most",
             annotated_types.Lt: "below"}
    found = {type(item): _number(getattr(item, type(item).__name__.lower()))  # Ge(ge=1): its one field
             for item in metadata if type(item) in words}
    if set(found) == {annotated_types.Ge, annotated_types.Le}:
        return f"{found[annotated_types.Ge]}..{found[annotated_types.Le]}"
    return " and ".join(f"{words[bound]} {value}" for bound, value in found.items())


def _number(value: Any) -> str:
    return nodes.number_text(float(value)) if isinstance(value, int | float) else str(value)


def _literals(annotation: Any) -> list[str]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return [str(value) for value in typing.get_args(annotation)]
    if origin in (typing.Union, types.UnionType, typing.Annotated):
        return [word for member in typing.get_args(annotation) for word in _literals(member)]
    return []


def _is_phrases(annotation: Any) -> bool:
    item = typing.get_args(annotation)[:1]
    return bool(item) and isinstance(item[0], type) and issubclass(item[0], nodes.Phrase)


def _default(value: Any) -> str:
    if value is None or value == ():
        return "none"
    if isinstance(value, bool):
        return "off" if not value else "on"
    if isinstance(value, int | float):
        return f"`{_number(value)}`"
    if isinstance(value, str):
        return f"`{value}`"
    describe_value = getattr(value, "describe", None)
    return f"`{describe_value()}`" if callable(describe_value) else f"`{value}`"
