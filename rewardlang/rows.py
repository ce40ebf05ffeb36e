"""A record of data as a row to score: its prompt, its completion, token ids and dataset columns.

Each record holds either `prompt` + `completion` (strings or message lists) or
`messages` (a conversation: its reply after the last user turn is the completion, the
turns up to it the prompt), checked by the rules of `rewardlang.conversations`. Other
fields are dataset columns (`column NAME` targets); `completion_ids` (a list of token
ids) feeds `tokens` lengths. One reading for `rewardc score`, examples files and probes.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from rewardlang.conversations import (
    completion_problem,
    conversation_problem,
    final_answer,
    prompt_problem,
    reply_problem,
    split_conversation,
)

# A row that cannot be scored, and why: the JSON-lines reader's type (its bad lines are skipped rows).
from rewardlang.jsonlines import BadLine as Skipped
from rewardlang.jsonlines import json_type

__all__ = ["Row", "Skipped", "to_row", "with_reference"]

# grpo-train keeps a conversation's final answer as this column (`trainer/data.py`, `prepare`).
REFERENCE = "reference"

# Fields of a row that are not dataset columns.
_ROW_FIELDS = frozenset({"prompt", "completion", "messages", "completion_ids"})


class Row(NamedTuple):
    """One usable row: what `CompiledSpec.score` takes for one completion."""

    number: int
    prompt: Any
    completion: Any
    completion_ids: Any
    columns: dict[str, Any]


def to_row(number: int, record: Any) -> Row | Skipped:
    """A record as a usable row, or why it cannot be scored."""
    if isinstance(record, Skipped):
        return record
    if not isinstance(record, dict):
        return Skipped(number, f"not an object ({json_type(record)})")
    if record.get("completion") is not None:
        completion = record["completion"]
        if isinstance(completion, dict):  # one message
            completion = [completion]
        prompt = record.get("prompt")
        problem = completion_problem(completion) or (prompt_problem(prompt) if prompt is not None else None)
    elif record.get("messages") is not None:
        messages = record["messages"]
        problem = conversation_problem(messages)
        if problem is not None:
            return Skipped(number, problem.message)
        prompt, completion = split_conversation(messages)
        problem = reply_problem(completion)
    elif "completion" in record:
        return Skipped(number, "`completion` is null")
    else:
        return Skipped(number, "no `completion` or `messages`")
    if problem is not None:
        return Skipped(number, problem.message)
    completion_ids = record.get("completion_ids")
    if completion_ids is not None and not (
        isinstance(completion_ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in completion_ids)
    ):
        return Skipped(number, "`completion_ids` is not a list of whole numbers")
    return Row(number, prompt, completion, completion_ids, row_columns(record))


def row_columns(record: dict[Any, Any]) -> dict[str, Any]:
    """A record's dataset columns: every field but the prompt, the completion and its ids."""
    return {key: value for key, value in record.items() if key not in _ROW_FIELDS and isinstance(key, str)}


def with_reference(record: Any, row: Row) -> Row:
    """A conversation's row with grpo-train's `reference` column: its final answer (None if it ends otherwise)."""
    if record.get("completion") is not None or REFERENCE in record:
        return row
    _, reply = split_conversation(record["messages"])
    return row._replace(columns={**row.columns, REFERENCE: final_answer(reply)})
