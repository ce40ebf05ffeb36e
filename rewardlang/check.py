"""Semantic checks over a validated `Spec`: what the types alone cannot say.

Each check is a small function that yields diagnostics; `check_spec` runs them
all, so every problem in a spec is reported in one run. The checks here are
spec-wide, or derived from the kinds' records (their ranges, their list
arguments, their score ranges); a kind's own checks live in its module
(`Kind.checks`) and run from `kind_checks` below.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from rewardlang import ast, codes, groups
from rewardlang.conditions import RESERVED_COLUMNS, holds
from rewardlang.diagnostics import Diagnostic, Label, one_of, suggestion_help
from rewardlang.kinds.banned import BannedRule
from rewardlang.kinds.brevity import BrevityRule
from rewardlang.kinds.phrases import PhrasesRule
from rewardlang.nodes import Phrase
from rewardlang.registry import kind_of, score_range
from rewardlang.rules.matching import PhraseMatcher
from rewardlang.schedules import never_weighted
from rewardlang.source import Span, SpanTable
from rewardlang.text import normalize


@dataclass
class CheckContext:
    spec: ast.Spec
    spans: SpanTable
    # Rules whose statements did not parse: formulas may still name them.
    broken_rule_names: set[str] = field(default_factory=set)
    had_syntax_errors: bool = False

    def span(self, index: int, *path: str | int) -> Span:
        return self.spans.find(("rules", index, *path))


Check = Callable[[CheckContext], Iterator[Diagnostic]]
CHECKS: list[Check] = []


def check(function: Check) -> Check:
    CHECKS.append(function)
    return function


def check_spec(context: CheckContext) -> list[Diagnostic]:
    return [diagnostic for run in CHECKS for diagnostic in run(context)]


# ---------------------------------------------------------------- structure
@check
def has_rules(ctx: CheckContext) -> Iterator[Diagnostic]:
    if not ctx.spec.rules and not ctx.had_syntax_errors:
        yield codes.RL118(
            ctx.spans.find(("name",)),
            name=ctx.spec.name,
            help='add at least one rule, e.g. `rule brevity: length ..200 words`',
        )


@check
def weights(ctx: CheckContext) -> Iterator[Diagnostic]:
    if ctx.spec.total is not None:
        default_span = ctx.spans.get(("defaults", "weight"))
        ignored = [(ctx.span(i, "weight"), rule.name) for i, rule in enumerate(ctx.spec.rules)
                   if "weight" in rule.model_fields_set and ctx.span(i, "weight") != default_span]
        if default_span is not None:
            ignored.insert(0, (default_span, "every rule"))
        for span, name in ignored:
            # With every rule broken, the example names a placeholder rather than a rule.
            example = name if name != "every rule" else ctx.spec.rules[0].name if ctx.spec.rules else "RULE"
            yield codes.RL203(
                span,
                whose=name if name == "every rule" else f"`{name}`",
                label="has no effect",
                labels=(Label(ctx.spans.find(("total",)), "the total is computed by this formula"),),
                help=f"put weights in the `total` formula instead, e.g. `total = 2 * {example} + ...`",
            )
        return
    if ctx.spec.rules and not ctx.had_syntax_errors and all(
        never_weighted(rule.weight) for rule in ctx.spec.rules
    ):
        yield codes.RL117(
            ctx.span(0, "weight"),
            label="so the total is always 0",
            help="GRPO learns nothing from a constant reward; give at least one rule a non-zero weight",
        )
        return
    gated = {gate.rule for gate in ctx.spec.gates}  # a gate's rule acts through the gate, weight 0 or not
    for index, rule in enumerate(ctx.spec.rules):
        if never_weighted(rule.weight) and rule.name not in gated:
            yield codes.RL207(
                ctx.span(index, "weight"),
                name=rule.name,
                label="never contributes to the total",
                help="its score is still logged; remove the rule if you do not need it",
            )


# ------------------------------------------------------------------ ranges
def _range_problem(range_: ast.Range, *, whole: bool, nonnegative: bool, strict: bool) -> str:
    low, high = range_.low, range_.high
    if low is not None and high is not None:
        if low > high:
            return f"the range is inverted: {_num(low)} is above {_num(high)}"
        if strict and low == high:
            return "the range is empty: both ends are equal"
        if whole and math.ceil(low) > math.floor(high):
            return f"no whole number lies between {_num(low)} and {_num(high)}"
    if nonnegative and high is not None and high < 0:
        return f"a count is never below 0, so nothing is at most {_num(high)}"
    return ""


def _ranges(ctx: CheckContext) -> Iterator[tuple[ast.Range, Span, str, bool, bool, bool]]:
    """(range, span, what, whole, nonnegative, strict) for every range in the spec: the kinds' and the clip."""
    for index, rule in enumerate(ctx.spec.rules):
        for declared in kind_of(rule.kind).ranges:
            range_ = getattr(rule, declared.field)
            if range_ is not None:
                span = ctx.span(index, declared.field)
                yield range_, span, declared.what, declared.whole, declared.nonnegative, declared.strict
    if ctx.spec.clip is not None:
        yield ctx.spec.clip, ctx.spans.find(("clip",)), "clip range", False, False, False


