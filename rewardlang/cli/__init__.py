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
import gc
import os
import sys
from collections.abc import Iterator, Sequence

from rewardlang import __version__
from rewardlang.cli import check, completion, explain, fmt, lsp, probe, score, test
from rewardlang.cli.common import Parser, UsageError, add_verbose_option, print_error
from rewardlang.exits import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE

COMMANDS = (check, explain, fmt, score, test, probe, lsp)
# The commands that read specs and nothing else: no model, no data but a sample, no thread,
# nothing to do at exit. They run without the cyclic garbage collector (`_without_gc`), and as
# the program they end without the interpreter's teardown (`_exit_now`). Not `lsp`: a server
# runs for hours.
FRONT_END = frozenset({"check", "explain", "fmt"})
PARSING = frozenset({"check", "fmt"})  # the front-end commands that parse specs (with Lark)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rewardc",
        description="Check, explain and format rewardlang `.reward` specs.",
        epilog="Colour: check, fmt, score, test and probe take --color auto|always|never (auto: on a "
        "terminal, unless NO_COLOR is set or TERM is dumb); explain, lsp and completion never print colour.",
    )
    parser.add_argument("--version", action="version", version=f"rewardc {__version__}")
    add_verbose_option(parser, top=True)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.add_parser(commands)
    completion.add_parser(commands, parser)  # last: the script it prints describes the parser above
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
    short_lived = args.command in FRONT_END
    if args.command in PARSING and argv is None:
        _import_lark_without_regex()
    try:
        with _no_pydantic_plugins(), _without_gc(short_lived):
            code = int(args.run(args))
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    except BrokenPipeError:
        code = EXIT_OK
    if short_lived and argv is None:  # the program itself (`rewardc`, `python -m rewardlang.cli`)
        _exit_now(code)
    return code


def _import_lark_without_regex() -> None:
    """Import Lark without the `regex` package, for the program only: it ends with the command.

    Lark imports `regex` when it is installed (the training stack installs it), only to offer
    `Lark(regex=True)`, which rewardlang's grammar does not use: 54 M instructions, more than
    half of Python's own start-up (90 M; valgrind). Lark then believes the package absent for
    the rest of the process, which would refuse `Lark(regex=True)` to a program that imports
    rewardlang: so only `rewardc` itself does this, not `main` called as a function. The
    package stays importable: it is hidden while Lark is imported, and only then.
    """
    if "lark" in sys.modules or "regex" in sys.modules:
        return
    sys.modules["regex"] = None  # type: ignore[assignment]  # `import regex` raises ImportError
    try:
        import lark  # noqa: F401
    finally:
        del sys.modules["regex"]


@contextlib.contextmanager
def _without_gc(off: bool) -> Iterator[None]:
    """The cyclic garbage collector off while a front-end command runs, back on (if it was) after.

    A check imports Pydantic and Lark and builds the spec's models: some 50,000 objects, all
    alive to the end, that each automatic collection of the older generations walks again to
    free almost nothing (14 M instructions of a check's 1,090 M, measured with valgrind).
    Reference counting still frees everything else, and a spec is at most `MAX_SOURCE_CHARS`
    long: the memory stays bounded.
    """
    was_on = gc.isenabled()
    if off:
        gc.disable()
    try:
        yield
    finally:
        if off and was_on:
            gc.enable()


def _exit_now(code: int) -> None:
    """End the process with `code` at once, its output flushed: the interpreter's teardown is skipped.

    Tearing down frees every module and object one by one, after a last full collection:
    73 M instructions of a check's 1,090 M (valgrind), for a process that is about to end
    anyway (mypy ends the same way). Only after a front-end command, which leaves nothing to do at exit: its files are
    closed, no thread runs, nothing was registered with `atexit` for it.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, OSError, ValueError):  # none, a closed pipe or a closed stream
            stream.flush()
    os._exit(code)


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
