"""The syntax tree: what the user wrote, with a span on every piece.

`lower.py` builds it from Lark's parse tree; `validate.py` turns it into the
validated `Spec`; `fmt.py` prints it back in canonical form. It holds values as
written (options in source order, defaults not yet applied) and never fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rewardlang.source import Span


@dataclass(frozen=True, slots=True)
class Number:
    value: int | float
    span: Span


@dataclass(frozen=True, slots=True)
class Word:
    """A bare name used as a value: `words`, `answer`, `rougeL`, a rule name."""

    text: str
    span: Span


@dataclass(frozen=True, slots=True)
class String:
    value: str  # escapes decoded
    span: Span
    raw: bool = False  # written as r"..."


@dataclass(frozen=True, slots=True)
class Range:
    low: Number | None
    high: Number | None
    span: Span


@dataclass(frozen=True, slots=True)
class Target:
    """`last_user`, `prompt`, `system` (named) or `column NAME` (a dataset column)."""

    name: str
    is_column: bool
    span: Span


@dataclass(frozen=True, slots=True)
class Flag:
    """An option written without a value, such as `ordered`."""

    span: Span


@dataclass(frozen=True, slots=True)
class TypedString:
    """A list item with a type after a colon: `"name": string` (the `keys` of `json`)."""

    string: String
    type: Word
    span: Span


@dataclass(frozen=True, slots=True)
class ColumnValue:
    """An example's dataset column: `column reference "..."` (a string or a number)."""

    name: str
    name_span: Span
    value: String | Number
    span: Span


@dataclass(frozen=True, slots=True)
class Expectation:
    """An example's `expect RULE = 0.5 within 0.1`, `expect total >= 1`, `expect RULE n/a`."""

    subject: Word  # a rule name, or `total`
    op: Word  # `=`, `<`, `<=`, `>`, `>=` or `n/a`
    value: Number | None
    within: Number | None
    span: Span


@dataclass(frozen=True, slots=True)
class ScheduleValue:
    """A weight that follows the training step, as written (`rewardlang.schedules`):
    `0 -> 1 over 100` or `over 50..150` (linear), `1 -> 0 at 200` (switch), `points 0: 0, 100: 1`."""

    form: str  # linear | switch | points
    points: tuple[tuple[Number | None, Number], ...]  # (step, weight); a None step is step 0, not written
    span: Span


@dataclass(frozen=True, slots=True)
class Correct:
    """`brevity`'s `correct accuracy` or `correct accuracy >= 0.5`: the rule that says a completion is correct."""

    rule: Word
    comparison: Word | None
    threshold: Number | None
    span: Span


@dataclass(frozen=True, slots=True)
class Condition:
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


@dataclass(frozen=True, slots=True)
class Option:
    key: str
    value: Value
    key_span: Span
    span: Span


@dataclass(frozen=True, slots=True)
class Rule:
    name: Word
    kind: Word
    arguments: tuple[tuple[str, Value], ...]  # kind-specific, in source order
    options: tuple[Option, ...]
    span: Span
    block_span: Span | None = None
    # A plugin kind's header (`readability 6..10`): its values in source order, named by the
    # kind's record only when validated (the parser does not load plugins). None: a built-in kind.
    plugin_values: tuple[Value, ...] | None = None


@dataclass(frozen=True, slots=True)
class Expr:
    """A formula node. `op` is one of num, ref, neg, add, sub, mul, div, call."""

    op: str
    span: Span
    number: float | None = None
    name: Word | None = None  # rule reference or function name
    args: tuple[Expr, ...] = ()


@dataclass(frozen=True, slots=True)
class Total:
    expr: Expr
    span: Span


@dataclass(frozen=True, slots=True)
class Gate:
    rule: Word
    comparison: Word
    threshold: Number
    value: Number | None
    span: Span


@dataclass(frozen=True, slots=True)
class Clip:
    range: Range
    span: Span


@dataclass(frozen=True, slots=True)
class Defaults:
    options: tuple[Option, ...]
    span: Span
    block_span: Span | None = None


@dataclass(frozen=True, slots=True)
class Example:
    """`example "name" { ... }`: its items are options keyed `prompt`, `completion`, `column`,
    `expect`, or a role (`user`, `system`, ...), in source order."""

    name: String | None
    options: tuple[Option, ...]
    span: Span
    block_span: Span | None = None


@dataclass(frozen=True, slots=True)
class ExamplesFile:
    """`examples "file.jsonl"`: more examples, one JSON object per line, in a file next to the spec."""

    path: String
    span: Span


@dataclass(frozen=True, slots=True)
class Header:
    name: Word
    description: String | None
    span: Span


@dataclass(frozen=True, slots=True)
class Schedule:
    """`schedule NAME: 0 -> 1 over 100`: a named weight for formula terms."""

    name: Word
    value: ScheduleValue
    span: Span


@dataclass(frozen=True, slots=True)
class WhenGroup:
    """`when CONDITION { rule ... }`: rules that apply only where the condition holds."""

    condition: Condition
    rules: tuple[Rule, ...]
    span: Span
    block_span: Span


@dataclass(frozen=True, slots=True)
class Plugins:
    """`plugins "rewardlang-readability", ...`: the distributions whose rule kinds the spec uses."""

    packages: tuple[String, ...]
    span: Span


Statement = Header | Defaults | Rule | Total | Gate | Clip | Example | ExamplesFile | Schedule | WhenGroup | Plugins


@dataclass(frozen=True, slots=True)
class Comment:
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
