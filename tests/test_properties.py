"""Property tests (Hypothesis) for the front end.

(a) Any text: `analyze` never raises; every diagnostic is well formed and renders.
(b) Mutated valid specs: the same, and `rewardc check` exits 0 or 1.
(c) Generated valid specs: `fmt` is idempotent, keeps the meaning (same Spec) and every comment.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from rewardlang import analyze, cli
from rewardlang.diagnostics import Severity
from rewardlang.fmt import format_source
from rewardlang.registry import KINDS
from rewardlang.render import render, render_short
from rewardlang.source import Span, normalize_newlines

# The example database lives outside the checkout (tests/conftest.py).
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CODE = re.compile(r"RL\d{3}")
SHORT_LINE = re.compile(r"f\.reward:(?P<line>\d+):(?P<col>\d+): (error|warning)\[(?P<code>RL\d{3})\]: .", re.DOTALL)


# ------------------------------------------------------------- guarantees
def check_span(span: Span, text: str) -> None:
    assert 0 <= span.start <= span.end <= len(text), span
    assert span.line == text.count("\n", 0, span.start) + 1, span
    assert span.column == span.start - (text.rfind("\n", 0, span.start) + 1) + 1, span
    assert span.end_line == text.count("\n", 0, span.end) + 1, span
    assert span.end_column == span.end - (text.rfind("\n", 0, span.end) + 1) + 1, span


def check_guarantees(text: str) -> None:
    analysis = analyze(text)
    diagnostics = analysis.diagnostics
    source = normalize_newlines(text)  # spans index the text with every line ending read as "\n"
    for d in diagnostics:
        assert CODE.fullmatch(d.code), d
        assert d.message.strip(), d
        assert d.severity in (Severity.ERROR, Severity.WARNING)
        check_span(d.span, source)
        for label in d.labels:
            check_span(label.span, source)
            assert label.message.strip()
    starts = [d.span.start for d in diagnostics]
    assert starts == sorted(starts), "diagnostics are sorted by position"
    assert (analysis.spec is None) == any(d.is_error for d in diagnostics)

    rich = render(diagnostics, text, "f.reward", style="rich")
    assert rich.count("\n") >= 4 * len(diagnostics)
    short = render(diagnostics, text, "f.reward", style="short")
    for d in diagnostics:
        # Control characters in messages (a quoted "a\nb") are escaped by the renderers.
        line = render_short(d, "f.reward")
        match = SHORT_LINE.match(line)
        assert match, line
        assert (int(match["line"]), int(match["col"]), match["code"]) == (d.span.line, d.span.column, d.code)
        assert line + "\n" in short
    items = json.loads(render(diagnostics, text, "f.reward", style="json"))
    assert [item["code"] for item in items] == [d.code for d in diagnostics]
    render(diagnostics, text, "f.reward", style="rich", color=True)


def comment_texts(text: str) -> Counter[str]:
    return Counter(c.text.rstrip() for c in analyze(text).syntax.comments)


# ---------------------------------------------------------- (a) any text
# The grammar's words (every rule kind and option from the registry), then names, numbers and odd text.
TOKENS = [
    "reward", "defaults", "rule", "total", "gate", "clip", "then", "to", "column",
    *KINDS, *sorted({name for kind in KINDS.values() for name in kind.options}),
    "words", "tokens", "answer", "last_user", "prompt", "rougeL", "min", "max", "abs",
    "a", "b", "x_1", "r", "1", "0", "-", "2.5", "1e999", ".5", "..", "{", "}", "(", ")", ":", ",", "=",
    "+", "*", "/", "<", "<=", ">", ">=", '"s"', "'t'", 'r"\\d+"', '"\\q"', '"open', "# c", "\n", "\t", "@",
    "\u200b", "\ufeff", "é", "😀",
]

token_soup = st.lists(
    st.sampled_from(TOKENS) | st.text(max_size=3), max_size=40
).flatmap(lambda parts: st.sampled_from([" ", "", "\n"]).map(lambda sep: sep.join(parts)))
headed_soup = token_soup.map(lambda body: "reward x\n" + body)


@SETTINGS
@given(st.text(max_size=400) | token_soup | headed_soup)
@example("\r0")  # a lone CR is a line break: spans count lines of the "\n" text
@example("reward x\r\nrule a: length 5..1 words\r")
def test_any_text_gives_well_formed_diagnostics(text: str) -> None:
    check_guarantees(text)


@SETTINGS
@given(st.text(max_size=200) | headed_soup)
def test_format_source_never_raises_on_any_text(text: str) -> None:
    formatted, diagnostics = format_source(text)
    if formatted is None:
        assert diagnostics and all(d.is_error for d in diagnostics)
    else:
        assert diagnostics == []
        assert format_source(formatted)[0] == formatted


# ------------------------------------------------ (b) mutated valid specs
BUILT_IN_SPECS = [
    """\
