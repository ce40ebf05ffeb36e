"""The parser cache (`rewardlang.lark_cache`): a cached parser parses as a fresh one, and a cache
that is missing, stale, corrupt or unwritable only means building the parser."""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
from pathlib import Path

import pytest
from lark import Lark

from rewardlang import lark_cache
from rewardlang.parser import _parser

OPTIONS = {"parser": "lalr", "start": ["start", "chunk"], "propagate_positions": True, "maybe_placeholders": True}
SPEC = (Path(__file__).resolve().parent.parent / "specs" / "chat.reward").read_text(encoding="utf-8")
GRAMMAR = (Path(__file__).resolve().parent.parent / "rewardlang" / "grammar.lark").read_text(encoding="utf-8")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("REWARDLANG_CACHE", str(folder))
    return folder


def cached_files(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir()) if folder.is_dir() else []


def test_a_cached_parser_parses_as_the_fresh_one(cache: Path) -> None:
    built = lark_cache.load_parser(GRAMMAR, **OPTIONS)  # a miss: built, then saved
    (name,) = cached_files(cache)
    assert name.startswith("parser-") and name.endswith(".pickle")
    loaded = lark_cache.load_parser(GRAMMAR, **OPTIONS)  # a hit
    assert loaded is not built and isinstance(loaded, Lark)
    assert loaded.parse(SPEC, start="start") == built.parse(SPEC, start="start") == _parser().parse(SPEC, start="start")
    # A statement with a syntax error goes through Lark's error path, which reads the parse table.
    with pytest.raises(Exception) as from_cache:  # noqa: PT011 - the same exception from both is the point
        loaded.parse("rule x: length 1.. words {", start="chunk")
    with pytest.raises(type(from_cache.value)) as from_scratch:
        built.parse("rule x: length 1.. words {", start="chunk")
    assert str(from_cache.value) == str(from_scratch.value)


def scanner_patterns(parser: Lark) -> list[re.Pattern[str]]:
    """Every compiled pattern of the parser's lexers (None where a scanner is not built yet)."""
    lexer = parser.parser.lexer
    found: list[re.Pattern[str]] = []
    for basic in [*lexer.lexers.values(), lexer.root_lexer]:
        assert basic._scanner is not None, "a scanner left to build on the first parse"
        found += basic._scanner._mres
        found += [pattern for callback in basic.callback.values() for pattern in callback.scanner._mres]
    return found


def test_the_cached_lexers_hold_the_patterns_re_compile_makes(cache: Path) -> None:
    lark_cache.load_parser(GRAMMAR, **OPTIONS)
    loaded = lark_cache.load_parser(GRAMMAR, **OPTIONS)  # a hit: its patterns come from their pickled code
    patterns = scanner_patterns(loaded)
    assert len(patterns) > 40  # one or more per parser state
    # Patterns compare equal when their pattern, flags and compiled code are the same.
    assert [pattern == re.compile(pattern.pattern, pattern.flags) for pattern in patterns] == [True] * len(patterns)
    assert [pattern.groupindex == re.compile(pattern.pattern, pattern.flags).groupindex for pattern in patterns] == [
        True
    ] * len(patterns)
    # And they lex as those do: the contextual lexer, through every state the spec reaches.
    assert loaded.parse(SPEC, start="start") == Lark(GRAMMAR, **OPTIONS).parse(SPEC, start="start")


def test_another_grammar_or_option_is_another_file(cache: Path) -> None:
    lark_cache.load_parser(GRAMMAR, **OPTIONS)
    lark_cache.load_parser(GRAMMAR + "\n// changed\n", **OPTIONS)
    lark_cache.load_parser(GRAMMAR, **{**OPTIONS, "maybe_placeholders": False})
    assert len(cached_files(cache)) == 3


def test_a_corrupt_file_is_rebuilt_and_replaced(cache: Path) -> None:
    lark_cache.load_parser(GRAMMAR, **OPTIONS)
    (path,) = cache.iterdir()
    for junk in (b"", b"not a pickle", pickle.dumps({"a": "dict"})):
        path.write_bytes(junk)
        parser = lark_cache.load_parser(GRAMMAR, **OPTIONS)
        assert parser.parse(SPEC, start="start") == _parser().parse(SPEC, start="start")
        assert isinstance(pickle.loads(path.read_bytes()), Lark)  # whole again
    assert cached_files(cache) == [path.name]  # no temporary file left behind


def test_an_unwritable_cache_folder_still_parses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("REWARDLANG_CACHE", str(blocker / "cache"))  # cannot be created, even by root
    parser = lark_cache.load_parser(GRAMMAR, **OPTIONS)
    assert parser.parse(SPEC, start="start") == _parser().parse(SPEC, start="start")
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_processes_sharing_a_cold_cache_all_parse(cache: Path) -> None:
    """Four processes start at once on an empty cache: each builds and renames its own file into
    place; all check the spec, and one whole file stays."""
    env = {**os.environ, "REWARDLANG_CACHE": str(cache)}
    spec = Path(__file__).resolve().parent.parent / "specs" / "chat.reward"
    command = [sys.executable, "-m", "rewardlang.cli", "check", str(spec)]
    processes = [subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    results = [(process.wait(timeout=300), process.stderr.read() if process.stderr else "") for process in processes]
    assert results == [(0, "")] * 4
    (name,) = cached_files(cache)
    assert isinstance(pickle.loads((cache / name).read_bytes()), Lark)
