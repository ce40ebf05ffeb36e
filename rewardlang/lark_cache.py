"""The built Lark parser, kept on disk between processes: `rewardc check` starts in milliseconds.

Lark's own cache (`cache=True`) stores the LALR tables, but loading it rebuilds every
object from them in Python (about 50 ms, as long as starting the interpreter). This
cache pickles the finished parser instead, and loads it in about 10 ms.

The contextual lexer has one scanner per set of terminals a parser state accepts (some
40), each one regular expression that Lark compiles on its first use: 25 to 40 ms of
a first parse, in `re`'s compiler, which is written in Python. So every scanner is built
before pickling, and each compiled pattern is pickled with the program that `re`
compiled it to (`_sre` code): loading hands that program back to `_sre.compile`, the
last step of `re.compile`, instead of compiling the expression again. A loaded pattern
equals the one `re.compile` makes (patterns compare by their code), which
tests/test_lark_cache.py checks.

The file's name holds a digest of everything the parser is made of: the grammar text,
the Lark options, Lark's version and Python's (and its regular expression engine's), so
a change to any of them reads as a miss and builds afresh. It lives in rewardlang's cache
folder (`$REWARDLANG_CACHE`, else `$XDG_CACHE_HOME/rewardlang`, else `~/.cache/rewardlang`),
never in the checkout. It is written to a temporary file and renamed into place, so a
concurrent reader sees a whole file or none; a folder that cannot be written, or a file
that cannot be read back (truncated, from another Lark), only means building the parser as
before (with Lark's own cache).
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import importlib
import os
import pickle
import re
import sys
import tempfile
import types
from pathlib import Path
from typing import Any

import lark
from lark import Lark
from lark.parsers import lalr_analysis

from rewardlang.rules.smollm2 import default_cache_root  # rewardlang's one cache folder

# What `re.compile` runs: the parser and code generator, in Python, then `_sre.compile` (no stubs).
_re_parser: Any = importlib.import_module("re._parser")
_re_compiler: Any = importlib.import_module("re._compiler")
_sre: Any = importlib.import_module("_sre")

# The parse table's actions are compared by identity (`action is Shift`): they are pickled
# by name, so that a loaded table holds Lark's own two objects.
_BY_NAME = {id(lalr_analysis.Shift): "Shift", id(lalr_analysis.Reduce): "Reduce"}


def load_parser(grammar: str, **options: Any) -> Lark:
    """`Lark(grammar, **options)`, from the cache when it holds this parser (and saved there if not)."""
    try:
        path: Path | None = _cache_file(grammar, options)
    except RuntimeError:  # no home folder (`Path.home()`) to hold it
        path = None
    parser = _read(path) if path is not None else None
    if parser is None:
        parser = Lark(grammar, **options, cache=True)
        if path is not None:
            _build_scanners(parser)
            _write(parser, path)
    return parser


def _build_scanners(parser: Lark) -> None:
    """Build every scanner of the parser's lexer now, so that the pickle holds their patterns."""
    lexer = getattr(parser.parser, "lexer", None)  # a contextual lexer: one basic lexer per state
    basic = [*getattr(lexer, "lexers", {}).values(), getattr(lexer, "root_lexer", None), lexer]
    for each in basic:
        if hasattr(each, "_build_scanner"):
            _ = each.scanner


def _cache_file(grammar: str, options: dict[str, Any]) -> Path:
    key = repr((
        grammar, sorted(options.items()), lark.__version__, sys.version_info[:2], pickle.HIGHEST_PROTOCOL,
        _sre.MAGIC, _sre.CODESIZE,
    ))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return default_cache_root() / f"parser-{digest}.pickle"


def _read(path: Path) -> Lark | None:
    try:
        with path.open("rb") as stream:
            parser = pickle.load(stream)
    except Exception:  # noqa: BLE001 - missing, unreadable, truncated or stale: build it instead
        return None
    return parser if isinstance(parser, Lark) else None


def _write(parser: Lark, path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stream = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed or removed
            dir=path.parent, prefix=".parser-", suffix=".tmp", delete=False
        )
    except OSError:  # a read-only folder: not cached
        return
    try:
        with stream:
            _Pickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(parser)
        os.replace(stream.name, path)
    except BaseException as exc:  # not cached this time (the parser in hand is whole); no temporary file left
        with contextlib.suppress(OSError):
            os.unlink(stream.name)
        if not isinstance(exc, Exception):
            raise


class _Pickler(pickle.Pickler):
    """Pickles modules (the lexer keeps `re`) and the parse actions by name, and patterns compiled."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, types.ModuleType):
            return importlib.import_module, (obj.__name__,)
        if isinstance(obj, re.Pattern) and array.array("I").itemsize == _sre.CODESIZE:
            return _compiled, _program(obj)
        name = _BY_NAME.get(id(obj))
        if name is not None:
            return getattr, (lalr_analysis, name)
        return NotImplemented


def _program(pattern: re.Pattern[Any]) -> tuple[Any, ...]:
    """The arguments `re.compile` passes to `_sre.compile` for `pattern` (its code, as an array)."""
    parsed = _re_parser.parse(pattern.pattern, pattern.flags)
    code = _re_compiler._code(parsed, pattern.flags)
    groupindex = dict(parsed.state.groupdict)
    indexgroup: list[str | None] = [None] * parsed.state.groups
    for name, index in groupindex.items():
        indexgroup[index] = name
    flags = pattern.flags | parsed.state.flags
    return pattern.pattern, flags, array.array("I", code), parsed.state.groups - 1, groupindex, tuple(indexgroup)


def _compiled(
    pattern: str | bytes, flags: int, code: array.array[int], groups: int, groupindex: dict[str, int],
    indexgroup: tuple[str | None, ...],
) -> re.Pattern[Any]:
    """A pattern from its compiled program: the last step of `re.compile`."""
    compiled: re.Pattern[Any] = _sre.compile(pattern, flags, code.tolist(), groups, groupindex, indexgroup)
    return compiled
