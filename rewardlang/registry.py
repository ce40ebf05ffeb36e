"""Every rule kind, found by discovery: each module of `rewardlang.kinds` defines one `KIND`.

Adding a kind adds a module there; no list here names it. A kind's module is
imported when its record is first needed, so that a check pays only for the kinds
its spec uses. What the rest of the language needs from the kinds is derived here
once: the models by name, the rule type that the validated `Spec` holds, the options
each kind accepts, the score range of a rule, and the docs' kinds table
(tests/test_kinds.py checks that docs/language.md §7 holds it). `KINDS` holds the
built-in kinds only; `kind_of` also finds the kinds of installed plugins
(`rewardlang.plugins`).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BeforeValidator, SerializeAsAny, ValidationInfo

from rewardlang import kinds, plugins
from rewardlang.kind import Kind
from rewardlang.nodes import RuleBase


def _kind_modules() -> dict[str, str]:
    """Kind name -> its module, from the module names alone: nothing is imported.

    A kind's module is named after the kind, with an optional `_suffix` where the bare
    name would hide a standard-library module (`json_format.py` holds `json`); kind names
    have no underscore. `_load` checks that the module's `KIND` has that name.
    """
    found: dict[str, str] = {}
    for module_info in pkgutil.iter_modules(kinds.__path__):
        name = module_info.name.split("_", 1)[0]
        if name in found:
            raise TypeError(f"{kinds.__name__}: two modules for rule kind `{name}`: {found[name]}, {module_info.name}")
        found[name] = f"{kinds.__name__}.{module_info.name}"
    return dict(sorted(found.items()))


def _load(name: str, module_name: str) -> Kind[Any]:
    module = importlib.import_module(module_name)
    kind = getattr(module, "KIND", None)
    if not isinstance(kind, Kind):
        raise TypeError(f"{module_name} has no `KIND = Kind(...)`: every module of rewardlang.kinds is a kind")
    if kind.name != name:
        raise TypeError(f"{module_name} defines rule kind `{kind.name}`: its module must be named after it")
    return kind


class _Kinds(Mapping[str, Kind[Any]]):
    """The built-in kinds by name; a kind's module is imported when its record is first asked for.

    Names, membership and iteration need no import: `rewardc check` imports (and builds the
    models of) only the kinds that its spec uses. Values (`.items()`, `.values()`) import all.
    """

    def __init__(self) -> None:
        self._modules = _kind_modules()
        self._loaded: dict[str, Kind[Any]] = {}

    def __getitem__(self, name: str) -> Kind[Any]:
        kind = self._loaded.get(name)
        if kind is None:
            kind = self._loaded[name] = _load(name, self._modules[name])  # KeyError: no such kind
        return kind

    def __contains__(self, name: object) -> bool:
        return name in self._modules

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)


class _Models(Mapping[str, type[RuleBase]]):
    """Each built-in kind's model by name, read from `KINDS` (so as lazily)."""

    def __getitem__(self, name: str) -> type[RuleBase]:
        return KINDS[name].model

    def __contains__(self, name: object) -> bool:
        return name in KINDS

    def __iter__(self) -> Iterator[str]:
        return iter(KINDS)

    def __len__(self) -> int:
        return len(KINDS)


KINDS: Mapping[str, Kind[Any]] = _Kinds()
RULE_MODELS: Mapping[str, type[RuleBase]] = _Models()


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
