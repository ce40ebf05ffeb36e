"""How long `json` rules take: schema validation of TRL tool calls, and `extract first` on hostile text.

    .venv/bin/python benchmarks/json_schema.py

Scores specs/tools.reward on 512 TRL-shaped completions (one parsed `get_weather`
call each, a third of them failing the schema), best of 5 batches after a warm-up
batch that builds the validator; then one `extract first` rule on a megabyte of `{`,
of `[`, and of prose. Figures on the development machine (2 shared cores): about
0.2-0.3 s per batch of 512 (0.4-0.6 ms per completion; 1.0 s before the schema's
registry read its `$ref` files once), and under 15 ms per hostile megabyte.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import rewardlang

ROOT = Path(__file__).resolve().parent.parent


def call(name: str, arguments: Any) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "arguments": arguments}}


def main() -> None:
    spec = rewardlang.load(ROOT / "specs" / "tools.reward")
    completions = [
        [
            {"role": "assistant", "content": None,
             "tool_calls": [call("get_weather", {"city": f"City {i}"} if i % 3 else {"city": i})]},
            {"role": "tool", "name": "get_weather", "content": "sunny"},
            {"role": "assistant", "content": "It is sunny there today."},
        ]
        for i in range(512)
    ]
    ids = [list(range(40))] * len(completions)
    expected = ["get_weather"] * len(completions)
    spec.score(completions[:2], completion_ids=ids[:2], expected_tool=expected[:2])  # builds the validator
    times = []
    for _ in range(5):
        start = time.perf_counter()
        spec.score(completions, completion_ids=ids, expected_tool=expected)
        times.append(time.perf_counter() - start)
    best = min(times)
    print(f"tools.reward, {len(completions)} TRL tool-call completions: {best * 1000:.0f} ms per batch "
          f"({best / len(completions) * 1e6:.0f} us per completion)")
    first = rewardlang.loads("reward t\nrule r: json { extract first }\n")
    for name, text in [("{", "{" * 1_000_000), ("[", "[" * 1_000_000), ("prose", "x" * 1_000_000)]:
        start = time.perf_counter()
        first.score([text])
        print(f"extract first, 1 MB of {name}: {(time.perf_counter() - start) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
