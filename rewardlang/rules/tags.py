"""`tags "a", "b", ...`: the fraction of listed tags whose `<TAG>...</TAG>` pair count lies in `count`.

Tags are matched case-sensitively in the scored text as written (no Unicode
normalisation). Pairs are counted left to right without nesting, as a lazy
`<TAG>.*?</TAG>` search does: an opening tag, then the next closing tag after it.
"""

from __future__ import annotations

from rewardlang import ast
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch


def count_pairs(text: str, opening: str, closing: str) -> tuple[int, int]:
    """(number of pairs, position of the first pair's opening tag or -1)."""
    pairs = 0
    first = -1
    position = 0
    while True:
        start = text.find(opening, position)
        if start == -1:
            break
        end = text.find(closing, start + len(opening))
        if end == -1:
            break
        if first == -1:
            first = start
        pairs += 1
        position = end + len(closing)
    return pairs, first


class TagsScorer(RuleScorer):
    rule: ast.TagsRule

    def __init__(self, rule: ast.TagsRule):
        super().__init__(rule)
        self.tags = tuple(tag.text for tag in rule.tags)
        self.markers = tuple((f"<{tag}>", f"</{tag}>") for tag in self.tags)

    def _check(self, text: str) -> tuple[float, list[int], bool]:
        counts: list[int] = []
        firsts: list[int] = []
        for opening, closing in self.markers:
            if opening not in text:
                counts.append(0)
                firsts.append(-1)
                continue
            pairs, first = count_pairs(text, opening, closing)
            counts.append(pairs)
            firsts.append(first)
        inside = sum(1 for pairs in counts if self.rule.count.contains(pairs))
        in_order = True
        if self.rule.ordered:
            seen = [first for first in firsts if first != -1]
            in_order = all(a < b for a, b in zip(seen, seen[1:]))
        return (inside / len(self.markers) if in_order else 0.0), counts, in_order

    def score(self, batch: Batch) -> list[float | None]:
        return [self._check(text)[0] for text in batch.texts(self.rule.scope)]

    def explain(self, batch: Batch, index: int) -> str:
        value, counts, in_order = self._check(batch.texts(self.rule.scope)[index])
        pairs = ", ".join(f"<{tag}> x{n}" for tag, n in zip(self.tags, counts))
        return f"{pairs}{'' if in_order else ', out of order'} -> {value:g}"


def compile(rule: ast.TagsRule) -> TagsScorer:  # noqa: A001
    return TagsScorer(rule)
