"""The compiled specs/guide.reward against the guide's four hand-written reward functions.

    .venv/bin/python benchmarks/guide_speed.py [--n 20000] [--batch 64] [--reps 7]

Same process, same completions (benchmarks/completions.py: realistic chat
completions, G=8 per prompt, 5-400 words), same calls: every reward function is
called once per batch of `--batch` completions with TRL's keyword arguments
(`prompts`, `completions`, `completion_ids`, the dataset columns, `trainer_state`,
`log_extra`, `log_metric`). The compiled functions of a spec share one scoring
pass per batch, so the first of them to be called does the work. The two sides
alternate with the floor, `--reps` times each; the best and median wall times are
printed with their ratio compiled / baseline (the bar is <= 0.5, issue 13) and the
floor's ratio to the baseline. The floor is `str.lower()` plus one `split()` per
completion, the least any lower-cased word-based reward does. Before timing, the
script checks that both sides return the same numbers for every completion (exit
status 1 if not). Every side runs on fresh list objects per batch, as TRL passes them.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import rewardlang

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is no installed package

from benchmarks.completions import make_rows, trl_batches  # noqa: E402


# --------------------------------------------------------------------------------------------
# The guide's four reward functions, verbatim (../shared/seed/grpo-conversation-guide.md).
def length_reward(completions, **kwargs):
    """Prefer responses between 50-200 words."""
    rewards = []
    for completion in completions:
        words = len(completion[0]["content"].split())
        if 50 <= words <= 200:  # noqa: SIM108 - the guide's code as written
            reward = 1.0
        else:
            reward = 0.5
        rewards.append(reward)
    return rewards


def helpfulness_reward(completions, **kwargs):
    """Reward helpful language patterns."""
    helpful_phrases = ["I can help", "Here's how", "Let me explain"]
    rewards = []
    for completion in completions:
        text = completion[0]["content"].lower()
        score = sum(0.3 for phrase in helpful_phrases if phrase.lower() in text)
        rewards.append(min(1.0, score))
    return rewards


def safety_reward(completions, **kwargs):
    """Penalize unsafe content."""
    unsafe_words = ["dangerous", "illegal", "harmful"]
    rewards = []
    for completion in completions:
        text = completion[0]["content"].lower()
        has_unsafe = any(word in text for word in unsafe_words)
        rewards.append(0.0 if has_unsafe else 1.0)
    return rewards


def coherence_reward(completions, prompts, **kwargs):
    """Check if response is relevant to the conversation."""
    rewards = []
    for completion, prompt in zip(completions, prompts):  # noqa: B905 - the guide's code as written
        response = completion[0]["content"]
        # Get last user message
        last_user_msg = ""
        for msg in reversed(prompt):
            if msg["role"] == "user":
                last_user_msg = msg["content"]
                break

        # Simple relevance check (you can use embeddings for better results)
        user_words = set(last_user_msg.lower().split())
        response_words = set(response.lower().split())
        overlap = len(user_words & response_words)

        rewards.append(min(1.0, overlap * 0.2))
    return rewards


BASELINE = [length_reward, helpfulness_reward, safety_reward, coherence_reward]
# --------------------------------------------------------------------------------------------


def run(functions, batches) -> list[list[list[float | None]]]:
    """Call every function on every batch, as TRL does; the results per batch, per function."""
    return [[function(**kwargs) for function in functions] for kwargs in batches]


def floor(completions, **kwargs):
    """The floor: `str.lower()` and one `split()` of each completion, nothing scored."""
    for completion in completions:
        completion[0]["content"].lower().split()
    return []


def timed(functions, rows, size) -> float:
    batches = list(trl_batches(rows, size))  # fresh list objects per batch, built outside the clock
    gc.collect()
    start = time.perf_counter()
    run(functions, batches)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="completions (default 20000)")
    parser.add_argument("--batch", type=int, default=64, help="completions per reward call (default 64)")
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions of each side (default 7)")
    parser.add_argument("--spec", default=str(ROOT / "specs" / "guide.reward"))
    args = parser.parse_args(argv)

    rows = make_rows(args.n)
    batches = list(trl_batches(rows, args.batch))
    compiled = rewardlang.load(args.spec).reward_funcs
    texts = [row["completion"][0]["content"] for row in rows]
    words = [len(text.split()) for text in texts]
    ascii_share = sum(text.isascii() for text in texts) / len(texts)
    print(f"{len(rows)} completions, {len(batches)} batches of {args.batch}, "
          f"{statistics.mean(words):.0f} words on average, {ascii_share:.0%} pure ASCII; "
          f"{len(compiled)} compiled functions ({', '.join(f.__name__ for f in compiled)}) "
          f"vs {len(BASELINE)} hand-written")

    # Same numbers first (also warms both sides up).
    expected, got = run(BASELINE, batches), run(compiled, batches)
    mismatches = sum(
        1
        for want_batch, got_batch in zip(expected, got, strict=True)
        for want, have in zip(want_batch, got_batch, strict=True)
        for a, b in zip(want, have, strict=True)
        if a != b
    )
    if mismatches:
        print(f"MISMATCH: {mismatches} scores differ between the compiled spec and the guide's functions")
        return 1

    base_times: list[float] = []
    compiled_times: list[float] = []
    floor_times: list[float] = []
    for _ in range(args.reps):
        base_times.append(timed(BASELINE, rows, args.batch))
        compiled_times.append(timed(compiled, rows, args.batch))
        floor_times.append(timed([floor], rows, args.batch))

    def line(name: str, times: list[float]) -> str:
        best, median = min(times), statistics.median(times)
        return (f"{name:<22} best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms  "
                f"({best / len(rows) * 1e6:.2f} us per completion)")

    print(line("guide functions (x4)", base_times))
    print(line("compiled guide.reward", compiled_times))
    print(line("floor (lower + split)", floor_times))
    best_ratio = min(compiled_times) / min(base_times)
    median_ratio = statistics.median(compiled_times) / statistics.median(base_times)
    floor_ratio = statistics.median(floor_times) / statistics.median(base_times)
    print(f"ratio compiled / baseline: best {best_ratio:.3f}  median {median_ratio:.3f}  (bar <= 0.5)")
    print(f"ratio floor / baseline: median {floor_ratio:.3f}; compiled / floor: median "
          f"{statistics.median(compiled_times) / statistics.median(floor_times):.2f}")
    return 0 if median_ratio <= 0.5 else 1


if __name__ == "__main__":
    sys.exit(main())
