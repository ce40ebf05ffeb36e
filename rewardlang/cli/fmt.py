"""`rewardc fmt FILE... [--check | --diff | --write]`: print specs in canonical form."""

from __future__ import annotations

import argparse
import contextlib
import difflib
import os
import stat
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rewardlang.cli.common import STDIN, add_color_option, display_name, print_error, read_spec
from rewardlang.exits import EXIT_OK, EXIT_SPEC, EXIT_USAGE
from rewardlang.render import render, use_color


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("fmt", help="print specs in canonical form")
    parser.add_argument("files", nargs="+", metavar="FILE")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if any file is not formatted")
    mode.add_argument("--diff", action="store_true", help="print a unified diff instead of the formatted text")
    mode.add_argument("--write", action="store_true", help="rewrite files in place")
    add_color_option(parser)  # the diagnostics of a spec that does not parse, and --diff's lines
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return fmt(args.files, check=args.check, diff=args.diff, write=args.write, color=args.color)


def fmt(files: Sequence[str], check: bool, diff: bool, write: bool, color: str = "auto") -> int:
    from rewardlang.fmt import format_source
    from rewardlang.frontend import SourceError, SourceTooLarge, unwritable

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
            sys.stderr.write(render(diagnostics, text, display_name(name), color=use_color(color, sys.stderr)))
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
            lines = difflib.unified_diff(
                text.splitlines(keepends=True),
                formatted.splitlines(keepends=True),
                fromfile=f"a/{display_name(name)}",
                tofile=f"b/{display_name(name)}",
            )
            colored = use_color(color, sys.stdout)
            sys.stdout.writelines(colored_diff_line(line, n < 2) if colored else line for n, line in enumerate(lines))
        elif write and name != STDIN:
            try:
                write_atomically(Path(name), formatted)
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


# The colours of a unified diff's lines (ANSI SGR codes), by their first character, as `git diff` shows them.
DIFF_COLORS = {"@": "36", "+": "32", "-": "31"}
DIFF_HEADER_COLOR = "1"  # the `--- a/...` and `+++ b/...` lines: bold


def colored_diff_line(line: str, header: bool) -> str:
    """`line` of a unified diff in its colour; context lines as they are."""
    body = line.rstrip("\n")
    code = DIFF_HEADER_COLOR if header else DIFF_COLORS.get(body[:1])
    if code is None:
        return line
    return f"\x1b[{code}m{body}\x1b[0m" + line[len(body) :]


def write_atomically(path: Path, text: str) -> None:
    """Replace the contents of the file at `path` with `text` all at once: written to a temporary
    file in the same folder, flushed to disk, then renamed over it (`os.replace`), so that an
    interrupted write leaves the old file whole. The permission bits stay; a symbolic link
    stays a link to the rewritten file. A file this process may not write is left as it is
    (OSError), as before."""
    target = path.resolve()
    with open(target, "r+b"):  # the file itself must be writable: renaming over a read-only file would not ask
        pass
    mode = stat.S_IMODE(os.stat(target).st_mode)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
