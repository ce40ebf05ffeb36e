"""`phrases "a", "b", ...`: a bonus for each distinct listed phrase found in the text."""

from __future__ import annotations

from rewardlang import ast
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import PhraseMatcher, counted
from rewardlang.runtime import Batch
from rewardlang.text import normalize


def phrase_matcher(rule: ast.PhrasesRule | ast.BannedRule) -> PhraseMatcher:
    """The rule's phrases, normalised like the text they are looked for in."""
    phrases = [normalize(phrase.text, rule.case, rule.unicode) for phrase in rule.phrases]
    return PhraseMatcher(phrases, word=rule.match == "word")


def describe(matcher: PhraseMatcher, found: list[int]) -> str:
    return ", ".join(repr(matcher.phrases[i]) for i in found) or "nothing"


class PhrasesScorer(RuleScorer):
    rule: ast.PhrasesRule

    def __init__(self, rule: ast.PhrasesRule):
        super().__init__(rule)
        self.matcher = phrase_matcher(rule)
        self.each = float(rule.each)
        self.cap = float(rule.cap)
        # The score for 0, 1, 2, ... distinct phrases found.
        self.table = tuple(counted(self.each, self.cap, n) for n in range(len(self.matcher.phrases) + 1))

    def _texts(self, batch: Batch) -> list[str]:
        return batch.normalized(self.rule.scope, self.rule.case, self.rule.unicode)

    def score(self, batch: Batch) -> list[float | None]:
        table = self.table
        matcher = self.matcher
        texts = self._texts(batch)
        if not matcher.simple:
            found = matcher.found
            return [table[len(found(text))] for text in texts]
        phrases = matcher.phrases  # a few substrings: `in` inline, the hot path
        scores: list[float | None] = []
        for text in texts:
            n = 0
            for phrase in phrases:
                if phrase in text:
                    n += 1
            scores.append(table[n])
        return scores

    def explain(self, batch: Batch, index: int) -> str:
        found = self.matcher.found(self._texts(batch)[index])
        return f"found: {describe(self.matcher, found)} -> {self.table[len(found)]:g}"


def compile(rule: ast.PhrasesRule) -> PhrasesScorer:  # noqa: A001
    return PhrasesScorer(rule)
