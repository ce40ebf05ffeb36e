"""`banned "a", "b", ...`: `absent` when none of the phrases occurs, `present` when one does."""

from __future__ import annotations

from rewardlang import ast
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.phrases import describe, phrase_matcher
from rewardlang.runtime import Batch


class BannedScorer(RuleScorer):
    rule: ast.BannedRule

    def __init__(self, rule: ast.BannedRule):
        super().__init__(rule)
        self.matcher = phrase_matcher(rule)
        self.present = float(rule.present)
        self.absent = float(rule.absent)

    def _texts(self, batch: Batch) -> list[str]:
        return batch.normalized(self.rule.scope, self.rule.case, self.rule.unicode)

    def score(self, batch: Batch) -> list[float | None]:
        present, absent = self.present, self.absent
        matcher = self.matcher
        texts = self._texts(batch)
        if not matcher.simple:
            found = matcher.any
            return [present if found(text) else absent for text in texts]
        phrases = matcher.phrases  # a few substrings: `in` inline, the hot path
        scores: list[float | None] = []
        for text in texts:
            value = absent
            for phrase in phrases:
                if phrase in text:
                    value = present
                    break
            scores.append(value)
        return scores

    def explain(self, batch: Batch, index: int) -> str:
        found = self.matcher.found(self._texts(batch)[index])
        value = self.present if found else self.absent
        return f"found: {describe(self.matcher, found)} -> {value:g}"


def compile(rule: ast.BannedRule) -> BannedScorer:  # noqa: A001
    return BannedScorer(rule)
