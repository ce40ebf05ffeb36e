"""`regex PATTERN`: presence (`present`/`absent`) or counting (`each`, `cap`) of RE2 matches.

Patterns run on RE2 only (linear time; no completion can stall a step). `case
insensitive` is RE2's case-insensitive option; `case lower` lower-cases the text
with `str.lower()` first. Matching works on the UTF-8 bytes of the text.
"""

from __future__ import annotations

import math

from rewardlang import ast
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import Regex, counted, utf8
from rewardlang.runtime import Batch


class RegexScorer(RuleScorer):
    rule: ast.RegexRule

    def __init__(self, rule: ast.RegexRule):
        super().__init__(rule)
        self.regex = Regex(rule.pattern, case_sensitive=rule.case != "insensitive")
        self.text_case = "lower" if rule.case == "lower" else "sensitive"
        self.counting = rule.each is not None
        self.each = 0.0 if rule.each is None else float(rule.each)
        self.cap = 1.0 if rule.cap is None else float(rule.cap)
        self.present = 1.0 if rule.present is None else float(rule.present)
        self.absent = 0.0 if rule.absent is None else float(rule.absent)
        # Counting stops once the score can no longer grow (one match to spare for rounding).
        self.limit: int | None = None
        if self.counting:
            self.limit = 0 if self.each == 0 or self.cap == 0 else math.ceil(self.cap / abs(self.each)) + 1
            if self.limit > 10_000_000:
                self.limit = None

    def _texts(self, batch: Batch) -> list[str]:
        return batch.normalized(self.rule.scope, self.text_case, self.rule.unicode)

    def _one(self, text: str) -> float:
        data = utf8(text)
        if self.counting:
            return counted(self.each, self.cap, self.regex.count(data, self.limit)) if self.limit != 0 else 0.0
        return self.present if self.regex.search(data) else self.absent

    def score(self, batch: Batch) -> list[float | None]:
        return [self._one(text) for text in self._texts(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        data = utf8(self._texts(batch)[index])
        if self.counting:
            matches = self.regex.count(data, self.limit) if self.limit != 0 else 0
            more = "+" if self.limit is not None and matches >= self.limit else ""
            return f"{matches}{more} matches -> {counted(self.each, self.cap, matches):g}"
        found = self.regex.search(data)
        return f"{'matches' if found else 'no match'} -> {self.present if found else self.absent:g}"


def compile(rule: ast.RegexRule) -> RegexScorer:  # noqa: A001
    return RegexScorer(rule)