@check
def ranges(ctx: CheckContext) -> Iterator[Diagnostic]:
    for range_, span, what, whole, nonnegative, strict in _ranges(ctx):
        problem = _range_problem(range_, whole=whole, nonnegative=nonnegative, strict=strict)
        if problem:
            yield codes.RL116(
                span,
                what=what,
                label=problem,
                help="write ranges low..high with low <= high; `low..` and `..high` leave one end open",
            )


# -------------------------------------------------------------- phrases
def _folded(rule: Any, text: str) -> str:
    """An entry as the rule's own text options fold it, trimmed: the default `Kind.item_key`."""
    case = getattr(rule, "case", "sensitive")
    return normalize(text, case, getattr(rule, "unicode", "nfkc")).strip()


@check
def phrase_lists(ctx: CheckContext) -> Iterator[Diagnostic]:
    """Blank (RL107) and duplicate (RL204) entries of every list a rule holds: phrases, tags, keys..."""
    for rule in ctx.spec.rules:
        kind = kind_of(rule.kind)
        key = kind.item_key or _folded
        for what in kind.phrase_lists:
            items: tuple[Phrase, ...] = getattr(rule, what)
            seen: dict[str, Phrase] = {}
            for item in items:
                folded = key(rule, item.text)
                if not folded:
                    yield codes.RL107(
                        item.span,
                        variant="blank",
                        field=what,
                        label="only whitespace",
                        help="remove it: a blank phrase would match everywhere",
                    )
                elif folded in seen:
                    yield codes.RL204(
                        item.span,
                        item=item.text,
                        rule=rule.name,
                        label="duplicate" + ("" if item.text == seen[folded].text else " after normalisation"),
                        labels=(Label(seen[folded].span, "first listed here"),),
                        help="remove the duplicate",
                    )
                else:
                    seen[folded] = item


@check
def phrases_also_banned(ctx: CheckContext) -> Iterator[Diagnostic]:
    # Every banned word, grouped by its normalised text, once per match mode: each
    # rewarded phrase is then searched for all of them in one pass (the runtime's
    # matcher), so the check stays linear in the lists, not their product.
    banned: dict[bool, dict[str, list[tuple[BannedRule, Phrase]]]] = {True: {}, False: {}}
    for ban in ctx.spec.rules:
        if isinstance(ban, BannedRule):
            for word in ban.phrases:
                if folded := normalize(word.text).strip():
                    banned[ban.match == "word"].setdefault(folded, []).append((ban, word))
    matchers = [(PhraseMatcher(list(words), word=whole), words) for whole, words in banned.items() if words]
    if not matchers:
        return
    order = {id(rule): index for index, rule in enumerate(ctx.spec.rules)}
    for rule in ctx.spec.rules:
        if not isinstance(rule, PhrasesRule) or rule.each <= 0:
            continue
        for phrase in rule.phrases:
            folded = normalize(phrase.text).strip()
            hits = [
                hit for matcher, words in matchers for i in matcher.found(folded) for hit in words[matcher.phrases[i]]
            ]
            hits.sort(key=lambda hit: (order[id(hit[0])], hit[1].span.start))
            for ban, word in hits:
                yield codes.RL201(
                    phrase.span,
                    phrase=phrase.text,
                    rule=rule.name,
                    banned_by=ban.name,
                    label="rewarded here",
                    labels=(Label(word.span, "banned here"),),
                    help="the two rules pull in opposite directions; remove the phrase from one list",
                )


