"""How long `rewardc check` takes, next to a bare interpreter start, in one run.

    .venv/bin/python benchmarks/check_speed.py [SPEC] [--runs N] [--bar X]

Runs `rewardc check SPEC` (as `python -m rewardlang.cli`, a fresh process each time, as a
user runs it) and `python -c pass` (the floor: interpreter start-up) one after the other,
run by run, so that a load on the machine weighs on both alike, and prints the medians and
their ratio (and the ratio of their CPU times, a second view on a loaded machine) in two
settings:

- byte code cached: every module's byte code already written, as after `pip install` or a
  first run (the user's normal case; the bar applies to it);
- no byte code for rewardlang: rewardlang's modules compiled from source at every start, as
  under the tests (`PYTHONDONTWRITEBYTECODE=1` in a fresh checkout); the rest stays cached.

Byte code goes to a temporary folder (`PYTHONPYCACHEPREFIX`): nothing is written in the
checkout. A warm-up run before the timed ones writes it, and builds rewardlang's parser cache
if this machine has none yet. Also lists any heavy module that a check imported. Exits 1 when
the cached ratio is above the bar (8 by default) or a heavy module was imported.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

import rewardlang

HEAVY = ("torch", "transformers", "sentence_transformers", "trl", "datasets")
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(rewardlang.__file__).resolve().parent  # the rewardlang the subprocesses import too


class Medians(NamedTuple):
    wall: dict[str, float]  # seconds, start to exit, by command
    cpu: dict[str, float]  # seconds of CPU (user + system) the process used, by command


def alternate(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> Medians:
    """The median wall and CPU times of each command over `runs` rounds, the commands taking turns.

    The CPU time is a second view for a loaded machine: other processes lengthen a run's wall
    time more than its CPU time.
    """
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            _, status, usage = os.wait4(process.pid, 0)  # reaps it, with its resource usage
            process.returncode = os.waitstatus_to_exitcode(status)
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(usage.ru_utime + usage.ru_stime)
    return Medians(
        {name: statistics.median(values) for name, values in wall.items()},
        {name: statistics.median(values) for name, values in cpu.items()},
    )


def report(title: str, medians: Medians, runs: int) -> float:
    wall, cpu = medians
    ratio = wall["check"] / wall["floor"]
    print(f"{title}:")
    print(f"  rewardc check          median {wall['check'] * 1000:7.1f} ms over {runs} runs"
          f" (CPU {cpu['check'] * 1000:.1f} ms)")
    print(f"  python -c pass (floor) median {wall['floor'] * 1000:7.1f} ms (CPU {cpu['floor'] * 1000:.1f} ms)")
    print(f"  check / floor          {ratio:7.2f}x (CPU time: {cpu['check'] / cpu['floor']:.2f}x)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", default=str(ROOT / "specs" / "chat.reward"))
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--bar", type=float, default=8.0, help="the highest cached ratio that passes (default 8)")
    args = parser.parse_args()

    commands = {
        "check": [sys.executable, "-m", "rewardlang.cli", "check", args.spec],
        "floor": [sys.executable, "-c", "pass"],
    }
    probe = (
        f"import sys; from rewardlang.cli import main; code = main(['check', {args.spec!r}]); "
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules)); sys.exit(code)"
    )
    with tempfile.TemporaryDirectory(prefix="check-speed-") as prefix:
        env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = prefix
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env)
        heavy = result.stdout.strip()
        alternate(commands, 1, env)  # the warm-up: writes the byte code of both
        print(f"spec: {args.spec} (exit code {result.returncode}); rewardlang from {PACKAGE}")
        cached = report("byte code cached", alternate(commands, args.runs, env), args.runs)

        # The same, with rewardlang's byte code gone and never written again.
        shutil.rmtree(Path(prefix + str(PACKAGE)), ignore_errors=True)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        report("no byte code for rewardlang", alternate(commands, args.runs, env), args.runs)

    print(f"heavy modules imported by check: {heavy or 'none'}")
    verdict = "within" if cached <= args.bar else "ABOVE"
    print(f"cached ratio {cached:.2f}x: {verdict} the bar of {args.bar:g}x")
    if heavy or cached > args.bar:
        sys.exit(1)


if __name__ == "__main__":
    main()
