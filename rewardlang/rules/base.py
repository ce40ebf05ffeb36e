"""The contract every compiled rule follows."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rewardlang.nodes import RuleBase
from rewardlang.runtime import Batch
from rewardlang.scan import Scan


class RuleScorer:
    """Scores a whole batch for one rule.

    Subclasses are plain picklable objects: they keep the validated rule and
    any light, precomputed matcher; heavy state (models) is created lazily on
    first use and dropped when pickled (see `LazyModelScorer`). `score` may
    return out-of-range or non-finite values only by mistake: the compiler
    clamps scores to the rule's documented range and turns NaN into None.
    """

    def __init__(self, rule: RuleBase):
        self.rule = rule

    def plan(self, scan: Scan) -> None:
        """Tell the spec's scan what this rule reads from each text (`rewardlang.scan`); most rules read nothing.

        The compiler calls it once per rule, all rules into one scan; a lexical scorer
        also plans into a scan of its own when built, so that it scores alone too.
        """

    def score(self, batch: Batch) -> list[float | None]:
        raise NotImplementedError

    def explain(self, batch: Batch, index: int) -> str:
        """One line on why completion `index` scored what it did (for `rewardc score --explain`)."""
        return ""

    def in_range(self, low: float, high: float) -> bool:
        """Whether `score` returns, by construction, a list whose every item is None or a float in
        `low..high` (the rule's range): the compiler then skips its clamp (most scorers: it cannot tell)."""
        return False


def all_in_range(values: Iterable[float], low: float, high: float) -> bool:
    """Whether every one of `values` (a scorer's precomputed scores) is a float in `low..high`."""
    return all(type(value) is float and low <= value <= high for value in values)


class LazyModelScorer(RuleScorer):
    """A scorer holding a model that is loaded on first use and never pickled."""

    _transient: tuple[str, ...] = ("_model",)

    def __init__(self, rule: RuleBase):
        super().__init__(rule)
        self._model: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in self._transient:
            state[name] = None
        return state
