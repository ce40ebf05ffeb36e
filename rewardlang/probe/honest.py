"""The honest answers a probe run compares with: rows of a data file, as `rewardc score` and `grpo-train` read them.

A record with `prompt` + `completion` is that row; a `messages` conversation gives
the turns up to its last user turn as the prompt and the reply after it as the
honest completion. grpo-train keeps a conversation's final answer as a `reference`
column (`trainer/data.py`, `prepare`), so a conversation without a `reference`
field gets one here too: rules compared with `column reference` see what they see
in training.

Without data, the spec's own examples are the honest answers, less the examples of
what must not pay: those that expect the total or a rule to stay below something
(`expect total <= 1`, `expect on_topic < 0.3`), a rule to give its lowest score
(`expect safety = 0`, `expect valid_call = 0`), or the total to be what a gate sets
or the clip's lower end (`expect total = 0` under `gate copied > 0.7 then 0`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rewardlang import ast
from rewardlang.datafile import DataSource
from rewardlang.examples import example_rows
from rewardlang.registry import score_range
from rewardlang.rows import Row, Skipped, to_row, with_reference


@dataclass
class HonestData:
    rows: list[Row] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    rows_read: int = 0


def read_honest(source: DataSource, limit: int | None = None) -> HonestData:
    """The usable rows of `source` (the first `limit` of them), and the rows skipped, with why."""
    data = HonestData()
    for number, record in source.records():
        if limit is not None and len(data.rows) >= limit:
            break
        data.rows_read += 1
        row = to_row(number, record)
        if isinstance(row, Skipped):
            data.skipped.append(row)
            continue
        data.rows.append(with_reference(record, row))
    return data


def honest_examples(spec: ast.Spec) -> list[Row]:
    """The spec's examples as rows, less the examples of answers that must not pay."""
    rows = example_rows(spec.examples)
    return [row for example, row in zip(spec.examples, rows, strict=True) if not _shows_a_failure(spec, example)]


def _shows_a_failure(spec: ast.Spec, example: ast.Example) -> bool:
    for item in example.expectations:
        if item.op in ("<", "<="):
            return True
        if (
            item.op == "="
            and item.subject != "total"
            and item.value is not None
            and item.value <= score_range(spec.rule(item.subject))[0]
        ):
            return True  # the rule's lowest score
        if item.op == "=" and item.subject == "total" and item.value in _floors(spec):
            return True  # a gate fired, or the total sits at the bottom of its clip
    return False


def _floors(spec: ast.Spec) -> set[float]:
    """The totals that mean "this answer is refused": each gate's value and the clip's lower end."""
    floors = {gate.value for gate in spec.gates}
    if spec.clip is not None and spec.clip.low is not None:
        floors.add(spec.clip.low)
    return floors