# A helpful, safe, on-topic chat assistant.
reward chat "helpful and safe"

defaults { case insensitive  match word }

rule length: length 50..200 words { outside 0.5  weight 1 }
rule helpful: phrases "I can help", "Here's how", "Let me explain" { each 0.3  cap 1  weight 1 }
rule safety: banned "dangerous", "illegal", "harmful" { weight 2 }
rule on_topic: relevance to last_user { weight 1 }  # embeddings
""",
    """\
reward reasoning
rule format: tags "think", "answer" { count 1..1  ordered }
rule number: regex r"-?\\d+(\\.\\d+)?" { present 1  absent 0 }
rule exact: equals column answer { compare numeric }
rule long: overlong 512 tokens { buffer 128 }
rule rep: repetition { ngram 3 }
total = min(format, 1) * (exact + 0.5 * number) - -long + rep / 2
gate format < 0.5 then 0
clip -1..2
""",
]


def _seed_specs() -> list[str]:
    try:
        from conftest import ALL_KINDS_SPEC
    except ImportError:  # tests/ turned into a package
        from tests.conftest import ALL_KINDS_SPEC

    specs = [ALL_KINDS_SPEC, *BUILT_IN_SPECS]
    root = Path(__file__).resolve().parent.parent
    for folder in (root / "specs", root / "tests"):
        for path in sorted(folder.rglob("*.reward"))[:20]:
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if len(text) < 20_000 and analyze(text).spec is not None:
                specs.append(text)
    return specs


SEED_SPECS = _seed_specs()

INSERTABLE = st.sampled_from(
    [*'{}():,.="\'#\n -+*/<>r0123456789', "..", "rule ", "weight", "\u200b", "é", "\t"]
) | st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
mutation = st.tuples(
    st.sampled_from(["delete", "insert", "swap", "dup_line", "drop_line", "swap_lines"]),
    st.integers(min_value=0, max_value=10**9),
    st.integers(min_value=0, max_value=10**9),
    INSERTABLE,
)


def mutate(text: str, operations: list[tuple[str, int, int, str]]) -> str:
    for kind, i, j, char in operations:
        if kind in ("dup_line", "drop_line", "swap_lines"):
            lines = text.split("\n")
            a, b = i % len(lines), j % len(lines)
            if kind == "dup_line":
                lines.insert(a, lines[a])
            elif kind == "drop_line":
                del lines[a]
            else:
                lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
            continue
        position = i % (len(text) + 1)
        if kind == "insert":
            text = text[:position] + char + text[position:]
        elif kind == "delete" and text:
            position %= len(text)
            text = text[:position] + text[position + 1 :]
        elif kind == "swap" and len(text) > 1:
            position %= len(text) - 1
            text = text[:position] + text[position + 1] + text[position] + text[position + 2 :]
    return text


mutated_specs = st.builds(mutate, st.sampled_from(SEED_SPECS), st.lists(mutation, min_size=1, max_size=6))


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


def test_seed_specs_are_clean() -> None:
    for text in SEED_SPECS:
        analysis = analyze(text)
        assert analysis.spec is not None, analysis.diagnostics


@SETTINGS
@given(text=mutated_specs)
def test_mutated_specs_give_well_formed_diagnostics(text: str, scratch: Path) -> None:
    check_guarantees(text)
    path = scratch / "mutated.reward"
    path.write_text(text, encoding="utf-8", newline="")
    # The file reads back as the text written (newline="" keeps its line endings), so the exit
    # status is the in-memory analysis's verdict: 1 exactly when it holds an error.
    has_errors = any(d.is_error for d in analyze(text).diagnostics)
    assert cli.main(["check", str(path), "--format", "short"]) == (1 if has_errors else 0)


@SETTINGS
@given(text=mutated_specs)
def test_formatting_mutated_specs_keeps_meaning(text: str) -> None:
    formatted, _ = format_source(text)
    if formatted is None:
        return
    assert format_source(formatted)[0] == formatted, "fmt is idempotent"
    before, after = analyze(text), analyze(formatted)
    assert (before.spec is None) == (after.spec is None)
    if before.spec is not None:
        assert after.spec.model_dump() == before.spec.model_dump()
    assert [d.code for d in after.diagnostics] == [d.code for d in before.diagnostics]
    assert comment_texts(formatted) == comment_texts(text)


# ------------------------------------------------ (c) generated valid specs
def number(value: float) -> str:
    return str(value) if isinstance(value, int) else repr(value)


def quote(text: str, style: str) -> str:
    # A raw string cannot hold a line break: `\n`, nor `\r` (read as one, §2).
    if style == "raw" and '"' not in text and "\n" not in text and "\r" not in text:
        return f'r"{text}"'
    if style == "raw_single" and "'" not in text and "\n" not in text and "\r" not in text:
        return f"r'{text}'"
    delimiter = "'" if style == "single" else '"'
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == delimiter:
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        elif ord(char) > 0xFFFF:
            out.append(f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return delimiter + "".join(out) + delimiter


CHARS = st.characters(blacklist_categories=("Cs",))
string_style = st.sampled_from(["plain", "single", "raw", "raw_single"])
phrase_text = st.tuples(st.sampled_from("abcxyzABC"), st.text(CHARS, max_size=10)).map("".join)


list_comment = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12).map(lambda t: "#" + t)


@st.composite
def string_list(draw: st.DrawFn, items: st.SearchStrategy[str] = phrase_text) -> str:
    """Items on one line, or one per line with comments between them; maybe a trailing comma."""
    values = [quote(v, draw(string_style)) for v in draw(st.lists(items, min_size=1, max_size=14))]
    if draw(st.booleans()):
        return ", ".join(values) + draw(st.sampled_from(["", ","]))
    out = ""
    for k, value in enumerate(values):
        comma = "," if k + 1 < len(values) else ""
        note = f"  {draw(list_comment)}" if draw(st.integers(0, 2)) == 0 else ""
        above = f"{draw(list_comment)}\n        " if draw(st.integers(0, 3)) == 0 else ""
        out += f"\n        {above}{value}{comma}{note}"
    return out + ("\n   " if note else "")  # what follows must not land in the comment


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True) | st.sampled_from(
    ["rule", "weight", "length", "json", "min", "column", "to", "then", "reward", "r"]
)
names = names.filter(lambda n: n != "total")
score = st.floats(-100, 100, allow_nan=False) | st.integers(-100, 100)
positive_score = st.floats(0, 100, allow_nan=False) | st.integers(0, 100)
nonzero_weight = (st.floats(-100, 100, allow_nan=False) | st.integers(-100, 100)).filter(lambda w: w != 0)
fraction = st.floats(-10, 10, allow_nan=False)
case = st.sampled_from(["insensitive", "sensitive", "lower"])
unicode_mode = st.sampled_from(["nfkc", "confusables", "raw"])
match = st.sampled_from(["word", "substring"])
split = st.sampled_from(["words", "whitespace"])
unit = st.sampled_from(["words", "characters", "tokens", "sentences"])
target = (
    st.sampled_from(["last_user", "prompt", "system"])
    | st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True)
    .filter(lambda n: n != "column")
    .map(lambda n: f"column {n}")
    | phrase_text.map(lambda t: f"column {quote(t, 'plain')}")
)
REGEXES = ["\\d+", "[a-z]+", "^Answer:", "(?i)hello|hi", "\\bfoo\\b", "a{2,5}", "[^\\s]+@[^\\s]+", "\\p{L}+"]


@st.composite
def int_range(draw: st.DrawFn, low: int = 0, high: int = 1000) -> str:
    a = draw(st.integers(low, high))
    b = draw(st.integers(a, high))
    shape = draw(st.sampled_from(["closed", "at_least", "at_most"]))
    return {"closed": f"{number(a)}..{number(b)}", "at_least": f"{number(a)}..", "at_most": f"..{number(b)}"}[shape]


@st.composite
def strict_range(draw: st.DrawFn) -> str:
    a = draw(fraction)
    b = draw(fraction.filter(lambda x: x > a))
    return f"{number(a)}..{number(b)}"


def option(key: str, value: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return value.map(lambda v: f"{key} {v}")


def num(strategy: st.SearchStrategy) -> st.SearchStrategy[str]:
    return strategy.map(number)


COMMON = [option("weight", num(nonzero_weight)), option("scope", st.sampled_from(["answer", "thinking", "full"]))]
MATCHING = [option("case", case), option("unicode", unicode_mode)]


# One strategy per rule kind: (the rule's head after `NAME:`, strategies of the options it may get).
KindBody = tuple[str, list[st.SearchStrategy[str]]]


@st.composite
def length_body(draw: st.DrawFn) -> KindBody:
    head = f"length {draw(int_range())} {draw(unit)}"
    return head, [option("outside", num(score)), option("ramp", num(st.floats(1e-6, 1e9) | st.integers(1, 10**9)))]


@st.composite
def phrases_body(draw: st.DrawFn) -> KindBody:
    return f"phrases {draw(string_list())}", [
        *MATCHING, option("match", match), option("each", num(score)), option("cap", num(positive_score))
    ]


@st.composite
def banned_body(draw: st.DrawFn) -> KindBody:
    return f"banned {draw(string_list())}", [
        *MATCHING, option("match", match), option("present", num(score)), option("absent", num(score))
    ]


@st.composite
def regex_body(draw: st.DrawFn) -> KindBody:
    head = f"regex {quote(draw(st.sampled_from(REGEXES)), draw(string_style))}"
    modes = draw(
        st.sampled_from(
            [
                # `cap` needs `each`: they travel together.
                [st.tuples(num(score), num(positive_score)).map(lambda t: f"each {t[0]}  cap {t[1]}")],
                [option("each", num(score))],
                [option("present", num(score)), option("absent", num(score))],
            ]
        )
    )
    return head, MATCHING + modes


@st.composite
def tags_body(draw: st.DrawFn) -> KindBody:
    tags = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.:-]{0,8}", fullmatch=True)
    return f"tags {draw(string_list(tags))}", [option("count", int_range(0, 20)), st.just("ordered")]


@st.composite
def markers_body(draw: st.DrawFn) -> KindBody:
    return f"markers {draw(string_list())}", [option("each", num(score)), option("count", int_range(0, 20))]


json_type = st.sampled_from(["string", "number", "integer", "boolean", "object", "array", "null"])


@st.composite
def json_key(draw: st.DrawFn) -> str:
    key = quote(draw(phrase_text), draw(string_style))
    type_name = draw(st.none() | json_type)
    return key if type_name is None else f"{key}: {type_name}"


def json_body() -> st.SearchStrategy[KindBody]:
    keys = st.lists(json_key(), min_size=1, max_size=6).map(", ".join)
    return st.just(("json", [
        option("keys", keys),
        option("extract", st.sampled_from(["whole", "fenced", "first", "tool_calls"])),
        option("tool", target),
    ]))


@st.composite
def relevance_body(draw: st.DrawFn) -> KindBody:
    return f"relevance to {draw(target)}", [
        option("model", phrase_text.map(lambda t: quote(t, "plain"))),
        option("rescale", strict_range()),
        option("batch_size", num(st.integers(1, 4096))),
    ]


@st.composite
def overlap_body(draw: st.DrawFn) -> KindBody:
    return f"overlap to {draw(target)}", [
        *MATCHING, option("split", split), option("each", num(score)), option("cap", num(positive_score))
    ]


@st.composite
def similarity_body(draw: st.DrawFn) -> KindBody:
    metric = draw(st.sampled_from(["rouge1", "rouge2", "rougeL", "bleu", "chrf", "fuzzy"]))
    return f"similarity {metric} to {draw(target)}", MATCHING


def repetition_body() -> st.SearchStrategy[KindBody]:
    return st.just(("repetition", [
        *MATCHING,
        option("split", split | st.just("tokens")),
        option("ngram", num(st.integers(1, 32))),
        option("penalty", num(st.floats(-100, -1e-6) | st.integers(-100, -1))),
    ]))


@st.composite
def overlong_body(draw: st.DrawFn) -> KindBody:
    limit = draw(st.integers(1, 10**6))
    return f"overlong {limit} {draw(unit)}", [option("buffer", num(st.integers(1, limit)))]


@st.composite
def equals_body(draw: st.DrawFn) -> KindBody:
    punctuation = option("punctuation", st.sampled_from(["keep", "trailing", "ignore"]))
    modes = draw(st.sampled_from([
        [option("compare", st.sampled_from(["exact", "normalized", "numeric"]))],
        # Removing punctuation before numbers are read is RL134: `punctuation` goes with text comparisons.
        [option("compare", st.sampled_from(["exact", "normalized"])), punctuation],
    ]))
    return f"equals {draw(target)}", modes


@st.composite
def classifier_body(draw: st.DrawFn) -> KindBody:
    return f"classifier {quote(draw(phrase_text), 'plain')}", [
        option("label", num(st.integers(0, 100_000)) | phrase_text.map(lambda t: quote(t, "plain"))),
        option("activation", st.sampled_from(["sigmoid", "softmax", "none"])),
        option("context", st.sampled_from(["none", "last_user", "prompt"])),
        option("batch_size", num(st.integers(1, 4096))),
        option("max_length", num(st.integers(8, 10**6))),
    ]


@st.composite
def math_body(draw: st.DrawFn) -> KindBody:
    return f"math {draw(target)}", [option("timeout", num(st.floats(0.1, 600) | st.integers(1, 600)))]


@st.composite
def judge_body(draw: st.DrawFn) -> KindBody:
    criterion = draw(phrase_text.filter(lambda t: "{" not in t and "}" not in t))
    return f"judge {quote(criterion, 'plain')}", [
        option("choices", string_list()),
        option("batch_size", num(st.integers(1, 4096))),
        option("max_length", num(st.integers(16, 10**6))),
    ]


@st.composite
def brevity_body(draw: st.DrawFn) -> KindBody:
    # No `correct`: it names another rule, and the generated rules have random names.
    return f"brevity {draw(unit)}", []


@st.composite
def diversity_body(draw: st.DrawFn) -> KindBody:
    metric = draw(st.sampled_from(["rouge1", "rouge2", "rougeL", "bleu", "chrf", "fuzzy"]))
    return f"diversity {metric}", MATCHING


# Every rule kind has an entry (tests/test_kinds.py checks it against the registry).
KIND_BODIES = {
    "length": length_body,
    "phrases": phrases_body,
    "banned": banned_body,
    "regex": regex_body,
    "tags": tags_body,
    "markers": markers_body,
    "json": json_body,
    "relevance": relevance_body,
    "overlap": overlap_body,
    "similarity": similarity_body,
    "repetition": repetition_body,
    "overlong": overlong_body,
    "equals": equals_body,
    "classifier": classifier_body,
    "math": math_body,
    "judge": judge_body,
    "brevity": brevity_body,
    "diversity": diversity_body,
}


@st.composite
def rule_body(draw: st.DrawFn) -> tuple[str, list[str]]:
    """(the rule's head after `NAME:`, its options)."""
    head, extra = draw(st.sampled_from(sorted(KIND_BODIES)).flatmap(lambda kind: KIND_BODIES[kind]()))
    choices = draw(st.lists(st.sampled_from(range(len(COMMON + extra))), unique=True, max_size=4))
    options = [draw((COMMON + extra)[i]) for i in choices]
    return head, options


def formula(rule_names: list[str]) -> st.SearchStrategy[str]:
    """Formulas written with full parentheses, so the source fixes the tree."""
    leaves = st.sampled_from(rule_names) | num(st.integers(1, 100) | st.floats(0.01, 100))

    def extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return (
            st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})")
            | st.tuples(inner, st.sampled_from(rule_names)).map(lambda t: f"({t[0]} / {t[1]})")
            | inner.map(lambda e: f"-{e}" if not e.startswith("-") else f"-({e})")
            | st.lists(inner, min_size=1, max_size=3).flatmap(
                lambda args: st.sampled_from(["min", "max"]).map(lambda f: f"{f}({', '.join(args)})")
            )
            | inner.map(lambda e: f"abs({e})")
            | st.tuples(inner, inner, inner).map(lambda t: f"clip({t[0]}, {t[1]}, {t[2]})")
        )

    return st.recursive(leaves, extend, max_leaves=8)


