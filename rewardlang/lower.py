"""Lowering: Lark's parse tree -> the typed syntax tree of `syntax.py`.

A Lark Transformer wraps any exception raised in a callback in `VisitError`, so
lowering never raises: problems it can only see here (bad string escapes,
numbers too large) become diagnostics in the sink it is given.
"""

from __future__ import annotations

import re
import textwrap
from typing import Any

from lark import Token, Transformer, Tree, v_args

from rewardlang import codes
from rewardlang import syntax as syn
from rewardlang.diagnostics import DiagnosticSink
from rewardlang.registry import KINDS
from rewardlang.source import SourceMap, Span

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
_BLANK_OR_COMMENTS = re.compile(r"(?:\s+|#[^\n]*)*")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|x[0-9a-fA-F]{2}|.)", re.DOTALL)


class Lowerer(Transformer[Token, Any]):
    """Builds syntax nodes. `offset` shifts positions when a statement is parsed on its own."""

    def __init__(self, source: SourceMap, sink: DiagnosticSink, offset: int = 0):
        super().__init__(visit_tokens=True)
        self.source = source
        self.sink = sink
        self.offset = offset

    # ------------------------------------------------------------ positions
    def _span(self, item: Any) -> Span:
        """The span of a token or a tree's meta (both carry start_pos/end_pos)."""
        return self.source.span(item.start_pos + self.offset, item.end_pos + self.offset)

    def _tree_span(self, meta: Any, children: list[Any]) -> Span:
        if not getattr(meta, "empty", True):
            return self._span(meta)
        spans = [c.span for c in children if hasattr(c, "span")]
        return spans[0].to(spans[-1]) if spans else self.source.span(self.offset, self.offset)

    # ------------------------------------------------------------- terminals
    def NAME(self, token: Token) -> syn.Word:
        return syn.Word(str(token), self._span(token))

    def COMPARISON(self, token: Token) -> syn.Word:
        return syn.Word(str(token), self._span(token))

    def NUMBER(self, token: Token) -> syn.Number:
        text = str(token)
        span = self._span(token)
        value = number_value(text)
        if value is None:
            self.sink.add(
                codes.RL009(span, number=_shorten(text), label=f"larger than {MAX_NUMBER_TEXT}",
                            help=f"numbers in a spec lie between -{MAX_NUMBER_TEXT} and {MAX_NUMBER_TEXT}")
            )
            value = 0.0  # the statement holding it is dropped by the parser
        return syn.Number(value, span)

    def STRING(self, token: Token) -> syn.String:
        span = self._span(token)
        return syn.String(self._unescape(str(token)[1:-1], span), span)

    def RAW_STRING(self, token: Token) -> syn.String:
        return syn.String(str(token)[2:-1], self._span(token), raw=True)

    def LONG_STRING(self, token: Token) -> syn.String:
        span = self._span(token)
        return syn.String(self._unescape(long_string_body(str(token)[3:-3]), span, exact=False), span)

    def NOT_APPLICABLE(self, token: Token) -> syn.Word:
        return syn.Word(str(token), self._span(token))

    def _unescape(self, body: str, span: Span, exact: bool = True) -> str:
        """`body` with its escapes decoded; `exact`: it starts right after the opening quote
        (a bad escape is then shown where it is; otherwise on the whole string)."""
        def replace(match: re.Match[str]) -> str:
            escape = match.group(1)
            if escape[0] in "uUx" and len(escape) > 1:
                code = int(escape[1:], 16)
                if code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF:
                    return chr(code)
            elif escape in _ESCAPES:
                return _ESCAPES[escape]
            start = span.start + 1 + match.start()
            where = self.source.span(start, start + 1 + len(escape)) if exact else span
            self.sink.add(
                codes.RL005(
                    where,
                    escape=_shorten(escape, 8),
                    label="not a valid escape",
                    help='escapes are \\n \\t \\r \\0 \\\\ \\" \\\' \\xHH \\uHHHH \\UHHHHHHHH; '
                    'for regular expressions write a raw string: r"\\d+"',
                )
            )
            return match.group(0)

        return _ESCAPE.sub(replace, body)

    # ----------------------------------------------------------------- values
    def number(self, children: list[syn.Number]) -> syn.Number:
        return children[0]

    @v_args(meta=True)
    def negative(self, meta: Any, children: list[syn.Number]) -> syn.Number:
        return syn.Number(-children[0].value, self._tree_span(meta, children))

    def string(self, children: list[syn.String]) -> syn.String:
        return children[0]

    def string_list(self, children: list[syn.String]) -> tuple[syn.String, ...]:
        return tuple(children)

    def json_keys(self, children: list[syn.String | syn.TypedString]) -> tuple[syn.String | syn.TypedString, ...]:
        return tuple(children)

    def json_key(self, children: list[Any]) -> syn.String | syn.TypedString:
        if len(children) == 1:
            return children[0]  # type: ignore[no-any-return]
        string, type_word = children
        return syn.TypedString(string, type_word, string.span.to(type_word.span))

    @v_args(meta=True)
    def closed_range(self, meta: Any, children: list[syn.Number]) -> syn.Range:
        return syn.Range(children[0], children[1], self._tree_span(meta, children))

    @v_args(meta=True)
    def at_least(self, meta: Any, children: list[syn.Number]) -> syn.Range:
        return syn.Range(children[0], None, self._tree_span(meta, children))

    @v_args(meta=True)
    def at_most(self, meta: Any, children: list[syn.Number]) -> syn.Range:
        return syn.Range(None, children[0], self._tree_span(meta, children))

    @v_args(meta=True)
    def named_target(self, meta: Any, children: list[syn.Word]) -> syn.Target:
        return syn.Target(children[0].text, False, self._tree_span(meta, children))

    @v_args(meta=True)
    def column_target(self, meta: Any, children: list[Any]) -> syn.Target:
        value = children[0]
        name = value.text if isinstance(value, syn.Word) else value.value
        return syn.Target(name, True, self._tree_span(meta, children))

    # ---------------------------------------------------------------- options
    def __default__(self, data: str, children: list[Any], meta: Any) -> Any:
        # Lark calls this for every tree without a method here: the rule kinds'
        # productions (each named after its kind) and the option aliases (`weight`, `scope`, ...).
        if data in KINDS:
            return self._kind(data, meta, children)
        span = self._tree_span(meta, children)
        key_span = self.source.span(span.start, span.start + len(data))
        value: syn.Value = children[0] if children else syn.Flag(key_span)
        return syn.Option(data, value, key_span, span)

    @v_args(meta=True)
    def block(self, meta: Any, children: list[syn.Option]) -> tuple[Span, tuple[syn.Option, ...]]:
        return self._tree_span(meta, children), tuple(children)

    # ------------------------------------------------------------- rule kinds
    def _kind(self, name: str, meta: Any, children: list[Any]) -> tuple[syn.Word, tuple[tuple[str, syn.Value], ...]]:
        """A kind's production: its keyword, and its children named by the kind's header arguments."""
        span = self._tree_span(meta, children)
        keyword = syn.Word(name, self.source.span(span.start, span.start + len(name)))
        return keyword, tuple(zip(KINDS[name].arguments, children, strict=True))

    # ----------------------------------------------------------- plugin kinds
    def plugin_kind(self, children: list[Any]) -> tuple[syn.Word, tuple[syn.Value, ...]]:
        """A plugin kind's header: its name and its values (the kind's record names them later)."""
        return children[0], tuple(children[1:])

    @v_args(meta=True)
    def plugin_column(self, meta: Any, children: list[Any]) -> syn.Target:
        value = children[0]
        name = value.text if isinstance(value, syn.Word) else value.value
        return syn.Target(name, True, self._tree_span(meta, children))

    @v_args(meta=True)
    def plugin_block(self, meta: Any, children: list[syn.Option]) -> tuple[Span, tuple[syn.Option, ...]]:
        return self._tree_span(meta, children), tuple(children)

    @v_args(meta=True)
    def plugin_option(self, meta: Any, children: list[Any]) -> syn.Option:
        key: syn.Word = children[0]
        value: syn.Value = children[1] if len(children) > 1 else syn.Flag(key.span)
        return syn.Option(key.text, value, key.span, self._tree_span(meta, children))

    @v_args(meta=True)
    def plugin_rule(self, meta: Any, c: list[Any]) -> syn.Rule:
        name, (kind, values) = c[0], c[1]
        block_span, options = c[2] if len(c) > 2 else (None, ())
        return syn.Rule(name, kind, (), options, self._tree_span(meta, c), block_span, plugin_values=values)

    @v_args(meta=True)
    def plugins(self, meta: Any, c: list[Any]) -> syn.Plugins:
        return syn.Plugins(c[0], self._tree_span(meta, c))

    # ------------------------------------------------------------- statements
    @v_args(meta=True)
    def header(self, meta: Any, c: list[Any]) -> syn.Header:
        return syn.Header(c[0], c[1] if len(c) > 1 else None, self._tree_span(meta, c))

    @v_args(meta=True)
    def defaults(self, meta: Any, c: list[Any]) -> syn.Defaults:
        block_span, options = c[0]
        return syn.Defaults(options, self._tree_span(meta, c), block_span)

    @v_args(meta=True)
    def rule(self, meta: Any, c: list[Any]) -> syn.Rule:
        name, (kind, arguments) = c[0], c[1]
        block_span, options = c[2] if len(c) > 2 else (None, ())
        return syn.Rule(name, kind, arguments, options, self._tree_span(meta, c), block_span)

    @v_args(meta=True)
    def total(self, meta: Any, c: list[Any]) -> syn.Total:
        return syn.Total(c[0], self._tree_span(meta, c))

    @v_args(meta=True)
    def gate(self, meta: Any, c: list[Any]) -> syn.Gate:
        return syn.Gate(c[0], c[1], c[2], c[3] if len(c) > 3 else None, self._tree_span(meta, c))

    @v_args(meta=True)
    def clip(self, meta: Any, c: list[Any]) -> syn.Clip:
        return syn.Clip(c[0], self._tree_span(meta, c))

    # -------------------------------------------------------------- schedules
    @v_args(meta=True)
    def schedule_linear(self, meta: Any, c: list[Any]) -> syn.ScheduleValue:
        start, end, steps = c
        span = self._tree_span(meta, c)
        if isinstance(steps, syn.Number):  # `over 100`: from step 0
            return syn.ScheduleValue("linear", ((None, start), (steps, end)), span)
        if steps.low is None or steps.high is None:
            self.sink.add(
                codes.RL143(
                    steps.span,
                    variant="open",
                    label="both ends needed",
                    help="write the steps the weight changes over: `over 100` or `over 50..150`",
                )
            )
        return syn.ScheduleValue("linear", ((steps.low, start), (steps.high, end)), span)

    @v_args(meta=True)
    def schedule_switch(self, meta: Any, c: list[Any]) -> syn.ScheduleValue:
        start, end, step = c
        return syn.ScheduleValue("switch", ((None, start), (step, end)), self._tree_span(meta, c))

    @v_args(meta=True)
    def schedule_points(self, meta: Any, c: list[Any]) -> syn.ScheduleValue:
        return syn.ScheduleValue("points", tuple(c), self._tree_span(meta, c))

    def schedule_point(self, c: list[syn.Number]) -> tuple[syn.Number, syn.Number]:
        return c[0], c[1]

    @v_args(meta=True)
    def weight_schedule(self, meta: Any, c: list[Any]) -> syn.Option:
        span = self._tree_span(meta, c)
        return syn.Option("weight", c[0], self.source.span(span.start, span.start + len("weight")), span)

    @v_args(meta=True)
    def schedule(self, meta: Any, c: list[Any]) -> syn.Schedule:
        return syn.Schedule(c[0], c[1], self._tree_span(meta, c))
    # ------------------------------------------------------------ conditions
    def column_name(self, children: list[syn.Word | syn.String]) -> syn.Word | syn.String:
        return children[0]

    def value_list(self, children: list[syn.String | syn.Number]) -> tuple[syn.String | syn.Number, ...]:
        return tuple(children)

    def _condition(
        self, meta: Any, c: list[Any], op: str, values: tuple[syn.String | syn.Number, ...]
    ) -> syn.Condition:
        name = c[0]
        column = name.text if isinstance(name, syn.Word) else name.value
        return syn.Condition(column, name.span, op, values, self._tree_span(meta, c))

    @v_args(meta=True)
    def condition_equal(self, meta: Any, c: list[Any]) -> syn.Condition:
        return self._condition(meta, c, "=", (c[1],))

    @v_args(meta=True)
    def condition_in(self, meta: Any, c: list[Any]) -> syn.Condition:
        return self._condition(meta, c, "in", c[1])

    @v_args(meta=True)
    def condition_has(self, meta: Any, c: list[Any]) -> syn.Condition:
        return self._condition(meta, c, "has", ())

    @v_args(meta=True)
    def when_group(self, meta: Any, c: list[Any]) -> syn.WhenGroup:
        condition, rules = c[0], tuple(c[1:])
        span = self._tree_span(meta, c)
        # The block runs from the `{` after the condition (past any comments) to the end of the statement.
        skipped = _BLANK_OR_COMMENTS.match(self.source.text, condition.span.end)
        open_brace = skipped.end() if skipped else condition.span.end
        return syn.WhenGroup(condition, rules, span, self.source.span(open_brace, span.end))

    # --------------------------------------------------------------- examples
    @v_args(meta=True)
    def example(self, meta: Any, c: list[Any]) -> syn.Example:
        name = c[0] if isinstance(c[0], syn.String) else None
        block_span, items = c[-1]
        return syn.Example(name, items, self._tree_span(meta, c), block_span)

    @v_args(meta=True)
    def example_block(self, meta: Any, children: list[syn.Option]) -> tuple[Span, tuple[syn.Option, ...]]:
        return self._tree_span(meta, children), tuple(children)

    @v_args(meta=True)
    def examples_file(self, meta: Any, c: list[Any]) -> syn.ExamplesFile:
        return syn.ExamplesFile(c[0], self._tree_span(meta, c))

    @v_args(meta=True)
    def message(self, meta: Any, c: list[Any]) -> syn.Option:
        role, content = c
        return syn.Option(role.text, content, role.span, self._tree_span(meta, c))

    @v_args(meta=True)
    def column(self, meta: Any, c: list[Any]) -> syn.Option:
        name, value = c
        span = self._tree_span(meta, c)
        text = name.text if isinstance(name, syn.Word) else name.value
        key_span = self.source.span(span.start, span.start + len("column"))
        return syn.Option("column", syn.ColumnValue(text, name.span, value, span), key_span, span)

    @v_args(meta=True)
    def expect(self, meta: Any, c: list[Any]) -> syn.Option:
        subject, (op, value, within) = c
        span = self._tree_span(meta, c)
        key_span = self.source.span(span.start, span.start + len("expect"))
        return syn.Option("expect", syn.Expectation(subject, op, value, within, span), key_span, span)

    @v_args(meta=True)
    def expect_equal(self, meta: Any, c: list[Any]) -> tuple[syn.Word, syn.Number, syn.Number | None]:
        value, within = c[0], (c[1] if len(c) > 1 else None)
        start = self._tree_span(meta, c).start
        return syn.Word("=", self.source.span(start, start + 1)), value, within

    def expect_compare(self, c: list[Any]) -> tuple[syn.Word, syn.Number, None]:
        return c[0], c[1], None

    def expect_not_applicable(self, c: list[Any]) -> tuple[syn.Word, None, None]:
        return c[0], None, None

    @v_args(meta=True)
    def correct(self, meta: Any, c: list[Any]) -> syn.Option:
        span = self._tree_span(meta, c)
        rule, comparison, threshold = [*c, None, None][:3]
        key_span = self.source.span(span.start, span.start + len("correct"))
        return syn.Option("correct", syn.Correct(rule, comparison, threshold, span), key_span, span)

    def start(self, children: list[Any]) -> list[Any]:
        return children

    def chunk(self, children: list[Any]) -> list[Any]:
        return children

    # --------------------------------------------------------------- formulas
    @v_args(meta=True)
    def num(self, meta: Any, c: list[syn.Number]) -> syn.Expr:
        return syn.Expr("num", c[0].span, number=c[0].value)

    @v_args(meta=True)
    def ref(self, meta: Any, c: list[syn.Word]) -> syn.Expr:
        return syn.Expr("ref", c[0].span, name=c[0])

    @v_args(meta=True)
    def call(self, meta: Any, c: list[Any]) -> syn.Expr:
        args = tuple(a for a in c[1:] if a is not None)
        return syn.Expr("call", self._tree_span(meta, c), name=c[0], args=args)

    def _operator(self, op: str, meta: Any, c: list[Any]) -> syn.Expr:
        return syn.Expr(op, self._tree_span(meta, c), args=tuple(c))

    @v_args(meta=True)
    def neg(self, meta: Any, c: list[Any]) -> syn.Expr:
        return self._operator("neg", meta, c)

    @v_args(meta=True)
    def add(self, meta: Any, c: list[Any]) -> syn.Expr:
        return self._operator("add", meta, c)

    @v_args(meta=True)
    def sub(self, meta: Any, c: list[Any]) -> syn.Expr:
        return self._operator("sub", meta, c)

    @v_args(meta=True)
    def mul(self, meta: Any, c: list[Any]) -> syn.Expr:
        return self._operator("mul", meta, c)

    @v_args(meta=True)
    def div(self, meta: Any, c: list[Any]) -> syn.Expr:
        return self._operator("div", meta, c)


