"""What the `rewardc` commands share: the parser class, usage errors, argument types, reading a spec.

Command modules import this module, never each other nor `rewardlang.cli` itself.
"""

from __future__ import annotations

import argparse
import sys

from rewardlang.datafile import stdin_bytes
from rewardlang.frontend import read_source, read_source_stream, spec_base

STDIN = "-"  # the file name that reads standard input
STDIN_NAME = "<stdin>"  # how standard input is named in messages


class UsageError(Exception):
    """The command line is wrong (exit 2); the message says how."""


class Parser(argparse.ArgumentParser):
    """An argument parser that raises `UsageError` instead of exiting, so `main` returns the status."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise UsageError(message)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def read_spec(name: str) -> str:
    """The text of spec file `name` (`-`: standard input); raises `SourceError`."""
    if name == STDIN:
        return read_source_stream(stdin_bytes(), STDIN_NAME)  # stops at the spec size limit
    return read_source(name)


def spec_folder_of(name: str) -> str | None:
    """The folder relative paths in spec file `name` resolve from; standard input: the working directory."""
    return None if name == STDIN else spec_base(name)


def display_name(name: str) -> str:
    return STDIN_NAME if name == STDIN else name


def print_error(message: str) -> None:
    """Print a one-line error, as every command does."""
    print(f"rewardc: error: {message}", file=sys.stderr)
