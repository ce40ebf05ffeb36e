"""`diversity METRIC`: 1 - the similarity to the closest other completion of the same prompt.

Over the completions of one prompt (`Batch.groups`), each completion is compared
with every other one by `METRIC`, one of the `similarity` kind's metrics computed
by its code (this completion as the prediction, the other as the reference), after
the rule's `case` and `unicode` normalisation. The score is 1 minus the highest
of those similarities: a near-duplicate of another completion scores near 0, a
completion unlike all the others near 1. Two completions whose normalised texts
are identical have similarity 1 whatever the metric (two empty answers are
duplicates too, though ROUGE scores an empty pair 0). A group of one scores 1.
"""

from __future__ import annotations

from typing import Literal

from rewardlang.kind import Kind
from rewardlang.kinds.similarity import Metric, SimilarityRule, SimilarityScorer
from rewardlang.nodes import Case, RuleBase, Target, UnicodeMode
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch

SYMMETRIC_METRICS = frozenset({"rouge1", "rouge2", "rougeL", "fuzzy"})


class DiversityRule(RuleBase):
    kind: Literal["diversity"]
    metric: Metric
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"


class DiversityScorer(RuleScorer):
    rule: DiversityRule

    def __init__(self, rule: DiversityRule):
        super().__init__(rule)
        # The `similarity` kind's metric code, for pairs of completions (its target is never read).
        pair_rule = SimilarityRule(
            name=rule.name, kind="similarity", metric=rule.metric, target=Target(kind="prompt"),
            case=rule.case, unicode=rule.unicode,
        )
        self.pairs = SimilarityScorer(pair_rule)
        # F-measures and the fuzzy ratio do not depend on which text is the reference; BLEU and chrF do.
        self.symmetric = rule.metric in SYMMETRIC_METRICS

    def closest(
        self, texts: list[str], index: int, group: list[int], done: dict[tuple[str, str], float]
    ) -> tuple[int | None, float]:
        """(the closest other completion of the group, its similarity); (None, 0) alone in its group.

        `done` holds the similarities computed so far in this call: repeated pairs are compared once.
        """
        best: tuple[int | None, float] = (None, 0.0)
        for other in group:
            if other == index:
                continue
            pair = (texts[index], texts[other])
            if self.symmetric and pair[1] < pair[0]:
                pair = (pair[1], pair[0])  # the same value either way round: computed once per pair
            if pair not in done:
                done[pair] = 1.0 if pair[0] == pair[1] else self.pairs.similarity(*pair)
            if best[0] is None or done[pair] > best[1]:
                best = (other, done[pair])
        return best

    def score(self, batch: Batch) -> list[float | None]:
        rule = self.rule
        texts = batch.normalized(rule.scope, rule.case, rule.unicode)
        scores: list[float | None] = [None] * batch.size
        done: dict[tuple[str, str], float] = {}
        for group in batch.groups():
            for index in group:
                scores[index] = 1.0 - self.closest(texts, index, group, done)[1]
        return scores

    def explain(self, batch: Batch, index: int) -> str:
        rule = self.rule
        texts = batch.normalized(rule.scope, rule.case, rule.unicode)
        group = next(group for group in batch.groups() if index in group)
        other, similarity = self.closest(texts, index, group, {})
        if other is None:
            return "no other completion of its prompt in this batch -> 1"
        # Quoted, not numbered: a per-task rule is explained on the rows it applies to, whose positions
        # are not those of the call.
        return (f"closest other completion: {_quoted(batch.texts(rule.scope)[other])}, {rule.metric} "
                f"{similarity:.3f} (of {len(group) - 1} compared) -> {1.0 - similarity:.3f}")


def _quoted(text: str, limit: int = 40) -> str:
    shown = " ".join(text.split())
    return '"' + (shown if len(shown) <= limit else shown[: limit - 1] + "…") + '"'



KIND = Kind(
    model=DiversityRule,
    arguments=("metric",),
    template="diversity {metric}",
    scorer=DiversityScorer,
    summary="1 - the `METRIC` similarity (a `similarity` metric) to the closest other completion of its "
    "prompt's group",
    group=True,
)
