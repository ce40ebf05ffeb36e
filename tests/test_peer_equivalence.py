"""The one-rule specs of benchmarks/peers/ give exactly the scores of the peers' own reward functions.

The peers are TRL's `think_format_reward`, `get_soft_overlong_punishment` and
`get_repetition_penalty_reward` (the installed `trl.rewards`), open-r1's `format_reward` and
`tag_count_reward` (verbatim in benchmarks/peer_speed.py) and a `re` phrase bonus. Both sides
are called as TRL calls reward functions, batch by batch, on R1-style completions
(`benchmarks.completions.reasoning_rows`: well-formed, broken, looping and plain) and on edge
cases; every score must be equal, not merely close. benchmarks/peer_speed.py times them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # benchmarks/ is no installed package

from benchmarks.completions import reasoning_rows, token_ids, trl_batches  # noqa: E402
from benchmarks.peer_speed import peers, spec_function  # noqa: E402

PEERS = peers()
EDGE_TEXTS = [
    "",
    "<think>",
    "<think></think>",
    "<think>\n\n</think>\n<answer>\n\n</answer>",
    "<think>a</think><think>b",
    "<think><think>a</think>",
    "<think>a</think></think>",
    "<think>a<thin</think>b<think",
    "<think>a<<think>b</think>",
    "<think>\na\n</think>\n<answer>\nb\n</answer>\nmore",
    "<think>\na\n</think>\n<answer>\nb\n</answer> more",
    "\n<think>\na\n</think>\n<answer>\nb\n</answer>",
    "<think>\nI can help. Here's how.\n</think>\n<answer>\nIn summary: for example, LET ME EXPLAIN\n</answer>",
    "<think>\n" + "loop " * 200 + "\n</think>",
    "café 😀 \ud800 <think>\n",
]


def edge_rows() -> list[dict[str, Any]]:
    return [
        {"prompt": [{"role": "user", "content": "q"}], "completion": [{"role": "assistant", "content": text}],
         "completion_ids": token_ids(text), "reference": "x"}
        for text in EDGE_TEXTS
    ]


@pytest.mark.parametrize(("name", "peer", "path"), PEERS, ids=[name for name, _, _ in PEERS])
def test_the_spec_gives_the_peers_scores(name: str, peer: Callable[..., list[float]], path: Path) -> None:
    spec = spec_function(path)
    rows = reasoning_rows(1_200, seed=3) + edge_rows()
    for kwargs in trl_batches(rows, 64):
        assert spec(**kwargs) == peer(**kwargs), name


def test_the_completions_mix_formats() -> None:
    """The benchmark's completions exercise every peer: each scores both ways on some of them."""
    rows = reasoning_rows(1_200, seed=3)
    for name, peer, _ in PEERS:
        scores = {score for kwargs in trl_batches(rows, 64) for score in peer(**kwargs)}
        assert len(scores) >= 2, name
