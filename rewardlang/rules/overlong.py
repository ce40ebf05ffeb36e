"""`overlong LIMIT UNIT`: DAPO's soft overlong penalty, 0 up to LIMIT - buffer, -1 from LIMIT on."""

from __future__ import annotations

from rewardlang import ast
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import measure
from rewardlang.runtime import Batch


class OverlongScorer(RuleScorer):
    rule: ast.OverlongRule

    def __init__(self, rule: ast.OverlongRule):
        super().__init__(rule)
        self.limit = rule.limit
        self.buffer = max(1, min(rule.effective_buffer, rule.limit))

    def penalty(self, value: float) -> float:
        start = self.limit - self.buffer
        if value <= start:
            return 0.0
        if value >= self.limit:
            return -1.0
        return -(value - start) / self.buffer

    def score(self, batch: Batch) -> list[float | None]:
        penalty = self.penalty
        return [None if value is None else penalty(value) for value in measure(batch, self.rule.unit, self.rule.scope)]

    def explain(self, batch: Batch, index: int) -> str:
        value = measure(batch, self.rule.unit, self.rule.scope)[index]
        if value is None:
            return "no completion_ids: token count not applicable"
        return (f"{value} {self.rule.unit}; penalty from {self.limit - self.buffer}, full at {self.limit}"
                f" -> {self.penalty(value):g}")


def compile(rule: ast.OverlongRule) -> OverlongScorer:  # noqa: A001
    return OverlongScorer(rule)
