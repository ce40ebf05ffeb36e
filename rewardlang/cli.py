"""`rewardc`: check, explain and format `.reward` specs.

Exit codes: 0 clean; 1 spec errors (or warnings under --strict, or files that
`fmt --check` would change); 2 usage or I/O errors (missing file, not UTF-8...).
Nothing heavy is imported here: checking a spec never loads torch.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rewardlang import __version__
from rewardlang.diagnostics import Diagnostic
from rewardlang.frontend import SourceError, SourceTooLarge, analyze, read_source, read_source_stream, unwritable
from rewardlang.render import STYLES, render, summary, to_json, use_color

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise _UsageError(message)


class _UsageError(Exception):
    pass


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="rewardc", description="Check, explain and format rewardlang `.reward` specs.")
    parser.add_argument("--version", action="version", version=f"rewardc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    check = commands.add_parser("check", help="report every problem in specs (silent when clean)")
    check.add_argument("files", nargs="+", metavar="FILE", help="spec files; `-` reads standard input")
    check.add_argument("--format", choices=STYLES, default="rich", help="diagnostic style (default: rich)")
    check.add_argument("--strict", action="store_true", help="warnings fail the check too")
    check.add_argument("--max-errors", type=positive_int, metavar="N", help="stop after N errors")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")

    explain = commands.add_parser("explain", help="explain a diagnostic code, e.g. `rewardc explain RL001`")
    explain.add_argument("code", metavar="CODE")

    fmt = commands.add_parser("fmt", help="print specs in canonical form")
    fmt.add_argument("files", nargs="+", metavar="FILE")
    mode = fmt.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="exit 1 if any file is not formatted")
    mode.add_argument("--diff", action="store_true", help="print a unified diff instead of the formatted text")
    mode.add_argument("--write", action="store_true", help="rewrite files in place")

    from rewardlang.score_cli import add_score_parser

    add_score_parser(commands)
    return parser


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _UsageError as exc:
        print(f"rewardc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        if args.command == "check":
            return run_check(args.files, args.format, args.strict, args.max_errors, use_color(args.color, sys.stderr))
        if args.command == "explain":
            return run_explain(args.code)
        if args.command == "score":
            from rewardlang.score_cli import run_score

            return run_score(args)
        return run_fmt(args.files, check=args.check, diff=args.diff, write=args.write)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _read(name: str) -> str:
    if name == "-":
        return read_source_stream(sys.stdin.buffer)
    return read_source(name)


def _display_name(name: str) -> str:
    return "<stdin>" if name == "-" else name


# ------------------------------------------------------------------- check
def run_check(files: Sequence[str], style: str, strict: bool, max_errors: int | None, color: bool) -> int:
    io_failed = spec_failed = False
    shown_errors = total_errors = total_warnings = 0
    json_items: list[dict[str, object]] = []
    stopped = False
    for name in files:
        try:
            text = _read(name)
        except SourceTooLarge as exc:  # a spec error like any other: RL008
            text, diagnostics = exc.head, [exc.diagnostic]
        except SourceError as exc:
            print(f"rewardc: error: {exc}", file=sys.stderr)
            io_failed = True
            continue
        else:
            diagnostics = analyze(text).diagnostics
        errors = sum(d.is_error for d in diagnostics)
        warnings = len(diagnostics) - errors
        total_errors += errors
        total_warnings += warnings
        spec_failed |= errors > 0 or (strict and warnings > 0)
        if max_errors is not None:
            diagnostics, shown_errors, stopped = _limit(diagnostics, max_errors, shown_errors)
        if style == "json":
            json_items += [to_json(d, _display_name(name)) for d in diagnostics]
        elif diagnostics:
            sys.stderr.write(render(diagnostics, text, _display_name(name), style=style, color=color))
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


# ----------------------------------------------------------------- explain
def run_explain(code: str) -> int:
    from rewardlang.codes import CODES, explain
    from rewardlang.diagnostics import suggestion_help

    text = explain(code)
    if text is None:
        hint = suggestion_help(code.upper(), CODES)
        print(f"rewardc: error: unknown code `{code}`" + (f"; {hint}" if hint else ""), file=sys.stderr)
        print("codes: " + ", ".join(sorted(CODES)), file=sys.stderr)
        return EXIT_USAGE
    print(text.rstrip())
    return EXIT_OK


# --------------------------------------------------------------------- fmt
def run_fmt(files: Sequence[str], check: bool, diff: bool, write: bool) -> int:
    from rewardlang.fmt import format_source

    io_failed = spec_failed = changed = False
    for name in files:
        try:
            text = _read(name)
        except SourceTooLarge as exc:  # a spec error like any other: RL008
            text, (formatted, diagnostics) = exc.head, (None, [exc.diagnostic])
        except SourceError as exc:
            print(f"rewardc: error: {exc}", file=sys.stderr)
            io_failed = True
            continue
        else:
            formatted, diagnostics = format_source(text)
        if formatted is None:
            sys.stderr.write(render(diagnostics, text, _display_name(name), color=use_color("auto", sys.stderr)))
            spec_failed = True
            continue
        if formatted == text:
            if not (check or diff or write):
                sys.stdout.write(formatted)
            continue
        changed = True
        if check:
            print(f"would reformat {_display_name(name)}", file=sys.stderr)
        elif diff:
            sys.stdout.writelines(
                difflib.unified_diff(
                    text.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    fromfile=f"a/{_display_name(name)}",
                    tofile=f"b/{_display_name(name)}",
                )
            )
        elif write and name != "-":
            try:
                Path(name).write_text(formatted, encoding="utf-8")
            except OSError as exc:  # a file that cannot be opened for writing is left as it was
                print(f"rewardc: error: {unwritable(name, exc)}; left unchanged", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
