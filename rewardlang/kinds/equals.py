"""`equals TARGET`: 1 when the scored text matches the target (`exact`, `normalized`, `numeric`), else 0.

`punctuation ignore | trailing` (with `exact` or `normalized`) removes every
punctuation character, or only those at the end, from both sides, and collapses
whitespace, as SQuAD's answer normalisation does: "Paris." matches "paris". `tag answer` compares only what the last
<answer>...</answer> block holds (R1-style completions: the reasoning and the tags around
the answer are not the answer).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Literal

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.kind import Kind, RuleSpans
from rewardlang.kinds.tags import TAG_NAME
from rewardlang.nodes import RuleBase, Target, Text
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch
from rewardlang.text import collapse_whitespace, normalize, remove_punctuation, strip_trailing_punctuation

Compare = Literal["exact", "normalized", "numeric"]
Punctuation = Literal["keep", "trailing", "ignore"]


class EqualsRule(RuleBase):
    kind: Literal["equals"]
    target: Target
    compare: Compare = "normalized"
    punctuation: Punctuation = "keep"
    tag: Text | None = None  # compare the inside of the last <tag>...</tag> block only


def inside_last(text: str, tag: str) -> str | None:
    """What the last complete `<tag>...</tag>` block of `text` holds; None when there is none."""
    closing = text.rfind(f"</{tag}>")
    if closing == -1:
        return None
    opening = text.rfind(f"<{tag}>", 0, closing)
    return None if opening == -1 else text[opening + len(tag) + 2 : closing]


def canonical(text: str, compare: str, punctuation: str = "keep") -> str | float | None:
    """The form two texts are compared in; None when a `numeric` text is not a number."""
    if compare == "numeric":
        try:  # Python's float() syntax (linear time even for a megabyte of digits)
            number = float(text)
        except (ValueError, OverflowError):
            return None
        return None if math.isnan(number) else number
    if compare == "normalized":
        text = normalize(text)  # `unicode nfkc`, case folded: typographic punctuation is ASCII by now
    elif punctuation == "keep":
        return text.strip()  # `exact` as it always was
    if punctuation == "ignore":
        text = remove_punctuation(text)
    elif punctuation == "trailing":
        text = strip_trailing_punctuation(text)
    return collapse_whitespace(text)


class EqualsScorer(RuleScorer):
    rule: EqualsRule

    def _pairs(self, batch: Batch) -> list[tuple[object, object] | None]:
        compare, punctuation = self.rule.compare, self.rule.punctuation
        by_target: dict[str, object] = {}
        pairs: list[tuple[object, object] | None] = []
        for text, target in zip(batch.texts(self.rule.scope), batch.targets(self.rule.target), strict=True):
            if target is None:
                pairs.append(None)
                continue
            if target not in by_target:
                by_target[target] = canonical(target, compare, punctuation)
            reference = by_target[target]
            if reference == "" and punctuation != "keep":
                # A target that was only punctuation has nothing left to match: not applicable,
                # rather than a reward for an empty (or punctuation-only) answer.
                pairs.append(None)
                continue
            if self.rule.tag is not None:
                inside = inside_last(text, self.rule.tag)
                pairs.append((None if inside is None else canonical(inside, compare, punctuation), reference))
                continue
            pairs.append((canonical(text, compare, punctuation), reference))
        return pairs

    @staticmethod
    def _equal(pair: tuple[object, object]) -> float:
        text, target = pair
        return 1.0 if text is not None and target is not None and text == target else 0.0

    def score(self, batch: Batch) -> list[float | None]:
        return [None if pair is None else self._equal(pair) for pair in self._pairs(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        pair = self._pairs(batch)[index]
        how = self.rule.compare if self.rule.punctuation == "keep" else (
            f"{self.rule.compare}, punctuation {self.rule.punctuation}")
        if pair is None:
            if batch.targets(self.rule.target)[index] is None:
                return f"no {self.rule.target.describe()} target: not applicable"
            return f"{how}: the {self.rule.target.describe()} target is only punctuation: not applicable"
        if self.rule.tag is not None:
            how += f", inside <{self.rule.tag}>"
            if inside_last(batch.texts(self.rule.scope)[index], self.rule.tag) is None:
                return f"{how}: no <{self.rule.tag}>...</{self.rule.tag}> block -> 0"
        text, target = (repr(x)[:60] for x in pair)
        return f"{how}: {text} vs {target} -> {self._equal(pair):g}"


def check_tag_name(rule: EqualsRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL121: the tag is its bare name, `answer`, not `<answer>`."""
    if rule.tag is not None and not TAG_NAME.fullmatch(rule.tag):
        yield codes.RL121(
            span("tag"),
            tag=rule.tag,
            label="expected a name like `answer`",
            help="write the bare name: `tag \"answer\"` compares what <answer>...</answer> holds",
        )


def check_numeric_punctuation(rule: EqualsRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """RL134: numbers are read as written; removing punctuation would remove decimal points and signs."""
    if rule.compare == "numeric" and rule.punctuation != "keep":
        yield codes.RL134(
            span("punctuation"),
            punctuation=rule.punctuation,
            label="numbers are read as written",
            help="a `.` or `-` is part of a number; remove `punctuation`, or use `compare normalized`",
        )


KIND = Kind(
    model=EqualsRule,
    arguments=("target",),
    template="equals {target}",
    scorer=EqualsScorer,
    summary="1 when the text (or what its last `<tag>` block holds) matches the target (`exact`, `normalized` or "
    "`numeric`; punctuation kept or ignored), else 0",
    range_doc="0 or 1",
    checks=(check_numeric_punctuation, check_tag_name),
)