def long_string_body(body: str) -> str:
    """A triple-quoted string's text: without the line break after the opening quotes, the
    whitespace before the closing quotes on their own line, and the lines' common indentation."""
    body = body.removeprefix("\n")
    head, _, last = body.rpartition("\n")
    if not last.strip(" \t"):
        body = head
    return textwrap.dedent(body)


# Formula nodes that nest: each is one level of a formula (parentheses add none).
NESTING_NODES = frozenset({"neg", "add", "sub", "mul", "div", "call"})


def deepest_node(tree: Tree[Token]) -> tuple[int, Tree[Token]]:
    """(levels, node): the most formula levels on one path of a parse tree, and the node where it ends.

    Found without recursion, since specs can nest absurdly. Only formulas nest;
    every other statement's tree has a small fixed depth.
    """
    deepest = (0, tree)
    stack: list[tuple[Tree[Token], int]] = [(tree, 0)]
    while stack:
        node, levels = stack.pop()
        levels += node.data in NESTING_NODES
        if levels > deepest[0]:
            deepest = (levels, node)
        stack.extend((child, levels) for child in node.children if isinstance(child, Tree))
    return deepest


MAX_NUMBER = 1e308  # the largest magnitude a spec may write (a little below the largest float)
MAX_NUMBER_TEXT = "1e308"


def number_value(text: str) -> int | float | None:
    """The value of a NUMBER token, or None when its magnitude is above `MAX_NUMBER`.

    Whole numbers stay exact ints. Python's `int()` refuses strings of more than
    4300 digits, so a whole number is measured by its digit count first: with
    its leading zeros dropped, anything longer than 309 digits is above 1e308.
    `float()` reads a fraction or an exponent of any length (overflowing to inf).
    """
    if text.isdigit():  # the grammar's digits are ASCII only
        digits = text.lstrip("0") or "0"
        if len(digits) > len(str(int(MAX_NUMBER))):
            return None
        value: int | float = int(digits)
    else:
        value = float(text)
    return value if abs(value) <= MAX_NUMBER else None


def _shorten(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
