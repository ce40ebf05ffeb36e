"""The syntax tree: what the user wrote, with a span on every piece.

`lower.py` builds it from Lark's parse tree; `validate.py` turns it into the
validated `Spec`; `fmt.py` prints it back in canonical form. It holds values as
written (options in source order, defaults not yet applied) and never fails. Its nodes
are frozen records (`rewardlang.records`: dataclass-like, without generated code).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rewardlang.records import Record
from rewardlang.source import Span


class Number(Record):
    value: int | float
    span: Span


class Word(Record):
    """A bare name used as a value: `words`, `answer`, `rougeL`, a rule name."""

    text: str
    span: Span


class String(Record):
    value: str  # escapes decoded
    span: Span
    raw: bool = False  # written as r"..."


class Range(Record):
    low: Number | None
    high: Number | None
    span: Span


class Target(Record):
    """`last_user`, `prompt`, `system` (named) or `column NAME` (a dataset column)."""

    name: str
    is_column: bool
    span: Span


class Flag(Record):
    """An option written without a value, such as `ordered`."""

    span: Span


class TypedString(Record):
    """A list item with a type after a colon: `"name": string` (the `keys` of `json`)."""

    string: String
    type: Word
    span: Span


class ColumnValue(Record):
    """An example's dataset column: `column reference "..."` (a string or a number)."""

    name: str
    name_span: Span
    value: String | Number
    span: Span


class Expectation(Record):
    """An example's `expect RULE = 0.5 within 0.1`, `expect total >= 1`, `expect RULE n/a`."""

    subject: Word  # a rule name, or `total`
    op: Word  # `=`, `<`, `<=`, `>`, `>=` or `n/a`
    value: Number | None
    within: Number | None
    span: Span


class ScheduleValue(Record):
    """A weight that follows the training step, as written (`rewardlang.schedules`):
    `0 -> 1 over 100` or `over 50..150` (linear), `1 -> 0 at 200` (switch), `points 0: 0, 100: 1`."""

    form: str  # linear | switch | points
    points: tuple[tuple[Number | None, Number], ...]  # (step, weight); a None step is step 0, not written
    span: Span


class Correct(Record):
    """`brevity`'s `correct accuracy` or `correct accuracy >= 0.5`: the rule that says a completion is correct."""

    rule: Word
    comparison: Word | None
    threshold: Number | None
    span: Span


class Condition(Record):
    """Where a rule applies: `task = "math"`, `task in "a", "b"`, `has reference` (the `when` option and group)."""

    column: str
    column_span: Span
    op: str  # `=`, `in` or `has`
    values: tuple[String | Number, ...]  # one for `=`, one or more for `in`, none for `has`
    span: Span


Value = (
    Number
    | Word
    | String
    | Range
    | Target
    | Flag
    | ColumnValue
    | Expectation
    | ScheduleValue
    | Correct
    | Condition
    | tuple[String | TypedString, ...]
)


class Option(Record):
    key: str
    value: Value
    key_span: Span
    span: Span


class Rule(Record):
    name: Word
    kind: Word
    arguments: tuple[tuple[str, Value], ...]  # kind-specific, in source order
    options: tuple[Option, ...]
    span: Span
    block_span: Span | None = None
    # A plugin kind's header (`readability 6..10`): its values in source order, named by the
    # kind's record only when validated (the parser does not load plugins). None: a built-in kind.
    plugin_values: tuple[Value, ...] | None = None


class Expr(Record):
    """A formula node. `op` is one of num, ref, neg, add, sub, mul, div, call."""

    op: str
    span: Span
    number: float | None = None
    name: Word | None = None  # rule reference or function name
    args: tuple[Expr, ...] = ()


class Total(Record):
    expr: Expr
    span: Span


class Gate(Record):
    rule: Word
    comparison: Word
    threshold: Number
    value: Number | None
    span: Span


class Clip(Record):
    range: Range
    span: Span


class Defaults(Record):
    options: tuple[Option, ...]
    span: Span
    block_span: Span | None = None


class Example(Record):
    """`example "name" { ... }`: its items are options keyed `prompt`, `completion`, `column`,
    `expect`, or a role (`user`, `system`, ...), in source order."""

    name: String | None
    options: tuple[Option, ...]
    span: Span
    block_span: Span | None = None


class ExamplesFile(Record):
    """`examples "file.jsonl"`: more examples, one JSON object per line, in a file next to the spec."""

    path: String
    span: Span


class Header(Record):
    name: Word
    description: String | None
    span: Span


class Schedule(Record):
    """`schedule NAME: 0 -> 1 over 100`: a named weight for formula terms."""

    name: Word
    value: ScheduleValue
    span: Span


class WhenGroup(Record):
    """`when CONDITION { rule ... }`: rules that apply only where the condition holds."""

    condition: Condition
    rules: tuple[Rule, ...]
    span: Span
    block_span: Span


class Plugins(Record):
    """`plugins "rewardlang-readability", ...`: the distributions whose rule kinds the spec uses."""

    packages: tuple[String, ...]
    span: Span


Statement = Header | Defaults | Rule | Total | Gate | Clip | Example | ExamplesFile | Schedule | WhenGroup | Plugins


class Comment(Record):
    text: str  # including the leading '#'
    span: Span


@dataclass
class SpecSyntax:
    source: str = ""  # the text the spans refer to (line endings normalised)
    statements: list[Statement] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    # Names of rules whose statement failed to parse: checks must not report
    # them as unknown when a formula refers to them.
    broken_rule_names: set[str] = field(default_factory=set)
