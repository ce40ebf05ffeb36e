"""The canonical form of a spec (`rewardc fmt`).

Formatting works on the syntax tree, so a spec with semantic errors still
formats; only syntax errors stop it. Every comment is kept: a comment on its
own line stays before the statement or option that follows it, a comment at
the end of a line stays at the end of that line. Blank lines between
statements are kept (collapsed to one). Formatting is idempotent and the
result validates to the same Spec.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rewardlang import codes
from rewardlang import syntax as syn
from rewardlang.diagnostics import Diagnostic
from rewardlang.parser import MAX_SOURCE_CHARS, is_name, parse_syntax
from rewardlang.registry import KINDS
from rewardlang.source import SourceMap, Span

WIDTH = 88
INDENT = "    "
LIST_INDENT = INDENT * 2
MAX_INLINE_OPTIONS = 3

_PRECEDENCE = {"add": 1, "sub": 1, "mul": 2, "div": 2, "neg": 3, "num": 4, "ref": 4, "call": 4}
_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
_STRING_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"}  # and the quote


def format_source(text: str) -> tuple[str | None, list[Diagnostic]]:
    """The canonical text, or None plus the syntax errors that prevent formatting."""
    tree, diagnostics = parse_syntax(text)
    errors = [d for d in diagnostics if d.is_error]
    if errors:
        return None, errors
    formatted = _Formatter(tree.source, tree).format()
    if len(formatted) > MAX_SOURCE_CHARS:
        # Escapes and line breaks can lengthen a spec near the limit; never produce one that `check` refuses.
        return None, [
            codes.RL008(
                SourceMap(tree.source).span(0, 0),
                variant="formatted",
                size=f"{len(formatted):,} characters",
                help=f"a spec holds at most {MAX_SOURCE_CHARS:,} characters; the file is left as it is: "
                "shorten it, then format it",
            )
        ]
    return formatted, []


# ------------------------------------------------------------------ values
def format_number(value: float) -> str:
    if isinstance(value, int):
        return str(value)
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def format_string(value: str, raw: bool = False) -> str:
    if raw and "\n" not in value:
        if '"' not in value:
            return f'r"{value}"'
        if "'" not in value:
            return f"r'{value}'"
    # Double quotes, unless the text holds some and no single quote (JSON reads better unescaped).
    quote = "'" if '"' in value and "'" not in value else '"'
    out = []
    for char in value:
        if char == quote:
            out.append("\\" + quote)
        elif char in _STRING_ESCAPES:
            out.append(_STRING_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return quote + "".join(out) + quote


def format_range(value: syn.Range) -> str:
    low = format_number(value.low.value) if value.low else ""
    high = format_number(value.high.value) if value.high else ""
    return f"{low}..{high}"


def format_value(value: syn.Value) -> str:
    if isinstance(value, syn.Number):
        return format_number(value.value)
    if isinstance(value, syn.Word):
        return value.text
    if isinstance(value, syn.String):
        return format_string(value.value, value.raw)
    if isinstance(value, syn.Range):
        return format_range(value)
    if isinstance(value, syn.Target):
        if not value.is_column:
            return value.name
        return f"column {value.name if is_name(value.name) else format_string(value.name)}"
    if isinstance(value, syn.Flag):
        return ""
    if isinstance(value, syn.ColumnValue):
        name = value.name if is_name(value.name) else format_string(value.name)
        return f"{name} {format_value(value.value)}"
    if isinstance(value, syn.Expectation):
        return format_expectation(value)
    if isinstance(value, syn.ScheduleValue):
        return format_schedule(value)
    if isinstance(value, syn.Correct):
        if value.comparison is None or value.threshold is None:
            return value.rule.text
        return f"{value.rule.text} {value.comparison.text} {format_number(value.threshold.value)}"
    if isinstance(value, syn.Condition):
        return format_condition(value)
    return ", ".join(_format_item(item) for item in value)


def format_schedule(value: syn.ScheduleValue) -> str:
    """`0 -> 1 over 100`, `0 -> 1 over 50..150`, `1 -> 0 at 200` or `points 0: 0, 100: 1`."""
    if value.form == "points":
        points = [f"{format_number(step.value if step else 0)}: {format_number(w.value)}" for step, w in value.points]
        return "points " + ", ".join(points)
    (first_step, first), (last_step, last) = value.points
    change = f"{format_number(first.value)} -> {format_number(last.value)}"
    last_text = format_number(last_step.value) if last_step else ""
    if value.form == "switch":
        return f"{change} at {last_text}"
    if first_step is None:
        return f"{change} over {last_text}"
    return f"{change} over {format_number(first_step.value)}..{last_text}"


def format_condition(value: syn.Condition) -> str:
    """`task = "math"`, `task in "a", "b"`, `has reference` (a column name that is no NAME is quoted, and
    so is a column `has` compared with values: bare, `when has = 1` would read as the `has` condition)."""
    bare = is_name(value.column) and not (value.column == "has" and value.op != "has")
    column = value.column if bare else format_string(value.column)
    if value.op == "has":
        return f"has {column}"
    return f"{column} {value.op} " + ", ".join(format_value(v) for v in value.values)


def format_expectation(value: syn.Expectation) -> str:
    if value.value is None:
        return f"{value.subject.text} {value.op.text}"
    within = f" within {format_number(value.within.value)}" if value.within is not None else ""
    return f"{value.subject.text} {value.op.text} {format_number(value.value.value)}{within}"


def format_long_string(value: str, indent: str) -> str | None:
    """`value` as a triple-quoted string whose lines start with `indent`, or None when it cannot be
    written as one that reads back the same (see `lower.long_string_body`)."""
    if "\n" not in value or '"""' in value or "\r" in value:
        return None
    lines = value.split("\n")
    written = [line for line in lines if line]
    if len(written) < 2:
        return None  # one line of text reads better as "text\n"
    if any(not line.strip() for line in written) or all(line[0] in " \t" for line in written):
        return None  # whitespace-only lines, or a margin on every line: the reader would remove them
    if any((ord(char) < 0x20 and char not in "\t\n") or ord(char) == 0x7F for char in value):
        return None
    body = "\n".join(indent + line.replace("\\", "\\\\").replace("\t", "\\t") if line else "" for line in lines)
    return f'"""\n{body}\n{indent}"""'