# ------------------------------------------------------------- rule kinds
@check
def kind_checks(ctx: CheckContext) -> Iterator[Diagnostic]:
    """Each rule's own kind checks (`Kind.checks`), with the rule's spans at hand."""
    for index, rule in enumerate(ctx.spec.rules):
        def span(*path: str | int, index: int = index) -> Span:
            return ctx.span(index, *path)

        for kind_check in kind_of(rule.kind).checks:
            yield from kind_check(rule, span)


# ----------------------------------------------------------------- scoring
@check
def never_positive(ctx: CheckContext) -> Iterator[Diagnostic]:
    for index, rule in enumerate(ctx.spec.rules):
        if kind_of(rule.kind).is_penalty(rule):
            continue
        low, high = score_range(rule)
        if high <= 0:
            yield codes.RL202(
                ctx.span(index, "name"),
                name=rule.name,
                high=_num(high),
                label=f"scores lie in {_num(low)}..{_num(high)}",
                help="check the score options (`each`, `cap`, `present`, `absent`, `outside`); "
                "to penalise, keep scores positive and use a negative weight",
            )


@check
def token_scope(ctx: CheckContext) -> Iterator[Diagnostic]:
    for index, rule in enumerate(ctx.spec.rules):
        unit = getattr(rule, "unit", None)  # the kinds that measure a length
        if unit == "tokens" and "scope" in rule.model_fields_set and rule.scope != "full":
            yield codes.RL208(
                ctx.span(index, "scope"),
                scope=rule.scope,
                label="tokens are counted over the whole completion",
                help="token counts come from the generated ids; use `words` or `characters` to measure only the "
                + rule.scope,
            )


# ---------------------------------------------------------------- formulas
def _refs(expr: ast.Expr | None) -> Iterator[ast.Ref | ast.Num | ast.Binary]:
    stack = [expr] if expr is not None else []
    while stack:
        node = stack.pop()
        yield node  # type: ignore[misc]
        if isinstance(node, ast.Unary):
            stack.append(node.operand)
        elif isinstance(node, ast.Binary):
            stack.extend((node.right, node.left))
        elif isinstance(node, ast.Call):
            stack.extend(reversed(node.args))


@check
def references(ctx: CheckContext) -> Iterator[Diagnostic]:
    rules = set(ctx.spec.rule_names) | ctx.broken_rule_names
    schedules = {schedule.name for schedule in ctx.spec.schedules}
    known = rules | schedules  # a formula term may be a rule's score or a schedule's weight
    names = sorted(known)
    used: set[str] = set()
    unknown = False
    for node in _refs(ctx.spec.total):
        if isinstance(node, ast.Ref):
            used.add(node.rule)
            if node.rule not in known:
                unknown = True
                yield _unknown_rule(node.rule, node.span, names)
        elif (
            isinstance(node, ast.Binary) and node.op == "div" and isinstance(node.right, ast.Num)
            and node.right.value == 0
        ):
            yield codes.RL123(node.right.span, label="divides by 0")
    for index, gate in enumerate(ctx.spec.gates):
        used.add(gate.rule)
        span = ctx.spans.find(("gates", index, "rule"))
        if gate.rule in schedules and gate.rule not in rules:
            yield codes.RL144(
                span, name=gate.rule, label="a schedule",
                help=f"gate on a rule; to switch a term on at a step, write `total = {gate.rule} * RULE`",
            )
        elif gate.rule not in rules:
            yield _unknown_rule(gate.rule, span, sorted(rules))
    if ctx.spec.total is None or ctx.had_syntax_errors or unknown:
        return  # a misspelled reference would also make its rule look unused
    for index, rule in enumerate(ctx.spec.rules):
        if rule.name not in used:
            yield codes.RL205(
                ctx.span(index, "name"),
                name=rule.name,
                label="logged, but does not affect the reward",
                labels=(Label(ctx.spans.find(("total",)), "the total"),),
                help=f"add `{rule.name}` to the `total` formula, or remove the rule",
            )


@check
def unused_schedules(ctx: CheckContext) -> Iterator[Diagnostic]:
    """A named schedule weights formula terms; one no formula names changes nothing (RL223)."""
    used = {node.rule for node in _refs(ctx.spec.total) if isinstance(node, ast.Ref)}
    known = {*ctx.spec.rule_names, *ctx.broken_rule_names, *(schedule.name for schedule in ctx.spec.schedules)}
    if ctx.had_syntax_errors or not used <= known:
        return  # a misspelled reference would also make its schedule look unused
    for index, schedule in enumerate(ctx.spec.schedules):
        if schedule.name not in used:
            yield codes.RL223(
                ctx.spans.find(("schedules", index, "name")),
                name=schedule.name,
                label="logged, but weights nothing",
                help=f"multiply a term of the formula by it: `total = ... + {schedule.name} * RULE`",
            )


