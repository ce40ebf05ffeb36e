"""How long group rules take: `diversity` with each metric, and `brevity`, on one TRL-sized call.

    .venv/bin/python benchmarks/group_rules.py

8 prompts x 16 completions of 200 random words (seeded), one call, best of 3 after a
warm-up call. `diversity` compares every completion with the 15 others of its group:
8 x 16 x 15 = 1,920 comparisons (960 for the symmetric metrics, which are computed
once per pair). Figures on the development machine (2 cores shared with other work,
so up to twice these when busy): brevity 3 ms; diversity fuzzy 0.04 s, rougeL 0.26 s,
rouge2 0.30 s, bleu 1.6 s, chrf 6.9 s (sacrebleu's chrF extracts the character n-grams
of both texts on every comparison).
"""

from __future__ import annotations

import random
import time

import rewardlang

PROMPTS, GENERATIONS, WORDS = 8, 16, 200


def main() -> None:
    rng = random.Random(0)
    vocabulary = [f"w{i}" for i in range(500)]
    completions = [" ".join(rng.choice(vocabulary) for _ in range(WORDS)) for _ in range(PROMPTS * GENERATIONS)]
    prompts = [[{"role": "user", "content": f"question {i // GENERATIONS}"}] for i in range(len(completions))]
    rules = ["brevity words", *(f"diversity {metric}" for metric in ("fuzzy", "rougeL", "rouge2", "bleu", "chrf"))]
    for rule in rules:
        compiled = rewardlang.loads(f"reward bench\nrule r: {rule}\n")
        compiled.score(completions[:2], prompts[:2])  # warm-up: imports, metric objects
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            compiled.score(completions, prompts)
            best = min(best, time.perf_counter() - start)
        print(f"{rule:<20} {best:8.3f} s per call of {len(completions)} completions")


if __name__ == "__main__":
    main()
