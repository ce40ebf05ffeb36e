"""`rewardc score SPEC --data FILE`: score a dataset of completions with a spec.

Tip 5 of the GRPO guide is "iterate on rewards": before spending GPU hours, run
the spec over completions you already have and look at what each rule gives.

    rewardc score specs/chat.reward --data samples.jsonl
    rewardc score specs/chat.reward --data samples.parquet --format jsonl --explain

What a row is and how the data is read: `rewardlang.scoring` (the scoring core,
callable without this command) and `rewardlang.datafile`. This module builds the
request from the command line and prints: rows that cannot be scored are listed
with their row numbers on stderr; `--format jsonl` writes each row as soon as its
batch is scored. Exit codes: 0 scored; 1 the spec has errors (printed like
`rewardc check`); 2 usage, unreadable spec or data, a model that cannot load, or
no usable rows.

`rewardc check` builds this command's parser, so only light modules are imported at
the top: rich, pyarrow and whatever the spec's rules need are imported when it runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING, Any

from rewardlang.cli.common import (
    RuleLogCapture,
    add_color_option,
    add_verbose_option,
    checked_spec,
    nonnegative_int,
    positive_int,
    print_error,
    quiet_model_loading,
)
from rewardlang.datafile import DATA_FORMATS, DEFAULT_BATCH_SIZE, DataError, DataSource, open_data
from rewardlang.exits import EXIT_OK, EXIT_USAGE
from rewardlang.render import use_color
from rewardlang.text import ignorable_characters, non_ascii, replace_surrogates

if TYPE_CHECKING:
    from rewardlang.schedules import Schedule
    from rewardlang.scoring import ScoredRow, ScoreResult

OUTPUT_FORMATS = ("table", "json", "jsonl")
PREVIEW_CHARS = 40
SKIPPED_SHOWN = 20  # skipped rows listed on stderr; the JSON document lists them all


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "score",
        help="score a dataset of completions with a spec (rule by rule, and the total)",
        description="Score every completion of a dataset (JSONL, JSON or Parquet) with a spec: "
        "each rule's score and the combined total, then per-rule statistics.",
    )
    parser.add_argument("spec", metavar="SPEC", help="the .reward spec")
    parser.add_argument(
        "--data", required=True, metavar="FILE",
        help="JSONL, JSON (a list of objects) or Parquet; `-` reads standard input",
    )
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="output (default: table)")
    parser.add_argument("--explain", action="store_true", help="add each rule's reason for its score")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="score only the first N usable rows")
    parser.add_argument(
        "--step", type=nonnegative_int, default=0, metavar="N",
        help="weight the total as at training step N: a weight schedule's value there (default: 0)",
    )
    parser.add_argument(
        "--data-format", choices=DATA_FORMATS, default="auto",
        help="format of the data (default: detected from its content and extension)",
    )
    parser.add_argument(
        "--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
        help=f"rows scored per batch (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--progress", choices=("auto", "always", "never"), default="auto",
        help="progress bar on stderr (auto: on a terminal, for more than one batch)",
    )
    add_color_option(parser)
    add_verbose_option(parser)
    parser.add_argument(
        "--report", metavar="FILE",
        help="also write a self-contained HTML report: histograms, rule correlations, best and worst "
        "completions with each rule's reason (scores with explanations)",
    )
    parser.add_argument(
        "--probe", action="store_true",
        help="with --report: add `rewardc probe`'s results on the same data (a file: it is read again)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run `rewardc score` with parsed arguments; returns the exit status."""
    from rewardlang.rules.models import ModelLoadError
    from rewardlang.scoring import ScoreRequest, score

    quiet_model_loading(args.verbose)
    if _report_usage_error(args):
        return EXIT_USAGE
    checked = checked_spec(args.spec, args.color, data=args.data)
    if isinstance(checked, int):
        return checked
    spec, spec_name = checked.spec, checked.name

    from rewardlang.compiler import CompiledSpec

    try:
        compiled = CompiledSpec(spec)
    except ImportError as exc:
        print_error(f"{spec_name}: cannot compile the spec: {exc}")
        return EXIT_USAGE

    try:
        source = open_data(args.data, args.data_format, args.batch_size)
    except DataError as exc:
        print_error(str(exc))
        return EXIT_USAGE

    # Rows are printed at the end (json: as dicts; table: with the start of the text only),
    # or streamed (jsonl: each written as its batch is scored, none kept).
    documents: list[dict[str, Any]] = []
    table_rows: list[ScoredRow] = []
    report_rows: list[ScoredRow] = []  # --report: every row, with its explanations

    def on_row(row: ScoredRow) -> None:
        if args.report is not None:
            report_rows.append(row)
            if not args.explain:  # explained for the report only
                row = row._replace(explanations=None)
        if args.format == "jsonl":
            sys.stdout.write(json.dumps(row.as_dict(), ensure_ascii=False) + "\n")
        elif args.format == "json":
            documents.append(row.as_dict())
        else:
            table_rows.append(row._replace(text=_preview(row.text)))

    with RuleLogCapture() as log_capture, _Progress(source, args) as advance:

        def on_progress(count: int) -> None:  # after each batch: its streamed rows reach the reader now
            sys.stdout.flush()
            advance(count)

        request = ScoreRequest(
            compiled, source, batch_size=args.batch_size, limit=args.limit,
            explain=args.explain or args.report is not None, step=args.step, on_row=on_row, on_progress=on_progress,
        )
        try:
            result = score(request)
        except (DataError, ModelLoadError) as exc:  # unreadable data; a rule's model missing or unusable
            print_error(str(exc))
            return EXIT_USAGE
        finally:
            source.close()
    log_capture.report()

    _report_skipped(result)
    _report_metrics(result)
    if not result.scored:
        why = f"{source.name}: no rows" if not result.rows_read else f"{source.name}: no usable rows"
        if result.skipped:
            why += f" ({len(result.skipped)} skipped)"
        print_error(why)
        return EXIT_USAGE

    # Standard output is strict UTF-8: a file name holding undecodable bytes shows them as U+FFFD.
    shown_name = replace_surrogates(source.name)
    if args.format == "json":
        document = {
            "spec": result.spec,
            "data": shown_name,
            "rules": result.rules,
            "rows": documents,
            "summary": result.summary(),
        }
        sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
    elif args.format == "table":
        _write_tables(result, table_rows, shown_name, args.explain, args.color, compiled.logged_schedules)
    if args.report is not None:
        return _write_report(args, compiled, result, report_rows, shown_name)
    return EXIT_OK


