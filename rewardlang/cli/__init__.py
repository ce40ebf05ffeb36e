"""`rewardc`: check, explain, format, score and test `.reward` specs.

One module per command (`check`, `explain`, `fmt`, `score`, `test`): each adds its
subparser and runs it; what they share is in `common`. Exit codes
(`rewardlang.exits`): 0 clean; 1 spec errors (or warnings under --strict, or files
that `fmt --check` would change); 2 usage or I/O errors (missing file, not
UTF-8...); 130 interrupted. Nothing heavy is imported here: checking a spec never
loads torch.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Sequence

from rewardlang import __version__
from rewardlang.cli import check, explain, fmt, lsp, probe, score, test
from rewardlang.cli.common import Parser, UsageError, print_error
from rewardlang.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

COMMANDS = (check, explain, fmt, score, test, probe, lsp)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rewardc", description="Check, explain and format rewardlang `.reward` specs.")
    parser.add_argument("--version", action="version", version=f"rewardc {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    except SystemExit as exc:  # --help / --version
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        with _no_pydantic_plugins():
            return int(args.run(args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return EXIT_OK


@contextlib.contextmanager
def _no_pydantic_plugins() -> Iterator[None]:
    """While a command runs, Pydantic looks for no plugins: the models it builds are rewardlang's own.

    Looking for them scans the metadata of every installed package when the first model is
    built (about 10 ms in the training environment, a few percent of `rewardc check`). The
    switch is Pydantic's own, read at each model build and not remembered: it is put back on
    the way out, so a program that calls `main` and then builds models of its own gets its
    plugins as usual; a user's own setting of it stands.
    """
    if "PYDANTIC_DISABLE_PLUGINS" in os.environ:
        yield
        return
    os.environ["PYDANTIC_DISABLE_PLUGINS"] = "__all__"
    try:
        yield
    finally:
        os.environ.pop("PYDANTIC_DISABLE_PLUGINS", None)