comment = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20).map(lambda t: "#" + t)
gap = st.sampled_from(["\n", "\n\n", "\n\n\n", "\n  \n"])


@st.composite
def valid_specs(draw: st.DrawFn) -> str:
    def maybe_comment(prefix: str = "") -> str:
        return prefix + draw(comment) + "\n" if draw(st.booleans()) else ""

    def trailing() -> str:
        return "  " + draw(comment) if draw(st.integers(0, 3)) == 0 else ""

    out = maybe_comment()
    description = f" {quote(draw(phrase_text), 'plain')}" if draw(st.booleans()) else ""
    out += f"reward {draw(names)}{description}{trailing()}{draw(gap)}"
    if draw(st.booleans()):
        options = draw(
            st.lists(
                st.sampled_from(
                    [
                        option("weight", num(nonzero_weight)),
                        option("scope", st.sampled_from(["answer", "thinking", "full"])),
                        option("case", case),
                        option("unicode", unicode_mode),
                        option("match", match),
                        option("split", split),
                    ]
                ).flatmap(lambda s: s),
                max_size=3,
                unique_by=lambda o: o.split()[0],
            )
        )
        out += maybe_comment() + "defaults { " + "  ".join(options) + " }" + trailing() + draw(gap)
    rule_names = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    for name in rule_names:
        head, options = draw(rule_body())
        out += maybe_comment()
        layouts = ["none", "inline", "lines"] if options else ["none", "empty"]
        layout = draw(st.sampled_from(layouts))
        if layout == "none":
            out += f"rule {name}: {head}{trailing()}"
        elif layout == "empty":
            out += f"rule {name}: {head} {{}}{trailing()}"
        elif layout == "inline":
            out += f"rule {name}: {head} {{ {'  '.join(options)} }}{trailing()}"
        else:
            out += f"rule {name}: {head} {{{trailing()}\n"
            for text in options:
                out += maybe_comment("    ") + f"    {text}{trailing()}\n"
                out += draw(st.sampled_from(["", "", "\n", "\n\n"]))
            out += maybe_comment("    ") + "}" + trailing()
        out += draw(gap)
    if draw(st.booleans()):
        out += maybe_comment() + f"total = {draw(formula(rule_names))}{trailing()}\n"
    for _ in range(draw(st.integers(0, 2))):
        comparison = draw(st.sampled_from(["<", "<=", ">", ">="]))
        then = f" then {number(draw(score))}" if draw(st.booleans()) else ""
        out += f"gate {draw(st.sampled_from(rule_names))} {comparison} {number(draw(fraction))}{then}{trailing()}\n"
    if draw(st.booleans()):
        low = draw(fraction)
        high = draw(fraction.filter(lambda x: x >= low))
        out += f"clip {number(low)}..{number(high)}{trailing()}\n"
    out += maybe_comment()
    return out


@SETTINGS
@given(valid_specs())
def test_generated_specs_are_valid(text: str) -> None:
    analysis = analyze(text)
    assert analysis.errors == [], (text, analysis.errors)
    check_guarantees(text)


@SETTINGS
@given(valid_specs())
def test_fmt_is_idempotent_and_keeps_spec_and_comments(text: str) -> None:
    original = analyze(text)
    assume(original.spec is not None)  # a generator slip is caught by the test above
    formatted, diagnostics = format_source(text)
    assert diagnostics == []
    assert formatted is not None
    assert format_source(formatted) == (formatted, []), "fmt is idempotent"
    reparsed = analyze(formatted)
    assert reparsed.spec is not None, reparsed.diagnostics
    assert reparsed.spec.model_dump() == original.spec.model_dump()
    assert comment_texts(formatted) == comment_texts(text)
    assert [d.code for d in reparsed.diagnostics] == [d.code for d in original.diagnostics]
    assert formatted.endswith("\n") and "\n\n\n" not in formatted
