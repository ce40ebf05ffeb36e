"""Every rule kind, found by discovery: each module of `rewardlang.kinds` defines one `KIND`.

Adding a kind adds a module there; no list here names it. What the rest of the
language needs from the kinds is derived here once: the models by name, the
discriminated union of rule models that the validated `Spec` holds, the options
each kind accepts, the score range of a rule, and the docs' kinds table
(tests/test_kinds.py checks that docs/language.md §7 holds it).
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

from rewardlang import kinds
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

if TYPE_CHECKING:
    Rule = RuleBase
else:
    # The validated form of any rule: Pydantic picks the model by the `kind` field.
    Rule = Annotated[Union[*RULE_MODELS.values()], Field(discriminator="kind")]


def options_for(kind: str) -> list[str]:
    """The options a rule kind accepts in its block, sorted."""
    return KINDS[kind].options


def score_range(rule: RuleBase) -> tuple[float, float]:
    """Inclusive (lowest, highest) score `rule` can produce; None (not applicable) aside."""
    kind: Kind[Any] = KINDS[rule.kind]
    return kind.score_range(rule)


def kinds_table() -> str:
    """The kinds table of docs/language.md §7, in Markdown, from the records."""
    lines = ["| Kind | Header | Scores | Score range |", "|---|---|---|---|"]
    for name, kind in KINDS.items():
        lines.append(f"| [`{name}`](#{name}) | `{kind.header}` | {kind.summary} | {kind.range_doc} |")
    return "\n".join(lines) + "\n"
