"""Validation: syntax tree -> `Spec`, with Pydantic's errors turned into diagnostics.

Each rule is validated on its own, so one bad rule does not hide the errors of
the next. A span table maps every field path (`("rules", 2, "weight")`) to the
place in the source it came from; validation errors and later checks look
their spans up there.
"""

from __future__ import annotations

import os
import re
import typing
from typing import Any, NamedTuple

from pydantic import ValidationError

from rewardlang import ast, codes, plugin_rules, plugins
from rewardlang import syntax as syn
from rewardlang.diagnostics import Diagnostic, Label, suggestion_help
from rewardlang.examples import build_examples
from rewardlang.fmt import format_condition
from rewardlang.kind import Kind
from rewardlang.registry import KINDS, kind_of
from rewardlang.source import NO_SPAN, FieldPath, Span, SpanTable

RESERVED_NAMES = frozenset({"total"})
# The targets written as a bare name; every other target is `column NAME`.
_NAMED_TARGETS = tuple(kind for kind in typing.get_args(ast.TargetKind) if kind != "column")


def build_spec(tree: syn.SpecSyntax, base: str | os.PathLike[str] | None = None) -> Built:
    """Validate a syntax tree into a Spec of every statement that is valid on its own.

    `base` is the folder relative paths in the spec resolve from (the spec file's own
    folder; None: the working directory).
    """
    return _Builder(base).build(tree)


def grouped_rules(statements: list[syn.Statement]) -> list[tuple[syn.Rule, syn.WhenGroup | None]]:
    """Every rule of a spec in source order, with the `when` group it is written in (None: none)."""
    found: list[tuple[syn.Rule, syn.WhenGroup | None]] = []
    for statement in statements:
        if isinstance(statement, syn.Rule):
            found.append((statement, None))
        elif isinstance(statement, syn.WhenGroup):
            found += [(rule, statement) for rule in statement.rules]
    return found


class Built(NamedTuple):
    spec: ast.Spec  # partial when `failed_rules` or errors exist
    spans: SpanTable
    diagnostics: list[Diagnostic]
    failed_rules: set[str]  # rules that did not validate (formulas may still name them)


