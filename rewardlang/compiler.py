"""Compilation: a validated Spec -> batched, picklable reward callables for TRL.

    compiled = rewardlang.load("specs/chat.reward")
    GRPOTrainer(..., reward_funcs=compiled.reward_funcs,
                args=GRPOConfig(reward_weights=compiled.weights, ...))

Without `total`/`gate`/`clip`, there is one reward function per rule and the
weights are the rules' weights: TRL sums them. With any of those, or a weight
schedule, the first function computes the total (weight 1) and every rule
still has its own function with weight 0, so TRL logs
`rewards/<spec>/<rule>/mean` for each. A schedule's weight at a call is its
value at TRL's `trainer_state.global_step` (`rewardlang.schedules`); each call
logs it through TRL's `log_metric` as `weight/<rule>` or `schedule/<name>`.
All functions of a spec share one scoring pass per TRL step: rules are
computed once per batch, whichever function TRL calls first.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rewardlang import ast, groups
from rewardlang.conditions import applicable_rows, not_applicable_reason
from rewardlang.diagnostics import SpecError
from rewardlang.frontend import analyze, read_source, spec_base
from rewardlang.registry import kind_of, score_range
from rewardlang.rules.base import RuleScorer
from rewardlang.rules.models import ModelLoadError
from rewardlang.runtime import TRL_KEYWORDS, Batch
from rewardlang.scan import Scan
from rewardlang.schedules import Schedule, step_of, weight_at

logger = logging.getLogger("rewardlang")



def compile_rule(rule: ast.RuleBase) -> RuleScorer:
    """The rule's scorer: its kind's scorer class, built with the validated rule."""
    return kind_of(rule.kind).scorer(rule)


@dataclass(frozen=True)
class Scores:
    """Every rule's scores and the combined total for one batch, in completion order."""

    rules: dict[str, list[float | None]]
    total: list[float]
    explanations: dict[str, list[str]] | None = None
    metrics: dict[str, float] = field(default_factory=dict)  # what rules counted (`Batch.record_metric`)
    weights: dict[str, float] = field(default_factory=dict)  # the scheduled weights used (`logged_weights`)


