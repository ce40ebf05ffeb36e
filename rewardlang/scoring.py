"""Score a dataset of completions with a compiled spec: the core of `rewardc score`.

    from rewardlang import load
    from rewardlang.scoring import ScoreRequest, score

    result = score(ScoreRequest(load("specs/chat.reward"), "samples.jsonl"))
    result.summary()["total"]          # {"mean": ..., "min": ..., "max": ..., "none": ...}

A request names the spec, the data and how to read and score it; `score` reads the
data in batches, skips the rows that cannot be scored (listed with their row numbers
and why), and returns every scored row with per-rule statistics. `on_row` receives each
row as soon as its batch is scored (a stream: the result then keeps no rows).

Each record holds either `prompt` + `completion` (strings or message lists) or
`messages` (a conversation: its reply after the last user turn is the completion, the
turns up to it the prompt), checked by the rules of `rewardlang.conversations`. Other
fields are dataset columns (`column NAME` targets); `completion_ids` (a list of token
ids) feeds `tokens` lengths.

Nothing here knows argparse or terminals (that is `rewardlang.cli.score`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from rewardlang.conversations import completion_text
from rewardlang.datafile import DEFAULT_BATCH_SIZE, DataSource, open_data
from rewardlang.rows import Row, Skipped, to_row
from rewardlang.text import replace_surrogates

if TYPE_CHECKING:
    from rewardlang.compiler import CompiledSpec

# Column names that cannot be passed to `CompiledSpec.score(**columns)` (they are its parameters).
_CLASHING_COLUMNS = frozenset({"self", "completions", "prompts", "explain", "at_step"})


class ScoredRow(NamedTuple):
    """One scored row: its number, the text scored (the assistant text), each rule's score and the total."""

    number: int
    text: str
    scores: dict[str, float | None]
    total: float
    explanations: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"row": self.number, "scores": self.scores, "total": self.total}
        if self.explanations is not None:
            item["explanations"] = self.explanations
        return item


@dataclass(frozen=True)
class ScoreRequest:
    """What to score and how."""

    spec: CompiledSpec
    data: str | DataSource  # a path, `-` for standard input, or a source from `open_data` (the caller closes it)
    data_format: str = "auto"  # one of `datafile.DATA_FORMATS`
    batch_size: int = DEFAULT_BATCH_SIZE
    limit: int | None = None  # score only the first N usable rows
    explain: bool = False  # each rule's reason for its score
    step: int = 0  # the training step whose scheduled weights the total uses
    on_row: Callable[[ScoredRow], None] | None = None  # each row once scored; the result then keeps none
    on_progress: Callable[[int], None] | None = None  # the number of rows just handled (scored or skipped)


class Stats:
    """Mean, min, max and the number of `None` scores of one rule (or the total)."""

    def __init__(self) -> None:
        self.count = 0
        self.none = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf

    def add(self, value: float | None) -> None:
        if value is None:
            self.none += 1
            return
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)

    def as_dict(self) -> dict[str, float | int | None]:
        if not self.count:
            return {"mean": None, "min": None, "max": None, "none": self.none}
        return {"mean": self.total / self.count, "min": self.low, "max": self.high, "none": self.none}


@dataclass
class ScoreResult:
    """Everything one run found: scored rows (unless streamed to `on_row`), skipped rows, statistics."""

    spec: str  # the spec's name
    rules: list[str]
    data: str  # the data's name (`<stdin>` for standard input)
    rows: list[ScoredRow] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rows_read: int = 0
    scored: int = 0
    stats: dict[str, Stats] = field(default_factory=dict)
    total_stats: Stats = field(default_factory=Stats)
    dropped_columns: set[str] = field(default_factory=set)  # columns not passed to rules: the name is reserved
    metrics: dict[str, float] = field(default_factory=dict)  # what rules counted, summed over every batch
    step: int = 0
    weights: dict[str, float] = field(default_factory=dict)  # the scheduled weights at `step` (`weight/<rule>`, ...)

    def summary(self) -> dict[str, Any]:
        scheduled = {"step": self.step, "weights": self.weights} if self.weights else {}
        return scheduled | {
            "rows": self.rows_read,
            "scored": self.scored,
            "skipped": len(self.skipped),
            "skipped_rows": [{"row": s.number, "reason": s.reason} for s in self.skipped],
            "rules": {name: stats.as_dict() for name, stats in self.stats.items()},
            "total": self.total_stats.as_dict(),
            "metrics": dict(sorted(self.metrics.items())),
        }


def score(request: ScoreRequest) -> ScoreResult:
    """Read, score in batches, hand rows to `on_row` as they come. Raises `DataError` when the
    data cannot be read, and whatever a rule raises on purpose (`ModelLoadError`)."""
    if isinstance(request.data, DataSource):
        return _score_source(request, request.data)
    source = open_data(request.data, request.data_format, request.batch_size)
    try:
        return _score_source(request, source)
    finally:
        source.close()


def _score_source(request: ScoreRequest, source: DataSource) -> ScoreResult:
    spec = request.spec.spec
    rules = [rule.name for rule in spec.rules]
    result = ScoreResult(spec.name, rules, source.name, stats={name: Stats() for name in rules}, step=request.step)
    advance = request.on_progress or (lambda count: None)
    batch: list[Row] = []
    for number, record in source.records():
        result.rows_read += 1
        row = to_row(number, record)
        if isinstance(row, Skipped):
            result.skipped.append(row)
            advance(1)
            continue
        batch.append(row)
        if request.limit is not None and result.scored + len(batch) >= request.limit:
            break
        if len(batch) >= request.batch_size:
            _score_batch(request, batch, result)
            advance(len(batch))
            batch = []
    if batch:
        _score_batch(request, batch, result)
        advance(len(batch))
    return result


def _score_batch(request: ScoreRequest, batch: Sequence[Row], result: ScoreResult) -> None:
    names = sorted({name for row in batch for name in row.columns})
    columns: dict[str, list[Any]] = {}
    for name in names:
        if name in _CLASHING_COLUMNS:
            result.dropped_columns.add(name)
            continue
        columns[name] = [row.columns.get(name) for row in batch]
    ids = [row.completion_ids for row in batch]
    scores = request.spec.score(
        [row.completion for row in batch],
        prompts=[row.prompt for row in batch],
        completion_ids=ids if any(i is not None for i in ids) else None,
        explain=request.explain,
        at_step=request.step,
        **columns,
    )
    result.weights = scores.weights
    for metric, count in scores.metrics.items():
        result.metrics[metric] = result.metrics.get(metric, 0.0) + count
    for i, row in enumerate(batch):
        rule_scores = {name: values[i] for name, values in scores.rules.items()}
        explanations = (
            {name: replace_surrogates(reasons[i]) for name, reasons in scores.explanations.items()}
            if request.explain and scores.explanations is not None
            else None
        )
        # A lone surrogate (from the Python API; the reader already replaces them) cannot be printed.
        text = replace_surrogates(completion_text(row.completion))
        scored = ScoredRow(row.number, text, rule_scores, scores.total[i], explanations)
        for name, value in rule_scores.items():
            result.stats.setdefault(name, Stats()).add(value)
        result.total_stats.add(scored.total)
        result.scored += 1
        if request.on_row is None:
            result.rows.append(scored)
        else:
            request.on_row(scored)
