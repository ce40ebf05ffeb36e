"""The peers' own reward functions against the equivalent one-rule specs (benchmarks/peers/*.reward).

    .venv/bin/python benchmarks/peer_speed.py [--n 20000] [--batch 64] [--reps 7]

The peers: TRL's `think_format_reward`, `get_soft_overlong_punishment` and
`get_repetition_penalty_reward` (imported from `trl.rewards`, as installed), open-r1's
`format_reward` and `tag_count_reward` (copied below verbatim from open-r1,
https://github.com/huggingface/open-r1/blob/0056faa6b77d73663b353d5422a4828bc9d83218/src/open_r1/rewards.py,
Apache-2.0, since open-r1 is no package), and a phrase bonus written with Python's `re`.

Same process, same completions (`benchmarks.completions.reasoning_rows`: well-formed
R1 outputs, broken ones, loops and plain chat, G=8 per prompt, token ids from a
deterministic word -> id map), same calls: each function is called once per batch of
`--batch` completions with TRL's keyword arguments, on fresh list objects per batch as
TRL passes them. First every spec must give the peer's scores on every completion
(exit status 1 if not); then the two sides alternate, `--reps` times each, and the
median wall times are printed with their ratio spec / peer. The bar: every ratio <= 1.0.
"""

from __future__ import annotations

import argparse
import gc
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from trl.rewards import get_repetition_penalty_reward, get_soft_overlong_punishment, think_format_reward

import rewardlang

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is no installed package

from benchmarks.completions import reasoning_rows, trl_batches  # noqa: E402

PEERS_DIR = ROOT / "benchmarks" / "peers"


# --------------------------------------------------------------------------------------------
# open-r1's format_reward and tag_count_reward, verbatim (src/open_r1/rewards.py at 0056faa).
def format_reward(completions, **kwargs):
    """Reward function that checks if the reasoning process is enclosed within <think> and </think> tags, while the final answer is enclosed within <answer> and </answer> tags."""  # noqa: E501
    pattern = r"^<think>\n.*?\n</think>\n<answer>\n.*?\n</answer>$"
    completion_contents = [completion[0]["content"] for completion in completions]
    matches = [re.match(pattern, content, re.DOTALL | re.MULTILINE) for content in completion_contents]
    return [1.0 if match else 0.0 for match in matches]


def tag_count_reward(completions, **kwargs) -> list[float]:
    """Reward function that checks if we produce the desired number of think and answer tags associated with `format_reward()`.

    Adapted from: https://gist.github.com/willccbb/4676755236bb08cab5f4e54a0475d6fb#file-grpo_demo-py-L90
    """  # noqa: E501

    def count_tags(text: str) -> float:
        count = 0.0
        if text.count("<think>\n") == 1:
            count += 0.25
        if text.count("\n</think>\n") == 1:
            count += 0.25
        if text.count("\n<answer>\n") == 1:
            count += 0.25
        if text.count("\n</answer>") == 1:
            count += 0.25
        return count

    contents = [completion[0]["content"] for completion in completions]
    return [count_tags(c) for c in contents]


# A phrase bonus as people write it with `re`: 0.25 per distinct phrase found, at most 1.
HELPFUL = re.compile(r"i can help|here's how|let me explain|for example|in summary")


def phrase_bonus(completions, **kwargs):
    return [min(1.0, 0.25 * len(set(HELPFUL.findall(c[0]["content"].lower())))) for c in completions]
# --------------------------------------------------------------------------------------------


def peers() -> list[tuple[str, Callable[..., list[float]], Path]]:
    """(name, the peer's function, the equivalent spec) for every peer."""
    return [
        ("TRL think_format_reward", think_format_reward, PEERS_DIR / "think_format.reward"),
        ("open-r1 format_reward", format_reward, PEERS_DIR / "format.reward"),
        ("open-r1 tag_count_reward", tag_count_reward, PEERS_DIR / "tag_count.reward"),
        ("TRL soft overlong (512, 128)", get_soft_overlong_punishment(512, 128), PEERS_DIR / "soft_overlong.reward"),
        ("TRL repetition penalty (3, -1)", get_repetition_penalty_reward(3, -1.0), PEERS_DIR / "repetition.reward"),
        ("re phrase bonus", phrase_bonus, PEERS_DIR / "phrases.reward"),
    ]


def spec_function(path: Path) -> Callable[..., list[float | None]]:
    """The one reward function of a one-rule spec."""
    (function,) = rewardlang.load(path).reward_funcs
    return function


def mismatches(peer: Callable[..., Any], spec: Callable[..., Any], rows: list[dict[str, Any]], batch: int) -> int:
    """How many completions the two score differently (on fresh lists per batch, as TRL passes them)."""
    return sum(
        1
        for kwargs in trl_batches(rows, batch)
        for want, got in zip(peer(**kwargs), spec(**kwargs), strict=True)
        if want != got
    )


def timed(function: Callable[..., Any], rows: list[dict[str, Any]], batch: int) -> float:
    batches = list(trl_batches(rows, batch))  # fresh list objects per batch, built outside the clock
    gc.collect()
    start = time.perf_counter()
    for kwargs in batches:
        function(**kwargs)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="completions (default 20000)")
    parser.add_argument("--batch", type=int, default=64, help="completions per reward call (default 64)")
    parser.add_argument("--reps", type=int, default=7, help="timed repetitions of each side (default 7)")
    args = parser.parse_args(argv)

    rows = reasoning_rows(args.n)
    functions = [(name, peer, spec_function(path)) for name, peer, path in peers()]
    print(f"{len(rows)} completions, batches of {args.batch}, {args.reps} alternating repetitions per side")
    failed = False
    for name, peer, spec in functions:
        wrong = mismatches(peer, spec, rows, args.batch)
        if wrong:
            print(f"MISMATCH: {name}: {wrong} of {len(rows)} completions score differently")
            failed = True
    if failed:
        return 1

    worst = 0.0
    for name, peer, spec in functions:
        peer_times: list[float] = []
        spec_times: list[float] = []
        for _ in range(args.reps):
            peer_times.append(timed(peer, rows, args.batch))
            spec_times.append(timed(spec, rows, args.batch))
        peer_median, spec_median = statistics.median(peer_times), statistics.median(spec_times)
        ratio = spec_median / peer_median
        worst = max(worst, ratio)
        print(f"{name:<32} peer {peer_median * 1000:8.1f} ms  spec {spec_median * 1000:8.1f} ms  "
              f"ratio {ratio:5.2f}")
    print(f"worst ratio spec / peer: {worst:.2f} (bar <= 1.0)")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