class CompiledSpec:
    def __init__(self, spec: ast.Spec):
        self.spec = spec
        scorers = {rule.name: compile_rule(rule) for rule in spec.rules}
        # Scoring order: a rule that reads another rule's scores (`brevity { correct accuracy }`) after it.
        self.scorers: dict[str, RuleScorer] = groups.scoring_order(spec, scorers)
        groups.bind_thresholds(spec, self.scorers)
        # One scan for the lexical rules: what each reads from a text, searched and split once (`rewardlang.scan`).
        self.scan = Scan()
        for scorer in self.scorers.values():
            scorer.plan(self.scan)
        self.combined = spec.total is not None or bool(spec.gates) or spec.clip is not None or spec.scheduled
        # Per call, only what changes is computed: each rule's range and the logged schedules are fixed.
        self._ranges = {name: score_range(scorer.rule) for name, scorer in self.scorers.items()}
        # Scorers whose scores are in range by construction (`RuleScorer.in_range`): no clamp per score.
        self._in_range = {name: scorer.in_range(*self._ranges[name]) for name, scorer in self.scorers.items()}
        self._logged = self.logged_schedules
        self._names = tuple(spec.rule_names)
        # One reward function (one rule, nothing combined): no other function of a TRL step shares its pass.
        self._single = not self.combined and len(self.scorers) == 1
        # The inputs of the last TRL call (kept alive, compared by identity) and their scores.
        self._last: tuple[dict[str, Any], dict[str, list[float | None]]] | None = None

    # --------------------------------------------------------- TRL surface
    @property
    def reward_funcs(self) -> list[RewardFunction]:
        functions = [RewardFunction(self, rule.name) for rule in self.spec.rules]
        return [RewardFunction(self, None), *functions] if self.combined else functions

    @property
    def weights(self) -> list[float]:
        if self.combined:
            return [1.0] + [0.0] * len(self.spec.rules)
        return list(self.weights_at(0).values())  # unscheduled: the same at every step

    @property
    def names(self) -> list[str]:
        return [function.__name__ for function in self.reward_funcs]

    # ------------------------------------------------------------- scoring
    def score(
        self,
        completions: Sequence[Any],
        prompts: Sequence[Any] | None = None,
        completion_ids: Sequence[Any] | None = None,
        explain: bool = False,
        at_step: int = 0,
        **columns: Sequence[Any],
    ) -> Scores:
        """Score a batch: every rule and the total, weighted as at training step `at_step` (for tools and tests)."""
        batch = Batch(completions, prompts, completion_ids, columns)
        rule_scores = self._score_rules(batch)
        explanations = None
        if explain:
            # Each row is explained on a batch of that row alone: a rule's `explain` may score
            # (or compare) its whole batch to read one row, which over the full batch would
            # cost rows x batch size.
            rows = [batch.row(i) for i in range(batch.size)]
            explanations = {
                name: [_explained(scorer, batch, row, i) for i, row in enumerate(rows)]
                for name, scorer in self.scorers.items()
                if not kind_of(scorer.rule.kind).group
            }
            explanations |= self._group_explanations(batch)
            explanations = {name: explanations[name] for name in self.spec.rule_names}
        return Scores(
            rule_scores, self.total(rule_scores, batch.size, at_step), explanations, dict(batch.metrics),
            self.logged_weights(at_step),
        )

    def _group_explanations(self, batch: Batch) -> dict[str, list[str]]:
        """Group rules compare a row with the other rows of its prompt: each is explained on the batch it
        was scored on (the rows where it applies), not on a batch of one row."""
        found: dict[str, list[str]] = {}
        for name, scorer in self.scorers.items():
            if not kind_of(scorer.rule.kind).group:
                continue
            condition = scorer.rule.when
            if condition is None:
                found[name] = [_safe_explain(scorer, batch, i) for i in range(batch.size)]
                continue
            indices = applicable_rows(condition, batch)
            texts = [not_applicable_reason(condition, batch, i) for i in range(batch.size)]
            part = batch.subset(indices)
            for position, index in enumerate(indices):
                texts[index] = _safe_explain(scorer, part, position)
            found[name] = texts
        return found

    def scores_for_call(self, kwargs: dict[str, Any]) -> dict[str, list[float | None]]:
        """Rule scores for one TRL call; the calls of one step (same objects) share one pass."""
        if self._single:  # nothing to share: no inputs kept, no comparison (the per-call cost of a trivial rule)
            batch = Batch.of_call(kwargs)
            scores = self._score_rules(batch)
            self._log(kwargs, batch)
            return scores
        inputs = {k: v for k, v in kwargs.items() if k not in _CALL_KEYWORDS}
        if self._last is not None and _same_objects(self._last[0], inputs):
            return self._last[1]
        columns: dict[str, Sequence[Any]] = {
            k: v for k, v in inputs.items() if k not in TRL_KEYWORDS and isinstance(v, (list, tuple))
        }
        batch = Batch(inputs.get("completions") or [], inputs.get("prompts"), inputs.get("completion_ids"), columns)
        scores = self._score_rules(batch)
        self._last = (inputs, scores)
        self._log(kwargs, batch)
        return scores

    def _log(self, kwargs: dict[str, Any], batch: Batch) -> None:
        """What the rules counted and the schedules' values, through TRL's `log_metric` (if it passed one)."""
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and (batch.metrics or self._logged):  # TRL averages each over its logging window
            step = step_of(kwargs.get("trainer_state"))
            logged = {**batch.metrics, **{name: schedule.value_at(step) for name, schedule in self._logged.items()}}
            for name, value in logged.items():
                log_metric(name, value)

    def _score_rules(self, batch: Batch) -> dict[str, list[float | None]]:
        # `self.scorers` is in scoring order: a rule that reads another rule's scores comes after it.
        scores, ranges, in_range = batch.rule_scores, self._ranges, self._in_range
        for name, scorer in self.scorers.items():
            scores[name] = self._score_rule(scorer, batch, ranges[name], in_range[name])
        return {name: scores[name] for name in self._names}

    def _score_rule(
        self, scorer: RuleScorer, batch: Batch, limits: tuple[float, float], in_range: bool = False
    ) -> list[float | None]:
        condition = scorer.rule.when
        if condition is None:
            return _guarded(scorer, batch, limits, in_range)
        # A per-task rule scores only the rows where it applies (a judge costs nothing elsewhere).
        indices = applicable_rows(condition, batch)
        if len(indices) == batch.size:
            return _guarded(scorer, batch, limits, in_range)
        scores: list[float | None] = [None] * batch.size
        if indices:
            part = batch.subset(indices)
            for index, value in zip(indices, _guarded(scorer, part, limits, in_range), strict=True):
                scores[index] = value
            for name, value in part.metrics.items():  # what the rule counted counts for the whole call
                batch.record_metric(name, value)
        return scores

    def total(self, rule_scores: dict[str, list[float | None]], size: int, step: int = 0) -> list[float]:
        """The combined reward of each completion at training step `step`, as TRL would sum it or the formula says."""
        weights = self.weights_at(step)
        schedules = self.schedules_at(step)  # a formula reads a schedule's name as its weight
        totals = []
        for i in range(size):
            row = {name: scores[i] for name, scores in rule_scores.items()}
            totals.append(self._combine({**row, **schedules}, weights))
        return totals

    def weights_at(self, step: int) -> dict[str, float]:
        """Each rule's weight at training step `step`."""
        return {rule.name: weight_at(rule.weight, step) for rule in self.spec.rules}

    def schedules_at(self, step: int) -> dict[str, float]:
        """Each named schedule's weight at training step `step`."""
        return {named.name: named.schedule.value_at(step) for named in self.spec.schedules}

    @property
    def logged_schedules(self) -> dict[str, Schedule]:
        """The schedules a TRL call logs, by metric name: `weight/<rule>` for each scheduled rule weight
        that counts (a formula ignores weights: RL203), `schedule/<name>` for each named schedule."""
        logged: dict[str, Schedule] = {}
        if self.spec.total is None:
            rules = self.spec.rules
            logged = {f"weight/{rule.name}": rule.weight for rule in rules if isinstance(rule.weight, Schedule)}
        return logged | {f"schedule/{named.name}": named.schedule for named in self.spec.schedules}

    def logged_weights(self, step: int) -> dict[str, float]:
        """The value of each of `logged_schedules` at training step `step`: what a call logs, `rewardc score` shows."""
        return {name: schedule.value_at(step) for name, schedule in self.logged_schedules.items()}

    def _combine(self, row: dict[str, float | None], weights: dict[str, float]) -> float:
        spec = self.spec
        if spec.total is not None:
            value = evaluate(spec.total, row)
        else:
            value = sum(weights[rule.name] * (row[rule.name] or 0.0) for rule in spec.rules)
        for gate in spec.gates:
            score = row.get(gate.rule)
            if score is not None and _holds(score, gate.comparison, gate.threshold):
                value = gate.value
                break
        low, high = -math.inf, math.inf
        if spec.clip is not None:
            low = low if spec.clip.low is None else spec.clip.low
            high = high if spec.clip.high is None else spec.clip.high
        if math.isnan(value):
            value = 0.0
        value = min(max(value, low), high)
        # An infinity that no clip bound caught (NaN became 0 above) is 0 too, inside the clip range.
        return value if math.isfinite(value) else min(max(0.0, low), high)

    # ------------------------------------------------------------ pickling
    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_last"] = None  # a cached batch is not worth shipping to another process
        return state


