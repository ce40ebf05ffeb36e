"""Exit statuses of `rewardc` and `grpo-train`, defined once for both.

A run stopped by a signal exits 128 + the signal number (130 for Ctrl-C, 143 for
SIGTERM), as shells report a process killed by that signal.
"""

from __future__ import annotations

EXIT_OK = 0  # done: the spec is clean, the rows were scored, the training finished
EXIT_SPEC = 1  # the spec has errors (or warnings under --strict; files `fmt --check` would change)
EXIT_USAGE = 2  # usage, unreadable input, missing models, unusable data


def interrupted(signum: int) -> int:
    """The exit status of a run stopped by signal `signum`."""
    return 128 + int(signum)


# Ctrl-C: SIGINT is signal 2 on every platform (`signal` itself is not imported: `rewardc check` needs none of it).
EXIT_INTERRUPTED = interrupted(2)
