"""`rewardc explain CODE`: the explanation of a diagnostic code."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rewardlang.exits import EXIT_OK, EXIT_USAGE


def add_parser(commands: Any) -> None:
    parser = commands.add_parser("explain", help="explain a diagnostic code, e.g. `rewardc explain RL001`")
    parser.add_argument("code", metavar="CODE")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    return explain(args.code)


def explain(code: str) -> int:
    from rewardlang.codes import CODES
    from rewardlang.codes import explain as explanation
    from rewardlang.diagnostics import suggestion_help

    text = explanation(code)
    if text is None:
        hint = suggestion_help(code.upper(), CODES)
        print(f"rewardc: error: unknown code `{code}`" + (f"; {hint}" if hint else ""), file=sys.stderr)
        print("codes: " + ", ".join(sorted(CODES)), file=sys.stderr)
        return EXIT_USAGE
    print(text.rstrip())
    return EXIT_OK
