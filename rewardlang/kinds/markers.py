"""`markers "a", "b", ...`: `each` for every listed marker string found exactly `count` times.

open-r1's `tag_count_reward` is

    rule format: markers "<think>\\n", "\\n</think>\\n", "\\n<answer>\\n", "\\n</answer>"

0.25 for each of the four strings that occurs exactly once. Markers are plain
strings, looked for as written (case-sensitive, no Unicode normalisation, line
breaks and spaces included); occurrences are counted as `str.count` counts them,
left to right without overlap. `each` defaults to 1 / the number of markers, so
that the rule scores 0..1; the default scope is `full`, the text with its
thinking, as open-r1 scores it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal

from rewardlang.diagnostics import Diagnostic
from rewardlang.kind import Kind, RangeField, RuleSpans
from rewardlang.kinds.tags import thinking_stripped
from rewardlang.nodes import PhraseList, Range, RuleBase, Scope, ScoreValue
from rewardlang.rules.base import RuleScorer, all_in_range
from rewardlang.runtime import THINK_CLOSE, THINK_OPEN, Batch


class MarkersRule(RuleBase):
    kind: Literal["markers"]
    markers: PhraseList
    count: Range = Range(low=1, high=1)
    each: ScoreValue | None = None  # None: 1 / the number of markers
    scope: Scope = "full"  # markers such as "<think>\n" are part of the thinking's frame


def each_score(rule: MarkersRule) -> float:
    return float(rule.each) if rule.each is not None else 1.0 / len(rule.markers)


class MarkersScorer(RuleScorer):
    rule: MarkersRule

    def __init__(self, rule: MarkersRule):
        super().__init__(rule)
        self.markers = tuple(marker.text for marker in rule.markers)
        self.each = each_score(rule)
        # The score for 0, 1, 2, ... markers found, summed in order as `each` is added per marker.
        self.table = tuple(self.each * n for n in range(len(self.markers) + 1))
        # The count range as plain numbers (-inf/inf for an open end): read once per marker and text.
        low, high = rule.count.low, rule.count.high
        self.low = -math.inf if low is None else int(low)  # a whole count (RangeField whole=True)
        self.high = math.inf if high is None else int(high)
        # `count 1` (the default) is one count: `list.count` does the test in C.
        self.exact: int | None = int(low) if low is not None and low == high else None
        # A marker without U+FFFD is found alike with lone surrogates left in (`Batch.raw_texts`).
        self.raw = rule.scope == "full" and not any("\ufffd" in marker for marker in self.markers)

    def _texts(self, batch: Batch) -> list[str]:
        return batch.raw_texts() if self.raw else batch.texts(self.rule.scope)

    def in_range(self, low: float, high: float) -> bool:
        return all_in_range(self.table, low, high)  # every score is read from the table

    def _counts(self, text: str) -> list[int]:
        return [text.count(marker) for marker in self.markers]

    def _value(self, counts: list[int]) -> float:
        low, high = self.low, self.high
        return self.table[sum(1 for n in counts if low <= n <= high)]

    def score(self, batch: Batch) -> list[float | None]:
        markers, table, low, high = self.markers, self.table, self.low, self.high
        texts = self._texts(batch)
        exact = self.exact
        if exact is not None:  # `_value(_counts(text))`, all in C but the loop: the hot path
            return [table[list(map(text.count, markers)).count(exact)] for text in texts]
        return [table[sum(1 for n in map(text.count, markers) if low <= n <= high)] for text in texts]

    def explain(self, batch: Batch, index: int) -> str:
        counts = self._counts(batch.texts(self.rule.scope)[index])
        found = ", ".join(f"{marker!r} x{n}" for marker, n in zip(self.markers, counts, strict=True))
        return f"{found} -> {self._value(counts):g}"


def score_range(rule: MarkersRule) -> tuple[float, float]:
    most = each_score(rule) * len(rule.markers)
    return (min(0.0, most), max(0.0, most))


def as_written(rule: MarkersRule, text: str) -> str:
    """Markers are compared as written: `"<think>"` and `"<think>\\n"` are two markers."""
    return text


# ------------------------------------------------------------------ checks
def check_thinking_markers(rule: MarkersRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL211: `<think>` blocks are stripped from the answer, so `scope answer` never finds a marker holding one."""
    if rule.scope != "answer":
        return
    for marker in rule.markers:
        if THINK_OPEN in marker.text or THINK_CLOSE in marker.text:
            yield thinking_stripped(marker.span)


KIND = Kind(
    model=MarkersRule,
    arguments=("markers",),
    template="markers {markers}",
    scorer=MarkersScorer,
    summary="`each` for every marker string found `count` times (1 / the number of markers by default)",
    range_doc="0..`each × markers` (0..1 by default)",
    score_range=score_range,
    checks=(check_thinking_markers,),
    ranges=(RangeField("count", "marker count", whole=True, nonnegative=True),),
    item_key=as_written,
)
