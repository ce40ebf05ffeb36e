"""`overlap to TARGET`: distinct words shared with the target; a fraction of the target's words, or counted.

Both sides are normalised alike (`case`, `unicode`) and cut into words alike
(`split`); each side counts with its first `MAX_WORDS` words only. The target's
distinct words are computed once per distinct target text (a prompt's G
completions share them; the last few hundred targets are remembered across
calls). The completion is read through the spec's scan (`rewardlang.scan`): with
`split whitespace` the target's words are looked for in the view's padded text
(`WordFinder.count_padded`: no split of the completion); with `split words` the
view's words (split once for every rule that reads them) are looked up in the
target's set.
"""

from __future__ import annotations

from typing import Any, Literal

from rewardlang.kind import Kind
from rewardlang.nodes import Cap, Case, RuleBase, ScoreValue, SplitMode, Target, UnicodeMode
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import WordFinder, capped_text, counted, counted_range, split_words
from rewardlang.runtime import Batch
from rewardlang.scan import Scan, View
from rewardlang.text import normalize


class OverlapRule(RuleBase):
    kind: Literal["overlap"]
    target: Target
    case: Case = "insensitive"
    unicode: UnicodeMode = "nfkc"
    split: SplitMode = "words"
    each: ScoreValue | None = None
    cap: Cap = 1.0


class TargetWords:
    """A target's distinct words."""

    __slots__ = ("finder", "size", "words")

    def __init__(self, words: list[str], whitespace: bool):
        self.words = frozenset(words)
        self.size = len(self.words)
        # Whitespace pieces are looked for in the padded text (no split of the completion).
        self.finder = WordFinder(sorted(self.words)) if whitespace and self.size else None

    def shared_in_words(self, words: list[str]) -> int:
        return len(self.words.intersection(words)) if self.size else 0


class OverlapScorer(RuleScorer):
    rule: OverlapRule

    def __init__(self, rule: OverlapRule):
        super().__init__(rule)
        self.counting = rule.each is not None
        self.each = 0.0 if rule.each is None else float(rule.each)
        self.cap = float(rule.cap)
        # Counted scores for 0, 1, 2, ... shared words, up to where the cap is reached.
        self.table: tuple[float, ...] = ()
        self.enough: int | None = None  # counting may stop here: the score cannot grow any more
        if self.counting:
            values = [0.0]
            while len(values) <= 10_000 and abs(values[-1]) < self.cap and self.each != 0:
                values.append(counted(self.each, self.cap, len(values)))
            self.table = tuple(values)
            if self.each == 0 or abs(values[-1]) >= self.cap:
                self.enough = len(values) - 1
        self.plan(Scan())

    def plan(self, scan: Scan) -> None:
        rule = self.rule
        self.scan = scan
        self.view = View(rule.scope, rule.case, rule.unicode)
        if rule.split == "whitespace":
            scan.pieces(self.view)  # whitespace words are looked for in the padded text, made once per view
        else:
            scan.words(self.view, rule.split)  # split once for every rule of the spec that reads these words

    KEEP = 512  # distinct targets remembered across batches (a prompt's completions may span two calls)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_recent"] = {}
        return state

    def target_words(self, batch: Batch) -> list[TargetWords | None]:
        rule = self.rule
        case, unicode, split = rule.case, rule.unicode, rule.split
        recent: dict[str, TargetWords] = self.__dict__.setdefault("_recent", {})

        def compute() -> list[TargetWords | None]:
            words: list[TargetWords | None] = []
            for target in batch.targets(rule.target):
                if target is None:
                    words.append(None)
                    continue
                found = recent.get(target)
                if found is None:
                    if len(recent) >= self.KEEP:
                        recent.clear()
                    found = recent[target] = TargetWords(
                        split_words(normalize(target, case, unicode), split), split == "whitespace"
                    )
                words.append(found)
            return words

        key = ("lexical", "target_words", rule.target.kind, rule.target.column, case, unicode, split)
        return batch.cached(key, compute)

    def _shared(self, batch: Batch) -> list[tuple[int, int] | None]:
        """(shared distinct words, distinct target words) per completion; None without a target."""
        rule = self.rule
        targets = self.target_words(batch)
        if rule.split == "whitespace":
            texts = [capped_text(text) for text in batch.normalized(*self.view)]  # what `Scan.padded` holds
            enough = self.enough
            return [
                None if target is None
                else (target.finder.count_padded(text, spaced, enough) if target.finder is not None else 0, target.size)
                for target, text, spaced in zip(targets, texts, self.scan.padded(batch, self.view), strict=True)
            ]
        words = self.scan.word_lists(batch, self.view, rule.split)
        return [
            None if target is None else (target.shared_in_words(text_words), target.size)
            for target, text_words in zip(targets, words, strict=True)
        ]

    def _value(self, shared: int, total: int) -> float:
        if self.counting:
            table = self.table
            return table[shared] if shared < len(table) else counted(self.each, self.cap, shared)
        return shared / total if total else 0.0

    def score(self, batch: Batch) -> list[float | None]:
        value = self._value
        return [None if pair is None else value(*pair) for pair in self._shared(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        pair = self._shared(batch)[index]
        if pair is None:
            return f"no {self.rule.target.describe()} target: not applicable"
        shared, total = pair
        return f"{shared} of {total} distinct target words shared -> {self._value(shared, total):g}"


def score_range(rule: OverlapRule) -> tuple[float, float]:
    return (0.0, 1.0) if rule.each is None else counted_range(rule.each, rule.cap, None)


KIND = Kind(
    model=OverlapRule,
    arguments=("target",),
    template="overlap to {target}",
    scorer=OverlapScorer,
    summary="the target's distinct words found in the text: a fraction, or counted with `each`",
    range_doc="0..1, or 0..`cap` with `each`",
    score_range=score_range,
)
