"""The building blocks of the validated spec: the base node, shared value types and the rule base.

Frozen Pydantic models. Field names are the option names of the language, so
the validator's own "extra field" and "bad literal" errors map one-to-one onto
spec diagnostics. Bounds live in the types. Every node carries the source span
it came from; spans are excluded from dumps, so `a.model_dump() == b.model_dump()`
compares meaning, not layout.

Each rule kind's model lives in its own module (`rewardlang/kinds/`) and builds
on `RuleBase`; the spec itself (`rewardlang/ast.py`) is built from the registry
of those kinds. This module sits below both.
"""

from __future__ import annotations

import itertools
import os
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SkipValidation, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from rewardlang.source import NO_SPAN, Span

# Score-like values (`each`, `cap`, `present`, ...) and weights are bounded so
# that no combination can overflow to inf.
ScoreValue = Annotated[float, Field(ge=-100, le=100)]
Cap = Annotated[float, Field(ge=0, le=100)]  # a bound on the score's magnitude
Weight = Annotated[float, Field(ge=-100, le=100)]
PositiveInt = Annotated[int, Field(ge=1, le=1_000_000)]
BatchSize = Annotated[int, Field(ge=1, le=4096)]
Text = Annotated[str, Field(min_length=1)]


# ------------------------------------------------------------------- paths
# A path in a spec (a template, a schema, a model folder) is relative to the spec file's folder,
# not to the working directory: the validator receives that folder as `context={"base": ...}`
# (`analyze(text, base=...)`; files pass their own folder) and stores the absolute path.
def spec_folder(info: ValidationInfo) -> str:
    """The folder relative paths of the spec being validated resolve from (the working directory if none)."""
    base = (info.context or {}).get("base")
    return os.path.abspath(base) if base is not None else os.getcwd()


def _resolve_file(value: str, info: ValidationInfo) -> str:
    return os.path.normpath(os.path.join(spec_folder(info), os.path.expanduser(value)))


_HUB_ID = re.compile(r"[A-Za-z0-9_][\w.-]*(/[A-Za-z0-9_][\w.-]*)?")


def looks_like_hub_id(name: str) -> bool:
    """`name` or `namespace/name`, as the Hub spells ids; `./x`, `/x`, `a/b/c`, `~/x` are paths."""
    return _HUB_ID.fullmatch(name) is not None and ".." not in name


def _resolve_model(value: str, info: ValidationInfo) -> str:
    """A folder next to the spec, or a path, becomes absolute; anything else stays a Hub id."""
    candidate = _resolve_file(value, info)
    return candidate if os.path.isdir(candidate) or not looks_like_hub_id(value) else value


SpecFile = Annotated[str, Field(min_length=1), AfterValidator(_resolve_file)]  # absolute once validated
ModelName = Annotated[str, Field(min_length=1), AfterValidator(_resolve_model)]  # absolute path or Hub id

Scope = Literal["answer", "thinking", "full"]
Case = Literal["insensitive", "sensitive", "lower"]
UnicodeMode = Literal["nfkc", "confusables", "raw"]  # docs/language.md §6.5; rewardlang/text.py
MatchMode = Literal["word", "substring"]
SplitMode = Literal["words", "whitespace"]
LengthUnit = Literal["words", "characters", "tokens", "sentences"]
TargetKind = Literal["last_user", "prompt", "system", "column"]
Comparison = Literal["<", "<=", ">", ">="]  # a gate's, or `brevity`'s `correct RULE >= 1`


class Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    span: Annotated[Span, SkipValidation] = Field(default=NO_SPAN, exclude=True, repr=False)


