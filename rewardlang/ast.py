"""The validated spec: frozen Pydantic models; its rules are one discriminated union of the rule kinds.

The building blocks (the base node, ranges, phrases, targets, the rule base)
live in `rewardlang.nodes`, each rule kind's model in its module of
`rewardlang/kinds/`, and the union of those models in `rewardlang.registry`.
This module adds what a spec holds beyond its rules (formulas, gates,
defaults) and the `Spec` itself. It re-exports the building blocks, so that
`ast.Range` or `ast.Target` read as the spec's parts.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from rewardlang.nodes import (
    Case,
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
)
from rewardlang.registry import Rule

__all__ = [
    "DEFAULTABLE",
    "FUNCTION_ARITY",
    "Binary",
    "Call",
    "Defaults",
    "Expr",
    "Gate",
    "Node",
    "Num",
    "Phrase",
    "Range",
    "Ref",
    "Rule",
    "RuleBase",
    "Spec",
    "Target",
    "TargetKind",
    "TextMatching",
    "Unary",
]

Comparison = Literal["<", "<=", ">", ">="]
FunctionName = Literal["min", "max", "clip", "abs"]

# How many arguments each formula function takes: (at least, at most).
FUNCTION_ARITY: dict[str, tuple[int, int]] = {"min": (1, 64), "max": (1, 64), "clip": (3, 3), "abs": (1, 1)}


# ------------------------------------------------------------------- formulas
class Num(Node):
    op: Literal["num"] = "num"
    value: float


class Ref(Node):
    op: Literal["ref"] = "ref"
    rule: str


class Unary(Node):
    op: Literal["neg"] = "neg"
    operand: Expr


class Binary(Node):
    op: Literal["add", "sub", "mul", "div"]
    left: Expr
    right: Expr


class Call(Node):
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

    weight: Weight | None = None
    scope: Scope | None = None
    case: Case | None = None
    unicode: UnicodeMode | None = None
    match: MatchMode | None = None
    split: SplitMode | None = None


DEFAULTABLE: tuple[str, ...] = tuple(name for name in Defaults.model_fields if name != "span")


class Spec(Node):
    name: str
    description: str | None = None
    defaults: Defaults = Defaults()
    rules: tuple[Rule, ...]
    total: Expr | None = None
    gates: tuple[Gate, ...] = ()
    clip: Range | None = None

    def rule(self, name: str) -> RuleBase:
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise KeyError(name)

    @property
    def rule_names(self) -> list[str]:
        return [rule.name for rule in self.rules]


for _model in (Unary, Binary, Call, Spec):
    _model.model_rebuild()