# What TRL passes besides the batch: not compared between the calls of a step.
_CALL_KEYWORDS = frozenset({"trainer_state", "log_extra", "log_metric"})


def _same_objects(old: dict[str, Any], new: dict[str, Any]) -> bool:
    # Identity, not equality: TRL passes the very same lists to every reward
    # function of a step, and holding them in `_last` keeps their ids unique.
    return old.keys() == new.keys() and all(old[key] is new[key] for key in old)


class RewardFunction:
    """One TRL reward function: a rule's scores, or the spec's total. Picklable (no closures)."""

    def __init__(self, compiled: CompiledSpec, rule_name: str | None):
        self.compiled = compiled
        self.rule_name = rule_name
        self.__name__ = f"{compiled.spec.name}/{rule_name or 'total'}"

    def __call__(self, **kwargs: Any) -> list[float | None]:
        scores = self.compiled.scores_for_call(kwargs)
        if self.rule_name is not None:
            # A spec of one function keeps nothing of the call: its list is handed over as it is.
            return scores[self.rule_name] if self.compiled._single else list(scores[self.rule_name])
        size = len(kwargs.get("completions") or [])
        return list(self.compiled.total(scores, size, step_of(kwargs.get("trainer_state"))))

    def __repr__(self) -> str:
        return f"<reward function {self.__name__}>"