def _unknown_rule(name: str, span: Span, names: list[str]) -> Diagnostic:
    return codes.RL111(
        span,
        name=name,
        label="no rule has this name",
        help=suggestion_help(name, names) or (f"defined rules: {one_of(names)}" if names else "define the rule first"),
    )


@check
def gates(ctx: CheckContext) -> Iterator[Diagnostic]:
    by_name = {rule.name: rule for rule in ctx.spec.rules}
    for index, gate in enumerate(ctx.spec.gates):
        rule = by_name.get(gate.rule)
        if rule is None:
            continue
        low, high = score_range(rule)
        holds = {
            "<": (low < gate.threshold, high < gate.threshold),
            "<=": (low <= gate.threshold, high <= gate.threshold),
            ">": (high > gate.threshold, low > gate.threshold),
            ">=": (high >= gate.threshold, low >= gate.threshold),
        }[gate.comparison]
        can_fire, always_fires = holds
        if not can_fire or always_fires:
            yield codes.RL209(
                ctx.spans.find(("gates", index, "threshold")),
                fires="never" if not can_fire else "always",
                label=f"`{gate.rule}` scores lie in {_num(low)}..{_num(high)}",
                help="pick a threshold inside the rule's score range",
            )


@check
def correct_rules(ctx: CheckContext) -> Iterator[Diagnostic]:
    """`brevity`'s `correct RULE`: a rule that exists, reads no other rule, and can meet the threshold."""
    by_name = {rule.name: rule for rule in ctx.spec.rules}
    places = {rule.name: index for index, rule in enumerate(ctx.spec.rules)}
    names = sorted({*by_name, *ctx.broken_rule_names})
    for index, rule in enumerate(ctx.spec.rules):
        if not isinstance(rule, BrevityRule) or rule.correct is None:
            continue
        correct = rule.correct
        named = by_name.get(correct.rule)
        if named is None:
            if correct.rule not in ctx.broken_rule_names:
                yield _unknown_rule(correct.rule, ctx.span(index, "correct", "rule"), names)
            continue
        reads = groups.dependencies(named)
        if reads:
            itself = named is rule
            yield codes.RL146(
                ctx.span(index, "correct", "rule"),
                rule=correct.rule,
                reads=reads[0],
                label="a rule cannot read its own score" if itself else "reads another rule's scores",
                labels=() if itself else (Label(ctx.span(places[named.name], "correct"), "it reads this"),),
                help="name the rule that decides correctness (`equals`, `math`, ...)",
            )
            continue
        if correct.comparison is None or correct.threshold is None:
            continue
        low, high = score_range(named)
        threshold = correct.threshold
        reachable = {">=": high >= threshold, ">": high > threshold, "<=": low <= threshold, "<": low < threshold}
        always = {">=": low >= threshold, ">": low > threshold, "<=": high <= threshold, "<": high < threshold}
        code, label = (
            (codes.RL147, "no score of the rule reaches it") if not reachable[correct.comparison]
            else (codes.RL226, "every score of the rule meets it") if always[correct.comparison]
            else (None, "")
        )
        if code is not None:
            yield code(
                ctx.span(index, "correct", "threshold"),
                rule=correct.rule,
                comparison=correct.comparison,
                threshold=_num(threshold),
                low=_num(low),
                high=_num(high),
                label=label,
                help=f"pick a threshold inside {_num(low)}..{_num(high)}, or write `correct {correct.rule}` alone "
                f"(`>= {_num(high)}`)",
            )


@check
def unused_defaults(ctx: CheckContext) -> Iterator[Diagnostic]:
    for key in ctx.spec.defaults.model_fields_set:
        if not any(key in type(rule).model_fields for rule in ctx.spec.rules) and ctx.spec.rules:
            yield codes.RL210(
                ctx.spans.find(("defaults", key)),
                option=key,
                label="no rule here accepts this option",
                help="remove it from `defaults`",
            )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