def _format_item(item: syn.String | syn.TypedString) -> str:
    if isinstance(item, syn.TypedString):
        return f"{format_string(item.string.value, item.string.raw)}: {item.type.text}"
    return format_string(item.value, item.raw)


def format_option(option: syn.Option) -> str:
    value = format_value(option.value)
    return f"{option.key} {value}" if value else option.key


def format_expr(expr: syn.Expr) -> str:
    if expr.op == "num":
        return format_number(expr.number or 0)
    if expr.op == "ref":
        return expr.name.text if expr.name else ""
    if expr.op == "call":
        return f"{expr.name.text if expr.name else ''}({', '.join(format_expr(a) for a in expr.args)})"
    if expr.op == "neg":
        operand = expr.args[0]
        inner = format_expr(operand)
        return f"-({inner})" if _PRECEDENCE[operand.op] < _PRECEDENCE["neg"] else f"-{inner}"
    left, right = expr.args
    precedence = _PRECEDENCE[expr.op]
    left_text = format_expr(left)
    right_text = format_expr(right)
    if _PRECEDENCE[left.op] < precedence:
        left_text = f"({left_text})"
    # Operators are left-associative: a right operand of equal precedence keeps
    # its parentheses, so the formatted formula parses to the same tree.
    if _PRECEDENCE[right.op] <= precedence:
        right_text = f"({right_text})"
    return f"{left_text} {_SYMBOLS[expr.op]} {right_text}"


# ---------------------------------------------------------------- comments
# Where a comment is attached: ("stmt", i) | ("opt", i, j) | ("open", i) | ("close", i).
NoteKey = tuple[str, int] | tuple[str, int, int]


@dataclass
class _Notes:
    """Comments attached to one printed element."""

    leading: list[syn.Comment] = field(default_factory=list)
    trailing: list[syn.Comment] = field(default_factory=list)


