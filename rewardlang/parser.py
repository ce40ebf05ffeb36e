"""Parsing: source text -> syntax tree + diagnostics.

This is the only module that sees Lark's exceptions; each becomes a diagnostic
with a code, a span and, where possible, a "did you mean". After a syntax error
the file is re-read one statement at a time, so every broken statement is
reported in the same run and the intact ones still get checked.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from rewardlang import codes
from rewardlang import syntax as syn
from rewardlang.ast import DEFAULTABLE
from rewardlang.diagnostics import Diagnostic, DiagnosticSink, Label, suggestion_help
from rewardlang.lark_cache import load_parser
from rewardlang.lower import Lowerer, deepest_node
from rewardlang.plugins import PluginError
from rewardlang.registry import RULE_MODELS, options_for
from rewardlang.source import SourceMap, normalize_newlines

MAX_SOURCE_CHARS = 1_000_000
MAX_NESTING = 100  # formula levels: each call, unary minus and binary operator is one (docs §8.2)

# How terminals that are not plain keywords read in "expected ..." labels.
_TERMINAL_NAMES = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "RAW_STRING": "a string",
    "COMPARISON": "a comparison (`<`, `<=`, `>`, `>=`)",
    "$END": "the end of the statement",
}
_KEYWORD = re.compile(r"[a-z_]+")


@functools.cache
def _parser() -> Lark:
    grammar = resources.files("rewardlang").joinpath("grammar.lark").read_text(encoding="utf-8")
    # Built once per machine and grammar, then loaded whole (`rewardlang.lark_cache`).
    return load_parser(
        grammar, parser="lalr", start=["start", "chunk"], propagate_positions=True, maybe_placeholders=True
    )


def first_terminals(parser: Lark, origin: str) -> list[str]:
    """The names of the terminals that start `origin`'s productions, in grammar order, also through
    its single-symbol alternatives (`chunk: rule_def | total_def | ...`)."""

    def walk(origin: str, seen: set[str]) -> list[str]:
        found: list[str] = []
        for rule in parser.rules:
            if rule.origin.name != origin or not rule.expansion:
                continue
            first = rule.expansion[0]
            if first.is_term:
                found.append(str(first.name))
            elif len(rule.expansion) == 1 and first.name not in seen:
                found += walk(str(first.name), seen | {str(first.name)})
        return found

    return walk(origin, {origin})


class _Lexicon:
    """What the recovery code needs to know of the syntax, read from the grammar (never copied).

    The statement keywords are the first terminal of each statement production
    (`chunk` and what it derives through single-symbol alternatives); the text
    patterns (names, strings, comments, punctuation) are the grammar's terminals.
    """

    def __init__(self, parser: Lark):
        def pattern(name: str) -> str:
            return parser.get_terminal(name).pattern.to_regexp()

        starts = [parser.get_terminal(name).pattern.value for name in first_terminals(parser, "chunk")]
        self.statement_keywords = tuple(dict.fromkeys(starts))
        keywords = "|".join(map(re.escape, self.statement_keywords))
        self.statement_start = re.compile(rf"^[ \t]*({keywords})\b", re.MULTILINE)
        name, rule_keyword, colon = pattern("NAME"), re.escape("rule"), pattern("_COLON")
        self.name = re.compile(name)
        self.rule_header = re.compile(rf"\b{rule_keyword}\s+({name})\s*{colon}\s*({name})?")
        comment = pattern("COMMENT")
        # Strings first (triple-quoted, then raw, then plain ones), so that a `#` inside a string is not a comment.
        self.long_string = re.compile(pattern("LONG_STRING"))
        self.string_or_comment = re.compile(
            f"{pattern('LONG_STRING')}|{pattern('RAW_STRING')}|{pattern('STRING')}|({comment})"
        )
        self.blank_or_comments = re.compile(rf"(?:\s+|{comment})*")


@functools.cache
def _lexicon() -> _Lexicon:
    return _Lexicon(_parser())


def parse_syntax(text: str) -> tuple[syn.SpecSyntax, list[Diagnostic]]:
    """Parse a whole spec. Never raises on bad input.

    Line endings are normalised first (`SpecSyntax.source` is the text that the
    spans refer to), so a string and a file with the same lines read the same.
    """
    text = normalize_newlines(text)
    source = SourceMap(text)
    sink = DiagnosticSink()
    if len(text) > MAX_SOURCE_CHARS:
        sink.add(too_large(f"{len(text):,} characters", source))
        return syn.SpecSyntax(source=text), sink.diagnostics

    if text.startswith("\ufeff"):
        # A byte-order mark: parse it as a space so every offset stays the same.
        text = " " + text[1:]
    spec = syn.SpecSyntax(source=source.text, comments=find_comments(text, source))
    try:
        tree = _parser().parse(text, start="start")
    except UnexpectedInput:
        _parse_by_statement(text, source, sink, spec)
    else:
        spec.statements.extend(_lower(tree, source, sink, 0, spec.broken_rule_names))
    return spec, sink.diagnostics


def is_name(text: str) -> bool:
    """Whether `text` is a NAME of the grammar (a rule name, a bare column name, ...)."""
    return _lexicon().name.fullmatch(text) is not None


def too_large(size: str, source: SourceMap) -> Diagnostic:
    """RL008 for a spec of `size` ("1,000,001 characters", "more than 4,000,000 bytes")."""
    return codes.RL008(
        source.span(0, 0),
        size=size,
        help=f"a spec holds at most {MAX_SOURCE_CHARS:,} characters; keep long word lists short",
    )


def find_comments(text: str, source: SourceMap) -> list[syn.Comment]:
    return [
        syn.Comment(match.group(1), source.span(match.start(1), match.end(1)))
        for match in _lexicon().string_or_comment.finditer(text)
        if match.group(1) is not None
    ]


def _lower(
    tree: Tree[Token], source: SourceMap, sink: DiagnosticSink, offset: int, broken: set[str]
) -> list[syn.Statement]:
    """Lower each statement of a `start` or `chunk` tree on its own.

    A statement nested too deeply for the (recursive) transformer is reported
    instead; a statement in which lowering found an error (a bad escape, a
    number too large) is dropped, so later phases do not report its stand-in
    values a second time.
    """
    statements: list[syn.Statement] = []
    lowerer = Lowerer(source, sink, offset)
    for child in tree.children:
        if not isinstance(child, Tree):
            continue
        depth, node = deepest_node(child)
        if child.data == "rule" and depth > MAX_NESTING:
            broken.add(str(child.children[0]))
        if depth > MAX_NESTING:
            position = offset + (node.meta.start_pos if not node.meta.empty else child.meta.start_pos)
            sink.add(
                codes.RL007(
                    source.point(position),
                    label=f"more than {MAX_NESTING} levels deep here",
                    help="split the formula into simpler parts",
                )
            )
            continue
        before = len(sink.diagnostics)
        statement = lowerer.transform(child)
        if len(sink.diagnostics) == before:
            statements.append(statement)
        elif child.data in ("rule", "schedule"):  # a formula may still name it
            broken.add(str(child.children[0]))
        elif child.data == "when_group":
            broken.update(str(rule.children[0]) for rule in child.children[1:] if isinstance(rule, Tree))
    return statements


def _parse_by_statement(text: str, source: SourceMap, sink: DiagnosticSink, spec: syn.SpecSyntax) -> None:
    lexicon = _lexicon()
    # A line of a triple-quoted string that starts with a keyword does not start a statement.
    inside = [(m.start(), m.end()) for m in lexicon.long_string.finditer(text)] if '"""' in text else []
    starts = _within_groups([
        (m.start(1), m.group(1)) for m in lexicon.statement_start.finditer(text)
        if not any(start < m.start(1) < end for start, end in inside)
    ], text)
    if not starts or not _only_comments(text[: starts[0]]):
        starts.insert(0, 0)
    for start, end in zip(starts, [*starts[1:], len(text)], strict=True):
        chunk = text[start:end]
        if _only_comments(chunk):
            continue
        try:
            tree = _parser().parse(chunk, start="chunk")
        except UnexpectedInput as exc:
            sink.add(_translate(exc, chunk, start, source))
            # A broken rule (or `when` group) defines its rules' names all the same.
            if chunk.startswith("when"):
                spec.broken_rule_names.update(header.group(1) for header in lexicon.rule_header.finditer(chunk))
            elif header := lexicon.rule_header.match(chunk):
                spec.broken_rule_names.add(header.group(1))
            continue
        spec.statements.extend(_lower(tree, source, sink, start, spec.broken_rule_names))
    _check_header(text, source, sink, spec)


