"""The honest answers a probe run compares with: rows of a data file, as `rewardc score` and `grpo-train` read them.

A record with `prompt` + `completion` is that row; a `messages` conversation gives
the turns up to its last user turn as the prompt and the reply after it as the
honest completion. grpo-train keeps a conversation's final answer as a `reference`
column (`trainer/data.py`, `prepare`), so a conversation without a `reference`
field gets one here too: rules compared with `column reference` see what they see
in training.

Without data, the spec's own examples are the honest answers, less the examples of
what must not pay: those that expect the total to be below something (`expect total
<= 0`: a refusal, a promise the spec forbids).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rewardlang import ast
from rewardlang.conversations import final_answer, split_conversation
from rewardlang.datafile import DataSource
from rewardlang.examples import example_rows
from rewardlang.rows import Row, Skipped, to_row

REFERENCE = "reference"


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


def with_reference(record: Any, row: Row) -> Row:
    """A conversation's row with grpo-train's `reference` column: its final answer (None if it ends otherwise)."""
    if record.get("completion") is not None or REFERENCE in record:
        return row
    _, reply = split_conversation(record["messages"])
    return row._replace(columns={**row.columns, REFERENCE: final_answer(reply)})


def honest_examples(spec: ast.Spec) -> list[Row]:
    """The spec's examples as rows, less those that expect a low total (examples of shortcuts)."""
    rows = example_rows(spec)
    return [row for example, row in zip(spec.examples, rows, strict=True) if not _caps_the_total(example)]


def _caps_the_total(example: ast.Example) -> bool:
    return any(item.subject == "total" and item.op in ("<", "<=") for item in example.expectations)
