"""`repetition`: distinct word n-grams / all word n-grams (1 for text shorter than n words)."""

from __future__ import annotations

from rewardlang import ast
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import word_lists
from rewardlang.runtime import Batch


def ngram_counts(words: list[str], n: int) -> tuple[int, int]:
    """(distinct n-grams, all n-grams)."""
    total = len(words) - n + 1
    if total <= 0:
        return 0, 0
    if n == 1:
        return len(set(words)), total
    return len(set(zip(*(words[i:] for i in range(n))))), total


class RepetitionScorer(RuleScorer):
    rule: ast.RepetitionRule

    def _words(self, batch: Batch) -> list[list[str]]:
        rule = self.rule
        return word_lists(batch, rule.scope, rule.case, rule.unicode, rule.split)

    def score(self, batch: Batch) -> list[float | None]:
        n = self.rule.ngram
        scores: list[float | None] = []
        for words in self._words(batch):
            distinct, total = ngram_counts(words, n)
            scores.append(distinct / total if total else 1.0)
        return scores

    def explain(self, batch: Batch, index: int) -> str:
        n = self.rule.ngram
        distinct, total = ngram_counts(self._words(batch)[index], n)
        if not total:
            return f"fewer than {n} word{'' if n == 1 else 's'} -> 1"
        return f"{distinct} distinct of {total} {n}-grams -> {distinct / total:g}"


def compile(rule: ast.RepetitionRule) -> RepetitionScorer:  # noqa: A001
    return RepetitionScorer(rule)
