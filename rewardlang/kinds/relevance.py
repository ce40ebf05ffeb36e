"""`relevance to TARGET`: cosine similarity of sentence embeddings, scored 0..1.

Cost model (docs/performance-embeddings.md): the floor is encoding each
completion once. The scorer gets there by

- encoding each *distinct* text once per call: TRL passes a prompt's G
  completions with G references to (or copies of) the same prompt, so targets
  are deduplicated by content, not identity; identical completions are too;
- keeping target embeddings across calls in a bounded LRU keyed by the text
  (a prompt seen again, e.g. in the next epoch or by the next rule with the same
  target text, costs nothing);
- sending completions and new targets to the model in one `encode` call, in
  batches of `batch_size` (sentence-transformers sorts by length, so padding is small);
- sharing embeddings between relevance rules of the same batch and model
  (`Batch.cached`), and the model itself between every scorer of the process
  (`rules.models`).

Scores: `clamp(cos, 0, 1)`, or with `rescale lo..hi` the linear map sending `lo`
to 0 and `hi` to 1, clamped to 0..1. `None` when the target is missing or holds
only whitespace (nothing to be relevant to); 0.0 for an empty (or whitespace-only)
scored text with a target (an empty answer is not relevant).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.kind import Kind, RangeField, RuleSpans
from rewardlang.nodes import BatchSize, ModelName, Range, RuleBase, Target
from rewardlang.rules import models
from rewardlang.rules.base import LazyModelScorer
from rewardlang.rules.embedding_backends import EmbeddingBackend, install_command, missing_packages
from rewardlang.runtime import Batch

#: Distinct target texts whose embeddings a scorer keeps across calls.
TARGET_CACHE_SIZE = 8192
#: Texts are cut to this many characters per token of the model's `max_seq_length`
#: before tokenizing: the model reads only its first max_seq_length tokens anyway
#: (256 for MiniLM, so 25,600 characters), and tokenizing a 1 MB completion whole
#: would cost about half a second.
CHARS_PER_TOKEN_CAP = 100


class RelevanceRule(RuleBase):
    kind: Literal["relevance"]
    target: Target
    model: ModelName | None = None  # None: the packaged all-MiniLM-L6-v2
    rescale: Range | None = None
    batch_size: BatchSize = 64
    # `static`: a static model distilled from `model`; faster, much less discriminating (rules/embedding_backends.py)
    backend: EmbeddingBackend = "torch"


class RelevanceScorer(LazyModelScorer):
    """Embedding relevance of the scored text to the rule's target. Picklable; the model loads on first use."""

    _transient = ("_model", "_targets")

    def __init__(self, rule: RelevanceRule):
        super().__init__(rule)
        self.rule: RelevanceRule = rule
        self._targets: models.LRUCache[str, Any] | None = None
        # Counters (the benchmark and tests read them): texts actually sent to the model.
        self.calls = 0
        self.texts_encoded = 0
        self.completions_encoded = 0
        self.targets_encoded = 0
        self.target_cache_hits = 0

    # ------------------------------------------------------------ model
    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = models.sentence_transformer(
                self.rule.model, backend=self.rule.backend, rule=self.rule.name
            )
        return self._model

    @property
    def target_cache(self) -> models.LRUCache[str, Any]:
        if self._targets is None:
            self._targets = models.LRUCache(TARGET_CACHE_SIZE)
        return self._targets

    def _cap(self, text: str) -> str:
        tokens = getattr(self.model, "max_seq_length", None)
        if not isinstance(tokens, int) or tokens <= 0:  # a static model reads any length (`inf`): cap it as 512
            tokens = 512
        return text[:CHARS_PER_TOKEN_CAP * tokens]

    # ---------------------------------------------------------- scoring
    def cosines(self, batch: Batch) -> list[float | None]:
        """Cosine similarity per completion (None: no target; 0.0: empty text). Shared within a batch."""
        rule = self.rule
        key = ("relevance/cosine", rule.model, rule.backend, rule.scope, rule.target.kind, rule.target.column)
        return batch.cached(key, lambda: self._compute_cosines(batch))

    def _compute_cosines(self, batch: Batch) -> list[float | None]:
        import numpy as np

        rule = self.rule
        self.calls += 1
        texts = batch.texts(rule.scope)
        targets = batch.targets(rule.target)
        rows: list[tuple[int, str, str]] = []
        result: list[float | None] = [None] * batch.size
        for i, (text, target) in enumerate(zip(texts, targets, strict=True)):
            if target is None or not target.strip():
                continue  # not applicable
            if not text.strip():
                result[i] = 0.0
                continue
            rows.append((i, text, target))
        if not rows:
            return result

        # Embeddings of this batch for this model (by text), shared by every relevance rule using it.
        embedded: dict[str, Any] = batch.cached(("relevance/embeddings", rule.model, rule.backend), dict)
        to_encode: dict[str, bool] = {}  # capped text -> is it a target (kept in the LRU)
        capped: dict[str, str] = {}
        for _, text, target in rows:
            if target not in capped:
                short = capped[target] = self._cap(target)
                if short not in embedded:
                    vector = self.target_cache.get(short)
                    if vector is not None:
                        embedded[short] = vector
                        self.target_cache_hits += 1
                    else:
                        to_encode[short] = True
            if text not in capped:
                short = capped[text] = self._cap(text)
                if short not in embedded:
                    to_encode.setdefault(short, False)

        if to_encode:
            order = list(to_encode)
            vectors = self.model.encode(
                order,
                batch_size=rule.batch_size,
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
            vectors = np.asarray(vectors, dtype=np.float32)
            for text, vector in zip(order, vectors, strict=True):
                embedded[text] = vector
                if to_encode[text]:
                    self.target_cache.put(text, vector)
                    self.targets_encoded += 1
                else:
                    self.completions_encoded += 1
            self.texts_encoded += len(order)

        for i, text, target in rows:
            result[i] = float(np.clip(np.dot(embedded[capped[text]], embedded[capped[target]]), -1.0, 1.0))
        return result

    def score(self, batch: Batch) -> list[float | None]:
        return [None if cos is None else rescaled(cos, self.rule.rescale) for cos in self.cosines(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        cos = self.cosines(batch)[index]
        if cos is None:
            return f"no {self.rule.target.describe()} text: not applicable"
        if not batch.texts(self.rule.scope)[index].strip():
            return "empty text: 0"
        return f"cosine {cos:.3f} with {self.rule.target.describe()} -> {rescaled(cos, self.rule.rescale):.3f}"


def rescaled(cos: float, rescale: Range | None) -> float:
    """`clamp(cos, 0, 1)`, or with `rescale lo..hi`: `(cos - lo) / (hi - lo)` clamped to 0..1.

    An open end stands for 0 at the bottom and 1 at the top (`rescale 0.3..` maps
    0.3..1 onto 0..1; `rescale ..0.8` maps 0..0.8).
    """
    if rescale is None:
        return min(max(cos, 0.0), 1.0)
    low = 0.0 if rescale.low is None else rescale.low
    high = 1.0 if rescale.high is None else rescale.high
    if high == low:  # a step at that similarity
        return 1.0 if cos >= high else 0.0
    return min(max((cos - low) / (high - low), 0.0), 1.0)


def check_backend_installed(rule: RelevanceRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL153: the backend's packages are importable (found without importing them)."""
    missing = missing_packages(rule.backend)
    if missing:
        yield codes.RL153(
            span("backend"),
            backend=rule.backend,
            packages=" and ".join(f"`{req.module}`" for req in missing),
            label="not installed",
            help=f"install it with `{install_command(missing)}`, or remove `backend {rule.backend}`",
        )


KIND = Kind(
    model=RelevanceRule,
    arguments=("target",),
    template="relevance to {target}",
    scorer=RelevanceScorer,
    summary="cosine similarity of sentence embeddings with the target, clamped or `rescale`d to 0..1",
    ranges=(RangeField("rescale", "rescale range", strict=True),),
    checks=(check_backend_installed,),
)
