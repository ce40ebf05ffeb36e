"""The spec and rows the report tests score: lexical rules only (fast, no model), a per-task rule, a
rule constant over the rows (its correlations are undefined), and a hostile completion."""

from __future__ import annotations

import json
from pathlib import Path

SPEC = """\
reward demo "report demo"
rule brief: length 3..12 words { ramp 6 }
rule helpful: phrases "I can help", "for example" { each 0.5  cap 1 }
rule safety: banned "harmful"
rule steady: length 1..1000 words
when task = "math" {
    rule answered: tags "answer"
}
"""
RULES = ["brief", "helpful", "safety", "steady", "answered"]

# What a policy may write: markup that would run if the page did not escape it.
HOSTILE = '</script><img src=x onerror="document.title=\'pwned\'"><script>document.title="pwned"</script> harmful'

ROWS = [
    {"prompt": "Say hello", "completion": "I can help. Hello there, for example, my friend.", "task": "chat"},
    {"prompt": "Say hello", "completion": "hello", "task": "chat"},
    {"prompt": "What is 2+2?", "completion": "It is <answer>4</answer> of course", "task": "math"},
    {"prompt": "What is 2+2?", "completion": HOSTILE, "task": "math"},
    {"prompt": "Tell me more", "completion": "I can help with a long answer that goes on and on with many "
     "words, so that the length rule falls off past its window of twelve words.", "task": "chat"},
    {"prompt": "What is 3+3?", "completion": "<answer>6</answer>", "task": "math"},
    {"prompt": "Hi", "completion": "Hi! For example: I can help you plan a trip, or write a letter.", "task": "chat"},
]


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """The spec and the rows (JSON Lines) in `folder`."""
    spec = folder / "demo.reward"
    spec.write_text(SPEC, encoding="utf-8")
    data = folder / "rows.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in ROWS), encoding="utf-8")
    return spec, data