def _within_groups(starts: list[tuple[int, str]], text: str) -> list[int]:
    """The statement starts that are not inside a `when` group or a rule's options block.

    `when` starts a statement and is an option too, and a group holds `rule` statements:
    a rule inside a group, or a `when` option inside a rule's block, continues the
    statement around it. Any other keyword inside braces starts a statement (the braces
    were left open by mistake), and so does `rule` after a block left open.
    """
    if "when" not in {keyword for _, keyword in starts}:
        return [start for start, _ in starts]
    # Braces inside strings and comments do not count.
    masked = _lexicon().string_or_comment.sub(lambda match: " " * len(match.group(0)), text)
    braces = [(match.start(), match.group(0)) for match in re.finditer(r"[{}]", masked)]
    kept: list[int] = []
    opened: list[str] = []  # what each open brace belongs to: "group" (a `when` statement) or "block"
    statement = ""
    for position, item in sorted(starts + braces):
        if item == "{":
            opened.append("group" if statement == "when" and not opened else "block")
        elif item == "}":
            if opened:
                opened.pop()
        else:  # a statement keyword at the start of a line
            inner = opened[-1] if opened else None
            statement = item
            if (inner == "group" and item == "rule") or (inner == "block" and item == "when"):
                continue
            kept.append(position)
            opened.clear()
    return kept


