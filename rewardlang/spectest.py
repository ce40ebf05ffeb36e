"""Running a spec's examples: score each one and compare with what it expects.

    from rewardlang import load
    from rewardlang.spectest import run_examples

    report = run_examples(load("specs/chat.reward"))
    report.failures          # the expectations not met, with the actual score and the rule's reason
    report.diagnostics()     # each failure as an RL139 diagnostic, at the `expect` that failed

The core of `rewardc test` and `rewardlang.testing`; examples are read by
`rewardlang.examples` (the front end), scored by the compiled spec like any
batch, each with its explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rewardlang import ast, codes
from rewardlang.diagnostics import Diagnostic, Label
from rewardlang.examples import example_rows

if TYPE_CHECKING:
    from rewardlang.compiler import CompiledSpec


@dataclass(frozen=True)
class Outcome:
    """One expectation of one example, checked."""

    example: ast.Example
    expectation: ast.Expectation
    actual: float | None
    explanation: str  # the rule's reason for its score; for the total, every rule's score

    @property
    def passed(self) -> bool:
        return self.expectation.holds(self.actual)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.expectation.subject,
            "expected": self.expectation.describe(),
            "actual": self.actual,
            "passed": self.passed,
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class ExampleResult:
    """An example's scores (every rule and the total) and its expectations, checked."""

    example: ast.Example
    scores: dict[str, float | None]
    total: float
    explanations: dict[str, str]
    outcomes: list[Outcome]

    @property
    def passed(self) -> bool:
        return all(outcome.passed for outcome in self.outcomes)

    def as_dict(self) -> dict[str, Any]:
        where = self.example.file.name if self.example.file else None
        return {
            "name": self.example.name,
            "file": where,
            "line": self.example.span.line,
            "passed": self.passed,
            "scores": self.scores,
            "total": self.total,
            "expectations": [outcome.as_dict() for outcome in self.outcomes],
        }


@dataclass(frozen=True)
class TestReport:
    spec: ast.Spec
    results: list[ExampleResult]

    @property
    def outcomes(self) -> list[Outcome]:
        return [outcome for result in self.results for outcome in result.outcomes]

    @property
    def failures(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.passed]

    @property
    def passed(self) -> bool:
        return not self.failures

    def diagnostics(self) -> list[Diagnostic]:
        """Each failure as an RL139 diagnostic at its `expect` (in the examples file it came from)."""
        return [failure_diagnostic(outcome) for outcome in self.failures]


def run_examples(compiled: CompiledSpec, examples: Sequence[ast.Example] | None = None) -> TestReport:
    """Score `examples` (default: the spec's own) with `compiled` and check every expectation.

    Each example is scored on its own, with explanations, as `rewardc score --explain`
    scores a row. A rule's model that cannot load raises `ModelLoadError`, as in scoring.
    """
    spec = compiled.spec
    chosen = list(spec.examples if examples is None else examples)
    rows = example_rows(chosen)
    results = []
    for example, row in zip(chosen, rows, strict=True):
        scores = compiled.score(
            [row.completion],
            prompts=[row.prompt],
            completion_ids=[row.completion_ids] if row.completion_ids is not None else None,
            explain=True,
            at_step=0,  # examples score with the weights of the first training step
            **{name: [value] for name, value in row.columns.items()},
        )
        rule_scores = {name: values[0] for name, values in scores.rules.items()}
        reasons = {name: texts[0] for name, texts in (scores.explanations or {}).items()}
        total = scores.total[0]
        outcomes = [
            Outcome(
                example,
                expectation,
                total if expectation.subject == "total" else rule_scores.get(expectation.subject),
                _all_scores(rule_scores) if expectation.subject == "total" else reasons.get(expectation.subject, ""),
            )
            for expectation in example.expectations
        ]
        results.append(ExampleResult(example, rule_scores, total, reasons, outcomes))
    return TestReport(spec, results)


def failure_diagnostic(outcome: Outcome) -> Diagnostic:
    expectation, example = outcome.expectation, outcome.example
    actual = format_score(outcome.actual)
    what = "the total" if expectation.subject == "total" else f"rule `{expectation.subject}`"
    note = f"{what}: {outcome.explanation}" if outcome.explanation else ""
    header = example.span  # a multi-line span is marked on its first line
    labels = () if header.line == expectation.span.line else (Label(header, "in this example"),)
    return codes.RL139(
        expectation.span,
        subject=expectation.subject,
        actual=actual,
        name=example.name,
        expected=expectation.describe(),
        label=f"got {actual}",
        labels=labels,
        note=note,
        help="if the example is right, the spec does not pay what you meant: fix the rule; "
        "otherwise fix the expectation",
        in_file=example.file,
    )


def format_score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _all_scores(scores: dict[str, float | None]) -> str:
    return "rule scores " + ", ".join(f"{name} {format_score(value)}" for name, value in scores.items())
