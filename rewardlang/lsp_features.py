"""The language server's answers, as pure functions of a document's text and a position.

`rewardlang.lsp` wires these to the protocol (pygls); everything it answers is computed here
from the front end's public calls: `frontend.analyze` (the diagnostics `rewardc check`
reports, and the syntax tree with a span on every piece) and `fmt.format_source` (what
`rewardc fmt` prints). Words come from `rewardlang.lsp_facts`, keywords from the grammar
(`rewardlang.lsp_grammar`). Positions are LSP positions in the negotiated encoding
(`rewardlang.lsp_positions`). No function here raises on any text or position.
"""

from __future__ import annotations

import functools
import itertools
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lsprotocol import types as lsp

from rewardlang import ast, codes
from rewardlang import syntax as syn
from rewardlang.conversations import ROLES
from rewardlang.diagnostics import Diagnostic
from rewardlang.frontend import Analysis, analyze, spec_base
from rewardlang.lsp_facts import (
    NAMED_TARGETS,
    argument_field,
    argument_text,
    code_text,
    field_words,
    function_text,
    header_parts,
    keyword_text,
    kind_detail,
    kind_names,
    kind_text,
    option_text,
    option_words,
    takes_target,
    target_text,
)
from rewardlang.lsp_grammar import grammar_facts
from rewardlang.lsp_positions import UTF16, Positions
from rewardlang.source import Span

SOURCE = "rewardc"


class Document:
    """One open spec: its text, where it lives (relative paths in it resolve from its folder), its encoding."""

    def __init__(self, text: str, path: str | None = None, encoding: str = UTF16):
        self.positions = Positions(text, encoding)
        self.text = self.positions.text  # line endings read as `\n`: the text every span indexes
        self.path = path

    @functools.cached_property
    def analysis(self) -> Analysis:
        return analyze(self.text, spec_base(self.path) if self.path else None)

    @property
    def syntax(self) -> syn.SpecSyntax:
        return self.analysis.syntax

    def range(self, span: Span) -> lsp.Range:
        return _range(self.positions, span.start, span.end)

    def offset(self, position: lsp.Position) -> int:
        return self.positions.offset(position.line, position.character)


def _range(positions: Positions, start: int, end: int) -> lsp.Range:
    (line, character), (end_line, end_character) = positions.position(start), positions.position(end)
    return lsp.Range(lsp.Position(line, character), lsp.Position(end_line, end_character))


def path_of(uri: str) -> str | None:
    """The file a `file:` URI names; None for any other (an unsaved buffer)."""
    from urllib.parse import unquote, urlparse

    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None


# --------------------------------------------------------------------- diagnostics
def diagnostics(document: Document, uri: str) -> dict[str, list[lsp.Diagnostic]]:
    """What `rewardc check` reports, by the URI of the file it is in (the spec, or its examples file)."""
    found: dict[str, list[lsp.Diagnostic]] = {uri: []}
    other_files: dict[str, Positions] = {}
    for diagnostic in document.analysis.diagnostics:
        if diagnostic.file is None:
            found[uri].append(_diagnostic(diagnostic, document.positions, uri))
            continue
        file_uri = Path(os.path.abspath(diagnostic.file.name)).as_uri()
        positions = other_files.setdefault(file_uri, Positions(diagnostic.file.text))
        found.setdefault(file_uri, []).append(_diagnostic(diagnostic, positions, file_uri))
    return found


def _diagnostic(diagnostic: Diagnostic, positions: Positions, uri: str) -> lsp.Diagnostic:
    lines = [diagnostic.message]
    if diagnostic.label and diagnostic.label != diagnostic.message:
        lines.append(diagnostic.label)
    lines += [f"{name}: {text}" for name, text in (("help", diagnostic.help), ("note", diagnostic.note)) if text]
    related = [
        lsp.DiagnosticRelatedInformation(lsp.Location(uri, _range(positions, label.span.start, label.span.end)),
                                         label.message)
        for label in diagnostic.labels
    ]
    return lsp.Diagnostic(
        range=_range(positions, diagnostic.span.start, diagnostic.span.end),
        message="\n".join(lines),
        severity=lsp.DiagnosticSeverity.Error if diagnostic.is_error else lsp.DiagnosticSeverity.Warning,
        code=diagnostic.code,
        source=SOURCE,
        related_information=related or None,
    )


# --------------------------------------------------------------------- tokens
@dataclass(frozen=True)
class Token:
    kind: str  # name | number | string | comment | symbol | open (an unclosed string: to the end)
    text: str
    start: int
    end: int