def _report_usage_error(args: argparse.Namespace) -> bool:
    """--probe without --report, --probe on a stream, or no matplotlib: printed, and True."""
    if args.probe and args.report is None:
        print_error("--probe adds probe results to the HTML report: use it with --report FILE")
        return True
    if args.probe and not os.path.isfile(args.data):
        print_error(f"--probe reads the data a second time: {args.data} must be a file, not a stream")
        return True
    if args.report is not None:
        from rewardlang.report import ReportUnavailable, require_matplotlib

        try:
            require_matplotlib()
        except ReportUnavailable as exc:
            print_error(str(exc))
            return True
    return False


def _write_report(
    args: argparse.Namespace, compiled: Any, result: ScoreResult, rows: list[ScoredRow], data_name: str
) -> int:
    """`--report FILE` (and `--probe`): the page of `rewardlang.report`, from the rows just scored."""
    from rewardlang.report import honest_rows, render_report

    probe_report = None
    if args.probe:
        from rewardlang.probe.run import probe
        from rewardlang.rules.models import ModelLoadError

        try:
            with RuleLogCapture() as log_capture:
                probe_report = probe(compiled, honest_rows(args.data, args.data_format, args.limit))
            log_capture.report()
        except (DataError, ModelLoadError) as exc:
            print_error(str(exc))
            return EXIT_USAGE
    page = render_report(result, rows, data_name, probe_report)
    try:
        with open(args.report, "w", encoding="utf-8") as file:
            file.write(page)
    except OSError as exc:
        print_error(f"{args.report}: cannot write the report: {exc.strerror or exc}")
        return EXIT_USAGE
    return EXIT_OK


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    # Invisible characters are shown as escapes: they are what a policy hides words with,
    # and the matching rules remove them (docs/language.md §6.5), so the reader should see them.
    if not flat.isascii() and not ignorable_characters().isdisjoint(non_ascii(flat)):
        flat = "".join(f"\\u{ord(c):04x}" if c in ignorable_characters() else c for c in flat)
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


