"""`overlong LIMIT UNIT`: DAPO's soft overlong penalty, 0 up to LIMIT - buffer, -1 from LIMIT on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.kind import Kind, RuleSpans
from rewardlang.nodes import LengthUnit, PositiveInt, RuleBase
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import measure
from rewardlang.runtime import Batch
from rewardlang.scan import Scan


class OverlongRule(RuleBase):
    kind: Literal["overlong"]
    limit: PositiveInt
    unit: LengthUnit
    buffer: Annotated[int, Field(ge=1, le=1_000_000)] | None = None  # None: a quarter of the limit

    @property
    def effective_buffer(self) -> int:
        return self.buffer if self.buffer is not None else max(1, self.limit // 4)


class OverlongScorer(RuleScorer):
    rule: OverlongRule

    def __init__(self, rule: OverlongRule):
        super().__init__(rule)
        self.limit = rule.limit
        self.buffer = max(1, min(rule.effective_buffer, rule.limit))
        self.scan = Scan()

    def plan(self, scan: Scan) -> None:
        self.scan = scan  # word counts from a split the spec makes anyway

    def penalty(self, value: float) -> float:
        start = self.limit - self.buffer
        if value <= start:
            return 0.0
        if value >= self.limit:
            return -1.0
        return -(value - start) / self.buffer

    def score(self, batch: Batch) -> list[float | None]:
        limit, buffer = self.limit, self.buffer
        start = limit - buffer
        # `penalty` inline: a call per completion would cost more than the rule (TRL's own loop is this).
        return [
            None if value is None else 0.0 if value <= start else -1.0 if value >= limit else -(value - start) / buffer
            for value in measure(batch, self.rule.unit, self.rule.scope, self.scan.word_counts)
        ]

    def explain(self, batch: Batch, index: int) -> str:
        value = measure(batch, self.rule.unit, self.rule.scope, self.scan.word_counts)[index]
        if value is None:
            return "no completion_ids: token count not applicable"
        return (f"{value} {self.rule.unit}; penalty from {self.limit - self.buffer}, full at {self.limit}"
                f" -> {self.penalty(value):g}")


def check_buffer(rule: OverlongRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL122: the penalty ramps from `limit - buffer` to `limit`, so the buffer cannot exceed the limit."""
    if rule.buffer is not None and rule.buffer > rule.limit:
        yield codes.RL122(
            span("buffer"),
            buffer=rule.buffer,
            limit=rule.limit,
            label="the penalty would start below zero length",
            help="the penalty ramps from `limit - buffer` to `limit`; use a buffer up to the limit",
        )


def score_range(rule: OverlongRule) -> tuple[float, float]:
    return (-1.0, 0.0)


KIND = Kind(
    model=OverlongRule,
    arguments=("limit", "unit"),
    template="overlong {limit} {unit}",
    scorer=OverlongScorer,
    summary="DAPO's soft penalty: 0 up to `LIMIT - buffer`, falling to -1 at `LIMIT`",
    range_doc="-1..0",
    score_range=score_range,
    penalty=True,
    checks=(check_buffer,),
)