# --------------------------------------------------------------- formulas
def evaluate(expr: ast.Expr, row: dict[str, float | None]) -> float:
    """A formula's value; a rule that does not apply (None) counts as 0, x / 0 is 0.

    Overflow follows IEEE arithmetic (1e308 * 10 is inf, inf - inf is NaN); a NaN
    argument makes `min`, `max` and `clip` NaN too (Python's `min` would depend on
    the argument order), so NaN reaches `_combine`, which defines the total.
    """
    if isinstance(expr, ast.Num):
        return expr.value
    if isinstance(expr, ast.Ref):
        return row.get(expr.rule) or 0.0
    if isinstance(expr, ast.Unary):
        return -evaluate(expr.operand, row)
    if isinstance(expr, ast.Binary):
        left, right = evaluate(expr.left, row), evaluate(expr.right, row)
        if expr.op == "add":
            return left + right
        if expr.op == "sub":
            return left - right
        if expr.op == "mul":
            return left * right
        return left / right if right != 0 else 0.0
    args = [evaluate(arg, row) for arg in expr.args]
    if any(math.isnan(arg) for arg in args):
        return math.nan
    if expr.function == "min":
        return min(args)
    if expr.function == "max":
        return max(args)
    if expr.function == "abs":
        return abs(args[0])
    value, low, high = args
    return min(max(value, low), high)


def _holds(score: float, comparison: str, threshold: float) -> bool:
    return {
        "<": score < threshold,
        "<=": score <= threshold,
        ">": score > threshold,
        ">=": score >= threshold,
    }[comparison]


# -------------------------------------------------------------- guarantees
def _guarded(
    scorer: RuleScorer, batch: Batch, limits: tuple[float, float], in_range: bool = False
) -> list[float | None]:
    """A rule's scores, whatever happens: in `limits` (the rule's range), finite or None, one per completion.

    `in_range`: the scorer's scores are in range by construction (`RuleScorer.in_range`): its
    list is returned as it is, without a check per score."""
    try:
        raw = scorer.score(batch)  # a list (the clamp below builds the list returned)
        if len(raw) != batch.size:
            raise ValueError(f"rule returned {len(raw)} scores for {batch.size} completions")
        if in_range and type(raw) is list:
            return raw
    except ModelLoadError:
        # A model that cannot be loaded is a setup mistake, not a bad completion:
        # fail loudly instead of training on a rule that silently never applies.
        raise
    except Exception:  # a bad completion must never crash a training step
        # The traceback once per rule and process; later failures stay quiet.
        first = scorer.rule.name not in _FAILED_RULES
        _FAILED_RULES.add(scorer.rule.name)
        logger.warning(
            "rewardlang: rule `%s` failed on a batch; scoring it completion by completion",
            scorer.rule.name,
            exc_info=first,
        )
        raw = [_score_one(scorer, batch, i) for i in range(batch.size)]
    low, high = limits
    # Most scores are already in-range floats: check those cheaply, repair the rest.
    return [value if type(value) is float and low <= value <= high else _clamped(value, low, high) for value in raw]


_FAILED_RULES: set[str] = set()


def _score_one(scorer: RuleScorer, batch: Batch, index: int) -> float | None:
    single = batch.row(index)
    try:
        return scorer.score(single)[0]
    except ModelLoadError:
        raise
    except Exception:  # noqa: BLE001 - a completion the rule cannot score is not applicable, never a crash
        logger.warning("rewardlang: rule `%s` could not score completion %d; it counts as not applicable",
                       scorer.rule.name, index)
        return None
    finally:  # what the rule counted on this row counts for the batch
        for name, value in single.metrics.items():
            batch.record_metric(name, value)


def _clamped(value: Any, low: float, high: float) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number):
        return None
    return min(max(number, low), high)


def _explained(scorer: RuleScorer, batch: Batch, row: Batch, index: int) -> str:
    """The explanation of row `index` (`row`: a batch of it alone); a per-task rule says why it does not apply."""
    condition = scorer.rule.when
    if condition is not None and not applicable_rows(condition, row):
        return not_applicable_reason(condition, batch, index)
    return _safe_explain(scorer, row, 0)


def _safe_explain(scorer: RuleScorer, batch: Batch, index: int) -> str:
    try:
        return scorer.explain(batch, index)
    except Exception:  # noqa: BLE001 - an explanation is a courtesy: none rather than a failed score
        return ""


# ------------------------------------------------------------------- API
def loads(text: str, filename: str = "<spec>", base: str | os.PathLike[str] | None = None) -> CompiledSpec:
    """Compile spec text. Raises `SpecError` with the same diagnostics as `rewardc check`.

    Relative paths in the spec resolve from `base` (None: the working directory).
    """
    analysis = analyze(text, base)
    if analysis.spec is None:
        raise SpecError(analysis.diagnostics, text, filename)
    return CompiledSpec(analysis.spec)


def load(path: str | Path) -> CompiledSpec:
    """Compile a spec file. Raises `SourceError` if unreadable, `SpecError` if invalid."""
    return loads(read_source(path), filename=str(path), base=spec_base(path))
