"""Score the probes against the honest answers: the core of `rewardc probe`.

    from rewardlang import load
    from rewardlang.probe.run import probe

    report = probe(load("specs/chat.reward"), rows)    # rows: `rewardlang.scoring.Row`s
    report.reaching                                    # the probes that pay as much as honesty

The honest answers are scored in one batch, and each probe in one batch with the
same prompts and columns (probe `i`'s completion for row `i`). A probe's score for
a rule, and its total, are the medians over the rows; the honest median is the
median of the honest totals. A probe *reaches* the honest median when its total is
at least that median; a disguised banned word reaches it when the banned rule gives
its `absent` score (median over the rows), i.e. the disguise lets the word through.
For a spec with per-task rules (`when`), the totals are compared task by task (the
rows of one task against that task's honest median): a shortcut that pays on one
task must not hide among another task's higher totals.
Token ids are not passed on either side (the probes have none), so `tokens` lengths
are not applicable in a probe run.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rewardlang.conditions import task_of, task_values
from rewardlang.probe.shortcuts import Honest, Probe, build_probes
from rewardlang.rows import Row

# Column names `CompiledSpec.score(**columns)` cannot take: `rewardc score` drops them too.
from rewardlang.scoring import _CLASHING_COLUMNS

if TYPE_CHECKING:
    from rewardlang.compiler import CompiledSpec


@dataclass(frozen=True)
class ProbeResult:
    name: str
    description: str
    scores: dict[str, float | None]  # each rule's median over the rows (None: never applicable)
    total: float  # the median total
    reaches: bool
    verdict: str
    task: str | None = None  # per-task specs: the task the verdict is about (`task=math`)

    def as_dict(self) -> dict[str, Any]:
        found = {
            "name": self.name,
            "description": self.description,
            "scores": self.scores,
            "total": self.total,
            "reaches": self.reaches,
            "verdict": self.verdict,
        }
        return found | ({"task": self.task} if self.task is not None else {})


@dataclass(frozen=True)
class HonestSummary:
    count: int
    median: float
    scores: dict[str, float | None]  # each rule's median over the honest answers
    tasks: dict[str, float] | None = None  # per-task specs: each task's honest median, by label


@dataclass(frozen=True)
class ProbeReport:
    spec: str
    rules: list[str]
    honest: HonestSummary
    probes: list[ProbeResult]

    @property
    def reaching(self) -> list[ProbeResult]:
        return [result for result in self.probes if result.reaches]

    def as_dict(self) -> dict[str, Any]:
        """The `--format json` document (docs/testing.md describes it)."""
        return {
            "spec": self.spec,
            "honest": {"count": self.honest.count, "median": self.honest.median, "scores": self.honest.scores}
            | ({"tasks": self.honest.tasks} if self.honest.tasks is not None else {}),
            "probes": [result.as_dict() for result in self.probes],
        }


def probe(compiled: CompiledSpec, rows: Sequence[Row], seed: int = 0) -> ProbeReport:
    """Build the spec's probes from `rows` (at least one) and score them against the rows' own completions."""
    if not rows:
        raise ValueError("probing needs at least one honest answer")
    spec = compiled.spec
    honest = Honest(rows)
    columns = {name: values for name, values in honest.batch.columns.items() if name not in _CLASHING_COLUMNS}
    prompts = [row.prompt for row in rows]

    def scored(completions: Sequence[Any]) -> tuple[dict[str, float | None], list[float]]:
        scores = compiled.score(list(completions), prompts=prompts, completion_ids=None, explain=False,
                                at_step=0, **columns)
        return {name: _median(values) for name, values in scores.rules.items()}, scores.total

    labels = _task_labels(compiled, rows)
    honest_scores, honest_totals = scored([row.completion for row in rows])
    honest_median = statistics.median(honest_totals)
    by_task = _medians_by_task(honest_totals, labels) if labels is not None else None
    summary = HonestSummary(len(rows), honest_median, honest_scores, by_task)
    results = []
    for item in build_probes(spec, rows, seed):
        scores, totals = scored(item.completions)
        results.append(_judged(item, scores, totals, summary, labels))
    return ProbeReport(spec.name, spec.rule_names, summary, results)


def _task_labels(compiled: CompiledSpec, rows: Sequence[Row]) -> list[str] | None:
    """Each row's task (`task=math`), as `rewardc score` labels it; None for a spec without `when`."""
    from rewardlang.scoring import TaskStats

    values = task_values(compiled.spec)
    if not values:
        return None
    return [TaskStats(task_of(values, row.columns), ()).label for row in rows]


def _medians_by_task(totals: Sequence[float], labels: Sequence[str]) -> dict[str, float]:
    grouped: dict[str, list[float]] = {}
    for total, label in zip(totals, labels, strict=True):
        grouped.setdefault(label, []).append(total)
    return {label: statistics.median(values) for label, values in grouped.items()}


def _median(values: Sequence[float | None]) -> float | None:
    applicable = [value for value in values if value is not None]
    return statistics.median(applicable) if applicable else None


def _judged(item: Probe, scores: dict[str, float | None], totals: Sequence[float], honest: HonestSummary,
            labels: Sequence[str] | None) -> ProbeResult:
    total = statistics.median(totals)
    disguise = item.disguise
    if disguise is not None:
        given = scores.get(disguise.rule)
        pays = given is not None and given >= disguise.absent
        verdict = (
            f"`{disguise.phrase}` {disguise.method}: {'still pays' if pays else 'caught'}, "
            f"{disguise.rule} gives {_shown(given)}"
        )
        return ProbeResult(item.name, item.description, scores, total, pays, verdict)
    tasks = honest.tasks
    if labels is None or tasks is None:
        return ProbeResult(item.name, item.description, scores, total, total >= honest.median,
                           _verdict(item.name, total, honest.median, ""))
    # Per task: the task where the probe comes closest to (or goes furthest past) its honest median.
    probe_by_task = _medians_by_task(totals, labels)
    task = max(probe_by_task, key=lambda label: (probe_by_task[label] - tasks[label], label))
    reaches = probe_by_task[task] >= tasks[task]
    verdict = _verdict(item.name, probe_by_task[task], tasks[task], task)
    return ProbeResult(item.name, item.description, scores, total, reaches, verdict, task)


def _verdict(name: str, total: float, honest_median: float, task: str) -> str:
    where = "above" if total > honest_median else "at" if total >= honest_median else "below"
    on = f" on {task}" if task else ""
    there = " there" if task else ""
    return f"{name} scores {total:.2f}{on}, {where} the honest median {honest_median:.2f}{there}"


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"
