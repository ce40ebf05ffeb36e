"""What the `rewardc` commands share: the parser class, usage errors, argument types, reading a spec.

Command modules import this module, never each other nor `rewardlang.cli` itself. Like the
command modules, it imports the front end only inside the functions that use it: building
`rewardc`'s parser (and `rewardc explain`) never loads the parser, the models or the checks.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, NamedTuple, Self

from rewardlang.datafile import first_line, stdin_bytes

if TYPE_CHECKING:
    from rewardlang.ast import Spec

STDIN = "-"  # the file name that reads standard input
STDIN_NAME = "<stdin>"  # how standard input is named in messages


class UsageError(Exception):
    """The command line is wrong (exit 2); the message says how."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises `UsageError` instead of exiting, so `main` returns the status."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message)


COLOR_CHOICES = ("auto", "always", "never")


def add_color_option(parser: argparse.ArgumentParser) -> None:
    """`--color`, the same on every command that can print colour (`rewardlang.render.use_color`)."""
    parser.add_argument(
        "--color", choices=COLOR_CHOICES, default="auto",
        help="colour the output: auto (on a terminal, unless NO_COLOR is set or TERM is dumb), always, never",
    )


VERBOSE_HELP = "let the model libraries print their own progress bars, warnings and log lines"


def add_verbose_option(parser: argparse.ArgumentParser, top: bool = False) -> None:
    """`--verbose`, before the command (`rewardc --verbose score`) or after it (`rewardc score --verbose`).

    After it, the option sets nothing unless given (`SUPPRESS`): a sub-command's default would
    otherwise overwrite the `--verbose` given before it.
    """
    parser.add_argument(
        "--verbose", action="store_true", default=False if top else argparse.SUPPRESS,
        help=VERBOSE_HELP + (" (score, test, probe)" if top else ""),
    )


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def nonnegative_int(text: str) -> int:
    return _whole_number(text, 0)


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < least:
        raise argparse.ArgumentTypeError(f"must be at least {least}")
    return value


def read_spec(name: str) -> str:
    """The text of spec file `name` (`-`: standard input); raises `SourceError`."""
    from rewardlang.frontend import read_source, read_source_stream

    if name == STDIN:
        return read_source_stream(stdin_bytes(), STDIN_NAME)  # stops at the spec size limit
    return read_source(name)


def spec_folder_of(name: str) -> str | None:
    """The folder relative paths in spec file `name` resolve from; standard input: the working directory."""
    from rewardlang.frontend import spec_base

    return None if name == STDIN else spec_base(name)


def quiet_model_loading(verbose: bool) -> None:
    """Unless `verbose` (`rewardc --verbose`), the model libraries print nothing of their own while a
    command reports: no "Loading weights" or "Batches" bars, no library warnings or log lines."""
    if not verbose:
        from rewardlang.rules.models import quiet_model_libraries

        quiet_model_libraries()


class CheckedSpec(NamedTuple):
    """A spec file read and checked for a command that runs it (`score`, `probe`)."""

    spec: Spec
    text: str
    name: str  # as messages show it


def checked_spec(name: str, color: str, data: str | None = None) -> CheckedSpec | int:
    """Spec file `name` (`-`: standard input) read and checked, its diagnostics printed on stderr as
    `rewardc check` prints them; or the exit status when it cannot be used (2 unreadable or both it
    and the `data` file on standard input, 1 errors)."""
    from rewardlang.exits import EXIT_SPEC, EXIT_USAGE
    from rewardlang.frontend import SourceError, analyze
    from rewardlang.render import render, summary, use_color

    if name == STDIN and data == STDIN:
        print_error("the spec and the data cannot both come from standard input")
        return EXIT_USAGE
    try:
        text = read_spec(name)
    except SourceError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    shown = display_name(name)
    analysis = analyze(text, spec_folder_of(name))
    if analysis.diagnostics:
        sys.stderr.write(render(analysis.diagnostics, text, shown, color=use_color(color, sys.stderr)))
        print(summary(len(analysis.errors), len(analysis.warnings)), file=sys.stderr)
    if analysis.spec is None:
        return EXIT_SPEC
    return CheckedSpec(analysis.spec, text, shown)


def display_name(name: str) -> str:
    return STDIN_NAME if name == STDIN else name


def print_error(message: str) -> None:
    """Print a one-line error, as every command does."""
    print(f"rewardc: error: {message}", file=sys.stderr)


class RuleLogCapture(logging.Handler):
    """While scoring, rule failures logged by the compiler become one line each, without tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}
        self.logger = logging.getLogger("rewardlang")

    def __enter__(self) -> Self:
        self._propagate = self.logger.propagate
        self.logger.addHandler(self)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self._propagate

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += f" ({type(error).__name__}: {first_line(error)})"
        # One line per kind of message and rule (not per completion index).
        key = f"{record.msg}|{record.args[0] if isinstance(record.args, tuple) and record.args else ''}"
        if key not in self.counts:
            print(f"rewardc: warning: {message}", file=sys.stderr)
        self.counts[key] = self.counts.get(key, 0) + 1

    def report(self) -> None:
        repeated = sum(count - 1 for count in self.counts.values())
        if repeated:
            print(f"rewardc: warning: {repeated} more rule warning(s) like those above", file=sys.stderr)
