"""Per-task rules: where a rule's `when` condition holds, and what a dataset says about a spec's columns.

A rule with `when task = "math"` (or inside `when task = "math" { ... }`) applies
only to the rows whose `task` column matches; elsewhere it scores None, which TRL
leaves out of that row's sum and of the rule's logged mean. The compiler scores
only the rows where the rule applies (`applicable_rows`), so a judge or a model
rule costs nothing on the others.

How a row's value compares with a spec's value (`holds`), written once here and
in docs/language.md §12.1:
- a spec string equals a text value equal to it, character for character;
- a spec number equals a number of the same value (booleans are not numbers) or a
  text that reads as the same number (`"3"`, `" 3.0 "`, `"3e0"`);
- `has COLUMN`: the row has the column and its value is neither None, nor an empty
  text, nor an empty list;
- a row without the column (a batch without it) matches no `=` or `in` condition.

`data_diagnostics` compares a spec with a dataset's columns and rows: the checks of
`rewardc check --data` and of `grpo-train` at start-up. `task_of` names a row's task for
`rewardc score`'s per-task means.
"""

from __future__ import annotations

import contextlib
import math
import numbers
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rewardlang import codes
from rewardlang.diagnostics import Diagnostic, did_you_mean
from rewardlang.nodes import Condition, RuleBase, Target
from rewardlang.runtime import TRL_KEYWORDS

if TYPE_CHECKING:
    from rewardlang.ast import Spec
    from rewardlang.runtime import Batch

# Names that never reach a reward function as a dataset column: TRL takes `prompt`,
# `completion` and `completion_ids` out of the row, and passes its own keywords by these names.
RESERVED_COLUMNS = frozenset({"prompt", "completion"}) | TRL_KEYWORDS
VALUES_SHOWN = 8  # distinct values of a column listed when no row matches a condition

_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


# ---------------------------------------------------------------- matching
def matches(expected: str | float, value: Any) -> bool:
    """Whether a row's `value` equals the spec's `expected` value (module docstring)."""
    if isinstance(expected, str):
        return isinstance(value, str) and value == expected
    if isinstance(value, bool):
        return False
    if isinstance(value, numbers.Real):  # numpy's numbers too (numpy's bool is no `Real`)
        number = float(value)
        return math.isfinite(number) and number == expected
    if isinstance(value, str):
        text = value.strip()
        return _NUMBER.fullmatch(text) is not None and float(text) == expected
    return False


def present(value: Any) -> bool:
    """`has COLUMN`: a value that is not None, not an empty text and not an empty list."""
    if value is None:
        return False
    return not (isinstance(value, str | list | tuple) and len(value) == 0)


def holds(condition: Condition, value: Any) -> bool:
    """Whether the condition holds for a row whose condition column holds `value`."""
    if condition.op == "has":
        return present(value)
    return any(matches(expected, value) for expected in condition.values)


def applicable_rows(condition: Condition, batch: Batch) -> list[int]:
    """The indices of the batch's rows where `condition` holds; none when the batch lacks the column."""
    values = batch.columns.get(condition.column)
    if values is None:
        return []
    # Cached as one flag per row, so that a subset of the batch picks its own share (`Batch.subset`).
    key = ("when", condition.column, condition.op, condition.values)
    mask = batch.cached(key, lambda: [holds(condition, value) for value in values])
    return [i for i, applies in enumerate(mask) if applies]


def not_applicable_reason(condition: Condition, batch: Batch, index: int) -> str:
    """Why a rule with `condition` does not apply to row `index` (an explanation of its None)."""
    values = batch.columns.get(condition.column)
    if values is None or (values[index] is None and condition.op != "has"):
        return f"not applicable: no `{condition.column}` (when {condition.describe()})"
    shown = _shown(values[index])
    return f"not applicable: `{condition.column}` is {shown} (when {condition.describe()})"


def _shown(value: Any, limit: int = 40) -> str:
    """A data value as a message shows it: strings quoted, long ones shortened."""
    if isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    elif isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        text = str(int(value))
    else:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def condition_columns(spec: Spec) -> list[str]:
    """The columns the spec's `when` conditions read, in order of first use."""
    return list(dict.fromkeys(rule.when.column for rule in spec.rules if rule.when is not None))


# ------------------------------------------------------------------- tasks
# What a row's task is (`rewardc score`'s per-task means): for each condition column, the spec's
# value the row matches, else OTHER; for a column that only `has` conditions read, PRESENT; NONE
# for a row without a value. Bounded by the spec's values, whatever the data holds.
OTHER, PRESENT, NONE = "(other)", "(present)", None


def task_values(spec: Spec) -> dict[str, tuple[str | float, ...]]:
    """Each condition column and the values the spec compares it with (none: only `has` reads it)."""
    found: dict[str, list[str | float]] = {}
    for rule in spec.rules:
        if rule.when is not None:
            found.setdefault(rule.when.column, []).extend(rule.when.values)
    return {column: tuple(dict.fromkeys(values)) for column, values in found.items()}


