"""How long `rewardc check` takes, next to a bare interpreter start, in one run.

    .venv/bin/python benchmarks/check_speed.py [SPEC] [--runs N]

Prints the median wall time of `rewardc check SPEC` (a fresh process each run,
as a user runs it), of `python -c pass` (the floor: interpreter start-up), and
of `python -c "import torch"` for scale, and lists any heavy module that a
check imported (there must be none).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = ("torch", "transformers", "sentence_transformers", "trl", "datasets")
ROOT = Path(__file__).resolve().parent.parent


def wall(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(ROOT / "specs" / "chat.reward"))
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    check = [sys.executable, "-m", "rewardlang.cli", "check", args.spec]
    probe = (
        f"import sys; from rewardlang.cli import main; code = main(['check', {args.spec!r}]); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules)); sys.exit(code)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    heavy = result.stdout.strip()

    floor = wall([sys.executable, "-c", "pass"], args.runs)
    checked = wall(check, args.runs)
    print(f"spec: {args.spec} (exit code {result.returncode})")
    print(f"rewardc check          median {checked * 1000:7.1f} ms over {args.runs} runs")
    print(f"python -c pass (floor) median {floor * 1000:7.1f} ms")
    print(f"check / floor          {checked / floor:7.2f}x")
    try:
        torch = wall([sys.executable, "-c", "import torch"], 3)
        print(f"python -c 'import torch' median {torch * 1000:7.1f} ms (what a check must never pay)")
    except OSError:
        pass
    print(f"heavy modules imported by check: {heavy or 'none'}")
    if heavy:
        sys.exit(1)


if __name__ == "__main__":
    main()
