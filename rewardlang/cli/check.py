"""`rewardc check FILE...`: report every problem in specs (silent when clean)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from rewardlang.cli.common import display_name, positive_int, print_error, read_spec, spec_folder_of
from rewardlang.diagnostics import Diagnostic
from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from rewardlang.frontend import SourceError, SourceTooLarge, analyze
from rewardlang.render import STYLES, render, summary, to_json, use_color


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("check", help="report every problem in specs (silent when clean)")
    parser.add_argument("files", nargs="+", metavar="FILE", help="spec files; `-` reads standard input")
    parser.add_argument("--format", choices=STYLES, default="rich", help="diagnostic style (default: rich)")
    parser.add_argument("--strict", action="store_true", help="warnings fail the check too")
    parser.add_argument("--max-errors", type=positive_int, metavar="N", help="stop after N errors")
    parser.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return check(args.files, args.format, args.strict, args.max_errors, use_color(args.color, sys.stderr))


def check(files: Sequence[str], style: str, strict: bool, max_errors: int | None, color: bool) -> int:
    io_failed = spec_failed = False
    shown_errors = total_errors = total_warnings = 0
    json_items: list[dict[str, object]] = []
    stopped = False
    for name in files:
        try:
            text = read_spec(name)
        except SourceTooLarge as exc:  # a spec error like any other: RL008
            text, diagnostics = exc.head, [exc.diagnostic]
        except SourceError as exc:
            print_error(str(exc))
            io_failed = True
            continue
        else:
            diagnostics = analyze(text, spec_folder_of(name)).diagnostics
        errors = sum(d.is_error for d in diagnostics)
        warnings = len(diagnostics) - errors
        total_errors += errors
        total_warnings += warnings
        spec_failed |= errors > 0 or (strict and warnings > 0)
        if max_errors is not None:
            diagnostics, shown_errors, stopped = _limit(diagnostics, max_errors, shown_errors)
        if style == "json":
            json_items += [to_json(d, display_name(name)) for d in diagnostics]
        elif diagnostics:
            sys.stderr.write(render(diagnostics, text, display_name(name), style=style, color=color))
        if stopped:
            break
    if style == "json":
        print(json.dumps(json_items, indent=2, ensure_ascii=False))
    elif total_errors or total_warnings:
        line = summary(total_errors, total_warnings)
        if stopped:
            line += f" (stopped after {max_errors} error{'s' if max_errors != 1 else ''}: --max-errors)"
        if style == "rich":
            print(line, file=sys.stderr)
    if io_failed:
        return EXIT_USAGE
    return EXIT_SPEC if spec_failed else EXIT_OK


def _limit(diagnostics: list[Diagnostic], max_errors: int, shown: int) -> tuple[list[Diagnostic], int, bool]:
    kept: list[Diagnostic] = []
    for diagnostic in diagnostics:
        if diagnostic.is_error:
            if shown >= max_errors:
                return kept, shown, True
            shown += 1
        kept.append(diagnostic)
    return kept, shown, False
