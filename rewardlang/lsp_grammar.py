"""What the editor support reads from `grammar.lark`: its keywords, their kinds, and the lines that use them.

The grammar is the one definition of the syntax; the language server's keyword hovers and
completions and the editors' highlighting (`scripts/gen_textmate.py`) read it here, never
from a list of their own. Lark reads the grammar (its literal terminals and productions);
the productions' lines, with the grammar's own comments, are what a keyword's hover shows.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from lark import Lark
from lark.lexer import PatternRE, PatternStr

from rewardlang.parser import first_terminals

_WORD = re.compile(r"[a-z_]+")
_RULE_START = re.compile(r"^[?!]?([a-z_][a-z0-9_]*)(?:\.\d+)?\s*:")  # a (lower-case) production
_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"')
_ESCAPED_ALTERNATIVES = re.compile(r"\(\?:((?:[^()|\\]|\\.)+(?:\|(?:[^()|\\]|\\.)+)*)\)")


@dataclass(frozen=True)
class Usage:
    """One line of the grammar that uses a keyword: the production's name, the line, its comments."""

    production: str
    line: str  # as written, punctuation terminals shown as their literals
    comment: str  # the comment at the end of the line and the block above the production


@dataclass(frozen=True)
class GrammarFacts:
    keywords: tuple[str, ...]  # every word the grammar spells literally, sorted
    symbols: tuple[str, ...]  # every other literal: punctuation, comparisons, `n/a`; sorted
    statement_keywords: tuple[str, ...]  # the first word of each statement, in grammar order
    option_keywords: tuple[str, ...]  # the first word of each option of a rule's block, in grammar order
    example_keywords: tuple[str, ...]  # the first word of each item of an example block besides messages
    patterns: dict[str, str]  # a named terminal -> its regular expression (NAME, STRING, COMMENT...)
    usages: dict[str, tuple[Usage, ...]]  # keyword -> the grammar lines that spell it


def grammar_text() -> str:
    return resources.files("rewardlang").joinpath("grammar.lark").read_text(encoding="utf-8")


@functools.cache
def grammar_facts() -> GrammarFacts:
    text = grammar_text()
    parser = Lark(text, parser="lalr", start=["start", "chunk"])
    literals: dict[str, str] = {}  # terminal name -> its literal (first one for terminals of several)
    found: set[str] = set()
    for terminal in parser.terminals:
        pattern = terminal.pattern
        if isinstance(pattern, PatternStr):
            found.add(pattern.value)
            literals[terminal.name] = pattern.value
        elif isinstance(pattern, PatternRE) and (alternatives := _literal_alternatives(pattern.value)):
            found.update(alternatives)  # `COMPARISON: "<=" | ">=" | "<" | ">"`

    def first_words(origin: str) -> list[str]:
        starts = (literals.get(name) for name in first_terminals(parser, origin))
        return list(dict.fromkeys(value for value in starts if value is not None and _WORD.fullmatch(value)))

    keywords = tuple(sorted(word for word in found if _WORD.fullmatch(word)))
    return GrammarFacts(
        keywords=keywords,
        symbols=tuple(sorted(found - set(keywords))),
        statement_keywords=tuple(first_words("chunk")),
        option_keywords=tuple(first_words("option")),
        example_keywords=tuple(first_words("example_item")),
        patterns={terminal.name: terminal.pattern.to_regexp() for terminal in parser.terminals
                  if not terminal.name.startswith("_") and isinstance(terminal.pattern, PatternRE)},
        usages=_usages(text, set(keywords), {name: value for name, value in literals.items() if name.startswith("_")}),
    )


def _literal_alternatives(regexp: str) -> list[str]:
    """The literals of a terminal written as literal alternatives (`(?:<=|>=|<|>)`); [] for a real pattern."""
    match = _ESCAPED_ALTERNATIVES.fullmatch(regexp)
    if match is None:
        return []
    literals = [re.sub(r"\\(.)", r"\1", alternative) for alternative in match.group(1).split("|")]
    return literals if "|".join(map(re.escape, literals)) == match.group(1) else []


def _usages(text: str, keywords: set[str], punctuation: dict[str, str]) -> dict[str, tuple[Usage, ...]]:
    usages: dict[str, list[Usage]] = {}
    production, block, comment_run = "", "", []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped.startswith("//"):
            words = stripped.removeprefix("//").strip()
            if not words.startswith("---"):  # a section's ruler
                comment_run.append(words)
            continue
        start = _RULE_START.match(stripped)
        if start is not None:
            production, block = start.group(1), " ".join(comment_run)
        elif not stripped.startswith("|"):
            production = "" if stripped else production  # a terminal definition or a blank line ends it
        comment_run = []
        if not production:
            continue
        code, _, trailing = stripped.partition("//")
        shown = re.sub(r"\b_[A-Z]+\b", lambda m: f'"{punctuation.get(m.group(), m.group())}"', code.strip())
        shown = re.sub(r"\s+->\s+\w+$", "", shown).lstrip("?!")  # without the tree's alias
        comment = " ".join(part for part in (trailing.strip(), block) if part)
        for word in dict.fromkeys(_LITERAL.findall(code)):
            if word in keywords:
                line = shown if start is not None else f"{production}: {shown.removeprefix('|').strip()}"
                usages.setdefault(word, []).append(Usage(production, line, comment))
    return {word: tuple(found) for word, found in usages.items()}
