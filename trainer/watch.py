"""The training watch: warnings, from the statistics TRL logs each step, that a run is going wrong.

    watch = TrainingWatch.for_spec(compiled, max_completion_length=256)
    for entry in trainer.state.log_history:   # or live: trainer.add_callback(watch_callback(watch))
        for warning in watch.observe(entry):
            print(f"grpo-train: warning: {warning}")

Each entry is one dict of TRL's `log_history` (`step`, `rewards/<spec>/<rule>/mean` and `/std`,
`frac_reward_zero_std`, `completions/mean_length`, `completions/clipped_ratio`, ...). Four
conditions, each reported once (per rule where it names one), at the step it is first seen:

- `saturation`: a rule rises to its best score and stays there while other rules get worse
  (the classic sign of reward hacking);
- `length_ceiling` / `length_collapse`: completion length drifts to `max_completion_length`
  (or most completions are cut off), or collapses towards empty answers;
- `zero_variance`: most groups score all their completions the same (no learning signal);
- `constant_rule`: a rule scores every completion the same, step after step, below its best.

Every condition needs several logged steps in a row, so the noise of small batches does not
fire it. Pure logic over plain dicts: importing this module loads neither torch nor transformers
(`watch_callback` imports transformers when called).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from rewardlang.registry import score_range
from rewardlang.schedules import largest_weight, never_weighted

if TYPE_CHECKING:
    from transformers import TrainerCallback

    from rewardlang.compiler import CompiledSpec

__all__ = ["Condition", "TrainingWatch", "WatchWarning", "WatchedRule", "watch_callback"]

T = TypeVar("T")
Condition = Literal["saturation", "length_ceiling", "length_collapse", "zero_variance", "constant_rule"]

#: A rule "saturates" within this fraction of its score range from its best score (0.95 of a 0..1 rule).
SATURATION_MARGIN = 0.05
#: ... on this many logged steps in a row: one lucky batch is not a trend.
SATURATED_STEPS = 5
#: The other rules' level before the climb: their mean over this many logged steps ...
BASELINE_STEPS = 5
#: ... from this many logged steps before the plateau (or from the first step): where a climb
#: began, not its end, when the others fall while the rule climbs.
LOOKBACK_STEPS = 20
#: Another rule "falls" when its mean on the plateau is below its mean before by at least this
#: fraction of its score range ...
FALL_FRACTION = 0.15
#: ... and by this many standard errors of that difference: a small batch's mean wanders by 0.1-0.15
#: of a 0..1 range from step to step, and the watch looks again at every step. Over 200 seeded
#: 60-step runs of such noise this fires on 2-2.5% of the runs with no fall, and finds 63-95% of
#: falls of 0.3 (2 standard errors: 4-14% false alarms; experiments/watch_false_alarms.py).
FALL_T = 3.0

#: Length conditions need this many logged steps in a row (a batch of 4 is cut off at 50% by chance).
LENGTH_STEPS = 5
#: "At the ceiling": mean length at least this fraction of `max_completion_length` ...
CEILING_FRACTION = 0.9
#: ... or at least this fraction of the completions cut off there (TRL's `completions/clipped_ratio`).
CLIPPED_RATIO = 0.5
#: "Collapsed": mean length at most this fraction of the first logged step's.
COLLAPSE_FRACTION = 0.25

#: "Most groups": more than this fraction of groups with zero reward variance ...
ZERO_STD_FRACTION = 0.5
#: ... on this many logged steps in a row.
ZERO_STD_STEPS = 5

#: A rule "never varies" when its std is below this (float rounding of identical scores) ...
CONSTANT_STD = 1e-6
#: ... on every one of its first this many logged steps (and stays so).
CONSTANT_STEPS = 5


@dataclass(frozen=True)
class WatchWarning:
    """One warning: which condition, the logged step it was first seen at, the rule it names (if any)."""

    condition: Condition
    step: int
    rule: str | None
    message: str

    def __str__(self) -> str:
        return f"step {self.step}: {self.message}"


@dataclass(frozen=True)
class WatchedRule:
    """A rule as the watch needs it: its name, its log key, its score range and which end pays."""

    name: str  # the rule's name in the spec, e.g. "length"
    key: str  # its reward function's name in TRL's logs, e.g. "chat/length"
    low: float
    high: float
    paid: bool = True  # False for a weight-0 rule in a weighted sum: logged, never paid
    best_is_high: bool = True  # False for a negative weight: a penalty, paid at its low end

    @property
    def best(self) -> float:
        return self.high if self.best_is_high else self.low

    @property
    def span(self) -> float:
        return self.high - self.low

    def at_best(self, value: float) -> bool:
        return abs(value - self.best) <= SATURATION_MARGIN * self.span


@dataclass
class TrainingWatch:
    """Fed one TRL log entry at a time; returns the warnings that entry raised for the first time."""

    rules: Sequence[WatchedRule]
    max_completion_length: int | None = None
    warnings: list[WatchWarning] = field(default_factory=list)  # every warning so far, in order
    _entries: list[Mapping[str, Any]] = field(default_factory=list)  # the training steps' entries
    _series: dict[str, _Series] = field(default_factory=dict)  # a logged key -> its value at each entry
    _plateaus: dict[str, int] = field(default_factory=dict)  # a rule -> its logged steps at its best until now
    _varied: set[str] = field(default_factory=set)  # the rules whose std was above 0 at some step
    _fired: set[tuple[Condition, str | None]] = field(default_factory=set)

    @classmethod
    def for_spec(cls, compiled: CompiledSpec, max_completion_length: int | None) -> TrainingWatch:
        """The watch of a compiled spec: every rule under its TRL name, with its kind's score range."""
        spec = compiled.spec
        rules = []
        for function in compiled.reward_funcs:
            if function.rule_name is None:  # the combined total: no score range of its own
                continue
            rule = spec.rule(function.rule_name)
            low, high = score_range(rule)
            formula = spec.total is not None  # a formula ignores weights (RL203); higher is better
            rules.append(
                WatchedRule(
                    name=rule.name,
                    key=function.__name__,
                    low=low,
                    high=high,
                    paid=formula or not never_weighted(rule.weight),
                    best_is_high=formula or largest_weight(rule.weight) >= 0,
                )
            )
        return cls(rules, max_completion_length)

    # ------------------------------------------------------------------------------- feeding
    def observe(self, entry: Mapping[str, Any]) -> list[WatchWarning]:
        """Take one log entry; the warnings it raised (each condition fires once per run and rule)."""
        if not self._is_training_step(entry):
            return []  # the end-of-training summary, an eval entry, ...
        self._entries.append(entry)
        step = int(entry.get("step", len(self._entries)))
        found: list[WatchWarning] = []
        for rule in self.rules:
            found += self._saturation(rule, step)
        found += self._length_ceiling(step)
        found += self._length_collapse(step)
        found += self._zero_variance(step)
        for rule in self.rules:
            found += self._constant(rule, step)
        new = [w for w in found if (w.condition, w.rule) not in self._fired]
        for warning in new:
            self._fired.add((warning.condition, warning.rule))
        self.warnings += new
        return new

    @property
    def steps_seen(self) -> list[int]:
        """The logged training steps observed so far."""
        return [int(entry.get("step", i + 1)) for i, entry in enumerate(self._entries)]

    def _is_training_step(self, entry: Mapping[str, Any]) -> bool:
        return "reward" in entry or any(f"rewards/{rule.key}/mean" in entry for rule in self.rules)

    def _values(self, key: str) -> list[float | None]:
        """`key` in each observed entry, None where missing or not a finite number (kept, not to copy)."""
        return self._summed(key).values

    def _summed(self, key: str) -> _Series:
        series = self._series.setdefault(key, _Series())
        for entry in self._entries[len(series.values) :]:
            series.append(_number(entry.get(key)))
        return series

    def _fired_already(self, condition: Condition, rule: str | None = None) -> bool:
        return (condition, rule) in self._fired

    # ---------------------------------------------------------------------------- conditions
    def _saturation(self, rule: WatchedRule, step: int) -> list[WatchWarning]:
        if not rule.paid or not _usable_range(rule) or self._fired_already("saturation", rule.name):
            return []
        means = self._values(f"rewards/{rule.key}/mean")
        latest = means[-1]
        at_best = latest is not None and rule.at_best(latest)
        plateau = self._plateaus[rule.name] = self._plateaus.get(rule.name, 0) + 1 if at_best else 0
        climbed = len(means) - plateau  # the index of the plateau's first step
        if plateau < SATURATED_STEPS or climbed == 0:
            return []  # not saturated yet, or at its best from the first step: nothing was climbed
        start = max(0, climbed - LOOKBACK_STEPS)
        baseline = range(start, min(climbed, start + BASELINE_STEPS))
        falling = []
        for other in self.rules:
            if other is rule or not _usable_range(other):
                continue
            levels = self._fall(other, baseline, climbed)
            if levels is not None:
                penalty = "" if other.best_is_high else ", a penalty"
                falling.append(f"`{other.name}` ({levels[0]:.2f} -> {levels[1]:.2f}{penalty})")
        if not falling:
            return []
        steps = self.steps_seen
        verb = "falls" if len(falling) == 1 else "fall"
        message = (
            f"rule `{rule.name}` saturates at {means[-1]:.2f} (its best score is {rule.best:g}) from step "
            f"{steps[climbed]} while {_join(falling)} {verb} (means over steps {steps[baseline[0]]}-"
            f"{steps[baseline[-1]]} -> from step {steps[climbed]}): the policy may be gaming `{rule.name}`; "
            "run `rewardc probe` on the spec and tighten the rule"
        )
        return [WatchWarning("saturation", step, rule.name, message)]

    def _fall(self, rule: WatchedRule, baseline: range, plateau: int) -> tuple[float, float] | None:
        """`rule`'s mean (over `baseline`, from `plateau` on) when it is worse on the plateau beyond noise.

        The noise is the standard error of the difference of the two means, from their pooled
        variance (a two-sample t statistic): one step before the plateau is enough to compare with.
        None when the rule did not get worse.
        """
        series = self._summed(f"rewards/{rule.key}/mean")
        n_before, before, squares_before = series.summary(baseline.start, baseline.stop)
        n_now, now, squares_now = series.summary(plateau, len(series.values))
        if n_before == 0 or n_before + n_now < 3:
            return None
        lost = before - now if rule.best_is_high else now - before  # a penalty gets worse as it rises
        pooled = (squares_before + squares_now) / (n_before + n_now - 2)
        noise = math.sqrt(pooled * (1 / n_before + 1 / n_now))
        if lost < FALL_FRACTION * rule.span or lost < FALL_T * noise:
            return None
        return before, now

    def _length_ceiling(self, step: int) -> list[WatchWarning]:
        if self._fired_already("length_ceiling"):
            return []
        lengths = self._values("completions/mean_length")
        clipped = self._values("completions/clipped_ratio")
        limit = self.max_completion_length

        def at_ceiling(length: float | None, ratio: float | None) -> bool:
            long = limit is not None and length is not None and length >= CEILING_FRACTION * limit
            return long or (ratio is not None and ratio >= CLIPPED_RATIO)

        if at_ceiling(lengths[0], clipped[0]):
            return []  # there from the first step: a setting, not a drift
        if _trailing(range(len(lengths)), lambda i: at_ceiling(lengths[i], clipped[i])) < LENGTH_STEPS:
            return []
        bound = "max_completion_length" + (f" ({limit})" if limit is not None else "")
        message = (
            f"completions drift to {bound}: mean length {_tokens(lengths[-1])}, {_percent(clipped[-1])} cut "
            f"off, for {LENGTH_STEPS} logged steps (mean length {_tokens(lengths[0])} at step "
            f"{self.steps_seen[0]}); the rewards see truncated answers: raise max_completion_length, or pay "
            "for brevity (a `length` or `overlong` rule)"
        )
        return [WatchWarning("length_ceiling", step, None, message)]

    def _length_collapse(self, step: int) -> list[WatchWarning]:
        if self._fired_already("length_collapse"):
            return []
        lengths = self._values("completions/mean_length")
        start = lengths[0]
        if start is None or start <= 0:
            return []
        if _trailing(lengths, lambda v: v is not None and v <= COLLAPSE_FRACTION * start) < LENGTH_STEPS:
            return []
        message = (
            f"completions collapse to a mean length of {_tokens(lengths[-1])} for {LENGTH_STEPS} logged "
            f"steps (from {_tokens(start)} at step {self.steps_seen[0]}); a rule may pay short or empty "
            "answers: run `rewardc probe` on the spec (its empty and format-only probes)"
        )
        return [WatchWarning("length_collapse", step, None, message)]

    def _zero_variance(self, step: int) -> list[WatchWarning]:
        if self._fired_already("zero_variance"):
            return []
        fractions = self._values("frac_reward_zero_std")
        if _trailing(fractions, lambda v: v is not None and v > ZERO_STD_FRACTION) < ZERO_STD_STEPS:
            return []
        message = (
            f"{_percent(fractions[-1])} of the groups score all their completions the same (zero reward "
            f"variance) for {ZERO_STD_STEPS} logged steps: GRPO learns nothing from those groups; make "
            "the rules graded (a `ramp`, a partial score) or the prompts easier, or raise num_generations"
        )
        return [WatchWarning("zero_variance", step, None, message)]

    def _constant(self, rule: WatchedRule, step: int) -> list[WatchWarning]:
        if not rule.paid or self._fired_already("constant_rule", rule.name):
            return []  # (a weight-0 rule is only logged: GRPO is not meant to learn from it)
        if rule.name in self._varied:
            return []
        stds = self._values(f"rewards/{rule.key}/std")
        if stds[-1] is not None and stds[-1] >= CONSTANT_STD:
            self._varied.add(rule.name)
            return []
        scored = len(stds) - stds.count(None)  # the steps at which the rule applied
        mean = next((v for v in reversed(self._values(f"rewards/{rule.key}/mean")) if v is not None), None)
        if scored < CONSTANT_STEPS or mean is None or rule.at_best(mean):
            return []  # full marks for every completion: a constraint that holds (no banned word said)
        message = (
            f"rule `{rule.name}` gave all completions one score on each of {scored} logged steps (std 0; "
            f"now {mean:.2f}, its best score is {rule.best:g}): GRPO cannot learn from a rule that never "
            "varies; check that completions can reach it (`rewardc score --explain` on a few) or grade it"
        )
        return [WatchWarning("constant_rule", step, rule.name, message)]


