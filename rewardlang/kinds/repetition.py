"""`repetition`: distinct word n-grams / all word n-grams (1 for text shorter than n words).

Bounded work: only the first `MAX_WORDS` words count, and on long texts distinct
n-grams are counted by their hash (one integer each, not a tuple of n words
each): two different n-grams of one text share a 64-bit hash with a probability
below 1e-9 even at the cap, the only way this can differ from exact counting.
Short texts (`EXACT_CELLS`) keep the tuples: exact, and faster there.
"""

from __future__ import annotations

from itertools import islice
from typing import Annotated, Literal

from pydantic import Field

from rewardlang.kind import Kind
from rewardlang.nodes import Case, RuleBase, SplitMode, UnicodeMode
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import word_lists
from rewardlang.runtime import Batch

EXACT_CELLS = 100_000  # n-grams x n up to which the n-grams themselves are kept (a few MB at most)


class RepetitionRule(RuleBase):
    kind: Literal["repetition"]
    ngram: Annotated[int, Field(ge=1, le=32)] = 3
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"
    split: SplitMode = "words"


def ngram_counts(words: list[str], n: int) -> tuple[int, int]:
    """(distinct n-grams, all n-grams)."""
    total = len(words) - n + 1
    if total <= 0:
        return 0, 0
    if n == 1:
        return len(set(words)), total
    # islice, not words[i:]: no n copies of the word list.
    grams = zip(*(islice(words, i, None) for i in range(n)), strict=False)  # the shifted runs end apart
    if total * n <= EXACT_CELLS:
        return len(set(grams)), total
    return len(set(map(hash, grams))), total  # no n-tuple kept per position


class RepetitionScorer(RuleScorer):
    rule: RepetitionRule

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


KIND = Kind(
    model=RepetitionRule,
    arguments=(),
    template="repetition",
    scorer=RepetitionScorer,
    summary="distinct word n-grams / all word n-grams: 1 without repeats, near 0 for a loop",
)
