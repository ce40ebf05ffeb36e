"""`rewardc check FILE...`: report every problem in specs (silent when clean)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NamedTuple

from rewardlang.cli.common import (
    STDIN,
    add_color_option,
    display_name,
    positive_int,
    print_error,
    read_spec,
    spec_folder_of,
)
from rewardlang.datafile import DATA_FORMATS, DataError, open_data
from rewardlang.diagnostics import Diagnostic, sort_diagnostics
from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from rewardlang.render import STYLES, render, summary, to_json, use_color


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("check", help="report every problem in specs (silent when clean)")
    parser.add_argument("files", nargs="+", metavar="FILE", help="spec files; `-` reads standard input")
    parser.add_argument("--format", choices=STYLES, default="rich", help="diagnostic style (default: rich)")
    parser.add_argument("--strict", action="store_true", help="warnings fail the check too")
    parser.add_argument("--max-errors", type=positive_int, metavar="N", help="stop after N errors")
    add_color_option(parser)
    parser.add_argument(
        "--data", metavar="FILE",
        help="also check the columns the spec reads against this data (JSONL, JSON or Parquet; `-`: standard input)",
    )
    parser.add_argument(
        "--data-format", choices=DATA_FORMATS, default="auto",
        help="format of the --data file (default: detected from its content and extension)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    data: DataSample | None = None
    if args.data is not None:
        if args.data == STDIN and STDIN in args.files:
            print_error("the spec and the data cannot both come from standard input")
            return EXIT_USAGE
        try:
            data = read_sample(args.data, args.data_format)
        except DataError as exc:
            print_error(str(exc))
            return EXIT_USAGE
    return check(args.files, args.format, args.strict, args.max_errors, use_color(args.color, sys.stderr), data)


class DataSample(NamedTuple):
    """What `--data` checks read from a data file: its columns and the rows' columns (at most `SAMPLE_ROWS`)."""

    columns: set[str]
    rows: list[dict[str, Any]]


SAMPLE_ROWS = 100_000  # rows of --data read for the checks (their columns only)


def read_sample(path: str, data_format: str) -> DataSample:
    """The columns of each row of a data file, as the rules would see them; raises `DataError`.

    A training dataset has prompts and no completions: its rows count too (what `grpo-train`
    trains on is what `--data` checks). A conversation gets grpo-train's `reference` column.
    """
    from rewardlang.rows import Row, row_columns, to_row, with_reference

    source = open_data(path, data_format)
    rows: list[dict[str, Any]] = []
    try:
        for number, record in source.records():
            row = to_row(number, record)
            if isinstance(row, Row):
                rows.append(with_reference(record, row).columns)
            elif isinstance(record, dict) and record.get("prompt") is not None:  # a prompt to train on
                rows.append(row_columns(record))
            if len(rows) >= SAMPLE_ROWS:
                break
    finally:
        source.close()
    return DataSample({name for row in rows for name in row}, rows)


def check(
    files: Sequence[str],
    style: str,
    strict: bool,
    max_errors: int | None,
    color: bool,
    data: DataSample | None = None,
) -> int:
    from rewardlang.frontend import SourceError, SourceTooLarge, analyze

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
            analysis = analyze(text, spec_folder_of(name))
            diagnostics = analysis.diagnostics
            if data is not None and analysis.spec is not None:
                from rewardlang.conditions import data_diagnostics

                found = data_diagnostics(analysis.spec, data.columns, data.rows)
                diagnostics = sort_diagnostics(diagnostics + found)
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
