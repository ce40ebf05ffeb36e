"""The validated spec: frozen Pydantic models; each rule is an instance of its kind's model.

The building blocks (the base node, ranges, phrases, targets, the rule base)
live in `rewardlang.nodes`, each rule kind's model in its module of
`rewardlang/kinds/` (or in a plugin's package), and the rule type in `rewardlang.registry`.
This module adds what a spec holds beyond its rules (formulas, gates,
defaults) and the `Spec` itself. It re-exports the building blocks, so that
`ast.Range` or `ast.Target` read as the spec's parts.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, SkipValidation

from rewardlang.diagnostics import SourceFile
from rewardlang.nodes import (
    Case,
    Comparison,
    MatchMode,
    Node,
    Phrase,
    Range,
    RuleBase,
    Scope,
    ScoreValue,
    SplitMode,
    Target,
    TargetKind,
    TextMatching,
    UnicodeMode,
    Weight,
    number_text,
)
from rewardlang.registry import Rule
from rewardlang.schedules import NamedSchedule, Schedule
from rewardlang.source import NO_SPAN, Span

__all__ = [
    "DEFAULTABLE",
    "FUNCTION_ARITY",
    "Binary",
    "Call",
    "Defaults",
    "Example",
    "Expectation",
    "Expr",
    "Gate",
    "NamedSchedule",
    "Node",
    "Num",
    "Phrase",
    "Range",
    "Ref",
    "Rule",
    "RuleBase",
    "Schedule",
    "Spec",
    "Target",
    "TargetKind",
    "TextMatching",
    "Unary",
]

FunctionName = Literal["min", "max", "clip", "abs"]

# How many arguments each formula function takes: (at least, at most).
FUNCTION_ARITY: dict[str, tuple[int, int]] = {"min": (1, 64), "max": (1, 64), "clip": (3, 3), "abs": (1, 1)}


# ------------------------------------------------------------------- formulas
class ExprNode(Node):
    """A formula's node. Validated as part of the `Spec` only: no validator of its own is built
    when the class is made (the Spec's holds them all), only if one is ever validated alone."""

    model_config = ConfigDict(defer_build=True)


class Num(ExprNode):
    op: Literal["num"] = "num"
    value: float


class Ref(ExprNode):
    op: Literal["ref"] = "ref"
    rule: str


class Unary(ExprNode):
    op: Literal["neg"] = "neg"
    operand: Expr


class Binary(ExprNode):
    op: Literal["add", "sub", "mul", "div"]
    left: Expr
    right: Expr


class Call(ExprNode):
    op: Literal["call"] = "call"
    function: FunctionName
    args: tuple[Expr, ...]


Expr = Annotated[Num | Ref | Unary | Binary | Call, Field(discriminator="op")]


class Gate(Node):
    """`gate RULE < THRESHOLD then VALUE`: when the comparison holds, the total is VALUE."""

    rule: str
    comparison: Comparison
    threshold: float
    value: ScoreValue = 0.0


class Defaults(Node):
    """Options applied to every rule that accepts them and does not set them itself."""

    weight: Weight | Schedule | None = None
    scope: Scope | None = None
    case: Case | None = None
    unicode: UnicodeMode | None = None
    match: MatchMode | None = None
    split: SplitMode | None = None


DEFAULTABLE: tuple[str, ...] = tuple(name for name in Defaults.model_fields if name != "span")


# ------------------------------------------------------------------- examples
ExpectOp = Literal["=", "<", "<=", ">", ">=", "n/a"]
# `=` without `within` allows float rounding only: a lexical rule's score is exact.
EXACT_TOLERANCE = 1e-6


class Expectation(Node):
    """What an example's rule score (or `total`) must be: `= 0.5 within 0.1`, `>= 1`, `n/a`."""

    subject: str  # a rule name, or `total`
    subject_span: Annotated[Span, SkipValidation] = Field(default=NO_SPAN, exclude=True, repr=False)
    op: ExpectOp
    value: float | None = None  # None for `n/a`
    within: Annotated[float, Field(ge=0, le=1e6)] | None = None

    def holds(self, actual: float | None) -> bool:
        if self.op == "n/a" or actual is None:
            return self.op == "n/a" and actual is None
        if self.value is None or not math.isfinite(actual):
            return False
        if self.op == "=":
            return abs(actual - self.value) <= (self.within if self.within is not None else EXACT_TOLERANCE)
        return {"<": actual < self.value, "<=": actual <= self.value,
                ">": actual > self.value, ">=": actual >= self.value}[self.op]

    def describe(self) -> str:
        """As written in a spec: `>= 0.5`, `= 1 within 0.05`, `n/a`."""
        if self.op == "n/a" or self.value is None:
            return "n/a"
        within = f" within {number_text(self.within)}" if self.within is not None else ""
        return f"{self.op} {number_text(self.value)}{within}"


class Example(Node):
    """One example of a spec: a prompt, a completion, dataset columns and what must be scored.

    `prompt` and `completion` are as TRL passes them: text, or lists of message dicts
    (a conversational example's completion is one assistant message).
    """

    name: str
    prompt: str | tuple[dict[str, Any], ...] | None = None
    completion: str | tuple[dict[str, Any], ...]
    completion_ids: tuple[int, ...] | None = None
    columns: dict[str, Any] = Field(default_factory=dict)
    expectations: tuple[Expectation, ...] = ()
    # The examples file it was read from (its spans point there); None: the spec itself.
    file: Annotated[SourceFile | None, SkipValidation] = Field(default=None, exclude=True, repr=False)


class Spec(Node):
    name: str
    description: str | None = None
    defaults: Defaults = Defaults()
    rules: tuple[Rule, ...]
    total: Expr | None = None
    gates: tuple[Gate, ...] = ()
    clip: Range | None = None
    examples: tuple[Example, ...] = ()
    schedules: tuple[NamedSchedule, ...] = ()  # `schedule NAME: ...`, for formula terms
    plugins: tuple[str, ...] = ()  # the distributions whose rule kinds the spec uses (`plugins "..."`)

    def rule(self, name: str) -> RuleBase:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    @property
    def rule_names(self) -> list[str]:
        return [rule.name for rule in self.rules]

    @property
    def scheduled(self) -> bool:
        """Whether a weight follows the training step: a rule's scheduled weight, or a named schedule."""
        return bool(self.schedules) or any(isinstance(rule.weight, Schedule) for rule in self.rules)


Spec.model_rebuild()  # `Expr` is defined now
