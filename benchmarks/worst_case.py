"""Bounded worst case: one batch of 8 completions of 1 MB each through every packaged spec.

    .venv/bin/python benchmarks/worst_case.py [--mb 1] [--n 8] [SPEC ...]

Each spec runs in a fresh process (so max RSS is that spec's alone). The process loads
the spec, scores the spec's own examples once (which loads every model the spec uses and
warms its caches: model loading is not part of a batch's cost), then times one call of the
compiled spec on a batch of `--n` rows. Row i takes the prompt and columns of the spec's
example i (cycling), and a completion of `--mb` MB built from one of four shapes, so every
batch holds all four:

- `echo`:   the example's own completion repeated (every phrase, tag and marker the spec
            looks for, over and over);
- `words`:  random words of a 3,000-word vocabulary;
- `token`:  one unbroken 1 MB token (no whitespace);
- `unicode`: mixed scripts, emoji, combining marks and invisible characters.

`completion_ids` (read by `overlong`) are one id per whitespace-separated word. The bar is
2 seconds per batch on the project's 2-core machine (docs/performance.md, "Bounded worst
case"); the script prints each spec's time and max RSS and exits 1 if one is above it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BAR_SECONDS = 2.0


def packaged_specs() -> list[Path]:
    return [*sorted((ROOT / "specs").glob("*.reward")), ROOT / "trainer" / "specs" / "default_chat.reward"]


# Runs in the child: prints {"seconds", "rss_mb", "totals"} as JSON on its last line.
CHILD = r'''
import json, random, resource, sys, time
import rewardlang
from rewardlang.examples import example_rows

path, megabytes, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
size = int(megabytes * 1_000_000)
random.seed(0)
compiled = rewardlang.load(path)
rows = example_rows(compiled.spec.examples)
if not rows:
    sys.exit(f"{path}: the spec has no examples to take prompts and columns from")


def text_of(completion):
    if isinstance(completion, str):
        return completion
    return "\n".join(str(m.get("content") or "") for m in completion if isinstance(m, dict))


def filled(seed_text, shape):
    if shape == "echo":
        unit = (seed_text or "echo") + "\n"
        return (unit * (size // len(unit) + 1))[:size]
    if shape == "words":
        vocab = [f"word{i}" for i in range(3000)]
        return " ".join(random.choice(vocab) for _ in range(size // 8 + 1))[:size]
    if shape == "token":
        return "x" * size
    pieces = ["déjà", "naïve", "日本語の文章", "مرحبا", "Привет", "\u200b", "e\u0301", "🙂", "ﬁ", "Ｆｕｌｌ", " "]
    return "".join(random.choice(pieces) for _ in range(size // 4))[:size]


def with_text(completion, text):
    if isinstance(completion, str):
        return text
    messages = [dict(m) for m in completion]
    for message in reversed(messages):
        if message.get("role") == "assistant":
            message["content"] = text
            break
    return messages


def columns_of(batch_rows):
    names = sorted({name for row in batch_rows for name in row.columns})
    return {name: [row.columns.get(name) for row in batch_rows] for name in names}


# Warm up: the spec's own examples, one batch, and again with a short text of every shape
# (loads models, builds the one-time tables such as the confusables' prototypes).
compiled.score([r.completion for r in rows], prompts=[r.prompt for r in rows], **columns_of(rows))
warm = [with_text(r.completion, filled(text_of(r.completion), shape)[:2000])
        for r in rows for shape in ("echo", "words", "token", "unicode")]
warm_rows = [r for r in rows for _ in range(4)]
compiled.score(warm, prompts=[r.prompt for r in warm_rows], **columns_of(warm_rows))

shapes = ["echo", "words", "token", "unicode"]
chosen = [rows[i % len(rows)] for i in range(n)]
completions = [with_text(r.completion, filled(text_of(r.completion), shapes[i % 4])) for i, r in enumerate(chosen)]
ids = [list(range(len(text_of(c).split()))) for c in completions]
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
scores = compiled.score(completions, prompts=[r.prompt for r in chosen], completion_ids=ids, **columns_of(chosen))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
bad = [t for t in scores.total if t != t]
if bad:
    sys.exit(f"{path}: NaN in a total")
print(json.dumps({"seconds": seconds, "rss_mb": peak / 1024, "growth_mb": (peak - before) / 1024,
                  "totals": [round(t, 3) for t in scores.total]}))
'''


def measure(spec: Path, megabytes: float, n: int) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", CHILD, str(spec), str(megabytes), str(n)],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]}
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="*", type=Path, help="specs to run (default: every packaged spec)")
    parser.add_argument("--mb", type=float, default=1.0, help="megabytes per completion (default 1)")
    parser.add_argument("--n", type=int, default=8, help="completions in the batch (default 8)")
    args = parser.parse_args()
    specs = args.specs or packaged_specs()
    print(f"one batch of {args.n} completions x {args.mb:g} MB per spec (models loaded and warm); "
          f"bar {BAR_SECONDS:g} s")
    worst = 0.0
    failed = False
    for spec in specs:
        figures = measure(spec, args.mb, args.n)
        name = spec.relative_to(ROOT) if spec.is_absolute() and spec.is_relative_to(ROOT) else spec
        if "error" in figures:
            print(f"{name!s:40s} ERROR {figures['error']}")
            failed = True
            continue
        seconds = float(figures["seconds"])  # type: ignore[arg-type]
        worst = max(worst, seconds)
        verdict = "ok" if seconds <= BAR_SECONDS else "ABOVE THE BAR"
        print(f"{name!s:40s} {seconds:6.2f} s  max RSS {float(figures['rss_mb']):6.0f} MB "  # type: ignore[arg-type]
              f"(+{float(figures['growth_mb']):.0f} MB while scoring)  {verdict}", flush=True)  # type: ignore[arg-type]
    print(f"slowest: {worst:.2f} s")
    return 1 if failed or worst > BAR_SECONDS else 0


if __name__ == "__main__":
    sys.exit(main())
