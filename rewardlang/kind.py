"""The record of a rule kind: every fact about one kind, in one place.

Each module of `rewardlang/kinds/` defines its model, its scorer and a
`KIND = Kind(...)` record; `rewardlang.registry` collects the records. The
lowerer, the formatter, the compiler, the checks, the docs' kinds table and
the agreement test (tests/test_kinds.py) all read them. docs/contributing.md
walks through adding a kind.
"""

from __future__ import annotations

import string
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from rewardlang.diagnostics import Diagnostic
from rewardlang.nodes import Phrase, RuleBase
from rewardlang.source import Span

if TYPE_CHECKING:
    from rewardlang.rules.base import RuleScorer

R = TypeVar("R", bound=RuleBase)
R_contra = TypeVar("R_contra", bound=RuleBase, contravariant=True)


class RuleSpans(Protocol):
    """Where a part of the checked rule is written: `span("buffer")`, `span("tags", 2)`."""

    def __call__(self, *path: str | int) -> Span: ...


class RuleCheck(Protocol[R_contra]):
    """A kind's own check: the diagnostics of one valid rule of that kind."""

    def __call__(self, rule: R_contra, span: RuleSpans, /) -> Iterable[Diagnostic]: ...


@dataclass(frozen=True)
class RangeField:
    """A range a kind's rules hold, checked for ranges that can never match (RL116)."""

    field: str  # the model field; a rule where it is None has nothing to check
    what: str  # how the diagnostic names it: "length range"
    whole: bool = False  # only whole numbers fall in it (a count): `1.2..1.8` is empty
    nonnegative: bool = False  # a count is never below 0: `..-1` is empty
    strict: bool = False  # both ends must differ


def unit_interval(rule: RuleBase) -> tuple[float, float]:
    """The score range of kinds that always score 0..1."""
    return (0.0, 1.0)


@dataclass(frozen=True)
class Kind(Generic[R]):
    model: type[R]  # the Pydantic model; its `kind` literal is the kind's name
    arguments: tuple[str, ...]  # model fields written in the rule header, in source order
    template: str  # the canonical header, one `{field}` per argument: "length {range} {unit}"
    scorer: type[RuleScorer]  # built with the validated rule; heavy imports inside its methods
    summary: str  # one line for the docs' kinds table: what the rule scores
    range_doc: str = "0..1"  # the score range in the docs' words
    # Inclusive (lowest, highest) score of a validated rule, None (not applicable) aside.
    score_range: Callable[[R], tuple[float, float]] = unit_interval
    # Scores are never above 0 by design: no "can never score above 0" warning. A function of the
    # rule where only some forms of the kind are penalties (`repetition { penalty -1 }`).
    penalty: bool | Callable[[R], bool] = False
    checks: tuple[RuleCheck[R], ...] = ()
    ranges: tuple[RangeField, ...] = ()
    # The form in which two entries of a list argument are the same (RL204) or blank (RL107).
    # None: as the rule's own `case` and `unicode` options fold text, with surrounding whitespace trimmed.
    item_key: Callable[[R, str], str] | None = None
    # Scores a completion against the other completions of its prompt (`brevity`, `diversity`):
    # explained on the whole batch, and grpo-train warns when a rank may hold part of a group.
    group: bool = False

    def is_penalty(self, rule: R) -> bool:
        """Whether this rule of the kind is a penalty by design (scores at most 0)."""
        return self.penalty if isinstance(self.penalty, bool) else self.penalty(rule)

    @property
    def name(self) -> str:
        literal = self.model.model_fields["kind"].annotation
        return str(typing.get_args(literal)[0])

    @property
    def options(self) -> list[str]:
        """The options the kind accepts in a rule's `{ ... }` block, sorted."""
        hidden = {"span", "name", "kind", *self.arguments}
        return sorted(name for name in self.model.model_fields if name not in hidden)

    @property
    def phrase_lists(self) -> tuple[str, ...]:
        """The model fields that hold a list of strings (phrases, tags, keys), in model order."""
        return tuple(name for name, info in self.model.model_fields.items() if _is_list(info.annotation))

    @property
    def template_fields(self) -> tuple[str, ...]:
        return tuple(name for _, name, _, _ in string.Formatter().parse(self.template) if name is not None)

    @property
    def header(self) -> str:
        """The header as the docs write it: `length RANGE UNIT`, `phrases "a", "b", ...`."""
        placeholders = {name: _placeholder(self.model, name) for name in self.arguments}
        return self.template.format(**placeholders)


def _is_list(annotation: object) -> bool:
    """A tuple of `Phrase` (or of a subclass: `json`'s typed keys)."""
    if typing.get_origin(annotation) is not tuple:
        return False
    item = typing.get_args(annotation)[:1]
    return bool(item) and isinstance(item[0], type) and issubclass(item[0], Phrase)


def _placeholder(model: type[RuleBase], field: str) -> str:
    return '"a", "b", ...' if _is_list(model.model_fields[field].annotation) else field.upper()
