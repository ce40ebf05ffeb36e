"""Semantic checks over a validated `Spec`: what the types alone cannot say.

Each check is a small function that yields diagnostics; `check_spec` runs them
all, so every problem in a spec is reported in one run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rewardlang import ast
from rewardlang.diagnostics import Diagnostic, Label, Span, error, one_of, suggestion_help, warning
from rewardlang.rules.matching import PhraseMatcher
from rewardlang.scores import PENALTY_KINDS, score_range
from rewardlang.text import normalize
from rewardlang.validate import SpanTable

_TAG_NAME = re.compile(r"[A-Za-z_][\w.:-]*")
_WHOLE_UNITS = frozenset({"words", "characters", "tokens", "sentences"})


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
        yield error(
            "RL118",
            f"spec `{ctx.spec.name}` has no rules",
            ctx.spans.find(("name",)),
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
            yield warning(
                "RL203",
                f"the weight of {name if name == 'every rule' else f'`{name}`'} is ignored",
                span,
                label="has no effect",
                labels=(Label(ctx.spans.find(("total",)), "the total is computed by this formula"),),
                help=f"put weights in the `total` formula instead, e.g. `total = 2 * {example} + ...`",
            )
        return
    if ctx.spec.rules and not ctx.had_syntax_errors and all(rule.weight == 0 for rule in ctx.spec.rules):
        yield error(
            "RL117",
            "every rule has weight 0",
            ctx.span(0, "weight"),
            label="so the total is always 0",
            help="GRPO learns nothing from a constant reward; give at least one rule a non-zero weight",
        )
        return
    for index, rule in enumerate(ctx.spec.rules):
        if rule.weight == 0:
            yield warning(
                "RL207",
                f"rule `{rule.name}` has weight 0",
                ctx.span(index, "weight"),
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
    """(range, span, what, whole, nonnegative, strict) for every range in the spec."""
    for index, rule in enumerate(ctx.spec.rules):
        if isinstance(rule, ast.LengthRule):
            yield rule.range, ctx.span(index, "range"), "length range", rule.unit in _WHOLE_UNITS, True, False
        if isinstance(rule, ast.TagsRule):
            yield rule.count, ctx.span(index, "count"), "tag count", True, True, False
        if isinstance(rule, ast.RelevanceRule) and rule.rescale is not None:
            yield rule.rescale, ctx.span(index, "rescale"), "rescale range", False, False, True
    if ctx.spec.clip is not None:
        yield ctx.spec.clip, ctx.spans.find(("clip",)), "clip range", False, False, False


@check
def ranges(ctx: CheckContext) -> Iterator[Diagnostic]:
    for range_, span, what, whole, nonnegative, strict in _ranges(ctx):
        problem = _range_problem(range_, whole=whole, nonnegative=nonnegative, strict=strict)
        if problem:
            yield error(
                "RL116",
                f"{what} can never match",
                span,
                label=problem,
                help="write ranges low..high with low <= high; `low..` and `..high` leave one end open",
            )


@check
def overlong_buffer(ctx: CheckContext) -> Iterator[Diagnostic]:
    for index, rule in enumerate(ctx.spec.rules):
        if isinstance(rule, ast.OverlongRule) and rule.buffer is not None and rule.buffer > rule.limit:
            yield error(
                "RL122",
                f"buffer {rule.buffer} is larger than the limit {rule.limit}",
                ctx.span(index, "buffer"),
                label="the penalty would start below zero length",
                help="the penalty ramps from `limit - buffer` to `limit`; use a buffer up to the limit",
            )


# -------------------------------------------------------------- phrases
def _phrase_lists(ctx: CheckContext) -> Iterator[tuple[int, ast.RuleBase, str, tuple[ast.Phrase, ...]]]:
    for index, rule in enumerate(ctx.spec.rules):
        if isinstance(rule, ast.PhrasesRule | ast.BannedRule):
            yield index, rule, "phrases", rule.phrases
        elif isinstance(rule, ast.TagsRule):
            yield index, rule, "tags", rule.tags
        elif isinstance(rule, ast.JsonRule):
            yield index, rule, "keys", rule.keys


def _folded(rule: ast.RuleBase, text: str) -> str:
    case = getattr(rule, "case", "sensitive")
    return normalize(text, case, getattr(rule, "unicode", "nfkc")).strip()


@check
def phrase_lists(ctx: CheckContext) -> Iterator[Diagnostic]:
    for _, rule, what, items in _phrase_lists(ctx):
        seen: dict[str, ast.Phrase] = {}
        for item in items:
            folded = _folded(rule, item.text)
            if not folded:
                yield error(
                    "RL107",
                    f"`{what}` holds a blank entry",
                    item.span,
                    label="only whitespace",
                    help="remove it: a blank phrase would match everywhere",
                )
            elif folded in seen:
                yield warning(
                    "RL204",
                    f"`{item.text}` is listed twice in `{rule.name}`",
                    item.span,
                    label="duplicate" + ("" if item.text == seen[folded].text else " after normalisation"),
                    labels=(Label(seen[folded].span, "first listed here"),),
                    help="remove the duplicate",
                )
            else:
                seen[folded] = item
        if isinstance(rule, ast.TagsRule):
            for item in items:
                if item.text.strip() and not _TAG_NAME.fullmatch(item.text):
                    yield error(
                        "RL121",
                        f"`{item.text}` is not a valid tag name",
                        item.span,
                        label="expected a name like `think` or `answer`",
                        help="write the bare name: `tags \"answer\"` checks for <answer>...</answer>",
                    )


@check
def phrases_also_banned(ctx: CheckContext) -> Iterator[Diagnostic]:
    # Every banned word, grouped by its normalised text, once per match mode: each
    # rewarded phrase is then searched for all of them in one pass (the runtime's
    # matcher), so the check stays linear in the lists, not their product.
    banned: dict[bool, dict[str, list[tuple[ast.BannedRule, ast.Phrase]]]] = {True: {}, False: {}}
    for ban in ctx.spec.rules:
        if isinstance(ban, ast.BannedRule):
            for word in ban.phrases:
                if folded := normalize(word.text).strip():
                    banned[ban.match == "word"].setdefault(folded, []).append((ban, word))
    matchers = [(PhraseMatcher(list(words), word=whole), words) for whole, words in banned.items() if words]
    if not matchers:
        return
    order = {id(rule): index for index, rule in enumerate(ctx.spec.rules)}
    for rule in ctx.spec.rules:
        if not isinstance(rule, ast.PhrasesRule) or rule.each <= 0:
            continue
        for phrase in rule.phrases:
            folded = normalize(phrase.text).strip()
            hits = [hit for matcher, words in matchers for i in matcher.found(folded) for hit in words[matcher.phrases[i]]]
            hits.sort(key=lambda hit: (order[id(hit[0])], hit[1].span.start))
            for ban, word in hits:
                yield warning(
                    "RL201",
                    f"`{phrase.text}` is rewarded by `{rule.name}` but banned by `{ban.name}`",
                    phrase.span,
                    label="rewarded here",
                    labels=(Label(word.span, "banned here"),),
                    help="the two rules pull in opposite directions; remove the phrase from one list",
                )


@check
def thinking_tags(ctx: CheckContext) -> Iterator[Diagnostic]:
    for index, rule in enumerate(ctx.spec.rules):
        if isinstance(rule, ast.TagsRule) and rule.scope == "answer":
            for tag in rule.tags:
                if tag.text.strip().lower() == "think":
                    yield warning(
                        "RL211",
                        "`<think>` tags are stripped from the answer this rule scores",
                        tag.span,
                        label="never found with `scope answer`",
                        help="add `scope full` to the rule so that it sees the thinking and its tags",
                    )


# ----------------------------------------------------------------- regexes
@check
def regexes(ctx: CheckContext) -> Iterator[Diagnostic]:
    for index, rule in enumerate(ctx.spec.rules):
        if not isinstance(rule, ast.RegexRule):
            continue
        span = ctx.span(index, "pattern")
        problem = regex_problem(rule.pattern)
        if problem is not None:
            yield problem_diagnostic(problem, rule.pattern, span)
            continue
        if _matches_empty(rule.pattern):
            yield warning(
                "RL206",
                "the pattern matches the empty string",
                span,
                label="found in every completion",
                help="use `+` instead of `*`, or anchor the pattern, so that it needs some text to match",
            )
        counting = rule.each is not None or rule.cap is not None
        presence = rule.present is not None or rule.absent is not None
        if counting and presence:
            yield error(
                "RL120",
                f"rule `{rule.name}` mixes counting (`each`, `cap`) and presence (`present`, `absent`)",
                ctx.span(index, "each" if rule.each is not None else "cap"),
                label="counting option",
                labels=(Label(ctx.span(index, "present" if rule.present is not None else "absent"), "presence option"),),
                help="score each match with `each`/`cap`, or score the first match with `present`/`absent`",
            )
        elif rule.cap is not None and rule.each is None:
            yield error(
                "RL120",
                "`cap` needs `each`",
                ctx.span(index, "cap"),
                label="nothing to cap",
                help="`each` gives the score per match and `cap` limits the sum",
            )


def re2_options():  # type: ignore[no-untyped-def]
    import re2  # google-re2: linear-time matching, no backtracking

    options = re2.Options()
    options.log_errors = False  # RE2 would print its own error lines to stderr
    return options


def regex_problem(pattern: str) -> tuple[str, str] | None:
    """(code, detail) when RE2 cannot run `pattern`, else None."""
    import re2

    try:
        re2.compile(pattern, re2_options())
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        detail = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        # Python's `re` tells "invalid anywhere" (RL114) from "valid, but not on RE2" (RL115).
        try:
            re.compile(pattern)
        except re.error as python_error:
            return "RL114", str(python_error)
        except RecursionError:
            pass  # its parser recurses once per nested group: RE2's reason is the one we have
        return "RL115", detail
    return None


def problem_diagnostic(problem: tuple[str, str], pattern: str, span: Span) -> Diagnostic:
    code, detail = problem
    if code == "RL114":
        return error("RL114", "invalid regular expression", span, label=detail, help="check the pattern's brackets and escapes")
    return error(
        "RL115",
        "the pattern is not supported by the linear-time regex engine (RE2)",
        span,
        label=detail,
        help="RE2 has no backreferences (`\\1`), lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), possessive or atomic "
        "groups, and repeats above 1000; patterns run on RE2 so that no completion can stall a training step",
    )


def _matches_empty(pattern: str) -> bool:
    import re2

    return re2.compile(pattern, re2_options()).search("") is not None


# ----------------------------------------------------------------- scoring
@check
def never_positive(ctx: CheckContext) -> Iterator[Diagnostic]:
    for index, rule in enumerate(ctx.spec.rules):
        if rule.kind in PENALTY_KINDS:
            continue
        low, high = score_range(rule)
        if high <= 0:
            yield warning(
                "RL202",
                f"rule `{rule.name}` can never score above {_num(high)}",
                ctx.span(index, "name"),
                label=f"scores lie in {_num(low)}..{_num(high)}",
                help="check the score options (`each`, `cap`, `present`, `absent`, `outside`); "
                "to penalise, keep scores positive and use a negative weight",
            )


@check
def token_scope(ctx: CheckContext) -> Iterator[Diagnostic]:
    for index, rule in enumerate(ctx.spec.rules):
        unit = getattr(rule, "unit", None)
        if unit == "tokens" and "scope" in rule.model_fields_set and rule.scope != "full":
            yield warning(
                "RL208",
                f"`scope {rule.scope}` has no effect on a length in tokens",
                ctx.span(index, "scope"),
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
    known = set(ctx.spec.rule_names) | ctx.broken_rule_names
    names = sorted(known)
    used: set[str] = set()
    unknown = False
    for node in _refs(ctx.spec.total):
        if isinstance(node, ast.Ref):
            used.add(node.rule)
            if node.rule not in known:
                unknown = True
                yield _unknown_rule(node.rule, node.span, names)
        elif isinstance(node, ast.Binary) and node.op == "div" and isinstance(node.right, ast.Num):
            if node.right.value == 0:
                yield error("RL123", "division by zero", node.right.span, label="divides by 0")
    for index, gate in enumerate(ctx.spec.gates):
        used.add(gate.rule)
        if gate.rule not in known:
            yield _unknown_rule(gate.rule, ctx.spans.find(("gates", index, "rule")), names)
    if ctx.spec.total is None or ctx.had_syntax_errors or unknown:
        return  # a misspelled reference would also make its rule look unused
    for index, rule in enumerate(ctx.spec.rules):
        if rule.name not in used:
            yield warning(
                "RL205",
                f"rule `{rule.name}` is not used in the total",
                ctx.span(index, "name"),
                label="logged, but does not affect the reward",
                labels=(Label(ctx.spans.find(("total",)), "the total"),),
                help=f"add `{rule.name}` to the `total` formula, or remove the rule",
            )


def _unknown_rule(name: str, span: Span, names: list[str]) -> Diagnostic:
    return error(
        "RL111",
        f"unknown rule `{name}`",
        span,
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
            yield warning(
                "RL209",
                f"this gate {'never' if not can_fire else 'always'} fires",
                ctx.spans.find(("gates", index, "threshold")),
                label=f"`{gate.rule}` scores lie in {_num(low)}..{_num(high)}",
                help="pick a threshold inside the rule's score range",
            )


@check
def unused_defaults(ctx: CheckContext) -> Iterator[Diagnostic]:
    for key in ctx.spec.defaults.model_fields_set:
        if not any(key in type(rule).model_fields for rule in ctx.spec.rules) and ctx.spec.rules:
            yield warning(
                "RL210",
                f"default `{key}` applies to no rule",
                ctx.spans.find(("defaults", key)),
                label="no rule here accepts this option",
                help="remove it from `defaults`",
            )


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"
