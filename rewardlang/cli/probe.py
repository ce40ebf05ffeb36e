"""`rewardc probe SPEC [--data FILE]`: attack a spec with shortcuts built from its own rules.

    rewardc probe specs/chat.reward --data honest.jsonl
    rewardc probe specs/chat.reward --data honest.jsonl --format json

Each probe (stuffed phrases, an echoed prompt, empty tags, a disguised banned
word, ...: `rewardlang.probe.shortcuts`) is scored against the honest answers of
`--data` (rows as `rewardc score` reads them; conversations also get grpo-train's
`reference` column), or of the spec's own examples without `--data`
(`rewardlang.probe.run` scores and judges). Exit codes: 0 no probe reaches the
honest median; 1 one does (so CI can gate a spec), or the spec has errors (printed
like `rewardc check`); 2 usage, unreadable spec or data, no honest answers, or a
model that cannot load.

Only light modules are imported at the top (`rewardc check` builds this parser).
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
    positive_int,
    print_error,
    quiet_model_loading,
)
from rewardlang.datafile import DATA_FORMATS, DataError, open_data
from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from rewardlang.render import use_color
from rewardlang.text import ignorable_characters, replace_surrogates

if TYPE_CHECKING:
    from rewardlang import ast
    from rewardlang.probe.run import ProbeReport
    from rewardlang.rows import Row

OUTPUT_FORMATS = ("table", "json")
SKIPPED_SHOWN = 20


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "probe",
        help="attack a spec with shortcut completions built from its rules (exit 1 if one pays like honesty)",
        description="Build shortcut completions from the spec's own rules (stuffed phrases, echoed prompts, "
        "empty tags, disguised banned words, ...), score them against honest answers, and report the "
        "probes whose total reaches the honest answers' median.",
    )
    parser.add_argument("spec", metavar="SPEC", help="the .reward spec")
    parser.add_argument(
        "--data", metavar="FILE",
        help="honest answers: JSONL, JSON or Parquet rows (`prompt` + `completion`, or `messages`); "
        "`-` reads standard input; without it, the spec's examples",
    )
    parser.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="output (default: table)")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of every random choice (default: 0)")
    parser.add_argument("--limit", type=positive_int, metavar="N", help="use only the first N usable rows")
    parser.add_argument(
        "--data-format", choices=DATA_FORMATS, default="auto",
        help="format of the data (default: detected from its content and extension)",
    )
    add_color_option(parser)
    add_verbose_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run `rewardc probe` with parsed arguments; returns the exit status."""
    from rewardlang.rules.models import ModelLoadError

    quiet_model_loading(args.verbose)
    checked = checked_spec(args.spec, args.color, data=args.data)
    if isinstance(checked, int):
        return checked
    spec, spec_name = checked.spec, checked.name

    rows = _honest_rows(args, spec, spec_name)
    if rows is None:
        return EXIT_USAGE

    from rewardlang.compiler import CompiledSpec
    from rewardlang.probe.run import probe

    try:
        with RuleLogCapture() as log_capture:  # a rule that fails on a probe: one warning line, no traceback
            report = probe(CompiledSpec(spec), rows, seed=args.seed)
        log_capture.report()
    except ImportError as exc:
        print_error(f"{spec_name}: cannot compile the spec: {exc}")
        return EXIT_USAGE
    except ModelLoadError as exc:
        print_error(str(exc))
        return EXIT_USAGE

    if args.format == "json":
        sys.stdout.write(json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n")
    else:
        _write_table(report, args.color)
    return EXIT_SPEC if report.reaching else EXIT_OK


def _honest_rows(args: argparse.Namespace, spec: ast.Spec, spec_name: str) -> list[Row] | None:
    """The honest rows (reported on stderr when some are skipped), or None after printing why there are none."""
    if args.data is None:
        from rewardlang.probe.honest import honest_examples

        rows = honest_examples(spec)[: args.limit]
        if not rows:
            print_error(f"{spec_name}: no honest answers to compare with: pass --data FILE, "
                        "or add `example` blocks to the spec")
            return None
        return rows

    from rewardlang.probe.honest import read_honest

    try:
        source = open_data(args.data, args.data_format)
    except DataError as exc:
        print_error(str(exc))
        return None
    try:
        data = read_honest(source, args.limit)
    except DataError as exc:
        print_error(str(exc))
        return None
    finally:
        source.close()
    if data.skipped:
        count = len(data.skipped)
        print(f"rewardc: skipped {count} of {data.rows_read} row{'s' if data.rows_read != 1 else ''} "
              f"in {replace_surrogates(source.name)}:", file=sys.stderr)
        for skipped in data.skipped[:SKIPPED_SHOWN]:
            print(f"  row {skipped.number}: {skipped.reason}", file=sys.stderr)
        if count > SKIPPED_SHOWN:
            print(f"  ... and {count - SKIPPED_SHOWN} more", file=sys.stderr)
    if not data.rows:
        print_error(f"{replace_surrogates(source.name)}: no usable rows: no honest answers to compare with")
        return None
    return data.rows


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _visible(text: str) -> str:
    """Invisible characters as escapes: a disguise made of them should be seen."""
    hidden = ignorable_characters()
    return "".join(f"\\u{ord(c):04x}" if c in hidden else c for c in text)


def _write_table(report: ProbeReport, color: str) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = sys.stdout.isatty()
    console = Console(
        file=sys.stdout,
        width=None if terminal else int(os.environ.get("COLUMNS") or 0) or 200,
        color_system="auto" if use_color(color, sys.stdout) else None,
        force_terminal=True if color == "always" else None,
        highlight=False,
        soft_wrap=False,
    )
    honest = report.honest
    table = Table(
        title=f"{report.spec} · {len(report.probes)} probes · "
        f"{honest.count} honest answer{'s' if honest.count != 1 else ''}",
        box=box.SIMPLE_HEAD,
    )
    table.add_column("probe", no_wrap=True)
    for rule in report.rules:
        table.add_column(rule, justify="right", no_wrap=True)
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    table.add_column("verdict", overflow="fold")
    table.add_row(
        Text("honest (median)", style="bold"),
        *[_number(honest.scores.get(rule)) for rule in report.rules],
        _number(honest.median),
        "",
    )
    for result in report.probes:
        verdict = Text(_visible(result.verdict), style="bold red" if result.reaches else "")
        table.add_row(result.name, *[_number(result.scores.get(rule)) for rule in report.rules],
                      _number(result.total), verdict)
    console.print(table)
    reaching = report.reaching
    # A per-task spec compares each task's rows with that task's honest median.
    median = (
        "its task's honest median (" + ", ".join(f"{task} {value:.2f}" for task, value in honest.tasks.items()) + ")"
        if honest.tasks is not None else f"the honest median {honest.median:.2f}"
    )
    if reaching:
        names = ", ".join(result.name for result in reaching)
        console.print(f"{len(reaching)} of {len(report.probes)} probes reach {median}: {names}")
    else:
        console.print(f"no probe reaches {median}")
