"""`similarity METRIC to TARGET`: reference similarity, 0..1.

| Metric | Computed as |
|---|---|
| `rouge1`, `rouge2` | ROUGE-N F-measure, as rouge-score computes it (clipped n-gram counts) |
| `rougeL` | ROUGE-L F-measure: LCS of the token sequences, as rouge-score, via rapidfuzz's bit-parallel LCS |
| `bleu` | `sacrebleu` sentence BLEU (13a tokenizer, exp smoothing, effective order) / 100 |
| `chrf` | `sacrebleu` sentence chrF (character 6-grams, beta 2) / 100 |
| `fuzzy` | `rapidfuzz.fuzz.ratio` (normalised Indel similarity) / 100 |

Both texts are normalised first with the rule's `case` and `unicode` options.

ROUGE tokens are runs of letters and digits in any script (`[^\\W_]+`): on ASCII
text this is exactly rouge-score's default tokenizer (which keeps only `[a-z0-9]`
and so drops every accented or non-Latin letter); the `case` option decides case.
ROUGE is computed here rather than by calling rouge-score because importing it
costs about 2.4 s (it imports nltk) and its ROUGE-L is a pure-Python O(n*m)
table; the tests check that the values are the same as rouge-score's.

Bounded time on any input (docs/performance-embeddings.md, "Similarity bounds"):
both texts are cut to their first `MAX_CHARS` characters (all metrics are linear
below that: about 0.1 s at the cap for chrF, the slowest); the two quadratic-ish
metrics have tighter caps: `fuzzy` compares the first `FUZZY_MAX_CHARS` characters
and `rougeL` the first `LCS_MAX_TOKENS` tokens of each side (each well under 50 ms
at the cap). Completions in GRPO are far below these caps.

`None` when the target is missing or holds only whitespace (there is nothing to
compare with; the libraries disagree on an empty reference: ROUGE gives 0, fuzzy 1).
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal

from rewardlang.kind import Kind
from rewardlang.nodes import Case, RuleBase, Target, UnicodeMode
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch
from rewardlang.text import normalize

MAX_CHARS = 100_000
FUZZY_MAX_CHARS = 20_000
LCS_MAX_TOKENS = 20_000

_TOKEN = re.compile(r"[^\W_]+")

Metric = Literal["rouge1", "rouge2", "rougeL", "bleu", "chrf", "fuzzy"]


class SimilarityRule(RuleBase):
    kind: Literal["similarity"]
    metric: Metric
    target: Target
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"


def rouge_tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def _fmeasure(precision: float, recall: float) -> float:
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


def rouge_n(prediction: list[str], target: list[str], n: int) -> float:
    """ROUGE-N F-measure (rouge-score's `_score_ngrams`)."""
    pred = Counter(zip(*(prediction[i:] for i in range(n)), strict=False))
    ref = Counter(zip(*(target[i:] for i in range(n)), strict=False))
    if not pred or not ref:
        return 0.0
    overlap = sum((pred & ref).values())
    return _fmeasure(overlap / sum(pred.values()), overlap / sum(ref.values()))


def rouge_l(prediction: list[str], target: list[str]) -> float:
    """ROUGE-L F-measure (rouge-score's `_score_lcs`), LCS in O(n*m/64) by rapidfuzz."""
    if not prediction or not target:
        return 0.0
    from rapidfuzz.distance import LCSseq

    prediction, target = prediction[:LCS_MAX_TOKENS], target[:LCS_MAX_TOKENS]
    lcs = LCSseq.similarity(prediction, target)
    return _fmeasure(lcs / len(prediction), lcs / len(target))


class SimilarityScorer(RuleScorer):
    """Picklable: the sacrebleu metric objects are made on first use and not pickled."""

    def __init__(self, rule: SimilarityRule):
        super().__init__(rule)
        self.rule: SimilarityRule = rule
        self._metric: Any = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_metric"] = None
        return state

    def _sacrebleu(self) -> Any:
        if self._metric is None:
            if self.rule.metric == "bleu":
                from sacrebleu.metrics import BLEU

                self._metric = BLEU(effective_order=True)  # as sacrebleu.sentence_bleu
            else:
                from sacrebleu.metrics import CHRF

                self._metric = CHRF()  # as sacrebleu.sentence_chrf
        return self._metric

    def similarity(self, text: str, target: str) -> float:
        """The metric for one pair of normalised texts, 0..1."""
        text, target = text[:MAX_CHARS], target[:MAX_CHARS]
        metric = self.rule.metric
        if metric == "fuzzy":
            from rapidfuzz import fuzz

            value = fuzz.ratio(text[:FUZZY_MAX_CHARS], target[:FUZZY_MAX_CHARS]) / 100.0
        elif metric in ("bleu", "chrf"):
            value = self._sacrebleu().sentence_score(text, [target]).score / 100.0
        elif metric == "rougeL":
            value = rouge_l(rouge_tokens(text), rouge_tokens(target))
        else:
            value = rouge_n(rouge_tokens(text), rouge_tokens(target), 1 if metric == "rouge1" else 2)
        return min(max(value, 0.0), 1.0) if value == value else 0.0

    def score(self, batch: Batch) -> list[float | None]:
        rule = self.rule
        texts = batch.normalized(rule.scope, rule.case, rule.unicode)
        targets = batch.targets(rule.target)
        normalized: dict[str, str] = {}
        done: dict[tuple[str, str], float] = {}  # identical (text, target) pairs are scored once
        scores: list[float | None] = []
        for text, target in zip(texts, targets, strict=True):
            if target is None or not target.strip():
                scores.append(None)
                continue
            if target not in normalized:
                normalized[target] = normalize(target[: 2 * MAX_CHARS], rule.case, rule.unicode)
            pair = (text, normalized[target])
            if pair not in done:
                done[pair] = self.similarity(*pair)
            scores.append(done[pair])
        return scores

    def explain(self, batch: Batch, index: int) -> str:
        score = self.score(batch)[index]
        if score is None:
            return f"no {self.rule.target.describe()} text: not applicable"
        return f"{self.rule.metric} {score:.3f} against {self.rule.target.describe()}"


KIND = Kind(
    model=SimilarityRule,
    arguments=("metric", "target"),
    template="similarity {metric} to {target}",
    scorer=SimilarityScorer,
    summary="ROUGE, BLEU, chrF or fuzzy similarity with the target",
)