@functools.cache
def _token_pattern() -> re.Pattern[str]:
    """The grammar's own terminals, strings first so that a `#` in a string is not a comment."""
    facts = grammar_facts()
    symbols = "|".join(map(re.escape, sorted(facts.symbols, key=len, reverse=True)))
    pattern = facts.patterns
    return re.compile(
        rf"(?P<string>{pattern['LONG_STRING']}|{pattern['RAW_STRING']}|{pattern['STRING']})"
        rf"|(?P<comment>{pattern['COMMENT']})|(?P<name>{pattern['NAME']})|(?P<number>{pattern['NUMBER']})"
        rf"|(?P<symbol>{symbols})",
        re.DOTALL,
    )


_SPACE = re.compile(r"\s+")
_CALL = re.compile(r"\s*\(")


def tokens(text: str) -> Iterator[Token]:
    """The text's tokens; a string left open (`open`) runs to the end of its line, a triple-quoted one to the end."""
    pattern = _token_pattern()
    position = 0
    while position < len(text):
        space = _SPACE.match(text, position)
        if space is not None:
            position = space.end()
            continue
        match = pattern.match(text, position)
        if match is None or match.end() == position:
            if text[position] in "\"'":  # a string not closed yet: the rest of the line is inside it
                end = text.find("\n", position)
                end = len(text) if end == -1 or text.startswith('"""', position) else end
                yield Token("open", text[position:end], position, end)
                position = end
            else:
                position += 1
            continue
        kind = next(name for name in ("string", "comment", "name", "number", "symbol") if match.group(name) is not None)
        yield Token(kind, match.group(), position, match.end())
        position = match.end()


def _token_at(text: str, offset: int) -> Token | None:
    """The token under the cursor: the one that holds `offset`, or a name that ends there."""
    for token in tokens(text):
        if token.start <= offset < token.end or (token.end == offset and token.kind == "name"):
            return token
        if token.start > offset:
            return None
    return None


# --------------------------------------------------------------------- the syntax tree
def all_rules(tree: syn.SpecSyntax) -> Iterator[syn.Rule]:
    for statement in tree.statements:
        if isinstance(statement, syn.Rule):
            yield statement
        elif isinstance(statement, syn.WhenGroup):
            yield from statement.rules


def _expr_words(expr: syn.Expr) -> Iterator[tuple[syn.Word, bool]]:
    """The names in a formula: (word, whether it is a function's name)."""
    if expr.name is not None:
        yield expr.name, expr.op == "call"
    for argument in expr.args:
        yield from _expr_words(argument)


def references(tree: syn.SpecSyntax) -> Iterator[syn.Word]:
    """Every place a rule or named schedule is referred to by name (formulas, gates, `correct`, `expect`)."""
    for statement in tree.statements:
        if isinstance(statement, syn.Total):
            yield from (word for word, is_function in _expr_words(statement.expr) if not is_function)
        elif isinstance(statement, syn.Gate):
            yield statement.rule
        elif isinstance(statement, syn.Example):
            for option in statement.options:
                if isinstance(option.value, syn.Expectation) and option.value.subject.text != "total":
                    yield option.value.subject
    for rule in all_rules(tree):
        for option in rule.options:
            if isinstance(option.value, syn.Correct):
                yield option.value.rule


def definitions(tree: syn.SpecSyntax) -> Iterator[syn.Word]:
    """Where each rule and named schedule is named."""
    yield from (rule.name for rule in all_rules(tree))
    yield from (statement.name for statement in tree.statements if isinstance(statement, syn.Schedule))


def _contains(span: Span, offset: int) -> bool:
    return span.start <= offset <= span.end


def _symbol_at(tree: syn.SpecSyntax, offset: int) -> str | None:
    for word in (*definitions(tree), *references(tree)):
        if _contains(word.span, offset):
            return word.text
    return None


def definition(document: Document, position: lsp.Position, uri: str) -> list[lsp.Location]:
    name = _symbol_at(document.syntax, document.offset(position))
    if name is None:
        return []
    return [lsp.Location(uri, document.range(word.span)) for word in definitions(document.syntax) if word.text == name]


def find_references(document: Document, position: lsp.Position, uri: str, with_declaration: bool) -> list[lsp.Location]:
    name = _symbol_at(document.syntax, document.offset(position))
    if name is None:
        return []
    words = [*(definitions(document.syntax) if with_declaration else ()), *references(document.syntax)]
    return [lsp.Location(uri, document.range(word.span)) for word in words if word.text == name]


