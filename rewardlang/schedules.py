"""Weight schedules: a weight that follows the training step (docs/language.md §12.2).

Every written form lowers to one model (`Schedule`, in `rewardlang.nodes` with the other
value types, since a rule's weight may be one), a list of (step, weight) points:

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

from collections.abc import Mapping
from typing import Any

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic
from rewardlang.nodes import Node, Schedule, SchedulePoint, number_text

__all__ = [
    "NamedSchedule", "Schedule", "SchedulePoint", "largest_weight", "never_weighted", "step_of",
    "unfinished_schedules", "weight_at",
]


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
    """RL222 for each schedule (by its logged name) whose last point lies beyond the run's `max_steps`
    (none when `max_steps` is not set: epochs decide the length)."""
    return [
        codes.RL222(
            schedule.span, what=f"`{name}`", last=schedule.last_step, max_steps=max_steps,
            label=f"reaches {number_text(schedule.points[-1].weight)} at step {schedule.last_step}",
            help=f"the run's last step (step {max_steps - 1}) scores with "
            f"{number_text(schedule.value_at(max_steps - 1))}: shorten the schedule or train longer",
        )
        for name, schedule in schedules.items()
        if max_steps > 0 and schedule.last_step > max_steps
    ]
