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

    def _texts(self, batch: Batch) -> list[str]:
        return batch.normalized(self.rule.scope, self.rule.case, self.rule.unicode)

    def score(self, batch: Batch) -> list[float | None]:
        each, cap = self.each, self.cap
        matcher = self.matcher
        if matcher.simple:  # a few substrings: `in` inline, the hot path
            phrases = matcher.phrases
            return [counted(each, cap, sum(1 for p in phrases if p in text)) for text in self._texts(batch)]
        return [counted(each, cap, len(matcher.found(text))) for text in self._texts(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        found = self.matcher.found(self._texts(batch)[index])
        return f"found: {describe(self.matcher, found)} -> {counted(self.each, self.cap, len(found)):g}"


def compile(rule: ast.PhrasesRule) -> PhrasesScorer:  # noqa: A001
    return PhrasesScorer(rule)
