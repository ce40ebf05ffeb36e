"""The front end stays light: checking, formatting or importing never loads the training stack.

Each check runs in a fresh interpreter, since this test process may have imported anything.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import rewardlang

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


# What only scoring needs: the compiler, running data through it, examples, probes, the
# trainer, and the rules' model and judge back ends. A check never runs a rule.
SCORING_ONLY = (
    "rewardlang.compiler",
    "rewardlang.scoring",
    "rewardlang.spectest",
    "rewardlang.testing",
    "rewardlang.probe",
    "rewardlang.rules.judge_http",
    "rewardlang.rules.judge_local",
    "rewardlang.rules.math_worker",
    "rewardlang_trainer",
)


def modules_after_cli(argv: list[str]) -> set[str]:
    """The modules loaded by `python -m rewardlang.cli ARGV` in a fresh interpreter (the real entry point).

    As the program, a check ends the process at once (`_exit_now`); here that raises SystemExit
    instead, so that the script can list the modules. The test fails if it is never reached.
    """
    script = textwrap.dedent(
        f"""
        import contextlib, io, json, runpy, sys
        import rewardlang.cli
        stops = []
        def stop(code):
            stops.append(code)
            raise SystemExit(code)
        rewardlang.cli._exit_now = stop
        sys.argv = ["rewardc", *{argv!r}]
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            try:
                runpy.run_module("rewardlang.cli", run_name="__main__")
            except SystemExit as exc:
                code = exc.code
        print(json.dumps({{"code": code, "stops": stops, "modules": sorted(sys.modules)}}))
        """
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    outcome = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (outcome["code"], outcome["stops"]) == (0, [0])
    return set(outcome["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == name or m.startswith(name + ".") for name in names))


def test_check_imports_neither_heavy_nor_scoring_modules(tmp_path: Path, all_kinds_spec: str) -> None:
    path = tmp_path / "all.reward"
    path.write_text(all_kinds_spec, encoding="utf-8")
    assert [name for name in SCORING_ONLY if importlib.util.find_spec(name) is None] == []  # real names
    modules = modules_after_cli(["check", str(path)])
    assert "rewardlang.frontend" in modules and "rewardlang.kinds.judge" in modules  # it did check every kind
    assert loaded(modules, HEAVY) == []
    assert loaded(modules, SCORING_ONLY) == []


def test_check_imports_only_the_kinds_its_spec_uses(tmp_path: Path) -> None:
    path = tmp_path / "short.reward"
    path.write_text("reward short\nrule brief: length ..120 words\n", encoding="utf-8")
    modules = modules_after_cli(["check", str(path)])
    kinds = {m.removeprefix("rewardlang.kinds.") for m in loaded(modules, ("rewardlang.kinds",))} - {"rewardlang.kinds"}
    # length itself; phrases, banned and brevity: the checks' own (duplicate phrases, group rules)
    assert kinds == {"length", "phrases", "banned", "brevity"}
    assert loaded(modules, HEAVY + SCORING_ONLY) == []


def test_explain_loads_no_parser_and_no_models() -> None:
    modules = modules_after_cli(["explain", "RL001"])
    assert loaded(modules, ("pydantic", "lark", "rewardlang.frontend", "rewardlang.parser")) == []


def test_the_package_names_its_public_api_lazily() -> None:
    """`import rewardlang` loads none of it; each public name is found on first use, and the
    names that type checkers see (the `TYPE_CHECKING` imports) are the ones it serves."""
    outcome = heavy_after(
        """
        import sys
        import rewardlang
        before = sorted(m for m in sys.modules if m.startswith("rewardlang"))
        found = {name: getattr(rewardlang, name).__module__ for name in rewardlang.__all__}
        result = {"before": before, "found": found, "dir": sorted(set(rewardlang.__all__) - set(dir(rewardlang)))}
        """
    )
    result = outcome["result"]
    assert result["before"] == ["rewardlang"]
    assert result["dir"] == []
    init = Path(__file__).resolve().parent.parent / "rewardlang" / "__init__.py"
    typed = {
        alias.name: node.module
        for node in ast.walk(ast.parse(init.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rewardlang.")
        for alias in node.names
    }
    assert typed == result["found"]
    assert sorted(typed) == sorted(rewardlang.__all__)
    assert rewardlang.__all__ == sorted(rewardlang.__all__)
    with_unknown = subprocess.run(
        [sys.executable, "-c", "import rewardlang; rewardlang.nope"], capture_output=True, text=True, timeout=60
    )
    assert "AttributeError: module 'rewardlang' has no attribute 'nope'" in with_unknown.stderr


def test_the_cli_puts_pydantics_plugin_switch_back() -> None:
    outcome = heavy_after(
        """
        import contextlib, io, os
        from rewardlang.cli import main
        seen = []
        for setting in (None, "some_plugin"):
            if setting is not None:
                os.environ["PYDANTIC_DISABLE_PLUGINS"] = setting
            with contextlib.redirect_stdout(io.StringIO()):
                main(["explain", "RL001"])
            seen.append(os.environ.get("PYDANTIC_DISABLE_PLUGINS"))
        result = seen
        """
    )
    assert outcome["result"] == [None, "some_plugin"]