class Range(Node):
    """`low..high`, `low..` or `..high`; both ends inclusive."""

    low: float | None = None
    high: float | None = None

    def contains(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


class Phrase(Node):
    text: Text


PhraseList = Annotated[tuple[Phrase, ...], Field(min_length=1)]


class Target(Node):
    kind: TargetKind
    column: Text | None = None

    def describe(self) -> str:
        return f"column {self.column}" if self.kind == "column" else self.kind


# ------------------------------------------------------------- schedules
# A weight that follows the training step (`weight 0 -> 1 over 100`): every written form is
# one list of points; `rewardlang.schedules` holds what the spec and the trainer do with it.
Step = Annotated[int, Field(ge=0, le=1_000_000_000)]
Form = Literal["linear", "switch", "points"]


class SchedulePoint(Node):
    step: Step
    weight: Weight


class Schedule(Node):
    """A weight that follows the training step; `value_at(step)` is its weight at that step."""

    form: Form
    points: Annotated[tuple[SchedulePoint, ...], Field(min_length=1)]

    @field_validator("points")
    @classmethod
    def _steps_increase(cls, points: tuple[SchedulePoint, ...]) -> tuple[SchedulePoint, ...]:
        for index in range(1, len(points)):
            if points[index].step <= points[index - 1].step:
                raise PydanticCustomError(
                    "schedule_order",
                    "step {step} is not after step {previous}",
                    {"index": index, "step": points[index].step, "previous": points[index - 1].step},
                )
        return points

    def value_at(self, step: int) -> float:
        """The weight at training step `step` (flat outside the points)."""
        points = self.points
        if step <= points[0].step:
            return float(points[0].weight)
        for before, after in itertools.pairwise(points):
            if step < after.step:
                if self.form == "switch":
                    return float(before.weight)
                fraction = (step - before.step) / (after.step - before.step)
                return float(before.weight + fraction * (after.weight - before.weight))
        return float(points[-1].weight)

    @property
    def last_step(self) -> int:
        """The step from which the weight no longer changes."""
        return self.points[-1].step

    @property
    def is_zero(self) -> bool:
        """Whether the weight is 0 at every step."""
        return all(point.weight == 0 for point in self.points)

    def describe(self) -> str:
        """As written in a spec: `0 -> 1 over 100`, `0 -> 1 over 50..150`, `1 -> 0 at 200`, `points 0: 0, 100: 1`."""
        if self.form == "points":
            return "points " + ", ".join(f"{number_text(p.step)}: {number_text(p.weight)}" for p in self.points)
        first, last = self.points
        change = f"{number_text(first.weight)} -> {number_text(last.weight)}"
        if self.form == "switch":
            return f"{change} at {number_text(last.step)}"
        if first.step == 0:
            return f"{change} over {number_text(last.step)}"
        return f"{change} over {number_text(first.step)}..{number_text(last.step)}"


def number_text(value: float) -> str:
    """A step or weight as a spec writes it: `100`, `0.5`."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))


ConditionOp = Literal["=", "in", "has"]


class Condition(Node):
    """Where a rule applies (`when`): a dataset column equal to a value, in a list of values, or present.

    How a row's value compares with the spec's values is `rewardlang.conditions.holds`.
    """

    column: Text
    column_span: Annotated[Span, SkipValidation] = Field(default=NO_SPAN, exclude=True, repr=False)
    op: ConditionOp
    values: tuple[str | float, ...] = ()

    def describe(self) -> str:
        """As written in a spec: `task = "math"`, `task in "a", "b"`, `has reference`."""
        if self.op == "has":
            return f"has {self.column}"
        values = ", ".join(_spec_value(value) for value in self.values)
        return f"{self.column} {self.op} {values}"


def _spec_value(value: str | float) -> str:
    """A condition's value as a spec writes it: a quoted string, or a number (`2`, not `2.0`)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return number_text(value)


class RuleBase(Node):
    """What every rule has. A kind's model adds `kind: Literal["<name>"]`, its arguments and its options."""

    # A kind's validator is built when a rule of that kind is first validated: a spec
    # uses a few kinds, and `rewardc check` need not build the others' (the Spec's
    # schema holds them all; that one is built once).
    model_config = ConfigDict(defer_build=True)

    name: str
    kind: str
    weight: Weight | Schedule = 1.0  # a number, or one that follows the training step
    scope: Scope = "answer"
    when: Condition | None = None  # where the rule applies; elsewhere it scores None


class TextMatching(BaseModel):
    """Options shared by rules that look for words or phrases in the text."""

    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"
    match: MatchMode = "word"

