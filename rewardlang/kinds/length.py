"""`length RANGE UNIT`: 1 inside the range, `outside` beyond it, with optional soft (`ramp`) edges."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from rewardlang.kind import Kind, RangeField
from rewardlang.nodes import LengthUnit, Range, RuleBase, ScoreValue
from rewardlang.rules.base import RuleScorer, all_in_range
from rewardlang.rules.matching import measure
from rewardlang.runtime import Batch
from rewardlang.scan import Scan


class LengthRule(RuleBase):
    kind: Literal["length"]
    range: Range
    unit: LengthUnit
    outside: ScoreValue = 0.0
    ramp: Annotated[float, Field(gt=0, le=1e9)] | None = None


class LengthScorer(RuleScorer):
    rule: LengthRule

    def __init__(self, rule: LengthRule):
        super().__init__(rule)
        self.low = rule.range.low
        self.high = rule.range.high
        self.outside = float(rule.outside)
        self.ramp = rule.ramp
        # `shape` of each length up to where it stops changing (a few thousand at most): a lookup per completion.
        reach = (self.high if self.high is not None else self.low or 0) + (self.ramp or 0)
        self.table = tuple(self.shape(n) for n in range(int(min(reach, 100_000)) + 2))
        self.scan = Scan()

    def plan(self, scan: Scan) -> None:
        self.scan = scan  # word counts from a split the spec makes anyway

    def in_range(self, low: float, high: float) -> bool:
        # Without a ramp every score is 1 or `outside` (the table's, or `shape` beyond it); a ramp's
        # arithmetic may round one ulp past `outside`, which the compiler's clamp repairs.
        return self.ramp is None and all_in_range((1.0, self.outside), low, high)

    def shape(self, value: float) -> float:
        """1 inside the range; beyond it `outside`, or a straight fall to it over `ramp` units."""
        if self.low is not None and value < self.low:
            distance = self.low - value
        elif self.high is not None and value > self.high:
            distance = value - self.high
        else:
            return 1.0
        if self.ramp is None:
            return self.outside
        return 1.0 + (self.outside - 1.0) * min(1.0, distance / self.ramp)

    def score(self, batch: Batch) -> list[float | None]:
        shape = self.shape
        table = self.table
        size = len(table)
        lengths = measure(batch, self.rule.unit, self.rule.scope, self.scan.word_counts)
        return [None if n is None else table[n] if n < size else shape(n) for n in lengths]

    def explain(self, batch: Batch, index: int) -> str:
        value = measure(batch, self.rule.unit, self.rule.scope, self.scan.word_counts)[index]
        if value is None:
            return "no completion_ids: token count not applicable"
        low = "" if self.low is None else f"{self.low:g}"
        high = "" if self.high is None else f"{self.high:g}"
        inside = "yes" if self.rule.range.contains(value) else "no"
        return f"{value} {self.rule.unit}, inside {low}..{high}? {inside} -> {self.shape(value):g}"


def score_range(rule: LengthRule) -> tuple[float, float]:
    return (min(rule.outside, 1.0), max(rule.outside, 1.0))


KIND = Kind(
    model=LengthRule,
    arguments=("range", "unit"),
    template="length {range} {unit}",
    scorer=LengthScorer,
    summary="1 when the length in `UNIT` lies in `RANGE`, else `outside` (soft edges with `ramp`)",
    range_doc="between `outside` and 1",
    score_range=score_range,
    # Every unit counts whole things (words, characters, tokens, sentences).
    ranges=(RangeField("range", "length range", whole=True, nonnegative=True),),
)