def symbols(document: Document) -> list[lsp.DocumentSymbol]:
    """The rules, in source order: name, kind, the whole statement and its name."""
    return [
        lsp.DocumentSymbol(
            name=rule.name.text,
            detail=rule.kind.text,
            kind=lsp.SymbolKind.Function,
            range=document.range(rule.span),
            selection_range=document.range(rule.name.span),
        )
        for rule in all_rules(document.syntax)
    ]


# --------------------------------------------------------------------- formatting
def formatting(document: Document) -> list[lsp.TextEdit]:
    """The edit to `rewardc fmt`'s canonical form; none when it is already canonical or does not parse."""
    from rewardlang.fmt import format_source

    formatted, _ = format_source(document.text)
    if formatted is None or formatted == document.text:
        return []  # syntax errors are the diagnostics' to report
    line, character = document.positions.end
    return [lsp.TextEdit(lsp.Range(lsp.Position(0, 0), lsp.Position(line, character)), formatted)]


# --------------------------------------------------------------------- hover
def hover(document: Document, position: lsp.Position, markdown: bool = True) -> lsp.Hover | None:
    """What the word under the cursor is, and the codes of the diagnostics there; Markdown, or the same text plain."""
    offset = document.offset(position)
    token = _token_at(document.text, offset)
    parts: list[str] = []
    if token is not None and token.kind == "name":
        text = _word_text(document, token)
        if text:
            parts.append(text)
    elif token is not None and token.kind == "comment":  # a code named in a comment: `# RL204 is fine here`
        parts += [
            code_text(match.group()) or ""
            for match in re.finditer(r"\bRL\d{3}\b", token.text)
            if token.start + match.start() <= offset <= token.start + match.end()
        ]
    for diagnostic in document.analysis.diagnostics:  # the code of a diagnostic under the cursor, explained
        span = diagnostic.span
        if diagnostic.file is None and span.start <= offset <= max(span.end, span.start + 1):
            explanation = code_text(diagnostic.code)
            if explanation and explanation not in parts:
                parts.append(explanation)
    parts = [part for part in parts if part]
    if not parts:
        return None
    where = _range(document.positions, token.start, token.end) if token is not None else None
    contents = _markup("\n\n---\n\n".join(parts), markdown)
    return lsp.Hover(contents, where) if contents is not None else None


def _word_text(document: Document, token: Token) -> str | None:
    word, offset, tree = token.text, token.start, document.syntax
    if _symbol_at(tree, offset) is not None:
        return _rule_text(document, word)
    for rule in all_rules(tree):
        if _contains(rule.kind.span, offset):
            return kind_text(word)
        for option in rule.options:
            if _contains(option.key_span, offset):
                return option_text(word, rule.kind.text)
        for argument, value in rule.arguments:
            if isinstance(value, syn.Target) and _contains(value.span, offset) and not value.is_column:
                return target_text(word)
            if isinstance(value, syn.Word) and _contains(value.span, offset):
                return argument_text(word, rule.kind.text, argument)
    for statement in tree.statements:
        if isinstance(statement, syn.Defaults):
            for option in statement.options:
                if _contains(option.key_span, offset):
                    return option_text(word, None)
    if word in ast.FUNCTION_ARITY and _CALL.match(document.text, token.end):
        return function_text(word)
    if word in codes.CODES:
        return code_text(word)
    if word in NAMED_TARGETS:
        return target_text(word)
    if word in grammar_facts().option_keywords:
        return option_text(word, _rule_around(document, offset))
    if word in kind_names():
        return kind_text(word)
    return keyword_text(word)


def _rule_text(document: Document, name: str) -> str | None:
    for rule in all_rules(document.syntax):
        if rule.name.text == name:
            header = document.text[rule.span.start:rule.span.end].split("\n", 1)[0].split("{", 1)[0].rstrip()
            about = kind_text(rule.kind.text)
            return f"```reward\n{header}\n```" + (f"\n\n{about}" if about else "")
    for statement in document.syntax.statements:
        if isinstance(statement, syn.Schedule) and statement.name.text == name:
            line = document.text[statement.span.start:statement.span.end].split("\n", 1)[0]
            return f"```reward\n{line}\n```\n\n" + (keyword_text("schedule") or "")
    return None


def _rule_around(document: Document, offset: int) -> str | None:
    for rule in all_rules(document.syntax):
        if rule.span.start <= offset <= rule.span.end:
            return rule.kind.text
    return None


