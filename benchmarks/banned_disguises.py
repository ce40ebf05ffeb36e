"""What catching disguised banned words costs (issue 11): chat completions and hostile megabytes.

    .venv/bin/python benchmarks/banned_disguises.py [--against OTHER_CHECKOUT] [--n 20000] [--mb 1] [--reps 5]

Two parts, each case in a fresh process (one rule, `unicode confusables`, the
default of `banned`):

- `chat`: the `safety` rule of specs/chat.reward on `--n` realistic chat
  completions (benchmarks/completions.py), scored in batches of 64 as TRL calls
  it; the best of `--reps` passes, in microseconds per completion;
- `hostile`: one completion of `--mb` MB built to give the disguise scan the
  most candidates to reject (digits that spell the banned word, all-capitals
  I, lone letters, spaced-out runs that are not whole), and plain words, in
  seconds.

With `--against`, every case also runs on another checkout (say `git worktree add
/tmp/base main`), alternating, and the ratio this / other is printed.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

HOSTILE = {
    "plain words": ('banned "harm", "kill"', "word{i} "),
    "numbers that spell ass": ('banned "ass"', "455 {i} 4.55 "),
    "all capitals FAIL (banned fall)": ('banned "fall"', "FAIL {i} "),
    "capital I in words (banned kill)": ('banned "kill"', "kiIs {i} "),
    "lone letters": ('banned "harm"', "a b c d e f g h i j k l m n o p "),
    "spaced runs, never whole": ('banned "harm"', "x h a r m y "),
    "leetspeak, none banned": ('banned "harm"', "h4x0r 1337 c0d3 w0rd{i} "),
}

CHILD = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
sys.path.append(sys.argv[2])  # benchmarks/ of this checkout
import rewardlang
assert rewardlang.__file__.startswith(sys.argv[1]), rewardlang.__file__
part, reps = sys.argv[3], int(sys.argv[5])
if part == "chat":
    from benchmarks.completions import make_rows
    rows = make_rows(int(sys.argv[4]))
    texts = [row["completion"][0]["content"] for row in rows]
    spec = rewardlang.loads('reward t\\nrule r: banned "dangerous", "illegal", "harmful", "harm"\\n')
    batches = [texts[i:i + 64] for i in range(0, len(texts), 64)]
    best, found = float("inf"), 0
    for _ in range(reps):
        start = time.perf_counter()
        scores = [s for batch in batches for s in spec.score(batch).rules["r"]]
        best = min(best, time.perf_counter() - start)
        found = scores.count(0.0)
    print(json.dumps({"value": best / len(texts) * 1e6, "found": found}))
else:
    rule, unit, mb = json.loads(sys.argv[4])
    size = int(mb * 1_000_000)
    parts, total, i = [], 0, 0
    while total < size:
        piece = unit.format(i=i)
        parts.append(piece)
        total += len(piece)
        i += 1
    text = "".join(parts)[:size]
    spec = rewardlang.loads(f"reward t\\nrule r: {rule}\\n")
    start = time.perf_counter()
    score = spec.score([text]).rules["r"][0]
    print(json.dumps({"value": time.perf_counter() - start, "found": score}))
"""


def measure(root: Path, part: str, argument: str, reps: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(root), str(ROOT), part, argument, str(reps)],
                          capture_output=True, text=True, check=True)
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def report(name: str, unit: str, this: dict[str, float], other: dict[str, float] | None) -> str:
    line = f"{name:34s} {this['value']:8.3f} {unit}  (score {this['found']:g})"
    if other is not None:
        ratio = this["value"] / other["value"]
        line += f"   other {other['value']:8.3f} {unit} (score {other['found']:g})   ratio {ratio:.2f}"
    return line


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--against", type=Path, help="another rewardlang checkout to compare with")
    parser.add_argument("--n", type=int, default=20_000, help="chat completions (default 20000)")
    parser.add_argument("--mb", type=float, default=1.0, help="megabytes of each hostile completion (default 1)")
    parser.add_argument("--reps", type=int, default=5, help="timed passes over the chat completions (default 5)")
    args = parser.parse_args()
    other_root = args.against.resolve() if args.against is not None else None

    print(f"chat: {args.n} completions, batches of 64, best of {args.reps}; 'score' = completions banned")
    this = measure(ROOT, "chat", str(args.n), args.reps)
    other = measure(other_root, "chat", str(args.n), args.reps) if other_root else None
    print(report("chat.reward safety rule", "us/completion", this, other), flush=True)

    print(f"hostile: one completion of {args.mb:g} MB, seconds to score")
    for name, (rule, unit) in HOSTILE.items():
        argument = json.dumps([rule, unit, args.mb])
        this = measure(ROOT, "hostile", argument, 1)
        other = measure(other_root, "hostile", argument, 1) if other_root else None
        print(report(name, "s", this, other), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
