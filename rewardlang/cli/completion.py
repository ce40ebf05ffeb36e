"""`rewardc completion bash|zsh`: a shell completion script, generated from rewardc's own parser.

The script (`rewardlang.cli.completion_scripts`, imported only by this command: building the
parser for any other command does not pay for it) is written from the `argparse` parser that
`rewardc` itself parses with. So it cannot drift from the command line: a new option is
completed as soon as it exists. Nothing is needed at completion time but the shell (no
argcomplete, no Python).
"""

from __future__ import annotations

import argparse
from typing import Any

from rewardlang.exits import EXIT_OK

SHELLS = ("bash", "zsh")


def add_parser(commands: Any, top: argparse.ArgumentParser) -> None:
    """Add `completion`; `top` is the whole `rewardc` parser, the one the script describes."""
    parser = commands.add_parser(
        "completion",
        help="print a shell completion script (bash or zsh)",
        description='Print a completion script for rewardc. bash: eval "$(rewardc completion bash)" '
        "in ~/.bashrc; zsh: rewardc completion zsh > ~/.zfunc/_rewardc (with ~/.zfunc on $fpath, "
        "before compinit).",
    )
    parser.add_argument("shell", choices=SHELLS)
    parser.set_defaults(run=lambda args: run(args, top))


def run(args: argparse.Namespace, top: argparse.ArgumentParser) -> int:
    from rewardlang.cli.completion_scripts import script

    print(script(top, args.shell), end="")
    return EXIT_OK
