"""Math answer speed: TRL's `accuracy_reward` vs rewardlang's `math` rule on the same completions.

    .venv/bin/python benchmarks/math_speed.py [--prompts 16] [--group 16] [--repeats 5]

One GRPO step's batch is `prompts x group` completions (16 x 16 = 256, G = 16): each
prompt has a reference solution (integers, fractions, decimals, percentages, sets,
intervals, expressions) and G completions, a third of them right in another form,
a third wrong, a third repeating an earlier completion of the group (small models
repeat themselves). Each repetition times, on a new batch:

- trl:  `trl.rewards.accuracy_reward` in this (main) thread, with its signal timeouts;
- rewardlang: `math column solution { scope full }` through its warm worker process
  (the first call, which starts the worker and imports sympy, is timed apart: cold).

It prints seconds (median and best), the ratio trl / rewardlang, and checks the
two agree on every completion.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from typing import Any

# (reference, right answers in other forms, wrong answers)
PROBLEMS: list[tuple[str, list[str], list[str]]] = [
    ("42", ["42", "42.0", r"\frac{84}{2}"], ["41", "24", r"\frac{1}{42}"]),
    (r"$\frac{1}{2}$", ["0.5", r"\frac{2}{4}", r"50\%"], [r"\frac{1}{3}", "2", "0.05"]),
    ("0.75", [r"\frac{3}{4}", r"75\%", r"\frac{6}{8}"], ["0.57", r"\frac{4}{3}", "7.5"]),
    (r"$\{1, 2, 3\}$", [r"\{3, 2, 1\}", r"\{1, 3, 2\}", r"\{2, 1, 3\}"], [r"\{1, 2\}", r"\{1, 2, 4\}", "6"]),
    (r"$(0, 1]$", ["(0, 1]", r"(0,1]", r"\left(0, 1\right]"], ["[0, 1]", "(0, 1)", "[0, 1)"]),
    (r"$x^2 - 1$", [r"(x-1)(x+1)", r"x^2-1", r"-1 + x^2"], [r"x^2+1", r"(x-1)^2", r"x - 1"]),
    (r"$\sqrt{2}$", [r"2^{1/2}", r"\sqrt{2}", r"\frac{2}{\sqrt{2}}"], [r"\sqrt{3}", "2", r"\frac{1}{2}"]),
    ("12", [r"12\text{ cm}", "12", r"\frac{24}{2}"], ["13", "21", r"12^2"]),
]


def completion(answer: str, rng: random.Random) -> list[dict[str, str]]:
    steps = " ".join(rng.choice(["First,", "Then", "So", "Next,", "Hence"]) + f" step {i}." for i in range(8))
    return [{"role": "assistant", "content": f"{steps} The answer is $\\boxed{{{answer}}}$."}]


def make_batch(prompts: int, group: int, rng: random.Random) -> tuple[list[Any], list[str]]:
    completions: list[Any] = []
    solutions: list[str] = []
    for p in range(prompts):
        reference, right, wrong = PROBLEMS[p % len(PROBLEMS)]
        group_items: list[Any] = []
        for g in range(group):
            kind = g % 3
            if kind == 2 and group_items:
                group_items.append(group_items[rng.randrange(len(group_items))])
            else:
                group_items.append(completion(rng.choice(right if kind == 0 else wrong), rng))
        completions += group_items
        solutions += [reference] * group
    return completions, solutions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--group", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import logging

    from trl.rewards import accuracy_reward

    import rewardlang
    from rewardlang.kinds.math_answer import MathScorer

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    spec = rewardlang.loads("reward m\nrule m: math column solution { scope full }\n")
    function = spec.reward_funcs[0]
    rng = random.Random(0)
    size = args.prompts * args.group

    completions, solutions = make_batch(args.prompts, args.group, rng)
    start = time.perf_counter()
    function(prompts=[None] * size, completions=completions, completion_ids=None, solution=solutions)
    cold = time.perf_counter() - start

    trl_times: list[float] = []
    ours_times: list[float] = []
    for _ in range(args.repeats):
        completions, solutions = make_batch(args.prompts, args.group, rng)
        start = time.perf_counter()
        theirs = accuracy_reward(completions, solutions)
        trl_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        ours = function(prompts=[None] * size, completions=completions, completion_ids=None, solution=solutions)
        ours_times.append(time.perf_counter() - start)
        mismatches = [i for i, (a, b) in enumerate(zip(theirs, ours, strict=True)) if a != b]
        assert not mismatches, f"rows that differ from TRL: {mismatches[:10]}"
    scorer = spec.scorers["m"]
    assert isinstance(scorer, MathScorer)
    scorer.close()

    def line(name: str, times: list[float]) -> str:
        return f"{name:<12} median {statistics.median(times):7.3f} s   best {min(times):7.3f} s"

    print(f"{size} completions ({args.prompts} prompts x {args.group}), {args.repeats} repetitions; scores agree")
    print(line("trl", trl_times))
    print(line("rewardlang", ours_times))
    print(f"{'cold':<12} {cold:7.3f} s (first call: worker start, sympy import, warm-up)")
    print(f"ratio trl / rewardlang (median): {statistics.median(trl_times) / statistics.median(ours_times):.2f}x")


if __name__ == "__main__":
    main()
