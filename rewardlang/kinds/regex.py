"""`regex PATTERN`: presence (`present`/`absent`) or counting (`each`, `cap`) of RE2 matches.

Patterns run on RE2 only (linear time; no completion can stall a step). `case
insensitive` is RE2's case-insensitive option; `case lower` lower-cases the text
with `str.lower()` first. Matching works on the UTF-8 bytes of the text.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any, Literal

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic, Label
from rewardlang.kind import Kind, RuleSpans
from rewardlang.nodes import Cap, Case, RuleBase, ScoreValue, Text, UnicodeMode
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.matching import Regex, counted, counted_range, utf8
from rewardlang.runtime import Batch
from rewardlang.source import Span


class RegexRule(RuleBase):
    kind: Literal["regex"]
    pattern: Text
    case: Case = "sensitive"
    unicode: UnicodeMode = "nfkc"
    present: ScoreValue | None = None
    absent: ScoreValue | None = None
    each: ScoreValue | None = None
    cap: Cap | None = None


class RegexScorer(RuleScorer):
    rule: RegexRule

    def __init__(self, rule: RegexRule):
        super().__init__(rule)
        self.regex = Regex(rule.pattern, case_sensitive=rule.case != "insensitive")
        self.text_case = "lower" if rule.case == "lower" else "sensitive"
        self.counting = rule.each is not None
        self.each = 0.0 if rule.each is None else float(rule.each)
        self.cap = 1.0 if rule.cap is None else float(rule.cap)
        self.present = 1.0 if rule.present is None else float(rule.present)
        self.absent = 0.0 if rule.absent is None else float(rule.absent)
        # Counting stops once the score can no longer grow (one match to spare for rounding).
        self.limit: int | None = None
        if self.counting:
            self.limit = 0 if self.each == 0 or self.cap == 0 else math.ceil(self.cap / abs(self.each)) + 1
            if self.limit > 10_000_000:
                self.limit = None

    def _texts(self, batch: Batch) -> list[str]:
        return batch.normalized(self.rule.scope, self.text_case, self.rule.unicode)

    def _one(self, text: str) -> float:
        data = utf8(text)
        if self.counting:
            return counted(self.each, self.cap, self.regex.count(data, self.limit)) if self.limit != 0 else 0.0
        return self.present if self.regex.search(data) else self.absent

    def score(self, batch: Batch) -> list[float | None]:
        return [self._one(text) for text in self._texts(batch)]

    def explain(self, batch: Batch, index: int) -> str:
        data = utf8(self._texts(batch)[index])
        if self.counting:
            matches = self.regex.count(data, self.limit) if self.limit != 0 else 0
            more = "+" if self.limit is not None and matches >= self.limit else ""
            return f"{matches}{more} matches -> {counted(self.each, self.cap, matches):g}"
        found = self.regex.search(data)
        return f"{'matches' if found else 'no match'} -> {self.present if found else self.absent:g}"


def score_range(rule: RegexRule) -> tuple[float, float]:
    if rule.each is not None:
        return counted_range(rule.each, 1.0 if rule.cap is None else rule.cap, None)
    present = 1.0 if rule.present is None else rule.present
    absent = 0.0 if rule.absent is None else rule.absent
    return (min(present, absent), max(present, absent))


# ------------------------------------------------------------------ checks
def check_regex(rule: RegexRule, span: RuleSpans) -> Iterator[Diagnostic]:
    """A pattern RE2 cannot run (RL114, RL115), else one matching the empty string (RL206) and mixed modes (RL120)."""
    where = span("pattern")
    problem = pattern_diagnostic(rule.pattern, where)
    if problem is not None:
        yield problem
        return
    if _matches_empty(rule.pattern):
        yield codes.RL206(
            where,
            label="found in every completion",
            help="use `+` instead of `*`, or anchor the pattern, so that it needs some text to match",
        )
    counting = rule.each is not None or rule.cap is not None
    presence = rule.present is not None or rule.absent is not None
    if counting and presence:
        yield codes.RL120(
            span("each" if rule.each is not None else "cap"),
            name=rule.name,
            label="counting option",
            labels=(Label(span("present" if rule.present is not None else "absent"), "presence option"),),
            help="score each match with `each`/`cap`, or score the first match with `present`/`absent`",
        )
    elif rule.cap is not None and rule.each is None:
        yield codes.RL120(
            span("cap"),
            variant="cap",
            label="nothing to cap",
            help="`each` gives the score per match and `cap` limits the sum",
        )


def re2_options() -> Any:
    import re2  # google-re2: linear-time matching, no backtracking

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own error lines to stderr
    return options


def pattern_diagnostic(pattern: str, span: Span) -> Diagnostic | None:
    """RL114 for a pattern that is invalid anywhere, RL115 for one RE2 cannot run, else None."""
    import re2

    try:
        re2.compile(pattern, re2_options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        # Python's `re` tells "invalid anywhere" (RL114) from "valid, but not on RE2" (RL115).
        try:
            re.compile(pattern)
        except re.error as python_error:
            return codes.RL114(span, label=str(python_error), help="check the pattern's brackets and escapes")
        except RecursionError:
            pass  # its parser recurses once per nested group: RE2's reason is the one we have
        return codes.RL115(
            span,
            label=detail,
            help="RE2 has no backreferences (`\\1`), lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), possessive or "
            "atomic groups, and repeats above 1000; patterns run on RE2 so that no completion can stall a "
            "training step",
        )
    return None


def _matches_empty(pattern: str) -> bool:
    import re2

    return re2.compile(pattern, re2_options()).search("") is not None


KIND = Kind(
    model=RegexRule,
    arguments=("pattern",),
    template="regex {pattern}",
    scorer=RegexScorer,
    summary="an RE2 pattern: `present`/`absent`, or its matches counted with `each`",
    range_doc="`present`/`absent` (1/0), or 0..`cap` counting with `each`",
    score_range=score_range,
    checks=(check_regex,),
)
