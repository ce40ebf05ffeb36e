"""The front end stays light: checking, formatting or importing never loads the training stack.

Each check runs in a fresh interpreter, since this test process may have imported anything.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("torch", "transformers", "sentence_transformers", "trl", "datasets")


def heavy_after(code: str) -> dict[str, object]:
    """Run `code` in a fresh interpreter; it sets `result`. Returns it plus the heavy modules loaded."""
    script = textwrap.dedent(code) + textwrap.dedent(
        f"""
        import json, sys
        print(json.dumps({{"result": result, "heavy": sorted(m for m in {HEAVY!r} if m in sys.modules)}}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_heavy_modules_are_installed_so_the_checks_mean_something() -> None:
    # If the training stack were absent the import checks below would prove nothing
    # (scripts/test.sh installs it).
    assert [name for name in HEAVY if importlib.util.find_spec(name) is None] == []
    probe = heavy_after("import torch\nresult = 0")
    assert "torch" in probe["heavy"]  # the detection itself works


def test_import_rewardlang_alone(tmp_path: Path) -> None:
    outcome = heavy_after(
        """
        import rewardlang
        spec = rewardlang.parse('reward demo\\nrule brief: length ..120 words')
        result = spec.rules[0].name
        """
    )
    assert outcome == {"result": "brief", "heavy": []}


def test_cli_check_valid_spec(tmp_path: Path, all_kinds_spec: str) -> None:
    path = tmp_path / "all.reward"
    path.write_text(all_kinds_spec, encoding="utf-8")
    outcome = heavy_after(
        f"""
        import rewardlang.cli
        result = rewardlang.cli.main(["check", {str(path)!r}])
        """
    )
    assert outcome == {"result": 0, "heavy": []}


def test_cli_check_bad_spec_with_every_format(tmp_path: Path) -> None:
    path = tmp_path / "bad.reward"
    path.write_text("reward x\nrule a: relevance to last_usr\nrule b: classifier 'm' { wieght 1 }\n", encoding="utf-8")
    outcome = heavy_after(
        f"""
        import contextlib, io
        import rewardlang.cli
        codes = []
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for style in ("rich", "short", "json"):
                codes.append(rewardlang.cli.main(["check", "--format", style, "--color", "always", {str(path)!r}]))
        result = codes
        """
    )
    assert outcome == {"result": [1, 1, 1], "heavy": []}


def test_cli_fmt_and_explain(tmp_path: Path, all_kinds_spec: str) -> None:
    path = tmp_path / "all.reward"
    path.write_text(all_kinds_spec, encoding="utf-8")
    outcome = heavy_after(
        f"""
        import contextlib, io
        import rewardlang.cli
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            result = [rewardlang.cli.main(["fmt", {str(path)!r}]), rewardlang.cli.main(["explain", "RL001"])]
        """
    )
    assert outcome == {"result": [0, 0], "heavy": []}


def test_console_script_does_not_import_heavy_modules(tmp_path: Path, all_kinds_spec: str) -> None:
    """`python -X importtime` lists every module the real entry point imports."""
    path = tmp_path / "all.reward"
    path.write_text(all_kinds_spec, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rewardlang.cli", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert "rewardlang" in imported
    assert imported.isdisjoint(HEAVY), sorted(imported & set(HEAVY))
