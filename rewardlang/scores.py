"""The documented score range of every rule kind, as configured.

Checks use it (a rule that can never score above zero, a gate that can never
fire); the compiler's property tests assert that real scores stay inside it.
"""

from __future__ import annotations

from functools import singledispatch

from rewardlang import ast

# Kinds whose scores are penalties by design (never above zero).
PENALTY_KINDS = frozenset({"overlong"})
# A classifier with `activation none` yields raw logits, clamped to this bound.
LOGIT_BOUND = 100.0


def counted(each: float, cap: float, most: float | None) -> tuple[float, float]:
    """Range of `sign(each) * min(cap, |each| * count)` for 0 <= count <= most (None: unbounded)."""
    reach = cap if most is None else min(cap, abs(each) * most)
    return (0.0, reach) if each >= 0 else (-reach, 0.0)


@singledispatch
def score_range(rule: ast.RuleBase) -> tuple[float, float]:
    """Inclusive (lowest, highest) score `rule` can produce; `None` (not applicable) aside."""
    return (0.0, 1.0)


@score_range.register
def _(rule: ast.LengthRule) -> tuple[float, float]:
    return (min(rule.outside, 1.0), max(rule.outside, 1.0))


@score_range.register
def _(rule: ast.PhrasesRule) -> tuple[float, float]:
    return counted(rule.each, rule.cap, len(rule.phrases))


@score_range.register
def _(rule: ast.BannedRule) -> tuple[float, float]:
    return (min(rule.present, rule.absent), max(rule.present, rule.absent))


@score_range.register
def _(rule: ast.RegexRule) -> tuple[float, float]:
    if rule.each is not None:
        return counted(rule.each, 1.0 if rule.cap is None else rule.cap, None)
    present = 1.0 if rule.present is None else rule.present
    absent = 0.0 if rule.absent is None else rule.absent
    return (min(present, absent), max(present, absent))


@score_range.register
def _(rule: ast.OverlapRule) -> tuple[float, float]:
    if rule.each is not None:
        return counted(rule.each, rule.cap, None)
    return (0.0, 1.0)


@score_range.register
def _(rule: ast.OverlongRule) -> tuple[float, float]:
    return (-1.0, 0.0)


@score_range.register
def _(rule: ast.ClassifierRule) -> tuple[float, float]:
    if rule.activation == "none":
        return (-LOGIT_BOUND, LOGIT_BOUND)
    return (0.0, 1.0)
