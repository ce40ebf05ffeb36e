"""The editor packaging (editors/vscode/) agrees with the language.

The TextMate grammar is generated from grammar.lark (scripts/gen_textmate.py): the committed
file must be the generator's output, and a small TextMate-style scanner run over it must
highlight every keyword and every symbol the grammar spells, each keyword in its class.
The language configuration's comments and brackets, and the manifest that starts
`rewardc lsp`, are checked against the grammar and the command line too.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rewardlang.cli import build_parser
from rewardlang.lsp_grammar import grammar_facts
from rewardlang.registry import KINDS

ROOT = Path(__file__).resolve().parent.parent
VSCODE = ROOT / "editors" / "vscode"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_textmate", ROOT / "scripts" / "gen_textmate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def committed() -> dict[str, Any]:
    grammar: dict[str, Any] = json.loads((VSCODE / "syntaxes" / "reward.tmLanguage.json").read_text(encoding="utf-8"))
    return grammar


def scopes(grammar: dict[str, Any], line: str) -> list[tuple[int, int, str]]:
    """(start, end, scope) of each token TextMate would give `line` (top-level rules; a region's begin)."""

    def flatten(patterns: list[dict[str, Any]]) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for pattern in patterns:
            if "include" in pattern:
                found += flatten(grammar["repository"][pattern["include"].removeprefix("#")].get("patterns")
                                 or [grammar["repository"][pattern["include"].removeprefix("#")]])
            else:
                found.append(pattern)
        return found

    rules = flatten(grammar["patterns"])
    tokens: list[tuple[int, int, str]] = []
    position = 0
    while position < len(line):
        best: tuple[int, int, dict[str, Any], re.Match[str]] | None = None
        for order, rule in enumerate(rules):
            match = re.compile(rule.get("match") or rule["begin"]).search(line, position)
            if match is not None and match.end() > match.start() and (best is None or match.start() < best[0]):
                best = (match.start(), order, rule, match)
        if best is None:
            break
        start, _, rule, match = best
        if "captures" in rule:
            tokens += [(match.start(int(group)), match.end(int(group)), capture["name"])
                       for group, capture in rule["captures"].items()]
            position = match.end()
        elif "begin" in rule:  # a region (a string): to its end on this line, or to the line's end
            end = re.compile(rule["end"]).search(line, match.end())
            position = end.end() if end is not None else len(line)
            tokens.append((start, position, rule["name"]))
        else:
            tokens.append((start, match.end(), rule["name"]))
            position = match.end()
    return tokens


def scope_of(grammar: dict[str, Any], line: str, word: str) -> str | None:
    start = line.index(word)
    for token_start, token_end, scope in scopes(grammar, line):
        if token_start == start and token_end == start + len(word):
            return scope
    return None


def test_the_committed_grammar_is_the_generated_one() -> None:
    text = (VSCODE / "syntaxes" / "reward.tmLanguage.json").read_text(encoding="utf-8")
    assert text == generator().rendered(), "run: python scripts/gen_textmate.py"


def test_every_keyword_is_highlighted_in_its_class() -> None:
    grammar, gen, facts = committed(), generator(), grammar_facts()
    assert len(facts.keywords) > 80  # the grammar's keywords were found (rule kinds, options, statements...)
    for word in facts.keywords:
        expected = (gen.STATEMENT if word in facts.statement_keywords else gen.KIND if word in KINDS
                    else gen.OPTION if word in facts.option_keywords else gen.KEYWORD)
        for line in (word, f"x {word} y", f"{{{word}}}"):
            assert scope_of(grammar, line, word) == expected, (word, line)


def test_every_symbol_is_highlighted() -> None:
    grammar, facts = committed(), grammar_facts()
    assert {"{", "}", "..", "->", "<=", "n/a"} <= set(facts.symbols)
    for symbol in facts.symbols:
        scope = scope_of(grammar, f"a {symbol} b", symbol)
        assert scope is not None and scope.endswith(".reward"), symbol


@pytest.mark.parametrize(
    ("line", "word", "scope"),
    [
        ("rule brief: length ..120 words", "brief", "entity.name.function.reward"),
        ("rule brief: length ..120 words", "120", "constant.numeric.reward"),
        ("rule brief: length ..120 words", "..", "keyword.operator.reward"),
        ('rule a: banned "rule # not a comment"', '"rule # not a comment"', "string.quoted.double.reward"),
        ("rule a: regex r\"\\d+\"", 'r"\\d+"', "string.quoted.raw.reward"),
        ("gate a < 0.5  # rule in a comment", "# rule in a comment", "comment.line.number-sign.reward"),
        ("total = clip(a, 0, 1)", "clip", "support.function.builtin.reward"),
        ("clip 0..1", "clip", "keyword.control.statement.reward"),
        ("rule a: relevance to last_user", "last_user", "support.constant.target.reward"),
        ("expect a n/a", "n/a", "constant.language.not-applicable.reward"),
        ("weight 0.5 -> 2 over 200", ".5", None),  # `0.5` is one number
        ("weight 0.5 -> 2 over 200", "0.5", "constant.numeric.reward"),
    ],
)
def test_lines_highlight_as_written(line: str, word: str, scope: str | None) -> None:
    assert scope_of(committed(), line, word) == scope


def test_the_language_configuration_has_the_grammars_comment_and_brackets() -> None:
    configuration = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    comment = grammar_facts().patterns["COMMENT"]
    assert re.fullmatch(comment, configuration["comments"]["lineComment"] + " a comment")
    brackets = {tuple(pair) for pair in configuration["brackets"]}
    assert brackets == {("{", "}"), ("(", ")")}
    assert brackets <= {(pair["open"], pair["close"]) for pair in configuration["autoClosingPairs"]}
    assert set(grammar_facts().symbols) >= {symbol for pair in brackets for symbol in pair}


def test_the_manifest_starts_rewardc_lsp_for_reward_files() -> None:
    manifest = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    [language] = manifest["contributes"]["languages"]
    assert language["id"] == "reward" and language["extensions"] == [".reward"]
    assert (VSCODE / language["configuration"]).is_file()
    [grammar] = manifest["contributes"]["grammars"]
    assert grammar["scopeName"] == committed()["scopeName"] and (VSCODE / grammar["path"]).is_file()
    assert (VSCODE / manifest["main"]).is_file()
    assert "vscode-languageclient" in manifest["dependencies"]
    command = manifest["contributes"]["configuration"]["properties"]["rewardlang.server.command"]["default"]
    assert command == ["rewardc", "lsp"]
    assert build_parser().parse_args(command[1:]).command == "lsp"  # a command rewardc has
    extension = (VSCODE / "extension.js").read_text(encoding="utf-8")
    assert '"rewardlang.server.command"' not in extension and 'get("server.command"' in extension
    assert 'language: "reward"' in extension