class _Builder:
    def __init__(self, base: str | os.PathLike[str] | None) -> None:
        self.context = {"base": base}
        self.spans = SpanTable()
        self.diagnostics: list[Diagnostic] = []
        self.packages: tuple[syn.String, ...] = ()  # the `plugins` statement's packages
        self.plugin_kinds: dict[str, tuple[str, syn.Word]] = {}  # plugin kind -> (its package, where first used)
        self.unknown_kinds = False  # a rule names a kind that could not be resolved

    # ------------------------------------------------------------------ spec
    def build(self, tree: syn.SpecSyntax) -> Built:
        headers = [s for s in tree.statements if isinstance(s, syn.Header)]
        defaults = self._defaults([s for s in tree.statements if isinstance(s, syn.Defaults)])
        rules: list[ast.RuleBase] = []
        failed: set[str] = set()
        grouped = grouped_rules(tree.statements)
        self._check_empty_groups(tree.statements)
        syntax_rules = [rule for rule, _ in grouped]
        self._check_rule_names(syntax_rules)
        plugins_statement = self._single(tree, syn.Plugins, "plugins")
        self.packages = plugins_statement.packages if plugins_statement else ()
        for index, (rule, group) in enumerate(grouped):
            # A rule's spans are keyed by its place in the file until it validates,
            # then by its place in the Spec (failed rules leave gaps).
            outer, self.spans = self.spans, SpanTable()
            validated = self._rule(index, rule, defaults, group)
            rule_spans, self.spans = self.spans, outer
            if validated is None:
                failed.add(rule.name.text)
                continue
            for path, span in rule_spans.items():
                self.spans[("rules", len(rules), *path[2:])] = span
            rules.append(validated)
        data: dict[str, Any] = {
            "name": headers[0].name.text if headers else "spec",
            "description": headers[0].description.value if headers and headers[0].description else None,
            "defaults": ast.Defaults.model_validate({key: value for key, (value, _) in defaults.items()}),
            "rules": rules,
            "gates": [
                gate
                for i, statement in enumerate(s for s in tree.statements if isinstance(s, syn.Gate))
                if (gate := self._gate(i, statement)) is not None
            ],
            "span": headers[0].span if headers else NO_SPAN,
            "schedules": self._named_schedules(tree, syntax_rules, failed),
            "plugins": tuple(package.value for package in self.packages),
        }
        if plugins_statement is not None or self.plugin_kinds:
            # A rule that failed to parse, or whose kind is unknown, may be the one using a package:
            # no "unused package" then.
            unused_ok = bool(tree.broken_rule_names) or self.unknown_kinds
            self.diagnostics += plugin_rules.check_packages(plugins_statement, self.plugin_kinds, unused_ok)
        if headers:
            self.spans[("name",)] = headers[0].name.span
        for key, (_, span) in defaults.items():
            self.spans[("defaults", key)] = span
        total = self._single(tree, syn.Total, "total")
        if total is not None and (expr := self._expr(total.expr, ("total",))) is not None:
            data["total"] = expr
        if (clip := self._single(tree, syn.Clip, "clip")) is not None:
            data["clip"] = self._range(clip.range, ("clip",))
        data["examples"], example_diagnostics = build_examples(tree.statements, self.context["base"])
        self.diagnostics += example_diagnostics
        try:
            spec = ast.Spec.model_validate(data)
        except ValidationError as exc:
            self._report(exc, prefix=(), kind=None)
            data.pop("total", None)
            data.pop("clip", None)
            spec = ast.Spec.model_validate(data)
        return Built(spec, self.spans, self.diagnostics, failed)

    def _check_rule_names(self, rules: list[syn.Rule]) -> None:
        """Over every rule written, valid or not: a duplicate is a duplicate either way."""
        first: dict[str, syn.Rule] = {}
        for rule in rules:
            name = rule.name.text
            if name in RESERVED_NAMES:
                self.diagnostics.append(
                    codes.RL119(
                        rule.name.span,
                        name=name,
                        label="cannot name a rule",
                        help=f"`{name}` names the combined score in training logs; pick another name",
                    )
                )
            if name in first:
                self.diagnostics.append(
                    codes.RL101(
                        rule.name.span,
                        name=name,
                        label="defined again here",
                        labels=(Label(first[name].name.span, "first defined here"),),
                        help="rule names must be unique: each is logged as `rewards/<name>/mean`",
                    )
                )
            else:
                first[name] = rule

    def _single(self, tree: syn.SpecSyntax, kind: type, word: str) -> Any:
        found = [s for s in tree.statements if isinstance(s, kind)]
        for extra in found[1:]:
            self.diagnostics.append(
                codes.RL103(
                    extra.span,
                    variant="statement",
                    word=word,
                    labels=(Label(found[0].span, "first given here"),),
                    help=f"a spec has at most one `{word}`; merge them",
                )
            )
        return found[0] if found else None

    # -------------------------------------------------------------- defaults
    def _defaults(self, blocks: list[syn.Defaults]) -> dict[str, tuple[Any, Span]]:
        merged: dict[str, tuple[Any, Span]] = {}
        # All `defaults` blocks count as one: an option set in two of them is a duplicate.
        for option in self._unique_options(tuple(o for block in blocks for o in block.options)):
            if option.key not in ast.DEFAULTABLE:
                self.diagnostics.append(
                    codes.RL102(
                        option.key_span,
                        variant="defaults",
                        option=option.key,
                        label="not a shared option",
                        help=f"`defaults` accepts {_listing(ast.DEFAULTABLE)}; set `{option.key}` on each rule",
                    )
                )
                continue
            merged[option.key] = (self._value(option.value, ("defaults", option.key)), option.span)
        try:
            ast.Defaults.model_validate({key: value for key, (value, _) in merged.items()})
        except ValidationError as exc:
            for key, (_, span) in merged.items():
                self.spans[("defaults", key)] = span
            self._report(exc, prefix=("defaults",), kind=None)
            bad = {err["loc"][0] for err in exc.errors()}
            merged = {key: value for key, value in merged.items() if key not in bad}
        return merged

    def _unique_options(self, options: tuple[syn.Option, ...]) -> list[syn.Option]:
        seen: dict[str, syn.Option] = {}
        for option in options:
            if option.key in seen:
                self.diagnostics.append(
                    codes.RL103(
                        option.span,
                        option=option.key,
                        labels=(Label(seen[option.key].span, "first given here"),),
                        help="remove one of them",
                    )
                )
                continue
            seen[option.key] = option
        return list(seen.values())

    # ----------------------------------------------------------------- rules
    def _rule(
        self, index: int, rule: syn.Rule, defaults: dict[str, tuple[Any, Span]], group: syn.WhenGroup | None = None
    ) -> ast.RuleBase | None:
        kind = rule.kind.text
        record = self._kind(rule)
        if record is None:
            return None
        arguments = rule.arguments if rule.plugin_values is None else plugin_rules.named_arguments(rule, record)
        if isinstance(arguments, Diagnostic):
            self.diagnostics.append(arguments)
            return None
        model: type[ast.RuleBase] = record.model
        path: FieldPath = ("syntax_rules", index)
        self.spans[path] = rule.span
        self.spans[(*path, "name")] = rule.name.span
        self.spans[(*path, "kind")] = rule.kind.span
        data: dict[str, Any] = {"kind": kind, "name": rule.name.text, "span": rule.span}
        for name, value in arguments:
            data[name] = self._value(value, (*path, name), field=name)
        for option in self._unique_options(rule.options):
            data[option.key] = self._value(option.value, (*path, option.key), field=option.key)
            self.spans[(*path, option.key)] = option.span
        if group is not None:
            data["when"] = self._group_condition(rule, group, (*path, "when"))
        for key, (value, span) in defaults.items():
            if key in model.model_fields and key not in data:
                data[key] = value
                self.spans[(*path, key)] = span
        if self._check_names(data, path):
            return None
        try:
            return model.model_validate(data, context=self.context)
        except ValidationError as exc:
            self._report(exc, prefix=path, kind=kind)
            return None

    def _check_empty_groups(self, statements: list[syn.Statement]) -> None:
        for statement in statements:
            if isinstance(statement, syn.WhenGroup) and not statement.rules:
                condition = statement.condition
                self.diagnostics.append(
                    codes.RL221(
                        statement.span,
                        condition=format_condition(condition),
                        label="no rules inside",
                        help="write the rules for these rows inside the braces, or remove the group",
                    )
                )

    def _group_condition(self, rule: syn.Rule, group: syn.WhenGroup, path: FieldPath) -> dict[str, Any]:
        """A group's condition, copied onto one of its rules (a `when` of the rule's own is an error)."""
        own = next((option for option in rule.options if option.key == "when"), None)
        if own is not None:
            self.diagnostics.append(
                codes.RL140(
                    own.span,
                    name=rule.name.text,
                    label="a condition of its own",
                    labels=(Label(group.condition.span, "the group's condition"),),
                    help="move the rule out of the `when` group, or remove its own `when`",
                )
            )
        condition: dict[str, Any] = self._value(group.condition, path)
        return condition

    def _kind(self, rule: syn.Rule) -> Kind[Any] | None:
        """The rule's kind record; a plugin kind is looked up (and its package noted) only for a plugin rule."""
        if rule.plugin_values is None:
            return KINDS[rule.kind.text]
        found = plugin_rules.resolve_kind(rule, self.packages)
        if isinstance(found, Diagnostic):
            self.diagnostics.append(found)
            self.unknown_kinds = True
            return None
        package = plugins.provider(rule.kind.text)
        if package is not None:
            self.plugin_kinds.setdefault(rule.kind.text, (package, rule.kind))
        return found

    def _check_names(self, data: dict[str, Any], path: FieldPath) -> int:
        """Targets and formula functions are plain names in the grammar; give them good errors."""
        for field in ("target", "tool"):  # the fields that hold a target (`tool`: the `json` kind's)
            target = data.get(field)
            if isinstance(target, dict) and target.get("kind") not in (*_NAMED_TARGETS, "column"):
                name = target["kind"]
                help = suggestion_help(name, _NAMED_TARGETS)
                self.diagnostics.append(
                    codes.RL110(
                        self.spans.find((*path, field)),
                        name=name,
                        label=f"expected {_listing((*_NAMED_TARGETS, 'column NAME'))}",
                        help=help or f"for a dataset column write `column {name}`",
                    )
                )
                return 1
        return 0

    # ----------------------------------------------------------------- values
    def _value(self, value: syn.Value, path: FieldPath, field: str = "") -> Any:
        self.spans[path] = value[0].span.to(value[-1].span) if isinstance(value, tuple) else value.span
        if isinstance(value, syn.Number):
            return value.value
        if isinstance(value, syn.Word):
            return value.text
        if isinstance(value, syn.String):
            return value.value
        if isinstance(value, syn.Flag):
            return True
        if isinstance(value, syn.Range):
            return self._range(value, path)
        if isinstance(value, syn.ScheduleValue):
            return self._schedule(value, path)
        if isinstance(value, syn.Correct):
            self.spans[(*path, "rule")] = value.rule.span
            data: dict[str, Any] = {"rule": value.rule.text, "span": value.span}
            if value.comparison is not None and value.threshold is not None:
                self.spans[(*path, "threshold")] = value.threshold.span
                data |= {"comparison": value.comparison.text, "threshold": value.threshold.value}
            return data
        if isinstance(value, syn.Condition):
            self.spans[(*path, "column")] = value.column_span
            return {
                "column": value.column,
                "column_span": value.column_span,
                "op": value.op,
                "values": [v.value for v in value.values],
                "span": value.span,
            }
        if isinstance(value, syn.Target):
            if value.is_column:
                return {"kind": "column", "column": value.name, "span": value.span}
            return {"kind": value.name, "span": value.span}
        assert isinstance(value, tuple), "example items are read by rewardlang.examples, never as rule options"
        items: list[dict[str, Any]] = []
        for position, item in enumerate(value):
            if isinstance(item, syn.TypedString):  # `"name": string`: the key, and its type
                self.spans[(*path, position)] = item.string.span
                self.spans[(*path, position, "type")] = item.type.span
                items.append({"text": item.string.value, "type": item.type.text, "span": item.string.span})
                continue
            self.spans[(*path, position)] = item.span
            items.append({"text": item.value, "span": item.span})
        return items

    def _range(self, value: syn.Range, path: FieldPath) -> dict[str, Any]:
        self.spans[path] = value.span
        if value.low is not None:
            self.spans[(*path, "low")] = value.low.span
        if value.high is not None:
            self.spans[(*path, "high")] = value.high.span
        return {
            "low": value.low.value if value.low else None,
            "high": value.high.value if value.high else None,
            "span": value.span,
        }

    def _schedule(self, value: syn.ScheduleValue, path: FieldPath) -> dict[str, Any]:
        """A schedule's points; an unwritten step (`0 -> 1 over 100` starts at step 0) is 0."""
        points = []
        for index, (step, weight) in enumerate(value.points):
            if step is not None:
                self.spans[(*path, "points", index, "step")] = step.span
            self.spans[(*path, "points", index, "weight")] = weight.span
            points.append({"step": step.value if step is not None else 0, "weight": weight.value})
        return {"form": value.form, "points": points, "span": value.span}

    def _named_schedules(
        self, tree: syn.SpecSyntax, rules: list[syn.Rule], failed: set[str]
    ) -> list[ast.NamedSchedule]:
        """`schedule NAME: ...` statements; a name must not be `total`, a rule's or another schedule's.
        The names of those that fail join `failed`: a formula may still name them."""
        taken: dict[str, tuple[Span, str]] = {rule.name.text: (rule.name.span, "a rule") for rule in reversed(rules)}
        schedules: list[ast.NamedSchedule] = []
        for statement in (s for s in tree.statements if isinstance(s, syn.Schedule)):
            name = statement.name
            if name.text in RESERVED_NAMES:
                self.diagnostics.append(
                    codes.RL119(name.span, name=name.text, label="cannot name a schedule",
                                help=f"`{name.text}` names the combined score in training logs; pick another name")
                )
                failed.add(name.text)
                continue
            if name.text in taken:
                first, what = taken[name.text]
                self.diagnostics.append(
                    codes.RL101(
                        name.span, variant="schedule", name=name.text, other=what,
                        label="defined again here", labels=(Label(first, "first defined here"),),
                        help="a formula names rules and schedules alike: give each its own name",
                    )
                )
                continue
            taken[name.text] = (name.span, "another schedule")
            path: FieldPath = ("schedules", len(schedules))
            self.spans[path] = statement.span
            self.spans[(*path, "name")] = name.span
            data = {"name": name.text, "schedule": self._value(statement.value, (*path, "schedule")),
                    "span": statement.span}
            try:
                schedules.append(ast.NamedSchedule.model_validate(data))
            except ValidationError as exc:
                self._report(exc, prefix=path, kind=None)
                failed.add(name.text)
        return schedules

    def _gate(self, index: int, gate: syn.Gate) -> ast.Gate | None:
        path: FieldPath = ("gates", index)
        self.spans[path] = gate.span
        self.spans[(*path, "rule")] = gate.rule.span
        self.spans[(*path, "threshold")] = gate.threshold.span
        data: dict[str, Any] = {
            "rule": gate.rule.text,
            "comparison": gate.comparison.text,
            "threshold": gate.threshold.value,
            "span": gate.span,
        }
        if gate.value is not None:
            data["value"] = gate.value.value
            self.spans[(*path, "value")] = gate.value.span
        try:
            return ast.Gate.model_validate(data)
        except ValidationError as exc:
            self._report(exc, prefix=path, kind=None)
            return None

    def _expr(self, expr: syn.Expr, path: FieldPath) -> dict[str, Any] | None:
        self.spans[path] = expr.span
        if expr.op == "num":
            return {"op": "num", "value": expr.number, "span": expr.span}
        if expr.op == "ref":
            assert expr.name is not None
            return {"op": "ref", "rule": expr.name.text, "span": expr.span}
        args = [self._expr(arg, (*path, i)) for i, arg in enumerate(expr.args)]
        if any(arg is None for arg in args):
            return None
        if expr.op == "neg":
            return {"op": "neg", "operand": args[0], "span": expr.span}
        if expr.op != "call":
            return {"op": expr.op, "left": args[0], "right": args[1], "span": expr.span}
        assert expr.name is not None
        function = expr.name.text
        if function not in ast.FUNCTION_ARITY:
            self.diagnostics.append(
                codes.RL112(
                    expr.name.span,
                    name=function,
                    label=f"expected {_listing(ast.FUNCTION_ARITY)}",
                    help=suggestion_help(function, ast.FUNCTION_ARITY),
                )
            )
            return None
        low, high = ast.FUNCTION_ARITY[function]
        if not low <= len(args) <= high:
            wanted = (str(low) if low == high else f"at least {low}") + (" arguments" if low > 1 else " argument")
            self.diagnostics.append(
                codes.RL113(
                    expr.span,
                    function=function,
                    wanted=wanted,
                    count=len(args),
                    help="clip(x, low, high) limits x to [low, high]" if function == "clip" else "",
                )
            )
            return None
        return {"op": "call", "function": function, "args": args, "span": expr.span}

    # ------------------------------------------------------------- reporting
    def _report(self, exc: ValidationError, prefix: FieldPath, kind: str | None) -> None:
        reported: set[Any] = set()
        plugin = kind is not None and kind not in KINDS
        for err in exc.errors(include_url=False):
            if plugin and plugin_rules.is_type_error(err):
                if err["loc"][:1] not in reported:
                    reported.add(err["loc"][:1])
                    self.diagnostics.append(self._plugin_type_error(err, prefix, kind_of(str(kind))))
                continue
            if _wrong_union_member(err):
                continue
            loc = tuple(part for part in err["loc"] if not _is_union_tag(part))
            if loc[:1] in reported:
                continue  # one error per field: unions report once per member
            reported.add(loc[:1])
            self.diagnostics.append(self._diagnose(err, loc, prefix, kind))

    def _plugin_type_error(self, err: Any, prefix: FieldPath, kind: Kind[Any]) -> Diagnostic:
        """RL152: a plugin rule's value of the wrong type (the grammar could not tell), or a missing one."""
        field = str(err["loc"][0])
        expected = plugin_rules.expected_value(kind.model, field)
        if err["type"] == "missing" and len(err["loc"]) == 1:
            return codes.RL152(
                self.spans.find(prefix),
                variant="missing",
                kind=kind.name,
                field=field,
                label=f"`{field}` is not given",
                help=f"add `{field}` to the rule's block: it takes {expected}",
            )
        return codes.RL152(
            self.spans.find((*prefix, field)), kind=kind.name, field=field, expected=expected,
            label=f"expected {expected}",
        )

    def _diagnose(self, err: Any, loc: FieldPath, prefix: FieldPath, kind: str | None) -> Diagnostic:
        kind_name = err["type"]
        field = next((str(part) for part in reversed(loc) if isinstance(part, str) and part != "text"), "value")
        span = self.spans.find((*prefix, *loc))
        where = f"`{kind}` rules" if kind else ("`defaults`" if prefix == ("defaults",) else "this spec")
        value = err.get("input")
        ctx = err.get("ctx") or {}
        if kind_name == "extra_forbidden":
            option = str(loc[-1])
            accepted = kind_of(kind).options if kind else []
            return codes.RL102(
                span.head(len(option)),
                option=option,
                where=where,
                label=f"not an option of {where}",
                help=(suggestion_help(option, accepted) + " " if suggestion_help(option, accepted) else "")
                + f"{where} accept {_listing(accepted)}",
            )
        if kind_name == "schedule_order":
            return codes.RL143(
                self.spans.find((*prefix, *loc, ctx["index"], "step")),
                detail=f"step {ctx['step']} is not after step {ctx['previous']}",
                label=f"not after step {ctx['previous']}",
                help="write each point after the one before: `points 0: 0, 100: 1`; "
                "a warm-up `over N` and a switch `at N` need N >= 1",
            )
        if kind_name == "literal_error":
            expected = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
            return codes.RL104(
                span,
                field=field,
                value=value,
                label=f"expected {_listing(expected)}",
                help=suggestion_help(str(value), expected),
            )
        if kind_name in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
            bound = {"greater_than_equal": "at least", "greater_than": "greater than",
                     "less_than_equal": "at most", "less_than": "less than"}[kind_name]
            limit = next(iter(ctx.values()), "")
            return codes.RL105(
                span,
                field=field,
                label=f"must be {bound} {_number(limit)}",
                help=_range_help(field),
            )
        if kind_name in ("int_from_float", "int_type", "int_parsing"):
            return codes.RL106(span, field=field, label=f"`{_number(value)}` is not whole")
        if kind_name in ("string_too_short", "too_short"):
            return codes.RL107(
                span,
                field=field,
                label="empty",
                help="remove it, or write the text to look for" if field in ("phrases", "tags", "keys") else "",
            )
        return codes.RL100(span, field=field, label="not accepted here")


def _wrong_union_member(err: Any) -> bool:
    """For `int | str` fields, the error of the member the input was not meant for."""
    value = err.get("input")
    if err["type"] == "model_type" and err["loc"][-1:] == ("Schedule",):  # a weight: a number, or a schedule
        return True
    if err["type"] == "float_type" and isinstance(value, dict):
        return True
    if err["type"] in ("int_type", "int_parsing", "int_from_float"):
        return isinstance(value, str)
    return err["type"] == "string_type" and not isinstance(value, str)


def _is_union_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        part.startswith(("constrained-", "function-")) or part in ("int", "str", "Schedule")
    )


def _listing(words: Any) -> str:
    quoted = [f"`{w}`" for w in words]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def _range_help(field: str) -> str:
    if field == "step":
        return "steps count TRL's optimizer steps from 0 (`trainer_state.global_step`)"
    if field == "weight":
        return "weights scale a rule's score in the total; use a value between -100 and 100"
    if field in ("each", "cap", "present", "absent", "outside", "value"):
        return "rule scores are kept between -100 and 100"
    return ""