# --------------------------------------------------------------------- completion
@dataclass
class _Frame:
    """One level of braces while reading the text before the cursor."""

    owner: str  # file | rule | defaults | example | when | other
    kind: str | None = None  # a rule block's kind
    statement: list[Token] | None = None  # the tokens of the statement being read (file and `when` levels)
    block: list[Token] | None = None  # the tokens inside the braces (rule, defaults, example levels)


def _frames(before: list[Token]) -> list[_Frame]:
    facts = grammar_facts()
    stack = [_Frame("file", statement=[])]
    for index, token in enumerate(before):
        frame = stack[-1]
        if token.kind == "comment":
            continue
        following = before[index + 1] if index + 1 < len(before) else None
        if token.text == "{" and token.kind == "symbol":
            stack.append(_opened(frame))
            continue
        if token.text == "}" and token.kind == "symbol":
            if len(stack) > 1:
                stack.pop()
                if stack[-1].statement is not None:
                    stack[-1].statement = []  # a block ends its statement
            continue
        if frame.statement is not None:
            keywords = facts.statement_keywords if frame.owner == "file" else ("rule",)
            is_call = following is not None and following.text == "("
            if token.kind == "name" and token.text in keywords and not is_call:
                frame.statement = [token]
            else:
                frame.statement.append(token)
        elif frame.block is not None:
            frame.block.append(token)
    return stack


def _opened(frame: _Frame) -> _Frame:
    statement = frame.statement or []
    first = statement[0].text if statement else ""
    if first == "rule":
        kind = statement[3].text if len(statement) > 3 and statement[2].text == ":" else None
        return _Frame("rule", kind=kind, block=[])
    if first in ("defaults", "example"):
        return _Frame(first, block=[])
    if first == "when":
        return _Frame("when", statement=[])
    return _Frame("other", block=[])


def _markup(text: str | None, markdown: bool) -> lsp.MarkupContent | None:
    """Markdown text as the client reads it: as it is, or plain (no fences, bold or backquotes)."""
    if not text:
        return None
    if markdown:
        return lsp.MarkupContent(lsp.MarkupKind.Markdown, text)
    plain = re.sub(r"^```\w*\n", "", text, flags=re.MULTILINE).replace("**", "").replace("`", "")
    return lsp.MarkupContent(lsp.MarkupKind.PlainText, plain)


def _items(labels: list[str], kind: lsp.CompletionItemKind, detail: str = "") -> list[lsp.CompletionItem]:
    return [lsp.CompletionItem(label=label, kind=kind, detail=detail or None) for label in dict.fromkeys(labels)]


def completion(document: Document, position: lsp.Position, markdown: bool = True) -> list[lsp.CompletionItem]:
    """What may be written at the cursor: statements, kinds, options of the rule there, targets, rule names."""
    offset = document.offset(position)
    before = list(itertools.takewhile(lambda token: token.start < offset, tokens(document.text)))
    if before and before[-1].end > offset and before[-1].kind != "name":
        return []  # inside a string, a comment or a number
    if before and before[-1].kind in ("open", "comment") and before[-1].end >= offset:
        return []
    if before and before[-1].kind == "name" and before[-1].end >= offset:
        before = before[:-1]  # the word being typed: the editor filters by it
    line_start = document.text.rfind("\n", 0, offset) + 1
    first_on_line = not before or before[-1].end <= line_start
    frame = _frames(before)[-1]
    if frame.statement is not None:
        return _in_statement(document, frame, first_on_line, markdown)
    return _in_block(document, frame, first_on_line)


def _rule_names(document: Document) -> list[str]:
    tree = document.syntax
    return [*(rule.name.text for rule in all_rules(tree)), *sorted(tree.broken_rule_names)]


def _schedule_names(document: Document) -> list[str]:
    return [statement.name.text for statement in document.syntax.statements if isinstance(statement, syn.Schedule)]


def _targets() -> list[lsp.CompletionItem]:
    return _items([*NAMED_TARGETS, "column"], lsp.CompletionItemKind.EnumMember, "target")


_FORMULA_CONTINUES = ("=", "+", "-", "*", "/", "(", ",")  # after these a formula expects a term