def task_of(values: Mapping[str, tuple[str | float, ...]], row: Mapping[str, Any]) -> dict[str, str | float | None]:
    """The task of a row with dataset columns `row`, as `task_values` describes the spec."""
    task: dict[str, str | float | None] = {}
    for column, expected in values.items():
        value = row.get(column)
        if value is None:
            task[column] = NONE
        elif not expected:
            task[column] = PRESENT if present(value) else NONE
        else:
            task[column] = next((v for v in expected if matches(v, value)), OTHER)
    return task


# ------------------------------------------------------------- data checks
def columns_read(rule: RuleBase) -> Iterator[tuple[str, Any, str]]:
    """(column, span, label) of each dataset column a rule reads: its `column NAME` targets and a
    judge's `{column.NAME}` placeholders (in its criterion and its template file); not its `when`."""
    missing = "not a column of the data"
    for name in type(rule).model_fields:
        value = getattr(rule, name)
        if isinstance(value, Target) and value.kind == "column" and value.column is not None:
            yield value.column, value.span, missing
    for column in _placeholder_columns(rule):  # the rule is shown: the placeholder may be in its template file
        yield column, rule.span, f"{{column.{column}}}: {missing}"


def _placeholder_columns(rule: RuleBase) -> list[str]:
    if rule.kind != "judge":
        return []
    from rewardlang.kinds.judge import placeholders, read_template

    texts = [str(getattr(rule, "criterion", ""))]
    template = getattr(rule, "template", None)
    if template is not None and os.path.isfile(template):
        with contextlib.suppress(OSError, UnicodeDecodeError):  # `rewardc check` reports those itself (RL126)
            texts.append(read_template(template))
    names = [p.name for text in texts for p in placeholders(text)]
    return list(dict.fromkeys(n.removeprefix("column.") for n in names if n.startswith("column.") and n != "column."))


def data_diagnostics(spec: Spec, columns: Collection[str], rows: Iterable[Mapping[str, Any]]) -> list[Diagnostic]:
    """Warnings about `spec` on a dataset with `columns` and (a sample of) its `rows`.

    RL219 for every column a rule reads that the data lacks (with "did you mean"),
    RL220 for every `when` condition that holds on none of the rows. Never errors:
    a dataset never stops training, it only explains why a rule would never apply.
    A group's rules share its condition: each condition is reported once.
    """
    available = sorted(c for c in columns if c not in RESERVED_COLUMNS)
    conditions = list({rule.when.span.start: rule.when for rule in spec.rules if rule.when is not None}.values())
    diagnostics = [
        _missing_condition_column(condition, available)
        for condition in conditions
        if condition.column not in columns and condition.column not in RESERVED_COLUMNS
    ]
    seen: set[tuple[str, str, int]] = set()
    for rule in spec.rules:
        for column, span, label in columns_read(rule):
            if column in columns or column in RESERVED_COLUMNS or (rule.name, column, span.start) in seen:
                continue
            seen.add((rule.name, column, span.start))
            diagnostics.append(_missing_column(rule.name, column, span, label, available))
    rows = list(rows)
    diagnostics += [
        _never_holds(condition, rows)
        for condition in conditions
        if condition.column in columns
        and condition.column not in RESERVED_COLUMNS
        and not any(holds(condition, row.get(condition.column)) for row in rows)
    ]
    return diagnostics


def _missing_column(rule: str, column: str, span: Any, label: str, available: Sequence[str]) -> Diagnostic:
    return codes.RL219(span, rule=rule, column=column, label=label, help=_columns_help(column, available))


def _missing_condition_column(condition: Condition, available: Sequence[str]) -> Diagnostic:
    return codes.RL219(
        condition.column_span,
        variant="condition",
        condition=condition.describe(),
        column=condition.column,
        label="not a column of the data",
        help=_columns_help(condition.column, available),
    )


def _columns_help(column: str, available: Sequence[str]) -> str:
    best = did_you_mean(column, available)
    if best is not None:
        help_text = f"did you mean `{best}`?"
    elif available:
        listed = ", ".join(f"`{c}`" for c in available[:VALUES_SHOWN])
        help_text = f"the data's columns are {listed}" + (" …" if len(available) > VALUES_SHOWN else "")
    else:
        help_text = "the data has no columns besides the prompt and the completion"
    return help_text


def _never_holds(condition: Condition, rows: Sequence[Mapping[str, Any]]) -> Diagnostic:
    found = (row.get(condition.column) for row in rows)
    values = list(dict.fromkeys(_shown(value) for value in found if present(value)))
    if values:
        more = len(values) - VALUES_SHOWN
        listed = ", ".join(values[:VALUES_SHOWN]) + (f" and {more} more" if more > 0 else "")
        help_text = f"`{condition.column}` holds {listed}"
        texts = {str(row.get(condition.column)) for row in rows if isinstance(row.get(condition.column), str)}
        candidates = sorted(texts)
        close = [best for v in condition.values if isinstance(v, str) and (best := did_you_mean(v, candidates))]
        if close:
            help_text = f"did you mean {_shown(close[0])}? " + help_text
    else:
        help_text = f"`{condition.column}` is empty in every row"
    rows_read = f"{len(rows)} row{'s' if len(rows) != 1 else ''}"
    return codes.RL220(
        condition.span, condition=condition.describe(), rows=rows_read, label="holds on no row", help=help_text
    )
