"""How long `rewardc check` and `rewardc fmt` take on the hostile specs of issue 8.

    .venv/bin/python benchmarks/check_hostile.py

Each case is written to a temporary file and run as a user runs it (a fresh
process, rich diagnostics to a pipe). Before the hardening, the phrases x
banned case took 48 s and the 30,000 broken statements over 30 s; both are now
linear in the size of the spec, which the 1,000,000-character limit bounds.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path


def cases() -> dict[str, str]:
    phrases = ", ".join(f'"helpful phrase number {i}"' for i in range(1000))
    banned = ", ".join(f'"banned{i}"' for i in range(1000))
    return {
        "1,000 phrases x 1,000 banned words": f"reward x\nrule p: phrases {phrases}\nrule b: banned {banned}\n",
        "30,000 broken statements": "reward x\n" + "".join(f"rule r{i}: lenth 1..2 words\n" for i in range(30_000)),
        "30,000 invalid rules": "reward x\n" + "".join(f"rule r{i}: length 2..1 wurds\n" for i in range(30_000)),
        "5,000-digit numbers": "reward x\nrule a: length 1.." + "9" * 5000 + " words { weight 1e" + "9" * 5000 + " }\n",
        "regex nested 5,000 deep with \\1": 'reward x\nrule a: regex r"' + "(" * 5000 + "a" + ")" * 5000 + '\\1"\n',
    }


def run(command: list[str]) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = subprocess.run(command, check=False, capture_output=True)
    return time.perf_counter() - start, result.returncode, len(result.stderr)


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, text in cases().items():
            path = Path(folder) / "spec.reward"
            path.write_text(text, encoding="utf-8")
            for command in ("check", "fmt"):
                seconds, code, size = run([sys.executable, "-m", "rewardlang.cli", command, str(path)])
                print(f"{name:38} {command:5} {len(text):>9,} chars  exit {code}  "
                      f"{size:>11,} bytes of diagnostics  {seconds:6.2f} s")


if __name__ == "__main__":
    main()