# ------------------------------------------------------------------------------------- helpers
@dataclass
class _Series:
    """One logged key's value at each entry, with running sums: any span's mean and spread in O(1)."""

    values: list[float | None] = field(default_factory=list)
    _counts: list[int] = field(default_factory=lambda: [0])  # [i]: how many of values[:i] are numbers
    _sums: list[float] = field(default_factory=lambda: [0.0])
    _squares: list[float] = field(default_factory=lambda: [0.0])

    def append(self, value: float | None) -> None:
        self.values.append(value)
        self._counts.append(self._counts[-1] + (value is not None))
        self._sums.append(self._sums[-1] + (value or 0.0))
        self._squares.append(self._squares[-1] + (value or 0.0) ** 2)

    def summary(self, start: int, stop: int) -> tuple[int, float, float]:
        """(how many numbers, their mean, the sum of their squared deviations) over values[start:stop]."""
        count = self._counts[stop] - self._counts[start]
        if count == 0:
            return 0, 0.0, 0.0
        total = self._sums[stop] - self._sums[start]
        mean = total / count
        squares = self._squares[stop] - self._squares[start] - total * mean
        return count, mean, max(squares, 0.0)  # rounding can take an exact 0 a hair below it


def _number(value: Any) -> float | None:
    """A finite float, or None (TRL logs None for a metric with no valid value in the window)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _trailing(values: Sequence[T], holds: Callable[[T], bool]) -> int:
    """How many of the last `values` hold in a row (the logged steps a condition has held until now)."""
    count = 0
    for value in reversed(values):
        if not holds(value):
            break
        count += 1
    return count


def _usable_range(rule: WatchedRule) -> bool:
    return math.isfinite(rule.low) and math.isfinite(rule.high) and rule.span > 0


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _tokens(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} tokens"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


# ------------------------------------------------------------------------------------ callback
def watch_callback(watch: TrainingWatch) -> TrainerCallback:
    """A `TrainerCallback` that feeds `watch` every log entry and prints each new warning once.

    Printed on the main process only, to stderr: `grpo-train: warning: step 12: ...`. A resumed run's
    earlier entries (restored with the checkpoint) are observed silently at the start, so a
    condition seen before the interruption is neither lost nor printed twice.
    """
    from transformers import TrainerCallback

    class WatchCallback(TrainerCallback):
        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            for entry in state.log_history:
                watch.observe(entry)
            return control

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kwargs: Any) -> Any:
            # The entry as Trainer.log appends it to log_history (the `logs` it hands over lack `step`).
            for warning in watch.observe({**(logs or {}), "step": state.global_step}):
                if state.is_world_process_zero:
                    print(f"grpo-train: warning: {warning}", file=sys.stderr, flush=True)
            return control

    return WatchCallback()
