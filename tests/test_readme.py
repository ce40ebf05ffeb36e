"""The README's front-end example runs as written (a stale API in the README is a bug)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_front_end_example_of_the_readme_runs(monkeypatch) -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.DOTALL)
    front_end = [block for block in blocks if "rewardlang.parse_file" in block]
    assert len(front_end) == 1
    monkeypatch.chdir(ROOT)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile("import rewardlang\n" + front_end[0], "README.md", "exec"), {})
    assert out.getvalue() == "<spec>:2:16: error[RL116]: length range can never match\n"
