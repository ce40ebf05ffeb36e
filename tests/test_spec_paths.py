"""Paths in a spec resolve from the spec file's folder; rule counters reach TRL's `log_metric`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import rewardlang
from rewardlang.compiler import CompiledSpec, loads
from rewardlang.frontend import analyze
from rewardlang.rules.base import RuleScorer
from rewardlang.runtime import Batch

SPEC = 'reward paths\n\nrule on_topic: relevance to last_user { model "models/embedder" }\n'


@pytest.fixture
def spec_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "project" / "specs"
    (folder / "models" / "embedder").mkdir(parents=True)
    (folder / "paths.reward").write_text(SPEC, encoding="utf-8")
    return folder


def _model_of(compiled: CompiledSpec) -> str | None:
    return compiled.spec.rules[0].model  # type: ignore[union-attr]


def test_a_spec_file_resolves_from_its_own_folder_not_the_working_directory(
    spec_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert _model_of(rewardlang.load(spec_dir / "paths.reward")) == str(spec_dir / "models" / "embedder")
    # A relative spec path too: the folder is that of the file, made absolute.
    monkeypatch.chdir(spec_dir.parent)
    assert _model_of(rewardlang.load("specs/paths.reward")) == str(spec_dir / "models" / "embedder")


def test_loads_takes_a_base_folder_and_defaults_to_the_working_directory(
    spec_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _model_of(loads(SPEC, base=spec_dir)) == str(spec_dir / "models" / "embedder")
    monkeypatch.chdir(tmp_path)
    # No such folder under the working directory, and `models/embedder` reads as a Hub id: kept as written.
    assert _model_of(loads(SPEC)) == "models/embedder"
    monkeypatch.chdir(spec_dir)
    assert _model_of(loads(SPEC)) == str(spec_dir / "models" / "embedder")


def test_paths_that_cannot_be_hub_ids_become_absolute_even_when_missing(tmp_path: Path) -> None:
    text = 'reward p\nrule rm: classifier "./rm/v2"\nrule home: classifier "~/rm"\nrule hub: classifier "org/rm"\n'
    rules = analyze(text, base=tmp_path).spec.rules  # type: ignore[union-attr]
    assert [rule.model for rule in rules] == [  # type: ignore[union-attr]
        str(tmp_path / "rm" / "v2"),
        os.path.expanduser("~/rm"),
        "org/rm",
    ]


def test_rewardc_check_and_fmt_keep_the_path_as_written(rewardc, spec_dir: Path) -> None:
    assert rewardc("check", spec_dir / "paths.reward").code == 0
    formatted = rewardc("fmt", spec_dir / "paths.reward")
    assert formatted.out == SPEC


class _Counting(RuleScorer):
    """A rule that counts the completions it found empty: a stand-in for a judge's failures."""

    def score(self, batch: Batch) -> list[float | None]:
        texts = batch.texts("answer")
        batch.record_metric(f"empty/{self.rule.name}", float(sum(not t for t in texts)))
        return [None if not t else 1.0 for t in texts]


def test_rule_counters_reach_log_metric_once_per_step_and_rewardc_score_json() -> None:
    compiled = loads("reward c\nrule a: json\nrule b: json\n")
    compiled.scorers["a"] = _Counting(compiled.spec.rules[0])
    logged: list[tuple[str, float]] = []
    kwargs = {
        "prompts": [[{"role": "user", "content": "q"}]] * 3,
        "completions": [[{"role": "assistant", "content": c}] for c in ("", "{}", "")],
        "completion_ids": [[1], [2], [3]],
        "trainer_state": None,
        "log_extra": lambda *a, **k: None,
        "log_metric": lambda name, value: logged.append((name, value)),
    }
    per_function = [function(**kwargs) for function in compiled.reward_funcs]
    assert per_function == [[None, 1.0, None], [0.0, 1.0, 0.0]]
    assert logged == [("empty/a", 2.0)]  # two reward functions, one scoring pass, logged once
    assert compiled.score(["", "x"]).metrics == {"empty/a": 1.0}


def test_a_row_scored_alone_after_a_batch_failure_still_counts() -> None:
    class Fragile(_Counting):
        def score(self, batch: Batch) -> list[float | None]:
            if batch.size > 1:
                raise ValueError("batch too big for this scorer")
            return super().score(batch)

    compiled = loads("reward c\nrule a: json\n")
    compiled.scorers["a"] = Fragile(compiled.spec.rules[0])
    scores = compiled.score(["", "x", ""])
    assert scores.rules["a"] == [None, 1.0, None]
    assert scores.metrics == {"empty/a": 2.0}