@dataclass(frozen=True)
class _Element:
    key: NoteKey
    start: int
    end: int


class _Formatter:
    def __init__(self, text: str, tree: syn.SpecSyntax):
        self.text = text
        self.statements = tree.statements
        # The rules inside `when` groups are numbered after the statements, so that their comments
        # attach to them as to any statement's: number -> rule, and group index -> its rules' numbers.
        self.inner: dict[int, syn.Rule] = {}
        self.members: dict[int, list[int]] = {}
        for i, statement in enumerate(self.statements):
            if isinstance(statement, syn.WhenGroup):
                for rule in statement.rules:
                    number = len(self.statements) + len(self.inner)
                    self.inner[number] = rule
                    self.members.setdefault(i, []).append(number)
        self.notes: dict[NoteKey, _Notes] = {}
        self.end_notes: list[syn.Comment] = []
        self._attach(tree.comments)

    def _numbered(self) -> list[tuple[int, syn.Statement]]:
        """Every statement and every rule inside a group, with its number."""
        return [*enumerate(self.statements), *self.inner.items()]

    def _statement_at(self, number: int) -> syn.Statement:
        return self.inner[number] if number in self.inner else self.statements[number]

    # -------------------------------------------------------- attachment
    def _elements(self) -> list[_Element]:
        elements = []
        for i, statement in self._numbered():
            elements.append(_Element(("stmt", i), statement.span.start, statement.span.end))
            if isinstance(statement, syn.WhenGroup):  # its braces; its rules are numbered statements
                block_span = statement.block_span
                elements.append(_Element(("open", i), block_span.start, block_span.start + 1))
                elements.append(_Element(("close", i), block_span.end - 1, block_span.end))
                continue
            options, block = _block_of(statement)
            if block is None:
                continue
            elements.append(_Element(("open", i), block.start, block.start + 1))
            elements += [_Element(("opt", i, j), o.span.start, o.span.end) for j, o in enumerate(options)]
            elements.append(_Element(("close", i), block.end - 1, block.end))
        return sorted(elements, key=lambda e: (e.start, e.key[0] != "stmt"))

    def _attach(self, comments: list[syn.Comment]) -> None:
        elements = self._elements()
        for comment in comments:
            line_start = self.text.rfind("\n", 0, comment.span.start) + 1
            own_line = not self.text[line_start : comment.span.start].strip()
            if not own_line:
                before = [e for e in elements if e.end <= comment.span.start and e.end > line_start]
                target = max(before, key=lambda e: (e.end, e.key[0] != "stmt")) if before else None
                if target is not None and self._ends_a_line(target):
                    self._notes(target.key).trailing.append(comment)
                    continue
            following = [e for e in elements if e.start > comment.span.start]
            if not following:
                self.end_notes.append(comment)
                continue
            target = following[0]
            enclosing = self._enclosing_statement(comment.span.start)
            if (
                enclosing is not None
                and target.key[0] not in ("opt", "close")
                and target.key[1] not in self.members.get(enclosing, ())  # before a rule of the group
            ):
                # Inside a statement's head (say, between list items): keep it above the statement.
                target = _Element(("stmt", enclosing), 0, 0)
            self._notes(target.key).leading.append(comment)

    def _ends_a_line(self, element: _Element) -> bool:
        """Whether the printed form puts a line break right after `element`."""
        kind = element.key[0]
        if kind in ("opt", "open", "close"):
            return True
        statement = self._statement_at(element.key[1])
        return _block_of(statement)[1] is None and not isinstance(statement, syn.WhenGroup)

    def _enclosing_statement(self, offset: int) -> int | None:
        """The innermost statement around `offset`: a rule inside a group before the group."""
        around = [i for i, statement in self._numbered() if statement.span.start < offset < statement.span.end]
        return around[-1] if around else None

    def _notes(self, key: NoteKey) -> _Notes:
        return self.notes.setdefault(key, _Notes())

    def _has_inner_notes(self, i: int) -> bool:
        """Comments that need the block printed over several lines."""
        closing = self.notes.get(("close", i), _Notes())
        return bool(closing.leading) or any(key[1] == i and key[0] in ("opt", "open") for key in self.notes)

    # ----------------------------------------------------------- printing
    def format(self) -> str:
        lines: list[str] = []
        previous_end: int | None = None
        for i, statement in enumerate(self.statements):
            notes = self.notes.get(("stmt", i), _Notes())
            first_start = notes.leading[0].span.start if notes.leading else statement.span.start
            if previous_end is not None and (
                isinstance(self.statements[i - 1], syn.Header) or self._blank_between(previous_end, first_start)
            ):
                lines.append("")
            lines += self._comment_lines(notes.leading, "", statement.span.start)
            lines += self._statement(i, statement)
            previous_end = statement.span.end
        if self.end_notes:
            if previous_end is not None and self._blank_between(previous_end, self.end_notes[0].span.start):
                lines.append("")
            lines += self._comment_lines(self.end_notes, "", len(self.text))
        return "\n".join(lines) + "\n" if lines else ""

    def _blank_between(self, start: int, end: int) -> bool:
        return bool(re.search(r"\n[ \t]*\n", self.text[start:end]))

    def _comment_lines(self, comments: list[syn.Comment], indent: str, before: int) -> list[str]:
        lines: list[str] = []
        for k, comment in enumerate(comments):
            lines.append(indent + comment.text.rstrip())
            following = comments[k + 1].span.start if k + 1 < len(comments) else before
            if self._blank_between(comment.span.end, following):
                lines.append("")
        return lines

    def _trailing(self, key: NoteKey) -> str:
        notes = self.notes.get(key)
        if not notes or not notes.trailing:
            return ""
        return "  " + "  ".join(c.text.rstrip() for c in notes.trailing)

    def _statement(self, i: int, statement: syn.Statement) -> list[str]:
        if isinstance(statement, syn.Header):
            description = f" {format_string(statement.description.value)}" if statement.description else ""
            return [f"reward {statement.name.text}{description}" + self._trailing(("stmt", i))]
        if isinstance(statement, syn.Total):
            return [f"total = {format_expr(statement.expr)}" + self._trailing(("stmt", i))]
        if isinstance(statement, syn.Gate):
            then = f" then {format_number(statement.value.value)}" if statement.value else ""
            text = f"gate {statement.rule.text} {statement.comparison.text} {format_number(statement.threshold.value)}"
            return [text + then + self._trailing(("stmt", i))]
        if isinstance(statement, syn.Clip):
            return [f"clip {format_range(statement.range)}" + self._trailing(("stmt", i))]
        if isinstance(statement, syn.Schedule):
            text = f"schedule {statement.name.text}: {format_schedule(statement.value)}"
            return [text + self._trailing(("stmt", i))]
        if isinstance(statement, syn.Defaults):
            return self._with_block(i, ["defaults"], statement.options)
        if isinstance(statement, syn.Plugins):
            packages = ", ".join(format_string(p.value, p.raw) for p in statement.packages)
            return [f"plugins {packages}" + self._trailing(("stmt", i))]
        if isinstance(statement, syn.ExamplesFile):
            return [f"examples {format_string(statement.path.value, statement.path.raw)}" + self._trailing(("stmt", i))]
        if isinstance(statement, syn.WhenGroup):
            return self._when_group(i, statement)
        if isinstance(statement, syn.Example):
            head = "example" + (f" {format_string(statement.name.value)}" if statement.name else "")
            texts = [_example_item(option) for option in statement.options]
            return self._with_block(i, [head], statement.options, texts=texts)
        return self._with_block(i, self._rule_head(statement), statement.options, statement.block_span is not None)

    def _when_group(self, i: int, group: syn.WhenGroup) -> list[str]:
        """`when CONDITION {`, its rules (and their comments) indented one level, `}`."""
        head = f"when {format_condition(group.condition)} {{"
        close_notes = self.notes.get(("close", i), _Notes())
        closing = "}" + self._trailing(("close", i)) + self._trailing(("stmt", i))
        if not group.rules and not close_notes.leading and not self._trailing(("open", i)):
            return [head + closing]
        lines = [head + self._trailing(("open", i))]
        previous_end: int | None = None
        for number in self.members.get(i, []):
            rule = self.inner[number]
            notes = self.notes.get(("stmt", number), _Notes())
            first_start = notes.leading[0].span.start if notes.leading else rule.span.start
            if previous_end is not None and self._blank_between(previous_end, first_start):
                lines.append("")
            lines += self._comment_lines(notes.leading, INDENT, rule.span.start)
            block = self._with_block(number, self._rule_head(rule), rule.options, rule.block_span is not None)
            lines += [INDENT + line if line else "" for line in block]
            previous_end = rule.span.end
        lines += self._comment_lines(close_notes.leading, INDENT, len(self.text))
        return [*lines, closing]

    def _rule_head(self, rule: syn.Rule) -> list[str]:
        if rule.plugin_values is not None:
            # A plugin kind's template is its name and its arguments in order (`plugins.load` holds
            # plugins to it), so the parsed values give it: fmt never needs the plugin installed.
            return [f"rule {rule.name.text}: " + " ".join([rule.kind.text, *map(format_value, rule.plugin_values)])]
        arguments = dict(rule.arguments)
        values = {name: format_value(value) for name, value in arguments.items()}
        head = f"rule {rule.name.text}: " + KINDS[rule.kind.text].template.format(**values)
        listed = next((v for v in arguments.values() if isinstance(v, tuple)), None)
        if len(head) + 2 <= WIDTH or listed is None:
            return [head]
        # A long list: the kind on the first line, items filled below it.
        first = f"rule {rule.name.text}: {rule.kind.text}"
        lines, current = [first], ""
        items = [_format_item(item) for item in listed]
        for k, item in enumerate(items):
            piece = item + ("," if k + 1 < len(items) else "")
            if current and len(LIST_INDENT) + len(current) + 1 + len(piece) > WIDTH:
                lines.append(LIST_INDENT + current)
                current = piece
            else:
                current = f"{current} {piece}" if current else piece
        lines.append(LIST_INDENT + current)
        return lines

    def _with_block(
        self,
        i: int,
        head: list[str],
        options: tuple[syn.Option, ...],
        has_block: bool = True,
        texts: list[str] | None = None,
    ) -> list[str]:
        if not has_block:
            head[-1] += self._trailing(("stmt", i))
            return head
        if texts is None:
            texts = [format_option(o) for o in options]
        inline = f"{head[-1]} {{ {'  '.join(texts)} }}" if texts else f"{head[-1]} {{}}"
        if (
            len(head) == 1
            and len(texts) <= MAX_INLINE_OPTIONS
            and len(inline) <= WIDTH
            and "\n" not in inline
            and not self._has_inner_notes(i)
        ):
            return [inline + self._trailing(("close", i)) + self._trailing(("stmt", i))]
        lines = [*head[:-1], head[-1] + " {" + self._trailing(("open", i))]
        previous_end = None
        for j, (option, text) in enumerate(zip(options, texts, strict=True)):
            notes = self.notes.get(("opt", i, j), _Notes())
            first_start = notes.leading[0].span.start if notes.leading else option.span.start
            if previous_end is not None and self._blank_between(previous_end, first_start):
                lines.append("")
            lines += self._comment_lines(notes.leading, INDENT, option.span.start)
            lines.append(INDENT + text + self._trailing(("opt", i, j)))
            previous_end = option.span.end
        close_notes = self.notes.get(("close", i), _Notes())
        lines += self._comment_lines(close_notes.leading, INDENT, len(self.text))
        lines.append("}" + self._trailing(("close", i)))
        return lines


def _example_item(option: syn.Option) -> str:
    """An example block's item; a text of several lines is written triple-quoted."""
    if isinstance(option.value, syn.String) and not option.value.raw:
        long = format_long_string(option.value.value, LIST_INDENT)
        if long is not None:
            return f"{option.key} {long}"
    return format_option(option)


def _block_of(statement: syn.Statement) -> tuple[tuple[syn.Option, ...], Span | None]:
    if isinstance(statement, syn.Rule | syn.Defaults | syn.Example):
        return statement.options, statement.block_span
    return (), None
