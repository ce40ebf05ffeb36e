"""Every rule kind, found by discovery: each module of `rewardlang.kinds` defines one `KIND`.

Adding a kind adds a module there; no list here names it. What the rest of the
language needs from the kinds is derived here once: the models by name, the
rule type that the validated `Spec` holds, the options each kind accepts, the
score range of a rule, and the docs' kinds table (tests/test_kinds.py checks
that docs/language.md §7 holds it). `KINDS` holds the built-in kinds only;
`kind_of` also finds the kinds of installed plugins (`rewardlang.plugins`).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, SerializeAsAny, ValidationInfo

from rewardlang import kinds, plugins
from rewardlang.kind import Kind
from rewardlang.nodes import RuleBase


def _discover() -> dict[str, Kind[Any]]:
    found: dict[str, Kind[Any]] = {}
    for module_info in pkgutil.iter_modules(kinds.__path__):
        module = importlib.import_module(f"{kinds.__name__}.{module_info.name}")
        kind = getattr(module, "KIND", None)
        if not isinstance(kind, Kind):
            raise TypeError(f"{module.__name__} has no `KIND = Kind(...)`: every module of rewardlang.kinds is a kind")
        if kind.name in found:
            raise TypeError(f"{module.__name__}: rule kind `{kind.name}` is defined twice")
        found[kind.name] = kind
    return dict(sorted(found.items()))


KINDS: dict[str, Kind[Any]] = _discover()
RULE_MODELS: dict[str, type[RuleBase]] = {name: kind.model for name, kind in KINDS.items()}


def kind_of(name: str) -> Kind[Any]:
    """The record of rule kind `name`: a built-in kind, else an installed plugin's.

    Raises KeyError when no kind has that name, `plugins.PluginError` when a plugin provides
    it but cannot be used. Only a name that is not built in reads the installed plugins.
    """
    builtin = KINDS.get(name)
    return builtin if builtin is not None else plugins.load(name)


def _rule_model(value: Any, info: ValidationInfo) -> Any:
    """A rule given as data is validated by its own kind's model (rules are validated one by one)."""
    if isinstance(value, dict) and isinstance(value.get("kind"), str):
        try:
            model = kind_of(value["kind"]).model
        except (KeyError, plugins.PluginError):
            raise ValueError(f"unknown rule kind `{value['kind']}`") from None
        return model.model_validate(value, context=info.context)
    return value


if TYPE_CHECKING:
    Rule = RuleBase
else:
    # The validated form of any rule: an instance of its kind's model (built-in or plugin), which
    # Pydantic serialises as that model. Not a static union, so that plugin kinds fit too.
    Rule = Annotated[SerializeAsAny[RuleBase], BeforeValidator(_rule_model)]


def options_for(kind: str) -> list[str]:
    """The options a rule kind accepts in its block, sorted."""
    return kind_of(kind).options


def score_range(rule: RuleBase) -> tuple[float, float]:
    """Inclusive (lowest, highest) score `rule` can produce; None (not applicable) aside."""
    return kind_of(rule.kind).score_range(rule)


def kinds_table() -> str:
    """The kinds table of docs/language.md §7, in Markdown, from the records (built-in kinds only)."""
    lines = ["| Kind | Header | Scores | Score range |", "|---|---|---|---|"]
    for name, kind in KINDS.items():
        lines.append(f"| [`{name}`](#{name}) | `{kind.header}` | {kind.summary} | {kind.range_doc} |")
    return "\n".join(lines) + "\n"
