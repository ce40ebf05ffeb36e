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
Token ids are not passed on either side (the probes have none), so `tokens` lengths
are not applicable in a probe run.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "scores": self.scores,
            "total": self.total,
            "reaches": self.reaches,
            "verdict": self.verdict,
        }


@dataclass(frozen=True)
class HonestSummary:
    count: int
    median: float
    scores: dict[str, float | None]  # each rule's median over the honest answers


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
            "honest": {"count": self.honest.count, "median": self.honest.median, "scores": self.honest.scores},
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

    def scored(completions: Sequence[Any]) -> tuple[dict[str, float | None], float]:
        scores = compiled.score(list(completions), prompts=prompts, completion_ids=None, explain=False,
                                at_step=0, **columns)
        return {name: _median(values) for name, values in scores.rules.items()}, statistics.median(scores.total)

    honest_scores, honest_median = scored([row.completion for row in rows])
    summary = HonestSummary(len(rows), honest_median, honest_scores)
    results = []
    for item in build_probes(spec, rows, seed):
        scores, total = scored(item.completions)
        results.append(_judged(item, scores, total, honest_median))
    return ProbeReport(spec.name, spec.rule_names, summary, results)


def _median(values: Sequence[float | None]) -> float | None:
    applicable = [value for value in values if value is not None]
    return statistics.median(applicable) if applicable else None


def _judged(item: Probe, scores: dict[str, float | None], total: float, honest_median: float) -> ProbeResult:
    disguise = item.disguise
    if disguise is not None:
        given = scores.get(disguise.rule)
        pays = given is not None and given >= disguise.absent
        verdict = (
            f"`{disguise.phrase}` {disguise.method}: {'still pays' if pays else 'caught'}, "
            f"{disguise.rule} gives {_shown(given)}"
        )
        return ProbeResult(item.name, item.description, scores, total, pays, verdict)
    reaches = total >= honest_median
    where = "above" if total > honest_median else "at" if reaches else "below"
    verdict = f"{item.name} scores {total:.2f}, {where} the honest median {honest_median:.2f}"
    return ProbeResult(item.name, item.description, scores, total, reaches, verdict)


def _shown(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"
