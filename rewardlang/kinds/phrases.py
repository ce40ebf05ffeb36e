"""`phrases "a", "b", ...`: a bonus for each distinct listed phrase found in the text."""

from __future__ import annotations

from typing import Literal

from rewardlang.kind import Kind
from rewardlang.nodes import Cap, Phrase, PhraseList, RuleBase, ScoreValue, TextMatching
from rewardlang.rules.base import RuleScorer, all_in_range
from rewardlang.rules.matching import PhraseMatcher, counted, counted_range
from rewardlang.runtime import Batch
from rewardlang.scan import PhraseSlot, Scan, View
from rewardlang.text import normalize


class PhrasesRule(RuleBase, TextMatching):
    kind: Literal["phrases"]
    phrases: PhraseList
    each: ScoreValue = 1.0
    cap: Cap = 1.0


def phrase_matcher(phrases: tuple[Phrase, ...], options: TextMatching) -> PhraseMatcher:
    """The phrases, normalised like the text they are looked for in (the rule's text options)."""
    texts = [normalize(phrase.text, options.case, options.unicode) for phrase in phrases]
    return PhraseMatcher(texts, word=options.match == "word")


def describe(matcher: PhraseMatcher, found: list[int]) -> str:
    return ", ".join(repr(matcher.phrases[i]) for i in found) or "nothing"


class PhraseListScorer(RuleScorer):
    """What the `phrases` and `banned` scorers share: a phrase list, searched in the spec's scan."""

    def __init__(self, rule: RuleBase, matching: TextMatching, phrases: PhraseList):
        super().__init__(rule)
        self.view = View(rule.scope, matching.case, matching.unicode)
        self.matcher = phrase_matcher(phrases, matching)

    def plan(self, scan: Scan) -> None:
        # The phrases are searched with every phrase and banned list of the view: one pass per text.
        self.scan = scan
        self.slot: PhraseSlot = scan.phrases(self.view, self.matcher.phrases, self.matcher.word)

    def _texts(self, batch: Batch) -> list[str]:
        return batch.normalized(*self.view)


class PhrasesScorer(PhraseListScorer):
    rule: PhrasesRule

    def __init__(self, rule: PhrasesRule):
        super().__init__(rule, rule, rule.phrases)
        self.each = float(rule.each)
        self.cap = float(rule.cap)
        # The score for 0, 1, 2, ... distinct phrases found.
        self.table = tuple(counted(self.each, self.cap, n) for n in range(len(self.matcher.phrases) + 1))
        self.plan(Scan())

    def in_range(self, low: float, high: float) -> bool:
        return all_in_range(self.table, low, high)  # every score is read from the table


    def score(self, batch: Batch) -> list[float | None]:
        table, mask = self.table, self.slot.mask
        return [table[(hits & mask).bit_count()] for hits in self.scan.hits(batch, self.slot)]

    def explain(self, batch: Batch, index: int) -> str:
        found = self.matcher.found(self._texts(batch)[index])
        return f"found: {describe(self.matcher, found)} -> {self.table[len(found)]:g}"


def score_range(rule: PhrasesRule) -> tuple[float, float]:
    return counted_range(rule.each, rule.cap, len(rule.phrases))


KIND = Kind(
    model=PhrasesRule,
    arguments=("phrases",),
    template="phrases {phrases}",
    scorer=PhrasesScorer,
    summary="a bonus for each distinct phrase found, counted up to `cap`",
    range_doc="0..`min(cap, each × phrases)` (mirrored below 0 for a negative `each`)",
    score_range=score_range,
)
