"""What each lexical rule kind costs on megabyte completions (issue 8, bounded cost).

    .venv/bin/python benchmarks/long_inputs.py [--against OTHER_CHECKOUT] [--mb 1] [--n 8]

Scores `--n` completions of `--mb` MB of words each (the reference column is the
same texts reversed) with one rule at a time, each in a fresh process so that peak
memory (max RSS) belongs to that rule alone. With `--against`, the same cases run
on another checkout of rewardlang (say a `git worktree` of an older commit) in the
same run, alternating, and the time ratio this / other is printed per rule.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RULES = [
    "repetition { ngram 32 }",
    "repetition",
    "overlap to column reference",
    "overlap to column reference { split whitespace }",
    "similarity rouge1 to column reference",
    "equals column reference",
    'phrases "word1 word2", "word3"',
    'banned "word7", "word8"',
    'regex r"word1\\d"',
]

# Runs in the child: scores once, prints seconds and max RSS as JSON.
CHILD = """
import json, random, resource, sys, time
sys.path.insert(0, sys.argv[1])
import rewardlang
rule, mb, n = sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
random.seed(0)
vocab = [f"word{i}" for i in range(3000)]
size = int(mb * 1_000_000)
texts = [" ".join(random.choice(vocab) for _ in range(size // 6))[:size] for _ in range(n)]
spec = rewardlang.loads(f"reward t\\nrule r: {rule}\\n")
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
scores = spec.score(texts, reference=texts[::-1]).rules["r"]
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"seconds": seconds, "rss_mb": peak / 1024, "growth_mb": (peak - before) / 1024, "first": scores[0]}))
"""


def measure(root: Path, rule: str, mb: float, n: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(root), rule, str(mb), str(n)],
                          capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", type=Path, help="another rewardlang checkout to compare with")
    parser.add_argument("--mb", type=float, default=1.0, help="megabytes per completion (default 1)")
    parser.add_argument("--n", type=int, default=8, help="completions (default 8)")
    args = parser.parse_args()
    print(f"{args.n} completions x {args.mb:g} MB; seconds to score, growth of max RSS while scoring")
    for rule in RULES:
        this = measure(ROOT, rule, args.mb, args.n)
        line = f"{rule:50s} {this['seconds']:7.2f} s {this['growth_mb']:7.0f} MB"
        if args.against is not None:
            other = measure(args.against.resolve(), rule, args.mb, args.n)
            ratio = this["seconds"] / other["seconds"]
            line += f"   other {other['seconds']:7.2f} s {other['growth_mb']:7.0f} MB   ratio {ratio:.2f}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
