"""`tags "a", "b", ...`: the fraction of listed tags whose `<TAG>...</TAG>` pair count lies in `count`.

Tags are matched case-sensitively in the scored text as written (no Unicode
normalisation). Pairs are counted left to right without nesting, as a lazy
`<TAG>.*?</TAG>` search does: an opening tag, then the next closing tag after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import pairwise
from typing import Literal

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.kind import Kind, RangeField, RuleSpans
from rewardlang.nodes import PhraseList, Range, RuleBase
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch
from rewardlang.source import Span

TAG_NAME = re.compile(r"[A-Za-z_][\w.:-]*")  # what <NAME>...</NAME> may be called


class TagsRule(RuleBase):
    kind: Literal["tags"]
    tags: PhraseList
    count: Range = Range(low=1, high=1)
    ordered: bool = False


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
    rule: TagsRule

    def __init__(self, rule: TagsRule):
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
            in_order = all(a < b for a, b in pairwise(seen))
        return (inside / len(self.markers) if in_order else 0.0), counts, in_order

    def score(self, batch: Batch) -> list[float | None]:
        return [self._check(text)[0] for text in batch.texts(self.rule.scope)]

    def explain(self, batch: Batch, index: int) -> str:
        value, counts, in_order = self._check(batch.texts(self.rule.scope)[index])
        pairs = ", ".join(f"<{tag}> x{n}" for tag, n in zip(self.tags, counts, strict=True))
        return f"{pairs}{'' if in_order else ', out of order'} -> {value:g}"


# ------------------------------------------------------------------ checks
def check_tag_names(rule: TagsRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL121: a tag is written as its bare name, `answer`, not `<answer>`."""
    for tag in rule.tags:
        if tag.text.strip() and not TAG_NAME.fullmatch(tag.text):
            yield codes.RL121(
                tag.span,
                tag=tag.text,
                label="expected a name like `think` or `answer`",
                help="write the bare name: `tags \"answer\"` checks for <answer>...</answer>",
            )


def check_thinking_tags(rule: TagsRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL211: `<think>` blocks are stripped from the answer, so `scope answer` never finds them."""
    if rule.scope != "answer":
        return
    for tag in rule.tags:
        if tag.text.strip().lower() == "think":
            yield thinking_stripped(tag.span)


def thinking_stripped(span: Span) -> Diagnostic:
    """RL211 at a tag or marker that `scope answer` can never find (`markers` checks with it too)."""
    return codes.RL211(
        span,
        label="never found with `scope answer`",
        help="add `scope full` to the rule so that it sees the thinking and its tags",
    )


KIND = Kind(
    model=TagsRule,
    arguments=("tags",),
    template="tags {tags}",
    scorer=TagsScorer,
    summary="the fraction of tags whose `<TAG>...</TAG>` pair count lies in `count`",
    checks=(check_tag_names, check_thinking_tags),
    ranges=(RangeField("count", "tag count", whole=True, nonnegative=True),),
)
