"""How often does the training watch's saturation warning fire on noise, and how often on a real fall?

    .venv/bin/python experiments/watch_false_alarms.py [--runs 200] [--steps 60] [--noise 0.15]

Synthetic, seeded log histories of three 0..1 rules, shaped like TRL's (`rewards/s/<rule>/mean`):

- noise: `a` climbs to its best (1) by step 5 and stays; `b` and `c` hold a steady level, each
  step's mean drawn around it with `--noise` standard deviation (the mean of a small batch:
  0.15 for a handful of completions, 0.1 for a few dozen). A warning here is a false alarm.
- fall: `a` climbs to 1 by step 10; meanwhile `b` falls by 0.3 (0.6 -> 0.3, then stays), with the
  same noise. A warning here is a detection.

Printed: for several settings of the two fall thresholds (`FALL_FRACTION`, the smallest fall in a
fraction of the rule's range, and `FALL_T`, the fall in standard errors), the fraction of runs
that warned, and the median step of the first warning in the fall runs. trainer/watch.py uses
the row marked `*`.
"""

from __future__ import annotations

import argparse
import random
import statistics

from rewardlang_trainer import watch

RULES = [watch.WatchedRule(name, f"s/{name}", 0.0, 1.0) for name in ("a", "b", "c")]
SETTINGS = [(0.1, 2.0), (0.15, 2.0), (0.15, 2.5), (0.15, 3.0), (0.2, 3.0), (0.15, 4.0)]


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def first_saturation_step(seed: int, steps: int, noise: float, falls: bool) -> int | None:
    rng = random.Random(seed)
    watched = watch.TrainingWatch(RULES, max_completion_length=None)
    for step in range(1, steps + 1):
        if falls:
            a = min(1.0, 0.4 + 0.06 * step)
            b = 0.6 - 0.03 * min(step, 10)
        else:
            a, b = min(1.0, 0.4 + 0.12 * step), 0.4
        entry = {
            "step": step,
            "reward": 1.0,
            "rewards/s/a/mean": a,
            "rewards/s/a/std": 0.1,
            "rewards/s/b/mean": _clamp(b + rng.gauss(0, noise)),
            "rewards/s/b/std": 0.2,
            "rewards/s/c/mean": _clamp(0.5 + rng.gauss(0, noise)),
            "rewards/s/c/std": 0.2,
        }
        if any(w.condition == "saturation" for w in watched.observe(entry)):
            return step
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--noise", type=float, default=0.15)
    args = parser.parse_args()
    chosen = (watch.FALL_FRACTION, watch.FALL_T)
    print(f"{args.runs} seeded runs of {args.steps} logged steps, noise {args.noise}")
    print("| FALL_FRACTION | FALL_T | false alarms (noise) | detected (fall of 0.3) | median first step |")
    print("|---|---|---|---|---|")
    for fraction, t in SETTINGS:
        watch.FALL_FRACTION, watch.FALL_T = fraction, t  # the module's thresholds, set per row
        alarms = [first_saturation_step(seed, args.steps, args.noise, falls=False) for seed in range(args.runs)]
        found = [first_saturation_step(seed, args.steps, args.noise, falls=True) for seed in range(args.runs)]
        hits = [s for s in found if s is not None]
        median = f"{statistics.median(hits):g}" if hits else "-"
        mark = " *" if (fraction, t) == chosen else ""
        false_rate = sum(s is not None for s in alarms) / args.runs
        print(f"| {fraction}{mark} | {t} | {false_rate:.1%} | {len(hits) / args.runs:.1%} | {median} |")
    watch.FALL_FRACTION, watch.FALL_T = chosen


if __name__ == "__main__":
    main()