def _check_header(text: str, source: SourceMap, sink: DiagnosticSink, spec: syn.SpecSyntax) -> None:
    """The whole-file grammar demands one leading header; statement-by-statement parsing does not."""
    headers = [s for s in spec.statements if isinstance(s, syn.Header)]
    first_code = _first_code_offset(text)
    # A header that failed to parse has been reported already.
    header_written = text.startswith("reward", first_code) and not _is_name_char(text, first_code + 6)
    if not headers and not header_written:
        sink.add(
            codes.RL010(
                source.point(first_code),
                label="expected `reward`",
                help="add a header line such as `reward chat` at the top of the file",
            )
        )
    for extra in headers[1:]:
        sink.add(
            codes.RL011(
                extra.span,
                labels=(Label(headers[0].span, "first header here"),),
                help="remove this header or split the file into two specs",
            )
        )
    if headers and spec.statements[0] is not headers[0]:
        sink.add(
            codes.RL011(
                headers[0].span,
                variant="order",
                labels=(Label(spec.statements[0].span, "first statement here"),),
                help="move this line to the top of the file",
            )
        )


def _first_code_offset(text: str) -> int:
    """Offset of the first character that is neither whitespace nor in a comment (0 if there is none)."""
    skipped = _lexicon().blank_or_comments.match(text)
    end = skipped.end() if skipped else 0
    return end if end < len(text) else 0


def _is_name_char(text: str, offset: int) -> bool:
    return offset < len(text) and (text[offset].isalnum() or text[offset] == "_")


def _only_comments(text: str) -> bool:
    return _lexicon().blank_or_comments.fullmatch(text) is not None


# ------------------------------------------------------------ error messages
def _translate(exc: UnexpectedInput, chunk: str, offset: int, source: SourceMap) -> Diagnostic:
    # Lark's annotations say `int`, but an error at the very start of the input has no position.
    position = offset + (getattr(exc, "pos_in_stream", None) or 0)
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_character(exc, chunk, position, source)
    if isinstance(exc, UnexpectedToken) and exc.token.type != "$END":
        return _unexpected_token(exc, chunk, offset, source)
    accepted = getattr(exc, "expected", None) or getattr(exc, "accepts", None) or ()
    expected = _describe_expected(set(accepted), chunk, len(chunk))
    end = offset + len(chunk.rstrip())
    at_eof = not source.text[offset + len(chunk) :].strip()
    return codes.RL006(
        source.point(end),
        variant="" if at_eof else "incomplete",
        label=f"expected {expected}" if expected else "the statement is incomplete",
        help=_incomplete_help(chunk),
    )