# ---------------------------------------------------------------- examples
@check
def example_expectations(ctx: CheckContext) -> Iterator[Diagnostic]:
    """What an example expects must name a rule (or `total`) and be a score it can have."""
    by_name = {rule.name: rule for rule in ctx.spec.rules}
    known = sorted({*by_name, *ctx.broken_rule_names})
    for example in ctx.spec.examples:
        for expectation in example.expectations:
            subject = expectation.subject
            if subject not in by_name and subject != "total":
                if subject not in ctx.broken_rule_names:
                    yield _unknown_rule(subject, expectation.subject_span, [*known, "total"]).with_file(example.file)
                continue
            why = _never_holds(expectation, by_name.get(subject), ctx.spec)
            if why:
                yield codes.RL138(
                    expectation.span, subject=subject, expected=expectation.describe(), why=why,
                    label="cannot hold", in_file=example.file,
                    help="expect a value the score can take, or fix the rule",
                )
            rule = by_name.get(subject)
            if rule is not None and expectation.op == "=" and expectation.within is None and _model_backed(rule):
                yield codes.RL217(
                    expectation.span, subject=subject, value=_num(expectation.value or 0.0),
                    label="exact", in_file=example.file,
                    help=f"give a tolerance: `expect {subject} = {_num(expectation.value or 0.0)} within 0.05`",
                )


def _never_holds(expectation: ast.Expectation, rule: ast.RuleBase | None, spec: ast.Spec) -> str:
    """Why the expectation cannot hold ("" when it can)."""
    if rule is None:  # the total: always a number, inside the clip
        if expectation.op == "n/a":
            return "the total always has a value"
        low = spec.clip.low if spec.clip and spec.clip.low is not None else -math.inf
        high = spec.clip.high if spec.clip and spec.clip.high is not None else math.inf
        where = f"the total is clipped to {_num_or_blank(low)}..{_num_or_blank(high)}"
    else:
        low, high = score_range(rule)
        where = f"`{rule.name}` scores lie in {_num(low)}..{_num(high)}"
    value, op = expectation.value, expectation.op
    if value is None or op == "n/a":
        return ""
    # Float rounding: a rule capped at 0.9 may score 0.3 * 3 = 0.8999999999999999.
    slack = (expectation.within or 0.0) + ast.EXACT_TOLERANCE
    possible = {
        "=": low - slack <= value <= high + slack,
        ">=": high + slack >= value,
        ">": high > value,
        "<=": low - slack <= value,
        "<": low < value,
    }[op]
    return "" if possible else where


def _num_or_blank(value: float) -> str:
    return "" if math.isinf(value) else _num(value)


def _model_backed(rule: ast.RuleBase) -> bool:
    from rewardlang.rules.base import LazyModelScorer

    return issubclass(kind_of(rule.kind).scorer, LazyModelScorer)


@check
def example_columns(ctx: CheckContext) -> Iterator[Diagnostic]:
    """A rule that compares with a column does not apply to an example without it (where its `when` holds)."""
    readers = [(rule, column) for rule in ctx.spec.rules for column in _columns_read(rule)]
    for example in ctx.spec.examples:
        expected_na = {e.subject for e in example.expectations if e.op == "n/a"}
        for rule, column in readers:
            if rule.when is not None and not holds(rule.when, example.columns.get(rule.when.column)):
                continue  # the rule does not apply to this example: the column it compares with is not needed
            if column not in example.columns and rule.name not in expected_na:
                where = example.span if example.file else example.span.head(len("example"))  # a line, or `example`
                yield codes.RL218(
                    where, name=example.name, column=column, rule=rule.name, label=f"no column `{column}`",
                    in_file=example.file,
                    help=f'add `column {column} "..."`, or `expect {rule.name} n/a`',
                )


def _columns_read(rule: ast.RuleBase) -> list[str]:
    """The dataset columns a rule compares with (its targets that are `column NAME`)."""
    return [
        value.column
        for value in (getattr(rule, name) for name in type(rule).model_fields)
        if isinstance(value, ast.Target) and value.kind == "column" and value.column is not None
    ]


@check
def conditions_on_reserved_columns(ctx: CheckContext) -> Iterator[Diagnostic]:
    """A `when` on a column TRL never passes to rewards (`prompt`, `completions`, ...) cannot be decided."""
    reported: set[int] = set()  # a group's rules share its condition
    for rule in ctx.spec.rules:
        condition = rule.when
        if condition is None or condition.column not in RESERVED_COLUMNS or condition.column_span.start in reported:
            continue
        reported.add(condition.column_span.start)
        yield codes.RL141(
            condition.column_span,
            column=condition.column,
            label="not a dataset column for rewards",
            help="add a column that names the task (`task`, `source`, ...) to the dataset and test it",
        )
