"""Assert on a spec from pytest, the way `rewardc test` does.

    from rewardlang.testing import assert_examples, assert_scores, score_one

    def test_chat_spec_examples():
        assert_examples("specs/chat.reward")          # every example of the spec holds

    def test_stuffing_does_not_pay():
        assert_scores(
            "specs/chat.reward",
            "I can help. Here's how. Let me explain. For example.",
            prompt=[{"role": "user", "content": "How do I reset my password?"}],
            helpful=">= 0.4",                          # a string is written as in a spec
            total="< 3",
            safety=1,                                  # a number is `=`; None is `n/a`
        )

A spec is a path or a `CompiledSpec` (`rewardlang.load(...)`: compile once, share it
between tests). A failed assertion lists each expectation not met with the actual
score and the rule's explanation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rewardlang import ast
from rewardlang.compiler import CompiledSpec, load
from rewardlang.examples import parse_expectation
from rewardlang.source import NO_SPAN
from rewardlang.spectest import TestReport, failure_diagnostic, run_examples

__all__ = ["ScoredExample", "assert_examples", "assert_scores", "score_one"]

SpecLike = str | os.PathLike[str] | CompiledSpec


@dataclass(frozen=True)
class ScoredExample:
    """One completion's scores: every rule's, the total, and each rule's explanation."""

    rules: dict[str, float | None]
    total: float
    explanations: dict[str, str]

    def __getitem__(self, name: str) -> float | None:
        return self.total if name == "total" else self.rules[name]


def _compiled(spec: SpecLike) -> CompiledSpec:
    return spec if isinstance(spec, CompiledSpec) else load(os.fspath(spec))


def assert_examples(spec: SpecLike) -> TestReport:
    """Run the spec's examples; raise `AssertionError` listing every expectation not met."""
    report = run_examples(_compiled(spec))
    if not report.passed:
        raise AssertionError(_failures_text(report))
    return report


def score_one(
    spec: SpecLike,
    completion: str | list[dict[str, Any]],
    *,
    prompt: str | list[dict[str, Any]] | None = None,
    completion_ids: list[int] | None = None,
    **columns: Any,
) -> ScoredExample:
    """Score one completion (text, or messages) for `prompt`, with dataset `columns`."""
    report = run_examples(_compiled(spec), [_example(completion, prompt, completion_ids, columns, {})])
    result = report.results[0]
    return ScoredExample(result.scores, result.total, result.explanations)


def assert_scores(
    spec: SpecLike,
    completion: str | list[dict[str, Any]],
    *,
    prompt: str | list[dict[str, Any]] | None = None,
    completion_ids: list[int] | None = None,
    columns: Mapping[str, Any] | None = None,
    **expected: Any,
) -> ScoredExample:
    """Score one completion and assert each rule's (or `total`'s) expectation, written as in an
    examples file: a number (`=`), None (`n/a`) or a string (`">= 0.5"`, `"= 1 within 0.1"`)."""
    compiled = _compiled(spec)
    unknown = sorted(set(expected) - {*compiled.spec.rule_names, "total"})
    if unknown:
        raise ValueError(f"spec `{compiled.spec.name}` has no rule {', '.join(map(repr, unknown))}")
    report = run_examples(compiled, [_example(completion, prompt, completion_ids, dict(columns or {}), expected)])
    if not report.passed:
        raise AssertionError(_failures_text(report))
    result = report.results[0]
    return ScoredExample(result.scores, result.total, result.explanations)


def _example(
    completion: Any, prompt: Any, completion_ids: Any, columns: dict[str, Any], expected: Mapping[str, Any]
) -> ast.Example:
    expectations = []
    for subject, value in expected.items():
        parsed = parse_expectation(subject, value)
        if isinstance(parsed, str):
            raise ValueError(f"expectation of `{subject}`: {parsed}")
        expectations.append(parsed)
    if isinstance(completion, str) and isinstance(prompt, list):
        completion = [{"role": "assistant", "content": completion}]  # a conversation's reply is a message
    data = {
        "name": "assert_scores" if expected else "score_one",
        "prompt": tuple(prompt) if isinstance(prompt, list) else prompt,
        "completion": tuple(completion) if isinstance(completion, list) else completion,
        "completion_ids": tuple(completion_ids) if completion_ids is not None else None,
        "columns": columns,
        "expectations": expectations,
    }
    return ast.Example.model_validate(data)


def _failures_text(report: TestReport) -> str:
    lines = [f"spec `{report.spec.name}`: {len(report.failures)} of {len(report.outcomes)} expectations not met"]
    for outcome in report.failures:
        diagnostic = failure_diagnostic(outcome)
        span = outcome.expectation.span
        where = outcome.example.file.name if outcome.example.file else report.spec.name
        location = f"{where}:{span.line}:{span.column}: " if span != NO_SPAN else ""  # written in a spec or a file
        lines.append(f"  {location}{diagnostic.message}")
        if diagnostic.note:
            lines.append(f"    {diagnostic.note}")
    return "\n".join(lines)