def _unexpected_character(exc: UnexpectedCharacters, chunk: str, position: int, source: SourceMap) -> Diagnostic:
    char = exc.char
    if char in "\"'":
        return _unterminated(source, position, char)
    shown = char if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"
    if unicodedata.category(char) == "Nd":  # a digit of another script: numbers are ASCII
        return codes.RL004(
            source.point(position),
            variant="digit",
            char=shown,
            name=unicodedata.name(char, f"U+{ord(char):04X}"),
            label="not an ASCII digit",
            help=f"numbers are written with the ASCII digits 0-9: write `{_ascii_digits(source.text, position)}`",
        )
    return codes.RL004(
        source.point(position),
        char=shown,
        label="this character is not part of the language",
        help="strings go in quotes; comments start with `#`",
    )


def _ascii_digits(text: str, position: int) -> str:
    """The run of (non-ASCII) digits at `position`, spelt in ASCII digits."""
    digits = []
    for char in text[position : position + 40]:
        if unicodedata.category(char) != "Nd":
            break
        digits.append(str(unicodedata.digit(char)))
    return "".join(digits)


def _unexpected_token(exc: UnexpectedToken, chunk: str, offset: int, source: SourceMap) -> Diagnostic:
    token = exc.token
    span = source.span(offset + token.start_pos, offset + token.end_pos)
    accepts = _accepts(exc)
    expected = _describe_expected(accepts, chunk, token.start_pos)
    keywords = _keywords(accepts, chunk, token.start_pos)
    shown = str(token) if len(str(token)) <= 40 else str(token)[:39] + "…"
    label = f"expected {expected}" if expected else ""
    after = offset + token.end_pos
    if str(token) == "r" and source.text[after : after + 1] in ("'", '"'):
        return _unterminated(source, offset + token.start_pos, source.text[after])
    line_start = source.text.rfind("\n", 0, offset + token.start_pos) + 1
    if token.type == "NAME" and not source.text[line_start : offset + token.start_pos].strip():
        # A name at the start of a line where it cannot continue the statement:
        # most likely a misspelled statement keyword (`rul`, `totl`).
        keywords = sorted(set(keywords) | set(_lexicon().statement_keywords))
    if token.type == "NAME" and keywords:
        return codes.RL001(span, word=shown, label=label, help=suggestion_help(str(token), keywords))
    misspelled = _misspelled_statement(chunk, token.start_pos, offset, source)
    if misspelled is not None:
        return misspelled
    help = _token_help(token, accepts, chunk[: token.start_pos])
    return codes.RL002(span, token=_describe_token(token), label=label, help=help)


def _misspelled_statement(chunk: str, position: int, offset: int, source: SourceMap) -> Diagnostic | None:
    """RL001 for a misspelled statement keyword that a plugin kind's header took in as a name.

    `rule a: readability 6..10` then `totl = a` on the next line: `totl` reads as one more header
    value and the error comes at `=`. When the error's line (not the statement's first) starts
    with a name close to a statement keyword, that name is the mistake.
    """
    line_start = chunk.rfind("\n", 0, position) + 1
    line = chunk[line_start:position]
    first = _lexicon().name.match(chunk, line_start + len(line) - len(line.lstrip(" \t")))
    if line_start == 0 or first is None or first.end() > position:
        return None
    word = first.group()
    keywords = _lexicon().statement_keywords
    help = suggestion_help(word, keywords)
    if word in keywords or not help:
        return None
    return codes.RL001(
        source.span(offset + first.start(), offset + first.end()),
        word=word,
        label="read as a value of the rule above (a plugin kind's header takes names)",
        help=help,
    )


# Parser state stack -> the terminals it accepts. Lark computes `accepts` by feeding
# every terminal to a copy of the parser: most of the cost of a syntax error, and
# the same for every statement broken in the same place. Bounded: at most 4096
# stacks of at most 64 states (a deeply nested formula's stack is not kept).
_ACCEPTS: dict[tuple[int, ...], frozenset[str]] = {}
_ACCEPTS_LIMIT = 4096
_ACCEPTS_DEPTH = 64


def _accepts(exc: UnexpectedToken) -> set[str]:
    # Lark sets the interactive parser on every LALR error; its annotations do not say it may be missing.
    interactive = getattr(exc, "interactive_parser", None)
    state = interactive.parser_state if interactive is not None else None
    if state is None:
        return set(exc.expected or ())
    key = tuple(state.state_stack)
    found = _ACCEPTS.get(key)
    if found is None:
        found = frozenset(exc.accepts or exc.expected or ())
        if len(_ACCEPTS) < _ACCEPTS_LIMIT and len(key) <= _ACCEPTS_DEPTH:
            _ACCEPTS[key] = found
    return set(found)


