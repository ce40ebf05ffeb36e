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
        if matcher.simple:  # a few substrings: `in` inline, the hot path
            phrases = matcher.phrases
            return [present if any(p in text for p in phrases) else absent for text in self._texts(batch)]
        found = matcher.any
        return [present if found(text) else absent for text in self._texts(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        found = self.matcher.found(self._texts(batch)[index])
        value = self.present if found else self.absent
        return f"found: {describe(self.matcher, found)} -> {value:g}"


def compile(rule: ast.BannedRule) -> BannedScorer:  # noqa: A001
    return BannedScorer(rule)
