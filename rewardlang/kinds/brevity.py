"""`brevity UNIT`: the shorter within a prompt's group of completions, open-r1's `len_reward` (Kimi 1.5).

Over the completions of one prompt (`Batch.groups`), with lengths measured as
`length` measures them (§6.4), each completion gets

    lambda = 0.5 - (length - shortest) / (longest - shortest)      (0 when all lengths are equal)

so the shortest scores 0.5 and the longest -0.5. With `correct RULE`, a completion
that RULE's score says is correct gets lambda, any other gets min(0, lambda): a
wrong answer is never paid for being short. Without `correct`, every completion
gets lambda. A completion whose length is unknown (`tokens` without
`completion_ids`) is not applicable and left out of the shortest and longest; a
group of one scores 0.
"""

from __future__ import annotations

import operator
from typing import Literal

from rewardlang.kind import Kind
from rewardlang.nodes import Comparison, LengthUnit, Node, RuleBase
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import measure
from rewardlang.runtime import Batch

_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


class Correct(Node):
    """`correct RULE` or `correct RULE >= 0.5`: which completions count as correct."""

    rule: str
    comparison: Comparison | None = None  # None: `>=` the highest score of RULE (resolved by the compiler)
    threshold: float | None = None


class BrevityRule(RuleBase):
    kind: Literal["brevity"]
    unit: LengthUnit
    correct: Correct | None = None


class BrevityScorer(RuleScorer):
    rule: BrevityRule

    # Used when nothing resolved the default threshold (a scorer built outside `CompiledSpec`):
    # the highest score of the usual correctness rules (`equals`, `math`).
    FALLBACK_THRESHOLD = 1.0

    def __init__(self, rule: BrevityRule):
        super().__init__(rule)
        correct = rule.correct
        self.comparison: Comparison = ">=" if correct is None or correct.comparison is None else correct.comparison
        # The compiler sets the default, the highest score of the rule `correct` names (`rewardlang.groups`).
        self.threshold = self.FALLBACK_THRESHOLD if correct is None or correct.threshold is None else correct.threshold

    def correctness(self, batch: Batch) -> list[bool] | None:
        """Whether each completion is correct; None without `correct` (everyone gets lambda).

        The scores come from `batch.rule_scores` (the compiler scores the named rule first);
        a score that is None (the rule does not apply) counts as not correct.
        """
        correct = self.rule.correct
        if correct is None:
            return None
        scores = batch.rule_scores.get(correct.rule, [None] * batch.size)
        compare = _COMPARE[self.comparison]
        return [score is not None and compare(score, self.threshold) for score in scores]

    def group_scores(self, batch: Batch, group: list[int]) -> dict[int, float]:
        """The score of each completion of `group` whose length is known."""
        lengths = measure(batch, self.rule.unit, self.rule.scope)
        correct = self.correctness(batch)
        known = {i: length for i in group if (length := lengths[i]) is not None}
        if not known:
            return {}
        shortest, longest = min(known.values()), max(known.values())
        scores: dict[int, float] = {}
        for i, length in known.items():
            value = 0.0 if longest == shortest else 0.5 - (length - shortest) / (longest - shortest)
            scores[i] = value if correct is None or correct[i] else min(0.0, value)
        return scores

    def score(self, batch: Batch) -> list[float | None]:
        scores: list[float | None] = [None] * batch.size
        for group in batch.groups():
            for index, value in self.group_scores(batch, group).items():
                scores[index] = value
        return scores

    def explain(self, batch: Batch, index: int) -> str:
        unit = self.rule.unit
        length = measure(batch, unit, self.rule.scope)[index]
        if length is None:
            return "no completion_ids: token count not applicable"
        group = next(group for group in batch.groups() if index in group)
        lengths = [known for i in group if (known := measure(batch, unit, self.rule.scope)[i]) is not None]
        value = self.group_scores(batch, group)[index]
        text = f"{length} {unit}; its group of {len(lengths)}: {min(lengths)}..{max(lengths)} {unit}"
        correct = self.correctness(batch)
        if correct is not None and self.rule.correct is not None:
            score = batch.rule_scores.get(self.rule.correct.rule, [None] * batch.size)[index]
            shown = "n/a" if score is None else f"{score:g}"
            verdict = "correct" if correct[index] else "not correct"
            text += f"; {verdict} ({self.rule.correct.rule} {shown}, needs {self.comparison} {self.threshold:g})"
        return f"{text} -> {value:g}"


def score_range(rule: BrevityRule) -> tuple[float, float]:
    return (-0.5, 0.5)


KIND = Kind(
    model=BrevityRule,
    arguments=("unit",),
    template="brevity {unit}",
    scorer=BrevityScorer,
    summary="0.5 for the shortest completion of its prompt's group down to -0.5 for the longest (open-r1's "
    "`len_reward`); with `correct RULE`, incorrect ones get at most 0",
    range_doc="-0.5..0.5",
    score_range=score_range,
    group=True,
)
