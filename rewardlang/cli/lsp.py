"""`rewardc lsp`: the language server for editors, on standard input and output."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from rewardlang.cli.common import print_error
from rewardlang.exits import EXIT_OK, EXIT_USAGE


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "lsp", help="run the language server on stdio (diagnostics, hover, completion, formatting; docs/editors.md)"
    )
    parser.add_argument("--log-level", choices=("error", "warning", "info", "debug"), default="warning",
                        help="what the server logs on standard error (default: warning)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from rewardlang.lsp import serve
    except ImportError as exc:  # pygls or lsprotocol missing: the `lsp` extra
        missing = (exc.name or "pygls").split(".")[0]  # the distribution, not the submodule that failed
        print_error(f"the language server needs pygls and lsprotocol ({missing} is not installed); "
                    "install them with `pip install 'rewardlang[lsp]'`")
        return EXIT_USAGE
    # Standard output carries the protocol: everything else goes to standard error.
    logging.basicConfig(level=args.log_level.upper(), format="rewardc lsp: %(levelname)s: %(message)s")
    serve()
    return EXIT_OK