def _in_statement(document: Document, frame: _Frame, first_on_line: bool, markdown: bool) -> list[lsp.CompletionItem]:
    statement = frame.statement or []
    words = [token.text for token in statement]
    keywords = grammar_facts().statement_keywords if frame.owner == "file" else ("rule",)
    first, last = (words[0], words[-1]) if words else ("", "")
    continued = first == "total" and last in _FORMULA_CONTINUES  # a formula goes on over lines
    if not statement or (first_on_line and not continued):
        return _items(list(keywords), lsp.CompletionItemKind.Keyword)
    if first == "rule":
        if len(words) == 3 and last == ":":
            return [
                lsp.CompletionItem(label=name, kind=lsp.CompletionItemKind.Class, detail=kind_detail(name),
                                   documentation=_markup(kind_text(name), markdown))
                for name in kind_names()
            ]
        return _in_header(words[3], statement[4:]) if len(words) > 3 and words[2] == ":" else []
    if continued:
        return [
            *_items(_rule_names(document), lsp.CompletionItemKind.Function, "rule"),
            *_items(_schedule_names(document), lsp.CompletionItemKind.Variable, "schedule"),
            *_items(list(ast.FUNCTION_ARITY), lsp.CompletionItemKind.Operator, "function"),
        ]
    if first == "gate" and len(words) == 1:
        return _items(_rule_names(document), lsp.CompletionItemKind.Function, "rule")
    return []


def _in_header(kind: str, written: list[Token]) -> list[lsp.CompletionItem]:
    """What comes next in a rule's header, read from the kind's template: a word (`to`), a target, a unit..."""
    parts, index, position = header_parts(kind), 0, 0
    while position < len(written) and index < len(parts):
        part = parts[index]
        if part.startswith("{"):
            position = _past_value(written, position)
        elif written[position].text == part:
            position += 1
        else:
            return []  # not this kind's header
        index += 1
    if position != len(written) or index >= len(parts):
        return []  # inside a value (`column |`), or past the header
    part = parts[index]
    if not part.startswith("{"):
        return _items([part], lsp.CompletionItemKind.Keyword)
    info = argument_field(kind, part.strip("{}"))
    if info is None:
        return []
    if takes_target(info):
        return _targets()
    return _items(field_words(info), lsp.CompletionItemKind.EnumMember, part.strip("{}"))


def _past_value(written: list[Token], position: int) -> int:
    """Where one value of a header ends: a range (`1..2`, `..2`, `1..`), a list of strings, `column NAME`, a word."""
    def at(index: int, *texts: str, kind: str = "") -> bool:
        return index < len(written) and (written[index].text in texts or written[index].kind == kind)

    if at(position, "column"):
        return position + 2
    if at(position, kind="string"):
        position += 1
        while at(position, ",") and at(position + 1, kind="string"):
            position += 2
        return position
    if at(position, "-") and at(position + 1, kind="number"):  # a negative number
        position += 1
    if at(position, kind="number"):
        position += 1
        if not at(position, ".."):
            return position
    if at(position, ".."):
        position += 1
        if at(position, "-") and at(position + 1, kind="number"):
            position += 1
        return position + 1 if at(position, kind="number") else position
    return position + 1  # a word


def _in_block(document: Document, frame: _Frame, first_on_line: bool) -> list[lsp.CompletionItem]:
    block = frame.block or []
    last = block[-1] if block else None
    option_keywords = grammar_facts().option_keywords
    if frame.owner == "example":
        if last is not None and last.text == "expect":
            return _items([*_rule_names(document), "total"], lsp.CompletionItemKind.Function, "rule")
        if last is None or first_on_line or last.kind in ("string", "number"):
            return [
                *_items(list(grammar_facts().example_keywords), lsp.CompletionItemKind.Keyword),
                *_items(sorted(ROLES), lsp.CompletionItemKind.Keyword, "message"),
            ]
        return []
    if frame.owner not in ("rule", "defaults"):
        return []
    kind = frame.kind if frame.owner == "rule" else None
    if last is not None and last.kind == "name" and last.text in option_keywords and not first_on_line:
        if last.text == "correct":
            return _items(_rule_names(document), lsp.CompletionItemKind.Function, "rule")
        if last.text == "tool":
            return _targets()
        return _items(option_words(last.text, kind), lsp.CompletionItemKind.EnumMember, last.text)
    if last is not None and last.kind == "symbol" and not first_on_line:
        return []  # in the middle of a value: `1..`, `0 ->`
    used = {token.text for token in block if token.kind == "name" and token.text in option_keywords}
    names = list(ast.DEFAULTABLE) if frame.owner == "defaults" else _options_of(kind)
    return _items([name for name in names if name not in used], lsp.CompletionItemKind.Property, "option")


def _options_of(kind: str | None) -> list[str]:
    from rewardlang.plugins import PluginError
    from rewardlang.registry import options_for

    if kind is None:
        return []
    try:
        return options_for(kind)
    except (KeyError, PluginError):
        return []