def _unterminated(source: SourceMap, position: int, quote: str) -> Diagnostic:
    line_end = source.text.find("\n", position)
    line_end = len(source.text) if line_end == -1 else line_end
    return codes.RL003(
        source.span(position, line_end),
        label="this string is never closed",
        help=f"close it with {quote} on the same line; strings cannot span lines (write \\n for a line break)",
    )


def _describe_token(token: Token) -> str:
    if token.type == "NAME":
        return f"name `{token}`"
    if token.type == "NUMBER":
        return f"number `{token}`"
    if token.type in ("STRING", "RAW_STRING"):
        text = str(token)
        return f"string {text if len(text) <= 40 else text[:39] + '…'}"
    return f"`{token}`"


def _token_help(token: Token, accepts: set[str], before: str) -> str:
    """A hint for the usual slips; terminal names are the grammar's (`_COMMA`, `_DOTS`, ...).

    A string right after a string is a missing comma even where the parser no longer expects
    one: a plugin kind's header may hold two lists, so LALR ends the list before the error.
    """
    after_string = before.lstrip().startswith("rule") and before.rstrip().endswith(('"', "'"))
    if token.type in ("STRING", "RAW_STRING") and ("_COMMA" in accepts or after_string):
        return "separate list items with commas"
    if token.type == "NUMBER" and "_DOTS" in accepts:
        return "write a range as `low..high`, `low..` or `..high`"
    if token.type == "_EQUAL" and "_COLON" in accepts:
        return "a rule is written `rule NAME: KIND ...`"
    return ""


def _incomplete_help(chunk: str) -> str:
    if chunk.count("{") > chunk.count("}"):
        return "close the options block with `}`"
    return ""


def _keywords(accepts: set[str], chunk: str, position: int) -> list[str]:
    """The keywords the parser would accept here, narrowed to the rule's kind inside an options block."""
    parser = _parser()
    words: list[str] = []
    for name in accepts:
        if name in _TERMINAL_NAMES:
            continue
        pattern = parser.get_terminal(name).pattern
        if pattern.type == "str" and _KEYWORD.fullmatch(pattern.value):
            words.append(pattern.value)
    if "weight" in words:  # inside an options block: only the options that apply here
        options = _options_at(chunk, position)
        if options is not None:
            words = [w for w in words if w in set(options)]
        elif chunk.lstrip().startswith("defaults"):
            words = [w for w in words if w in DEFAULTABLE]
    return sorted(words)


def _kind_at(chunk: str, position: int) -> str | None:
    """The built-in kind of the rule statement `chunk`, None for a plugin kind or outside a rule."""
    header = _lexicon().rule_header.search(chunk[:position])
    kind = header.group(2) if header else None
    return kind if kind in RULE_MODELS else None


def _options_at(chunk: str, position: int) -> list[str] | None:
    """The options of the rule's kind, built in or an installed plugin's; None when not known."""
    header = _lexicon().rule_header.search(chunk[:position])
    if header is None or header.group(2) is None:
        return None
    try:
        return options_for(header.group(2))
    except (KeyError, PluginError):  # no such kind, or a broken plugin: validation reports it
        return None


def _describe_expected(accepts: set[str], chunk: str, position: int) -> str:
    parser = _parser()
    keywords = _keywords(accepts, chunk, position)
    others: list[str] = []
    for name in sorted(accepts, key=lambda terminal: terminal.lstrip("_")):
        if name in _TERMINAL_NAMES:
            others.append(_TERMINAL_NAMES[name])
            continue
        pattern = parser.get_terminal(name).pattern
        if pattern.type == "str" and not _KEYWORD.fullmatch(pattern.value):
            others.append(f"`{pattern.value}`")
    if "weight" in keywords and _kind_at(chunk, position):
        # In a built-in kind's block every option is a keyword. LALR merges its states with a
        # plugin kind's block, whose options are names: that name is not accepted here.
        others = [other for other in others if other != _TERMINAL_NAMES["NAME"]]
    words = [f"`{k}`" for k in keywords] + list(dict.fromkeys(others))
    if len(words) > 12:
        return "one of " + ", ".join(words[:12]) + ", …"
    return "one of " + ", ".join(words) if len(words) > 1 else "".join(words)
