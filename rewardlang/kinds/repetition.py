"""`repetition`: distinct n-grams / all n-grams (1 for text shorter than n), of words or of token ids.

`split tokens` reads the generated token ids (`completion_ids`) instead of the
text; `penalty P` turns the distinct ratio into `(1 - distinct / all) × P`, 0 for
fewer than n items. Together they are TRL's `get_repetition_penalty_reward(n, P)`,
to the last bit (tests/test_shapes.py runs both side by side).

Bounded work: only the first `MAX_WORDS` words count, and on long texts distinct
n-grams are counted by their hash (one integer each, not a tuple of n words
each): two different n-grams of one text share a 64-bit hash with a probability
below 1e-9 even at the cap, the only way this can differ from exact counting.
Short texts (`EXACT_CELLS`) keep the tuples: exact, and faster there. Token ids
are counted exactly, all of them, as TRL counts them: their number is bounded by
the generation length.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import islice, repeat
from typing import Annotated, Any, Literal

from pydantic import Field

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.kind import Kind, RuleSpans
from rewardlang.nodes import Case, RuleBase, UnicodeMode
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch
from rewardlang.scan import Scan, View

EXACT_CELLS = 100_000  # n-grams x n up to which the n-grams themselves are kept (a few MB at most)

RepetitionSplit = Literal["words", "whitespace", "tokens"]
# TRL's `max_penalty`: below 0 (0 would score 0 whatever the text), bounded as every score is.
Penalty = Annotated[float, Field(ge=-100, lt=0)]
# Options that shape words and so mean nothing for token ids (RL216).
TEXT_OPTIONS = ("case", "unicode", "scope")


class RepetitionRule(RuleBase):
    kind: Literal["repetition"]
    ngram: Annotated[int, Field(ge=1, le=32)] = 3
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"
    split: RepetitionSplit = "words"
    penalty: Penalty | None = None  # None: the distinct ratio, 0..1


def ngram_counts(items: Sequence[Any], n: int, exact: bool = False) -> tuple[int, int]:
    """(distinct n-grams, all n-grams); `exact` never counts by hash."""
    total = len(items) - n + 1
    if total <= 0:
        return 0, 0
    if n == 1:
        return len(set(items)), total
    if exact:  # token ids, as many as were generated: n slices, as TRL takes them, are the fastest
        return len(set(zip(*(items[i:] for i in range(n)), strict=False))), total
    # islice, not items[i:]: no n copies of a list of up to MAX_WORDS words.
    grams = zip(*(islice(items, i, None) for i in range(n)), strict=False)  # the shifted runs end apart
    if total * n <= EXACT_CELLS:
        return len(set(grams)), total
    return len(set(map(hash, grams))), total  # no n-tuple kept per position


def token_ids(ids: Any) -> list[int] | None:
    """A completion's token ids as a list of ints; None when they are missing or not whole numbers."""
    if hasattr(ids, "tolist"):  # a tensor or an array
        ids = ids.tolist()
    if not isinstance(ids, list | tuple) or not all(map(isinstance, ids, repeat(int))):  # all in C
        return None
    return ids if isinstance(ids, list) else list(ids)


class RepetitionScorer(RuleScorer):
    rule: RepetitionRule

    def __init__(self, rule: RepetitionRule):
        super().__init__(rule)
        self.view = View(rule.scope, rule.case, rule.unicode)
        self.plan(Scan())

    def plan(self, scan: Scan) -> None:
        self.scan = scan
        if self.rule.split != "tokens":  # split once for every rule of the spec that reads these words
            scan.words(self.view, self.rule.split)

    def _items(self, batch: Batch) -> Sequence[Sequence[Any] | None]:
        rule = self.rule
        if rule.split == "tokens":
            return batch.cached("token_ids", lambda: [token_ids(ids) for ids in batch.completion_ids])
        return self.scan.word_lists(batch, self.view, rule.split)

    def _value(self, distinct: int, total: int) -> float:
        penalty = self.rule.penalty
        if penalty is None:
            return distinct / total if total else 1.0
        if not total:
            return 0.0
        # TRL's arithmetic, in its order, so that scores are bit-for-bit TRL's.
        scaling = 1 - distinct / total
        return scaling * penalty if scaling else 0.0

    def score(self, batch: Batch) -> list[float | None]:
        n, exact = self.rule.ngram, self.rule.split == "tokens"
        return [None if items is None else self._value(*ngram_counts(items, n, exact)) for items in self._items(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        rule = self.rule
        n = rule.ngram
        unit = "token" if rule.split == "tokens" else "word"
        items = self._items(batch)[index]
        if items is None:
            return "no completion_ids (token ids): not applicable"
        distinct, total = ngram_counts(items, n, rule.split == "tokens")
        value = self._value(distinct, total)
        if not total:
            return f"fewer than {n} {unit}{'' if n == 1 else 's'} -> {value:g}"
        ratio = f"{distinct} distinct of {total} {unit} {n}-grams"
        if rule.penalty is None:
            return f"{ratio} -> {value:g}"
        return f"{ratio}: (1 - {distinct}/{total}) x {rule.penalty:g} -> {value:g}"


def check_token_options(rule: RepetitionRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL216: `case`, `unicode` and `scope` shape words; token ids are the whole completion, as generated."""
    if rule.split != "tokens":
        return
    whole = span()
    for option in TEXT_OPTIONS:
        if option not in rule.model_fields_set or (option == "scope" and rule.scope == "full"):
            continue
        where = span(option)
        if not whole.start <= where.start < whole.end:
            continue  # set by `defaults`, for every rule that accepts it: not this rule's mistake
        yield codes.RL216(
            where,
            option=option,
            label="token ids are read as generated",
            help="token n-grams cover the whole completion, thinking included; remove it, "
            "or use `split words` to count words",
        )


def score_range(rule: RepetitionRule) -> tuple[float, float]:
    return (0.0, 1.0) if rule.penalty is None else (rule.penalty, 0.0)


KIND = Kind(
    model=RepetitionRule,
    arguments=(),
    template="repetition",
    scorer=RepetitionScorer,
    summary="distinct n-grams (of words or token ids) / all n-grams: 1 without repeats, near 0 for a loop; "
    "TRL's repetition penalty with `penalty`",
    range_doc="0..1, or `penalty`..0",
    score_range=score_range,
    penalty=lambda rule: rule.penalty is not None,
    checks=(check_token_options,),
)
