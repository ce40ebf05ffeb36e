"""`rewardc test FILE...`: score every spec's examples and report each expectation not met.

    rewardc test specs/*.reward
    rewardc test specs/chat.reward --format json

A failure is an RL139 diagnostic at the `expect` that failed (in the examples file
for examples read from one), with the actual score and the rule's explanation, in
the styles of `rewardc check`. A spec with errors is reported as `check` reports it
and its examples are not run. Exit codes: 0 every expectation holds; 1 a failure or
a spec error; 2 a file that cannot be read or a rule's model that cannot load.

Only light modules at the top: the compiler and the rules' libraries are imported when it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from rewardlang.cli.common import (
    RuleLogCapture,
    add_color_option,
    add_verbose_option,
    display_name,
    print_error,
    quiet_model_loading,
    read_spec,
    spec_folder_of,
)
from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from rewardlang.render import STYLES, render, to_json, use_color

if TYPE_CHECKING:
    from rewardlang.spectest import TestReport


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "test",
        help="score the examples of specs and report every expectation not met",
        description="Score each spec's examples (`example` blocks and `examples` files) and check what "
        "they expect of each rule and of the total.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="spec files; `-` reads standard input")
    parser.add_argument("--format", choices=STYLES, default="rich", help="report style (default: rich)")
    add_color_option(parser)
    add_verbose_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from rewardlang.compiler import CompiledSpec
    from rewardlang.frontend import SourceError, analyze
    from rewardlang.rules.models import ModelLoadError
    from rewardlang.spectest import run_examples

    quiet_model_loading(args.verbose)
    color = use_color(args.color, sys.stderr)
    status = EXIT_OK
    documents: list[dict[str, Any]] = []
    counts = {"examples": 0, "expectations": 0, "failed": 0}
    for name in args.files:
        shown = display_name(name)
        try:
            text = read_spec(name)
        except SourceError as exc:
            print_error(str(exc))
            status = EXIT_USAGE
            continue
        analysis = analyze(text, spec_folder_of(name))
        diagnostics = list(analysis.diagnostics)
        report: TestReport | None = None
        if analysis.spec is not None:
            try:
                with RuleLogCapture() as log_capture:
                    report = run_examples(CompiledSpec(analysis.spec))
                log_capture.report()
            except (ModelLoadError, ImportError) as exc:
                print_error(f"{shown}: {exc}")
                status = EXIT_USAGE
                continue
            diagnostics += report.diagnostics()
        failed = analysis.spec is None or (report is not None and not report.passed)
        if failed and status == EXIT_OK:
            status = EXIT_SPEC
        if args.format == "json":
            documents.append(_document(shown, diagnostics, report))
        else:
            if diagnostics:
                sys.stderr.write(render(diagnostics, text, shown, style=args.format, color=color))
            print(_summary_line(shown, report))
        if report is not None:
            counts["examples"] += len(report.results)
            counts["expectations"] += len(report.outcomes)
            counts["failed"] += len(report.failures)
    if args.format == "json":
        print(json.dumps({"files": documents, **counts, "passed": status == EXIT_OK}, indent=2, ensure_ascii=False))
    elif len(args.files) > 1:
        print(f"{counts['examples']} examples, {counts['expectations']} expectations, {counts['failed']} failed")
    return status


def _summary_line(name: str, report: TestReport | None) -> str:
    if report is None:
        return f"{name}: not run (the spec has errors)"
    if not report.results:
        return f"{name}: no examples"
    failed = len(report.failures)
    verdict = "ok" if not failed else f"{failed} failed"
    return f"{name}: {len(report.results)} examples, {len(report.outcomes)} expectations: {verdict}"


def _document(name: str, diagnostics: list[Any], report: TestReport | None) -> dict[str, Any]:
    return {
        "file": name,
        "spec": report.spec.name if report is not None else None,
        "passed": report is not None and report.passed and not any(d.is_error for d in diagnostics),
        "examples": [result.as_dict() for result in report.results] if report is not None else [],
        "diagnostics": [to_json(d, name) for d in diagnostics],
    }
