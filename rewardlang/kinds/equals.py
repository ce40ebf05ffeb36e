"""`equals TARGET`: 1 when the scored text matches the target (`exact`, `normalized`, `numeric`), else 0."""

from __future__ import annotations

import math
from typing import Literal

from rewardlang.kind import Kind
from rewardlang.nodes import RuleBase, Target
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch
from rewardlang.text import normalize

Compare = Literal["exact", "normalized", "numeric"]


class EqualsRule(RuleBase):
    kind: Literal["equals"]
    target: Target
    compare: Compare = "normalized"


def canonical(text: str, compare: str) -> str | float | None:
    """The form two texts are compared in; None when a `numeric` text is not a number."""
    if compare == "exact":
        return text.strip()
    if compare == "normalized":
        return " ".join(normalize(text).split())  # `unicode nfkc`, case folded, whitespace collapsed
    try:  # Python's float() syntax (linear time even for a megabyte of digits)
        number = float(text)
    except (ValueError, OverflowError):
        return None
    return None if math.isnan(number) else number


class EqualsScorer(RuleScorer):
    rule: EqualsRule

    def _pairs(self, batch: Batch) -> list[tuple[object, object] | None]:
        compare = self.rule.compare
        by_target: dict[str, object] = {}
        pairs: list[tuple[object, object] | None] = []
        for text, target in zip(batch.texts(self.rule.scope), batch.targets(self.rule.target), strict=True):
            if target is None:
                pairs.append(None)
                continue
            if target not in by_target:
                by_target[target] = canonical(target, compare)
            pairs.append((canonical(text, compare), by_target[target]))
        return pairs

    @staticmethod
    def _equal(pair: tuple[object, object]) -> float:
        text, target = pair
        return 1.0 if text is not None and target is not None and text == target else 0.0

    def score(self, batch: Batch) -> list[float | None]:
        return [None if pair is None else self._equal(pair) for pair in self._pairs(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        pair = self._pairs(batch)[index]
        if pair is None:
            return f"no {self.rule.target.describe()} target: not applicable"
        text, target = (repr(x)[:60] for x in pair)
        return f"{self.rule.compare}: {text} vs {target} -> {self._equal(pair):g}"


KIND = Kind(
    model=EqualsRule,
    arguments=("target",),
    template="equals {target}",
    scorer=EqualsScorer,
    summary="1 when the text matches the target (`exact`, `normalized` or `numeric`), else 0",
    range_doc="0 or 1",
)
