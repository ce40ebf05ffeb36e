"""`rewardc fmt FILE... [--check | --diff | --write]`: print specs in canonical form."""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rewardlang.cli.common import STDIN, display_name, print_error, read_spec
from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from rewardlang.frontend import SourceError, SourceTooLarge, unwritable
from rewardlang.render import render, use_color


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("fmt", help="print specs in canonical form")
    parser.add_argument("files", nargs="+", metavar="FILE")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if any file is not formatted")
    mode.add_argument("--diff", action="store_true", help="print a unified diff instead of the formatted text")
    mode.add_argument("--write", action="store_true", help="rewrite files in place")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return fmt(args.files, check=args.check, diff=args.diff, write=args.write)


def fmt(files: Sequence[str], check: bool, diff: bool, write: bool) -> int:
    from rewardlang.fmt import format_source

    io_failed = spec_failed = changed = False
    for name in files:
        try:
            text = read_spec(name)
        except SourceTooLarge as exc:  # a spec error like any other: RL008
            text, (formatted, diagnostics) = exc.head, (None, [exc.diagnostic])
        except SourceError as exc:
            print_error(str(exc))
            io_failed = True
            continue
        else:
            formatted, diagnostics = format_source(text)
        if formatted is None:
            sys.stderr.write(render(diagnostics, text, display_name(name), color=use_color("auto", sys.stderr)))
            spec_failed = True
            continue
        if formatted == text:
            if not (check or diff or write):
                sys.stdout.write(formatted)
            continue
        changed = True
        if check:
            print(f"would reformat {display_name(name)}", file=sys.stderr)
        elif diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    text.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    fromfile=f"a/{display_name(name)}",
                    tofile=f"b/{display_name(name)}",
                )
            )
        elif write and name != STDIN:
            try:
                Path(name).write_text(formatted, encoding="utf-8")
            except OSError as exc:  # a file that cannot be opened for writing is left as it was
                print_error(f"{unwritable(name, exc)}; left unchanged")
                io_failed = True
                continue
            print(f"reformatted {name}", file=sys.stderr)
        else:
            sys.stdout.write(formatted)
    if io_failed:
        return EXIT_USAGE
    if spec_failed or (check and changed):
        return EXIT_SPEC
    return EXIT_OK
