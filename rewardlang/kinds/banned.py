"""`banned "a", "b", ...`: `absent` when none of the phrases occurs, `present` when one does."""

from __future__ import annotations

from typing import Literal

from rewardlang.kind import Kind
from rewardlang.kinds.phrases import describe, phrase_matcher
from rewardlang.nodes import PhraseList, RuleBase, ScoreValue, TextMatching, UnicodeMode
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch


class BannedRule(RuleBase, TextMatching):
    kind: Literal["banned"]
    phrases: PhraseList
    unicode: UnicodeMode = "confusables"  # look-alike letters must not hide a banned word
    present: ScoreValue = 0.0
    absent: ScoreValue = 1.0


class BannedScorer(RuleScorer):
    rule: BannedRule

    def __init__(self, rule: BannedRule):
        super().__init__(rule)
        self.matcher = phrase_matcher(rule.phrases, rule)
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


def score_range(rule: BannedRule) -> tuple[float, float]:
    return (min(rule.present, rule.absent), max(rule.present, rule.absent))


KIND = Kind(
    model=BannedRule,
    arguments=("phrases",),
    template="banned {phrases}",
    scorer=BannedScorer,
    summary="`present` when any of the phrases occurs, else `absent`",
    range_doc="`present` or `absent` (by default 0 or 1)",
    score_range=score_range,
)
