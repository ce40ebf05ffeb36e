"""Validating what plugin kinds add to a spec: a rule's kind, a plugin rule's header, the `plugins` statement.

`validate.py` calls these; everything else about a plugin rule (its options, its values, its
checks) goes through the same code as a built-in rule's, with the kind's own model. Only a
rule whose kind is not built in, or a `plugins` statement, reads the installed plugins
(`rewardlang.plugins`): a spec of built-in kinds never scans entry points.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

from rewardlang import codes, plugins
from rewardlang import syntax as syn
from rewardlang.diagnostics import Diagnostic, Label, did_you_mean, one_of
from rewardlang.kind import Kind
from rewardlang.nodes import Range, RuleBase, Target
from rewardlang.registry import KINDS
from rewardlang.source import Span

PLUGIN_HELP = 'a plugin kind needs its package installed and named in the spec\'s `plugins "PACKAGE"` statement'


def resolve_kind(rule: syn.Rule, packages: Sequence[syn.String]) -> Kind[Any] | Diagnostic:
    """The record of the rule's kind, or the diagnostic of why it has none (at the kind's name)."""
    name = rule.kind.text
    builtin = KINDS.get(name)
    if builtin is not None:
        return builtin
    entry = plugins.installed().get(name)
    if entry is not None:
        try:
            return plugins.load(name)
        except plugins.PluginError as exc:
            return codes.RL151(
                rule.kind.span,
                kind=name,
                reason=str(exc),
                label=f"provided by package `{entry.distribution}`",
                help=f"fix package `{entry.distribution}`, or uninstall it",
            )
    missing = [package.value for package in packages if not plugins.is_installed(package.value)]
    if missing:
        quoted = one_of(missing).replace(" or ", " and ")
        return codes.RL149(
            rule.kind.span,
            variant="not_installed",
            kind=name,
            needs=("package " if len(missing) == 1 else "packages ") + quoted,
            packages=" ".join(missing),
            label="not installed",
            help="a plugin kind is checked by its package: install the spec's `plugins`, then check again",
        )
    closest = did_you_mean(name, [*KINDS, *plugins.installed()])
    return codes.RL149(
        rule.kind.span,
        kind=name,
        label="not a rule kind",
        help=(f"did you mean `{closest}`? " if closest else "") + PLUGIN_HELP,
    )


def named_arguments(rule: syn.Rule, kind: Kind[Any]) -> tuple[tuple[str, syn.Value], ...] | Diagnostic:
    """A plugin rule's header values named by its kind's arguments, or RL152 when they do not fit."""
    values = rule.plugin_values or ()
    if len(values) == len(kind.arguments):
        return tuple(zip(kind.arguments, values, strict=True))
    wanted = len(kind.arguments)
    takes = f"takes {wanted} value{'s' if wanted != 1 else ''} after `{kind.name}`"
    if len(values) > wanted:
        extra = values[wanted:]
        span = _span(extra[0]).to(_span(extra[-1]))
        label = f"{'this is' if len(extra) == 1 else 'these are'} one too many: the header {takes}"
        if len(extra) > 1:
            label = f"{len(extra)} values too many: the header {takes}"
    else:
        span = _span(values[-1]) if values else rule.kind.span
        missing = kind.arguments[len(values):]
        label = f"`{' '.join(m.upper() for m in missing)}` expected after this"
    return codes.RL152(
        span,
        variant="header",
        kind=kind.name,
        header=kind.header,
        label=label,
        help="options go in the block: `{ NAME VALUE ... }`" if len(values) > wanted else "",
    )


def check_packages(
    statement: syn.Plugins | None, used: dict[str, tuple[str, syn.Word]], unused_ok: bool = False
) -> list[Diagnostic]:
    """The `plugins` statement against the plugin kinds the rules use (`used`: kind -> (package, name)).

    A named package that is not installed is an error; one that provides no used kind (unless
    `unused_ok`: a broken rule may use it), and a used kind whose package is not named, are warnings.
    """
    found: list[Diagnostic] = []
    named = {plugins.normalize(p.value) for p in statement.packages} if statement else set()
    for package in statement.packages if statement else ():
        # A kind named like a built-in can never be used (the built-in wins): the package's mistake.
        found.extend(
            codes.RL151(
                package.span,
                kind=clash,
                reason=str(plugins.built_in_clash(package.value, clash)),
                label=f"registers `{clash}`",
                help=f"fix package `{package.value}`, or uninstall it",
            )
            for clash in sorted(set(plugins.kinds_of(package.value)) & set(KINDS))
        )
        if not plugins.is_installed(package.value):
            found.append(codes.RL150(
                package.span,
                package=package.value,
                label="not installed",
                help=f"pip install {package.value}",
            ))
        elif not unused_ok and not set(plugins.kinds_of(package.value)) & set(used):
            provides = plugins.kinds_of(package.value)
            found.append(codes.RL228(
                package.span,
                package=package.value,
                label="unused",
                help=f"it provides {one_of(provides)}; remove it from `plugins`" if provides
                else "it provides no rule kind; remove it from `plugins`",
            ))
    for kind, (provider, word) in used.items():
        if plugins.normalize(provider) not in named:
            labels = (Label(statement.span, "the spec's plugins"),) if statement else ()
            found.append(codes.RL229(
                word.span,
                kind=kind,
                package=provider,
                label=f"from package `{provider}`",
                labels=labels,
                help=f'add `plugins "{provider}"` to the spec, so that a machine without it is told what to install',
            ))
    return found


def _span(value: syn.Value) -> Span:
    return value[0].span.to(value[-1].span) if isinstance(value, tuple) else value.span


# The errors of a value whose type does not fit its field: the grammar types every built-in
# kind's values, but a plugin kind's header and options take any value.
TYPE_ERRORS = frozenset({
    "int_type", "int_parsing", "float_type", "float_parsing", "bool_type", "bool_parsing", "string_type",
    "model_type", "model_attributes_type", "dict_type", "tuple_type", "list_type", "missing", "extra_forbidden",
})


def is_type_error(err: Any) -> bool:
    """Whether a Pydantic error of a plugin rule says that a value has the wrong type (or is missing)."""
    if err["type"] == "extra_forbidden":
        return len(err["loc"]) > 1  # a field of a nested value (a target given for a range), not an option
    return bool(err["type"] in TYPE_ERRORS)


def expected_value(model: type[RuleBase], field: str) -> str:
    """What a field of a plugin kind's model takes, in the language's words: "a range (`low..high`)"."""
    info = model.model_fields.get(field)
    if info is None:
        return "a value"
    words = list(dict.fromkeys(_describe(info.annotation)))
    return one_of(words).replace("`", "") if words else "a value"


def _describe(annotation: Any) -> list[str]:
    if annotation is type(None):
        return []
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _describe(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [word for arg in typing.get_args(annotation) for word in _describe(arg)]
    if origin is typing.Literal:
        return [f"`{value}`" for value in typing.get_args(annotation)]
    if origin is tuple:
        return ["a list of strings"]
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return ["a flag (the option's name alone)"]
        if issubclass(annotation, int):
            return ["a whole number"]
        if issubclass(annotation, float):
            return ["a number"]
        if issubclass(annotation, str):
            return ["a name or a string"]
        if issubclass(annotation, Range):
            return ["a range (low..high)"]
        if issubclass(annotation, Target):
            return ["a target (last_user, prompt, system or column NAME)"]
    return ["a value"]
