"""Weight schedules: a weight that follows the training step (docs/language.md §12.2).

Every written form lowers to one model, a list of (step, weight) points:

    0 -> 1 over 100       points (0, 0), (100, 1)        linear between them
    0 -> 1 over 50..150   points (50, 0), (150, 1)       linear between them
    1 -> 0 at 200         points (0, 1), (200, 0)        a switch: each weight holds until the next point
    points 0: 0, 100: 1   the points as written          linear between them

Outside its points a schedule is flat: the first weight before the first point,
the last weight after the last one. The form is kept, so that explanations and
the end-of-run table show the schedule as written.

The step is TRL's `trainer_state.global_step` when the reward is computed: the
number of optimizer steps completed before the batch was generated (`step_of`).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.nodes import Node, Weight

Step = Annotated[int, Field(ge=0, le=1_000_000_000)]
Form = Literal["linear", "switch", "points"]


class SchedulePoint(Node):
    step: Step
    weight: Weight


class Schedule(Node):
    """A weight that follows the training step; `value_at(step)` is its weight at that step."""

    form: Form
    points: Annotated[tuple[SchedulePoint, ...], Field(min_length=1)]

    @field_validator("points")
    @classmethod
    def _steps_increase(cls, points: tuple[SchedulePoint, ...]) -> tuple[SchedulePoint, ...]:
        for index in range(1, len(points)):
            if points[index].step <= points[index - 1].step:
                raise PydanticCustomError(
                    "schedule_order",
                    "step {step} is not after step {previous}",
                    {"index": index, "step": points[index].step, "previous": points[index - 1].step},
                )
        return points

    def value_at(self, step: int) -> float:
        """The weight at training step `step` (flat outside the points)."""
        points = self.points
        if step <= points[0].step:
            return float(points[0].weight)
        for before, after in itertools.pairwise(points):
            if step < after.step:
                if self.form == "switch":
                    return float(before.weight)
                fraction = (step - before.step) / (after.step - before.step)
                return float(before.weight + fraction * (after.weight - before.weight))
        return float(points[-1].weight)

    @property
    def last_step(self) -> int:
        """The step from which the weight no longer changes."""
        return self.points[-1].step

    @property
    def is_zero(self) -> bool:
        """Whether the weight is 0 at every step."""
        return all(point.weight == 0 for point in self.points)

    def describe(self) -> str:
        """As written in a spec: `0 -> 1 over 100`, `0 -> 1 over 50..150`, `1 -> 0 at 200`, `points 0: 0, 100: 1`."""
        if self.form == "points":
            return "points " + ", ".join(f"{_number(p.step)}: {_number(p.weight)}" for p in self.points)
        first, last = self.points
        change = f"{_number(first.weight)} -> {_number(last.weight)}"
        if self.form == "switch":
            return f"{change} at {_number(last.step)}"
        steps = _number(last.step) if first.step == 0 else f"{_number(first.step)}..{_number(last.step)}"
        return f"{change} over {steps}"


class NamedSchedule(Node):
    """`schedule NAME: ...`: a weight a formula multiplies a term by (`total = a + NAME * b`)."""

    name: str
    schedule: Schedule


def weight_at(weight: float | Schedule, step: int) -> float:
    """A rule's weight at `step`: a plain weight, or its schedule's value there."""
    return weight.value_at(step) if isinstance(weight, Schedule) else float(weight)


def never_weighted(weight: float | Schedule) -> bool:
    """Whether the weight is 0 at every step (RL117, RL207)."""
    return weight.is_zero if isinstance(weight, Schedule) else weight == 0


def largest_weight(weight: float | Schedule) -> float:
    """The largest weight a rule has at any step: below 0, the rule is a penalty throughout."""
    return max(point.weight for point in weight.points) if isinstance(weight, Schedule) else float(weight)


def step_of(trainer_state: Any) -> int:
    """The training step of a reward call: TRL's `trainer_state.global_step`, or 0 without one."""
    step = getattr(trainer_state, "global_step", 0)
    return step if isinstance(step, int) and step >= 0 else 0


def unfinished_schedules(schedules: Mapping[str, Schedule], max_steps: int) -> list[Diagnostic]:
    """RL222 for each schedule (by its logged name) still changing after the run's `max_steps` steps."""
    return [
        codes.RL222(
            schedule.span, what=f"`{name}`", last=schedule.last_step, max_steps=max_steps,
            label=f"reaches {_number(schedule.points[-1].weight)} at step {schedule.last_step}",
            help=f"the run ends at {_number(schedule.value_at(max_steps))}: shorten the schedule or train longer",
        )
        for name, schedule in schedules.items()
        if max_steps > 0 and schedule.last_step > max_steps
    ]


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(float(value))