class _Progress:
    """A rich progress bar on stderr, or nothing (not a terminal, one batch, `--progress never`)."""

    def __init__(self, source: DataSource, args: argparse.Namespace):
        self.bar: Any = None
        choice = args.progress
        if choice == "never" or (choice == "auto" and not _isatty(sys.stderr)):
            return
        total = source.count()
        if total is not None and args.limit is not None:
            total = min(total, args.limit)
        if choice == "auto" and total is not None and total <= args.batch_size:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=Console(file=sys.stderr, force_terminal=choice == "always" or None),
            transient=True,
            redirect_stdout=False,  # JSONL rows stream to stdout untouched (never wrapped, never on stderr)
            redirect_stderr=False,
        )
        self.task = self.bar.add_task("scoring", total=total)

    def __enter__(self) -> Any:
        if self.bar is None:
            return lambda n: None
        self.bar.start()
        return lambda n: self.bar.advance(self.task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# ------------------------------------------------------------------ output
def _report_skipped(result: ScoreResult) -> None:
    if result.dropped_columns:
        names = ", ".join(f"`{c}`" for c in sorted(result.dropped_columns))
        print(f"rewardc: warning: column(s) {names} not passed to rules (the name is reserved)", file=sys.stderr)
    if not result.skipped:
        return
    count = len(result.skipped)
    print(
        f"rewardc: skipped {count} of {result.rows_read} row{'s' if result.rows_read != 1 else ''} in {result.data}:",
        file=sys.stderr,
    )
    for skipped in result.skipped[:SKIPPED_SHOWN]:
        print(f"  row {skipped.number}: {skipped.reason}", file=sys.stderr)
    if count > SKIPPED_SHOWN:
        print(f"  ... and {count - SKIPPED_SHOWN} more", file=sys.stderr)


def _report_metrics(result: ScoreResult) -> None:
    """What rules counted (a judge's failed requests, a math rule's timeouts), summed over the data."""
    for name, value in sorted(result.metrics.items()):
        print(f"rewardc: {name}: {value:g} over {result.scored} row{'s' if result.scored != 1 else ''}",
              file=sys.stderr)


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _write_tables(
    result: ScoreResult, rows: list[ScoredRow], name: str, explain: bool, color: str,
    schedules: dict[str, Schedule],
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = _isatty(sys.stdout)
    colored = use_color(color, sys.stdout)
    console = Console(
        file=sys.stdout,
        width=None if terminal else int(os.environ.get("COLUMNS") or 0) or 200,
        color_system="auto" if colored else None,
        force_terminal=True if color == "always" else None,
        highlight=False,
        soft_wrap=False,
    )
    table = Table(title=f"{result.spec} · {name}", box=box.SIMPLE_HEAD, show_lines=explain)
    table.add_column("row", justify="right", no_wrap=True)
    table.add_column("completion", no_wrap=not explain, overflow="fold", max_width=PREVIEW_CHARS)
    for rule in result.rules:
        table.add_column(rule, justify="left" if explain else "right", overflow="fold")
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    for row in rows:
        cells: list[Any] = [str(row.number), row.text]
        for rule in result.rules:
            value = row.scores.get(rule)
            cell = Text(_number(value), style="dim" if value is None else "")
            reason = (row.explanations or {}).get(rule) if explain else None
            if reason:
                cell.append("\n" + reason, style="italic dim")
            cells.append(cell)
        cells.append(_number(row.total))
        table.add_row(*cells)
    console.print(table)

    skipped = f", {len(result.skipped)} skipped" if result.skipped else ""
    stats = Table(title=f"summary: {result.scored} scored{skipped}", box=box.SIMPLE_HEAD)
    for column in ("rule", "mean", "min", "max", "n/a"):
        stats.add_column(column, justify="left" if column == "rule" else "right", no_wrap=True)
    for rule in result.rules:
        item = result.stats[rule].as_dict()
        stats.add_row(rule, _number(item["mean"]), _number(item["min"]), _number(item["max"]), str(item["none"]))
    item = result.total_stats.as_dict()
    stats.add_row(Text("total", style="bold"), _number(item["mean"]), _number(item["min"]), _number(item["max"]),
                  str(item["none"]))
    console.print(stats)
    if result.weights:
        weights = Table(title=f"scheduled weights at step {result.step}", box=box.SIMPLE_HEAD)
        for column in ("logged as", "value", "schedule"):
            weights.add_column(column, justify="right" if column == "value" else "left", no_wrap=True)
        for key, value in result.weights.items():
            weights.add_row(key, _number(value), schedules[key].describe())
        console.print(weights)
    if result.task_values:
        console.print(_task_table(result))


def _task_table(result: ScoreResult) -> Any:
    """Per task (the values of the `when` columns): each rule's mean over the rows where it applies, and how many."""
    from rich import box
    from rich.table import Table

    table = Table(title="per task: mean (rows where the rule applies)", box=box.SIMPLE_HEAD)
    table.add_column("task", no_wrap=True)
    table.add_column("rows", justify="right", no_wrap=True)
    for rule in result.rules:
        table.add_column(rule, justify="right", no_wrap=True)
    for task in result.tasks.values():
        cells = [task.label, str(task.rows)]
        for rule in result.rules:
            stats = task.stats[rule]
            mean = stats.as_dict()["mean"]
            cells.append("n/a" if mean is None else f"{mean:.3f} ({stats.count})")
        table.add_row(*cells)
    return table
