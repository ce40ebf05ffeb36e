"""`banned "a", "b", ...`: `absent` when none of the phrases occurs, `present` when one does."""

from __future__ import annotations

from typing import Literal

from rewardlang.kind import Kind
from rewardlang.kinds.phrases import PhraseListScorer
from rewardlang.nodes import PhraseList, RuleBase, ScoreValue, TextMatching, UnicodeMode
from rewardlang.rules.base import all_in_range
from rewardlang.rules.disguises import DisguiseMatcher
from rewardlang.runtime import Batch
from rewardlang.scan import Scan


class BannedRule(RuleBase, TextMatching):
    kind: Literal["banned"]
    phrases: PhraseList
    unicode: UnicodeMode = "confusables"  # look-alike letters must not hide a banned word
    present: ScoreValue = 0.0
    absent: ScoreValue = 1.0


class BannedScorer(PhraseListScorer):
    rule: BannedRule

    def __init__(self, rule: BannedRule):
        super().__init__(rule, rule, rule.phrases)
        self.present = float(rule.present)
        self.absent = float(rule.absent)
        # `unicode confusables` also catches leetspeak, spaced-out letters and ASCII look-alikes (§6.5).
        self.disguises = (
            DisguiseMatcher(self.matcher.phrases, rule.case, word=rule.match == "word")
            if rule.unicode == "confusables" else None
        )
        self.plan(Scan())

    def in_range(self, low: float, high: float) -> bool:
        return all_in_range((self.present, self.absent), low, high)  # every score is one of the two


    def _disguised(self, batch: Batch, index: int) -> str:
        return batch.normalized(self.rule.scope, "sensitive", "confusables")[index]

    def _found(self, batch: Batch) -> list[bool]:
        mask = self.slot.mask
        found = [bool(hits & mask) for hits in self.scan.hits(batch, self.slot)]
        if self.disguises is not None and not all(found):
            disguised = self.disguises.any
            views = batch.normalized(self.rule.scope, "sensitive", "confusables")
            found = [plain or disguised(view) for plain, view in zip(found, views, strict=True)]
        return found

    def score(self, batch: Batch) -> list[float | None]:
        present, absent = self.present, self.absent
        return [present if found else absent for found in self._found(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        found = self.matcher.found(self._texts(batch)[index])
        parts = [repr(self.matcher.phrases[i]) for i in found]
        if self.disguises is not None:
            for i, written in self.disguises.found(self._disguised(batch, index)).items():
                if i not in found:
                    parts.append(f"{self.matcher.phrases[i]!r} written as {written!r}")
        value = self.present if parts else self.absent
        return f"found: {', '.join(parts) or 'nothing'} -> {value:g}"


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
