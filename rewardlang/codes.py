"""The registry of diagnostic codes: each code is one `Code` object, the only place its facts live.

A `Code` holds the code, its severity, a one-line title, the message template
that every raise site fills in (`codes.RL111(span, name="x", label=..., help=...)`),
named message variants where one code reads two ways, and the explanation that
`rewardc explain CODE` prints, with its Wrong/Fixed example specs. A raise site
names its code as an attribute of this module, so a mistyped code does not
exist (mypy and the first run both refuse it) and the severity cannot disagree
with the docs.

Codes are stable. RL001-RL011 are syntax errors (parser.py, lower.py),
RL100-RL123 are errors found while validating and checking a spec, RL2xx are
warnings. Every explanation says what triggers the code, shows a spec that gets
it and the fixed spec, and why it matters for GRPO training (tests/test_codes.py
runs both example specs). Standard library only: `rewardc explain` must be instant.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from rewardlang.diagnostics import Diagnostic, Label, Severity, SourceFile
from rewardlang.source import Span

ERROR, WARNING = Severity.ERROR, Severity.WARNING


class Example(NamedTuple):
    """An example spec of an explanation: `heading` is "Wrong", "Fixed" or "Fixed (...)"."""

    heading: str
    spec: str


# An example block: a heading line ending in ":", a blank line, then the spec indented by 4 spaces.
_EXAMPLE = re.compile(r"^(Wrong|Fixed[^\n]*?):\n\n((?:    .*\n|\n)+)", re.MULTILINE)


@dataclass(frozen=True)
class Code:
    code: str
    severity: Severity
    title: str  # one line, e.g. "unknown keyword"
    message: str  # the template every raise site fills in (`str.format` fields)
    written: str  # the explanation as written in this file (indented); see `explanation`
    variants: Mapping[str, str] = field(default_factory=dict)  # other message templates, by name

    def __call__(
        self,
        span: Span,
        *,
        variant: str = "",
        label: str = "",
        labels: Sequence[Label] = (),
        help: str = "",
        note: str = "",
        in_file: SourceFile | None = None,
        **fields: object,
    ) -> Diagnostic:
        """The diagnostic of this code at `span` (in `in_file` if not the spec), its message filled in from `fields`."""
        template = self.variants[variant] if variant else self.message
        return Diagnostic(
            self.code, template.format(**fields), span, self.severity, label, tuple(labels), help, note, in_file
        )

    @property
    def templates(self) -> list[str]:
        """Every message this code can have: the main template, then the variants."""
        return [self.message, *self.variants.values()]

    @property
    def explanation(self) -> str:
        """Plain text, several paragraphs (dedented when asked for: every check imports this module)."""
        return textwrap.dedent(self.written).strip("\n")

    @property
    def examples(self) -> list[Example]:
        """The example specs of the explanation, in order (a Wrong one, then the Fixed one)."""
        text = self.explanation + "\n"
        return [Example(m.group(1), textwrap.dedent(m.group(2)).strip("\n") + "\n") for m in _EXAMPLE.finditer(text)]


def _code(code: str, severity: Severity, title: str, message: str, explanation: str, **variants: str) -> Code:
    return Code(code, severity, title, message, explanation, variants)


# syntax errors

RL001 = _code(
    "RL001",
    ERROR,
    "unknown keyword",
    "unknown keyword `{word}`",
    """
        A word stands where the grammar expects a keyword: a statement keyword
        (`reward`, `defaults`, `rule`, `total`, `gate`, `clip`), a rule kind
        after `rule NAME:` (`length`, `phrases`, `banned`, `regex`, ...), or an
        option name inside a rule's `{ ... }` block. Inside a block the
        "expected" list shows only the options that this rule kind accepts, and
        the help line suggests the closest one.

        Keywords are not reserved words: they only mean something in their own
        place, so a rule may well be called `weight`. A misspelled option is
        therefore never taken for something else; it stops the check.

        Wrong:

            reward chat
            rule brief: length ..200 words { wieght 2 }

        Fixed:

            reward chat
            rule brief: length ..200 words { weight 2 }

        Why it matters: a hand-written reward with a misspelled setting keeps
        its default without a word, and the model trains on an objective nobody
        asked for. Here the typo stops the run before any GPU time is spent.
        """,
)

RL002 = _code(
    "RL002",
    ERROR,
    "unexpected token",
    "unexpected {token}",
    """
        A name, number, string or symbol of the wrong sort for its place: two
        list items without a comma between them, a single number where a range
        is expected (`length 50 words` instead of `length 50.. words`), `=`
        instead of `:` in a rule header, a gate without its comparison. The
        label lists what would have been accepted at that point.

        An unknown word right after a complete statement can also land here
        rather than under RL001, when the statement before it could still go
        on (after `reward chat`, a description string may follow).

        Wrong:

            reward chat
            rule helpful: phrases "I can help" "Here's how"

        Fixed:

            reward chat
            rule helpful: phrases "I can help", "Here's how"

        Why it matters: the spec is the whole definition of the reward; a
        statement that is only half understood must not train. After a syntax
        error every other statement is still parsed and checked, so one run
        shows every problem in the file.
        """,
)

RL003 = _code(
    "RL003",
    ERROR,
    "unterminated string",
    "unterminated string",
    """
        A string opened with `"` or `'` (or a raw string opened with `r"` or
        `r'`) is not closed on the same line. Strings never span lines: write
        `\\n` for a line break inside an ordinary string.

        Wrong:

            reward chat
            rule safety: banned "dangerous", "illegal

        Fixed:

            reward chat
            rule safety: banned "dangerous", "illegal"

        Why it matters: an unclosed quote would otherwise swallow the rest of
        the line and turn the words after it into a different list than the
        one you meant. Only the broken statement is rejected; the statements
        after it are still checked.
        """,
)

RL004 = _code(
    "RL004",
    ERROR,
    "unexpected character",
    "unexpected character `{char}`",
    """
        A character that no part of the language starts with: `;` between
        options (options are separated by whitespace only), `@`, `!`,
        typographic quotes such as “ ” ‘ ’ pasted from a word processor, or an
        invisible character such as a no-break space. Characters that cannot
        be shown are named by their code point (`U+00A0`).

        Numbers are written with the ASCII digits 0-9 only. A digit of another
        script (Arabic-Indic `٢`, full-width `２`, Devanagari `२`, ...) gets this
        error with the digit's Unicode name, and the help spells the number in
        ASCII digits (`weight ٢` -> write `2`).

        Wrong:

            reward chat
            rule brief: length ..200 words { outside 0.5; weight 1 }

        Fixed:

            reward chat
            rule brief: length ..200 words { outside 0.5  weight 1 }

        Why it matters: a stray character is usually a sign that text was
        pasted from elsewhere; rejecting it keeps the spec exactly what it
        reads as. Strings may hold any character: put text in quotes.
        """,
    digit="unexpected character `{char}` ({name})",
)

RL005 = _code(
    "RL005",
    ERROR,
    "unknown escape in string",
    "unknown escape `\\{escape}` in string",
    """
        Inside an ordinary quoted string a backslash starts an escape, and only
        these exist: `\\n` `\\t` `\\r` `\\0` `\\\\` `\\"` `\\'` `\\xHH` `\\uHHHH`
        `\\UHHHHHHHH`. Anything else after a backslash is reported, and so is a
        `\\u`/`\\U` escape that names a surrogate (D800-DFFF) or a code point
        above 10FFFF. The usual cause is a regular expression written in an
        ordinary string: `"\\d+"`.

        Raw strings (`r"..."`, `r'...'`) keep every backslash as written and
        are the way to write regular expressions.

        Wrong:

            reward chat
            rule has_number: regex "\\d+"

        Fixed:

            reward chat
            rule has_number: regex r"\\d+"

        Why it matters: passing unknown escapes through unchanged (as Python
        does, with a warning) makes it ambiguous which pattern actually runs.
        Rejecting them means the pattern that scores completions is the one
        you wrote.
        """,
)

RL006 = _code(
    "RL006",
    ERROR,
    "unexpected end of input",
    "unexpected end of input",
    """
        A statement stops before it is complete: an options block opened with
        `{` and never closed, a `total` formula ending in an operator, a
        `reward` header without a name, a `gate` without its threshold. The
        label says what was expected next.

        After a syntax error the file is re-read one statement at a time, each
        statement running up to the next line that starts with a statement
        keyword (`reward`, `defaults`, `rule`, `total`, `gate`, `clip`). So a
        `{` left open before the next `rule` is reported at the end of its own
        statement, not at the end of the file, and the following rules are
        still checked.

        Wrong:

            reward chat
            rule brief: length ..200 words { weight 2
            rule safety: banned "dangerous"

        Fixed:

            reward chat
            rule brief: length ..200 words { weight 2 }
            rule safety: banned "dangerous"

        Why it matters: an incomplete statement has no meaning that could be
        guessed safely; the missing part is often the one that decides the
        reward (a weight, a threshold).
        """,
    incomplete="incomplete statement",
)

RL007 = _code(
    "RL007",
    ERROR,
    "expression nested too deeply",
    "expression is nested too deeply",
    """
        A formula nests more than 100 levels deep. Function calls, unary minus
        and every binary operator add a level; since `+ - * /` are
        left-associative, a flat sum of 101 terms is 100 levels deep (accepted)
        and one of 102 terms is 101 (refused). Parentheses alone add nothing.

        Such formulas are almost always generated. A long weighted sum does not
        need a `total` at all: without one, the reward is the weighted sum of
        the rules, which TRL computes itself from `reward_weights`.

        Wrong (schematically; the real spec is too long to show):

            total = r1 + r2 + r3 + ... + r120

        Fixed: drop `total` and give each rule its weight:

            reward chat
            rule brief: length ..200 words { weight 2 }
            rule safety: banned "dangerous" { weight 3 }

        Why it matters: a spec is data and must never crash the tools that
        read it; the limit keeps checking and compiling free of stack
        exhaustion whatever the input.
        """,
)

RL008 = _code(
    "RL008",
    ERROR,
    "spec too large",
    "spec is too large ({size})",
    """
        The spec holds more than 1,000,000 characters. Nothing else in the file
        is checked. `rewardc` reads at most 4,000,000 bytes of a file or of
        standard input (the most 1,000,000 characters take in UTF-8): longer
        input, an endless pipe say, gets this error without being read further.
        `rewardc fmt` reports it too when formatting would make a spec longer
        than the limit, and then leaves the file as it is.

        A spec this large is nearly always a mistake: a data file passed where
        a spec was meant, or a generated word list. Keep phrase and banned
        lists to the words that matter; a reward built from tens of thousands
        of phrases is hard to reason about and slows every training step.

        Fixed: pass the right file, or shorten the lists, e.g.

            reward chat
            rule safety: banned "dangerous", "illegal", "harmful"

        Why it matters: the spec is read by every training process; a bounded
        size keeps `rewardc check` fast and a mistaken argument harmless.
        """,
    formatted="the formatted spec would be too large ({size})",
)

RL009 = _code(
    "RL009",
    ERROR,
    "number too large",
    "number `{number}` is too large",
    """
        A number literal is larger than 1e308, the largest magnitude a spec
        accepts: `1e999`, say, or a whole number of more than 309 digits.
        Numbers of any length are read (a fraction or an exponent with
        thousands of digits too); only their value counts. The statement that
        holds the number is left out of the rest of the check, so this error
        does not set off others.

        Wrong:

            reward chat
            rule brief: length ..1e999 words

        Fixed (a range open at the top needs no huge number):

            reward chat
            rule brief: length 1.. words

        Why it matters: an infinite value anywhere in a reward turns sums and
        GRPO's group normalisation into inf or NaN, and TRL silently treats a
        NaN reward as "not applicable". Every score stays finite by
        construction.
        """,
)

RL010 = _code(
    "RL010",
    ERROR,
    "missing `reward` header",
    "a spec must start with `reward NAME`",
    """
        A spec must start with a header line, `reward NAME` with an optional
        description string, before any other statement. Comments and blank
        lines may come first. An empty file gets this error too.

        The header is not reported missing while the file has an incomplete
        statement (RL006): fix that error first.

        Wrong:

            rule brief: length ..200 words

        Fixed:

            reward chat "Short, helpful answers"
            rule brief: length ..200 words

        Why it matters: the header names the spec (`spec.name` in Python) and
        is what tells a spec file apart from any other text passed to
        `rewardc` or `grpo-train` by mistake.
        """,
)

RL011 = _code(
    "RL011",
    ERROR,
    "misplaced or repeated `reward` header",
    "a spec can have only one `reward` header",
    """
        Either the file has a second `reward` header, or the header is not the
        first statement. A spec describes exactly one reward, and its header
        comes first.

        Wrong:

            rule brief: length ..200 words
            reward chat

        Fixed:

            reward chat
            rule brief: length ..200 words

        Why it matters: two headers usually mean two specs were concatenated;
        training on their union would mix two reward designs without anyone
        deciding to. Split them into two files.
        """,
    order="the `reward` header must come before every other statement",
)

# value errors

RL100 = _code(
    "RL100",
    ERROR,
    "invalid value",
    "invalid value for `{field}`",
    """
        The fallback for a value the validator rejects for a reason that no
        more specific code describes. No spec is known to reach it: the
        grammar gives every value its type (a string where a number belongs is
        RL002), numbers beyond 1e308 are RL009 before validation, and every
        other validation error has its own code (RL102, RL104-RL107).

        Fixed: write a value inside the option's documented bounds (see
        `docs/language.md`), e.g.

            reward chat
            rule brief: length ..200 words { weight 2 }

        If you get RL100 for an ordinary-looking value, rewardc is missing a
        more specific diagnostic: please report it with the spec.

        Why it matters: every option value is validated before training, so a
        value that cannot be represented exactly as written never reaches
        the reward functions.
        """,
)

RL101 = _code(
    "RL101",
    ERROR,
    "duplicate rule name",
    "rule `{name}` is defined twice",
    """
        Two rules have the same name. Rule names must be unique within a spec.

        Wrong:

            reward chat
            rule style: phrases "Here's how"
            rule style: banned "As an AI"

        Fixed:

            reward chat
            rule helpful: phrases "Here's how"
            rule no_disclaimer: banned "As an AI"

        Why it matters: each rule becomes one TRL reward function named after
        the rule, and TRL logs it as `rewards/<name>/mean` and
        `rewards/<name>/std`. Two rules with one name would write to the same
        log entries, and `total` formulas and gates could not tell them apart.
        A named schedule (`schedule NAME: ...`) shares the names of rules:
        a formula could not tell the two apart either.
        """,
    schedule="`{name}` names both a schedule and {other}",
)

RL102 = _code(
    "RL102",
    ERROR,
    "option does not apply",
    "option `{option}` does not apply to {where}",
    """
        An option that the language knows, but that this rule kind does not
        accept: `ramp` on an `overlong` rule, `each` on a `json` rule, `case`
        on a `length` rule. The help line lists the options the kind accepts
        (and suggests the closest one). The same code reports an option in
        `defaults` that is not a shared option: `defaults` accepts only
        `weight`, `scope`, `case`, `unicode`, `match` and `split`.

        Wrong:

            reward chat
            rule not_too_long: overlong 256 tokens { ramp 32 }

        Fixed (overlong rules set the width of their ramp with `buffer`):

            reward chat
            rule not_too_long: overlong 256 tokens { buffer 32 }

        Why it matters: silently ignoring an option is exactly how
        hand-written rewards drift from what their authors meant; an option
        either changes the score or is an error.
        """,
    defaults="option `{option}` cannot be set in `defaults`",
)

RL103 = _code(
    "RL103",
    ERROR,
    "given twice",
    "option `{option}` is given twice",
    """
        The same option appears twice in one options block, the spec has two
        `total` statements or two `clip` statements, or an example has two
        `completion`s, two `prompt`s or the same `column` twice. Only the first one is
        kept for the rest of the check.

        Several `gate` statements are allowed. Several `defaults` blocks are
        allowed too and are merged; an option set in a later block replaces
        the same option from an earlier one.

        Wrong:

            reward chat
            rule brief: length ..200 words { weight 1  outside 0.5  weight 2 }

        Fixed:

            reward chat
            rule brief: length ..200 words { outside 0.5  weight 2 }

        Why it matters: with two values for one setting, one of them is
        silently dead, and it may be the one you meant.
        """,
    statement="`{word}` is given twice",
)

RL104 = _code(
    "RL104",
    ERROR,
    "unknown word for a setting",
    "unknown {field} `{value}`",
    """
        A setting that takes one of a fixed set of words got another word.
        The settings and their words:

            unit        words characters tokens sentences
            scope       answer thinking full
            case        insensitive sensitive lower
            unicode     nfkc confusables raw
            match       word substring
            split       words whitespace
            metric      rouge1 rouge2 rougeL bleu chrf fuzzy   (similarity)
            compare     exact normalized numeric               (equals)
            activation  sigmoid softmax none                   (classifier)
            context     none last_user prompt                  (classifier)

        The words are case-sensitive (`rougeL`, not `rougel`), and the help
        line suggests the closest one.

        Wrong:

            reward chat
            rule brief: length ..200 word

        Fixed:

            reward chat
            rule brief: length ..200 words

        Why it matters: units and modes decide what a number means; 200 words
        is about 1,000 characters or 260 tokens. Naming them explicitly, and
        rejecting anything else, keeps "wrong unit" bugs out of the reward.
        """,
)

RL105 = _code(
    "RL105",
    ERROR,
    "value out of range",
    "`{field}` is out of range",
    """
        A number lies outside the bounds of its option. The bounds:

            weight, each, present, absent, outside    -100 .. 100
            gate ... then VALUE                       -100 .. 100
            cap                                       0 .. 100
            ramp                                      above 0, at most 1e9
            ngram                                     1 .. 32
            overlong limit, buffer                    1 .. 1,000,000
            batch_size                                1 .. 4096
            max_length                                8 .. 1,000,000
            label (a class index)                     0 .. 100,000
            repetition penalty                        -100 .. below 0

        Wrong:

            reward chat
            rule helpful: phrases "Here's how" { each 0.5  cap 500 }

        Fixed:

            reward chat
            rule helpful: phrases "Here's how" { each 0.5  cap 1 }

        Why it matters: bounded scores and weights mean no combination of
        rules can overflow, and no single rule can drown out the others in the
        summed reward that GRPO normalises per group. Scale rules against each
        other with weights in a sensible range.
        """,
)

RL106 = _code(
    "RL106",
    ERROR,
    "whole number required",
    "`{field}` must be a whole number",
    """
        An option that counts things got a fractional number. Whole numbers
        are required for `ngram`, the `overlong` limit and `buffer`,
        `batch_size`, `max_length` and a classifier `label` given as a class
        index. A number with a zero fraction (`3.0`, `1e3`) is accepted.

        An empty classifier label (`label ""`) is currently reported with this
        code as well: write a label name or a class index.

        Wrong:

            reward chat
            rule varied: repetition { ngram 2.5 }

        Fixed:

            reward chat
            rule varied: repetition { ngram 3 }

        Why it matters: rounding silently would change what is measured
        (bigrams or trigrams?); the spec states it exactly.
        """,
)

RL107 = _code(
    "RL107",
    ERROR,
    "empty text",
    "`{field}` is empty",
    """
        An empty string where text is required: an entry of a `phrases`,
        `banned`, `tags` or `markers` list or of `keys`, a regular expression, or a
        `model` path. Entries of those lists that hold
        only whitespace (after normalisation) are reported too, as a "blank
        entry".

        Wrong:

            reward chat
            rule safety: banned "dangerous", "", "illegal"

        Fixed:

            reward chat
            rule safety: banned "dangerous", "illegal"

        Why it matters: an empty phrase is found in every completion. A banned
        rule would then score every completion as `present`: every member of a
        GRPO group gets the same score, the advantage is zero and the rule
        teaches nothing, while its log line looks like a working penalty.
        """,
    blank="`{field}` holds a blank entry",
)

# reference errors

RL110 = _code(
    "RL110",
    ERROR,
    "unknown target",
    "unknown target `{name}`",
    """
        Comparison rules (`relevance to`, `overlap to`, `similarity METRIC to`,
        `equals`) take a target, and a target is one of `last_user` (the last
        user message), `prompt` (the whole prompt), `system` (the system
        message) or `column NAME` (a dataset column; quote names that are not
        plain identifiers: `column "gold answer"`). Any other bare word is
        reported; when it looks like a column name the help suggests
        `column NAME`.

        Wrong:

            reward chat
            rule correct: equals reference

        Fixed:

            reward chat
            rule correct: equals column reference

        Why it matters: if bare words were taken as column names, a misspelled
        `last_user` would become a column that does not exist, the rule would
        return "not applicable" for every completion, and it would silently
        never score anything.
        """,
)

RL111 = _code(
    "RL111",
    ERROR,
    "unknown rule",
    "unknown rule `{name}`",
    """
        A `total` formula, a `gate`, an example's `expect` or a `brevity`
        rule's `correct` names a rule that the spec does not define (an
        `expect` may also name `total`). The help
        line suggests the closest rule name or lists the defined ones. A rule
        whose own statement has a syntax error is not reported here: fix that
        error first.

        Wrong:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = brief + 2 * safty

        Fixed:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = brief + 2 * safety

        Why it matters: a formula that silently read a missing rule as 0
        would train without the term you meant to include.
        """,
)

RL112 = _code(
    "RL112",
    ERROR,
    "unknown function",
    "unknown function `{name}`",
    """
        A `total` formula calls a function other than the four that exist:
        `min(a, b, ...)`, `max(a, b, ...)`, `clip(x, low, high)` and `abs(x)`.

        Wrong:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = mean(brief, safety)

        Fixed:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = (brief + safety) / 2

        Why it matters: a spec is data, not code; formulas are limited to
        arithmetic that always yields a finite number.
        """,
)

RL113 = _code(
    "RL113",
    ERROR,
    "wrong number of arguments",
    "`{function}` takes {wanted}, not {count}",
    """
        A formula function is called with the wrong number of arguments:
        `min` and `max` take 1 to 64, `clip` takes exactly 3 (the value, the
        low bound, the high bound) and `abs` takes exactly 1.

        Wrong:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = clip(brief + safety, 0)

        Fixed:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = clip(brief + safety, 0, 1.5)

        To bound the final reward, the `clip low..high` statement does the
        same after the gates have been applied.

        Why it matters: guessing a missing bound would change the reward's
        range, and with it how GRPO weighs this reward against others.
        """,
)

RL114 = _code(
    "RL114",
    ERROR,
    "invalid regular expression",
    "invalid regular expression",
    """
        The pattern of a `regex` rule is not a valid regular expression: an
        unbalanced parenthesis or bracket, a quantifier with nothing to
        repeat, a broken escape. The label shows the parser's own message,
        with the position inside the pattern.

        Wrong:

            reward chat
            rule cites: regex r"\\[(\\d+\\]"

        Fixed:

            reward chat
            rule cites: regex r"\\[(\\d+)\\]"

        Why it matters: a pattern that cannot compile would crash the first
        training step, after the model has been loaded and generation has
        run. It is caught here instead.
        """,
)

RL115 = _code(
    "RL115",
    ERROR,
    "regular expression not linear-time",
    "the pattern is not supported by the linear-time regex engine (RE2)",
    """
        Patterns run on RE2, which matches in time linear in the text and
        never backtracks. This pattern is valid for Python's `re` but RE2
        cannot run it. The usual causes are backreferences (`\\1`,
        `(?P=name)`) and lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`). RE2 also
        rejects a few other constructs that get the same message: possessive
        quantifiers (`a++`), atomic groups (`(?>...)`), `\\Z` (write `\\z`),
        and counted repetition above 1000 (`a{1001}`).

        Wrong:

            reward chat
            rule labelled: regex r"answer(?=:)"

        Fixed:

            reward chat
            rule labelled: regex r"answer:"

        To reward varied wording, where a backreference such as
        `(\\w+) \\1` would find repeated words, use a `repetition` rule.

        Why it matters: a backtracking pattern can take exponential time on
        an unlucky completion; one 1 MB completion could stall a whole
        training step. With RE2 no completion can.
        """,
)

RL116 = _code(
    "RL116",
    ERROR,
    "range can never match",
    "{what} can never match",
    """
        A range that no value can satisfy. Reported for: an inverted range
        (`200..50`); a length range, in any unit, or a tag or marker `count`
        that holds no whole number (`1.2..1.8`), since those are counts; a
        length range or a tag or marker `count` whose high end is below 0; a `rescale` range whose two
        ends are equal; an inverted `clip` range. Ranges are inclusive, and
        `low..` or `..high` leave one end open.

        Wrong:

            reward chat
            rule brief: length 200..50 words

        Fixed:

            reward chat
            rule brief: length 50..200 words

        Why it matters: a rule whose range never matches gives every
        completion the same score, so within each GRPO group its advantage is
        zero and it contributes no learning signal, while still looking like
        part of the reward. An empty `rescale` range would divide by zero.
        """,
)

RL117 = _code(
    "RL117",
    ERROR,
    "every weight is zero",
    "every rule has weight 0",
    """
        The spec has no `total` formula and every rule has weight 0, so the
        reward, the weighted sum of the rules, is 0 for every completion.

        Wrong:

            reward chat
            rule brief: length ..200 words { weight 0 }
            rule safety: banned "dangerous" { weight 0 }

        Fixed:

            reward chat
            rule brief: length ..200 words { weight 1 }
            rule safety: banned "dangerous" { weight 2 }

        Why it matters: GRPO learns from differences between the rewards of a
        prompt's completions. A constant reward gives zero advantages and no
        gradient: training would run, cost its compute, and change nothing.
        """,
)

RL118 = _code(
    "RL118",
    ERROR,
    "no rules",
    "spec `{name}` has no rules",
    """
        The spec defines no rule. (It is not reported when the file also has
        syntax errors, since a broken rule statement may be the missing one.)

        Wrong:

            reward chat
            defaults { weight 2 }

        Fixed:

            reward chat
            defaults { weight 2 }
            rule brief: length ..200 words

        Why it matters: TRL needs at least one reward function; a spec without
        rules has no reward to train on.
        """,
)

RL119 = _code(
    "RL119",
    ERROR,
    "reserved rule name",
    "`{name}` is a reserved name",
    """
        A rule (or a schedule) is named `total`. That name is reserved: it
        names the combined score.

        Wrong:

            reward chat
            rule total: length ..200 words

        Fixed:

            reward chat
            rule brief: length ..200 words

        Why it matters: when a spec combines its rules with `total`, `gate` or
        `clip`, the combined reward is logged under the name `total`
        (`rewards/total/mean`) next to each rule's own score. A rule with that
        name would collide with it in the training logs.
        """,
)

RL120 = _code(
    "RL120",
    ERROR,
    "conflicting regex scoring options",
    "rule `{name}` mixes counting (`each`, `cap`) and presence (`present`, `absent`)",
    """
        A `regex` rule scores in one of two modes. Presence mode (the default)
        scores `present` (default 1) when the pattern is found and `absent`
        (default 0) when it is not. Counting mode, chosen by `each`, scores
        `each` per match, with the total magnitude limited by `cap` (default
        1). This error is reported when a rule mixes options of the two modes,
        or sets `cap` without `each`.

        Wrong:

            reward chat
            rule citations: regex r"\\[\\d+\\]" { each 0.25  present 1 }

        Fixed:

            reward chat
            rule citations: regex r"\\[\\d+\\]" { each 0.25  cap 1 }

        Why it matters: with both kinds of option there is no single obvious
        score; whichever one was picked silently, half of what you wrote would
        be ignored.
        """,
    cap="`cap` needs `each`",
)

RL121 = _code(
    "RL121",
    ERROR,
    "invalid tag name",
    "`{tag}` is not a valid tag name",
    """
        An entry of a `tags` list is not a tag name. A tag name starts with a
        letter or `_` and continues with letters, digits, `_`, `.`, `:` or
        `-`. Write the bare name: the rule itself looks for `<name>` and
        `</name>`.

        Wrong:

            reward chat
            rule format: tags "<think>", "<answer>" { scope full }

        Fixed:

            reward chat
            rule format: tags "think", "answer" { scope full }

        Why it matters: `"<answer>"` would look for `<<answer>>`, which no
        completion contains; the rule would score 0 for every completion and
        teach the format nothing.
        """,
)

RL122 = _code(
    "RL122",
    ERROR,
    "overlong buffer larger than the limit",
    "buffer {buffer} is larger than the limit {limit}",
    """
        An `overlong LIMIT UNIT` rule scores 0 up to `LIMIT - buffer`, falls
        linearly to -1 at `LIMIT` and stays at -1 beyond it. Here `buffer` is
        larger than the limit, so the ramp would begin below zero length.
        Without `buffer` the ramp is a quarter of the limit.

        Wrong:

            reward chat
            rule not_too_long: overlong 256 tokens { buffer 512 }

        Fixed:

            reward chat
            rule not_too_long: overlong 256 tokens { buffer 64 }

        Why it matters: with such a buffer even an empty completion is
        penalised, and the penalty no longer marks "too long" at all.
        """,
)

RL123 = _code(
    "RL123",
    ERROR,
    "division by zero",
    "division by zero",
    """
        A `total` formula divides by the number 0. Only a literal zero
        divisor (`/ 0`, `/ 0.0`) is detected; a divisor that merely evaluates
        to zero, such as `(1 - 1)`, is not.

        Wrong:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = (brief + safety) / 0

        Fixed:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = (brief + safety) / 2

        Why it matters: the reward must be a finite number for every
        completion; infinities and NaN would poison GRPO's group
        normalisation or be dropped silently as "not applicable".
        """,
)

RL124 = _code(
    "RL124",
    ERROR,
    "unknown judge placeholder",
    "unknown placeholder `{placeholder}` in {where}",
    """
        A `judge` rule's criterion or template file holds a `{NAME}` that is
        not a placeholder. The placeholders are `{prompt}` (the whole prompt
        as text), `{last_user}` (the last user message), `{system}` (the
        system message), `{answer}` (the scored text: the rule's `scope`),
        `{criterion}` (the criterion, in a template file), `{verdicts}` (the
        verdicts the judge may give, as words) and `{column.NAME}` (a dataset
        column). Write `{{` and `}}` for literal braces.

        Wrong:

            reward chat
            rule polite: judge "Is {anwser} polite?"

        Fixed:

            reward chat
            rule polite: judge "Is {answer} polite?"

        Why it matters: an unknown placeholder would reach the judge as
        written, and every completion would be graded on a broken prompt.
        """,
)

RL125 = _code(
    "RL125",
    ERROR,
    "bad judge scale",
    "bad scale for a judge: {problem}",
    """
        A `judge` rule's `scale LOW..HIGH` must have two whole-number ends,
        LOW below HIGH, and at most 101 values. The judge gives a number on
        the scale; LOW scores 0 and HIGH scores 1.

        Wrong:

            reward chat
            rule helpful: judge "Is the reply helpful?" { scale 10..1 }

        Fixed:

            reward chat
            rule helpful: judge "Is the reply helpful?" { scale 1..10 }

        Why it matters: an empty or fractional scale has no verdicts to map,
        and every completion would score the same.
        """,
)

RL126 = _code(
    "RL126",
    ERROR,
    "judge template not readable",
    "cannot read the judge template `{path}`: {reason}",
    """
        A `judge` rule's `template` file does not exist, cannot be read, is
        larger than 1 MB, or is not UTF-8 text. A relative path is resolved
        from the spec file's folder, not from the working directory.

        Wrong:

            reward chat
            rule helpful: judge "Is the reply helpful?" { template "no/such/template.txt" }

        Fixed:

            reward chat
            rule helpful: judge "Is the reply helpful?"

        Why it matters: without its template the judge has no prompt, and the
        run would fail at its first step instead of before it starts.
        """,
    encoding="the judge template `{path}` is not UTF-8 text (byte {offset})",
)

RL127 = _code(
    "RL127",
    ERROR,
    "judge backends mixed",
    "`{option}` is an option of the local judge, not of a judge on a server",
    """
        A `judge` rule runs either on a local model (`model`, `batch_size`,
        `max_length`) or on an OpenAI-compatible server (`server` with its
        `served_model`, and `api_key_env`, `concurrency`, `timeout`,
        `retries`, `budget`). Options of one backend cannot be given to the
        other, a `server` needs the name of the model it serves, and the
        server is an http(s) base URL.

        Wrong:

            reward chat
            rule helpful: judge "Is the reply helpful?" { server "http://127.0.0.1:8000/v1"  model "judge" }

        Fixed:

            reward chat
            rule helpful: judge "Is the reply helpful?" { server "http://127.0.0.1:8000/v1"  served_model "judge" }

        Why it matters: the option would be ignored silently, and the judge
        would not be the one you configured.
        """,
    no_server="`{option}` is an option of the HTTP judge, which needs a server",
    served_model="a judge with a `server` needs `served_model`, the name of the model the server serves",
    url="`server` must be an http:// or https:// base URL",
)

RL128 = _code(
    "RL128",
    ERROR,
    "API key written in the spec",
    "`api_key_env` names an environment variable; this is not a variable name",
    """
        A `judge` rule's `api_key_env` takes the NAME of the environment
        variable that holds the API key (`OPENAI_API_KEY`), never the key
        itself: the spec is shared, committed and logged, and a key in it is
        leaked. A value that looks like a key (`sk-...`, a long run of
        letters and digits) or is not a variable name is refused; the message
        does not repeat it.

        Wrong:

            reward chat
            rule helpful: judge "Is the reply helpful?" {
                server "https://api.example.com/v1"  served_model "judge"
                api_key_env "sk-abc123def456ghi789"
            }

        Fixed:

            reward chat
            rule helpful: judge "Is the reply helpful?" {
                server "https://api.example.com/v1"  served_model "judge"
                api_key_env "JUDGE_API_KEY"
            }

        Why it matters: a leaked key is spent by others; revoke any key that
        was written into a spec.
        """,
)

RL129 = _code(
    "RL129",
    ERROR,
    "judge choices and scale",
    "a judge gives either named `choices` or a number on a `scale`, not both",
    """
        A `judge` rule's verdict is one of its `choices` (worst to best) or a
        whole number on its `scale`; a rule cannot have both.

        Wrong:

            reward chat
            rule helpful: judge "Is the reply helpful?" { choices "no", "yes"  scale 1..10 }

        Fixed:

            reward chat
            rule helpful: judge "Is the reply helpful?" { scale 1..10 }

        Why it matters: the two map verdicts to scores differently; the rule
        would not say which one it means.
        """,
)


RL130 = _code(
    "RL130",
    ERROR,
    "schema file cannot be read",
    "cannot read the JSON Schema file `{file}`: {problem}",
    """
        A `json` rule's `schema` names a file that does not exist, is a
        folder, or cannot be read. The path is relative to the folder of the
        spec file (docs/language.md §6.7), not to the working directory.

        Wrong:

            reward tools
            rule call: json { extract tool_calls  schema "schemas/tool_cal.json" }

        Fix the path (or create the file): `schema "schemas/tool_call.json"`
        next to the spec in `schemas/`.

        Why it matters: without its schema the rule cannot score anything;
        finding out at `rewardc check` costs nothing, finding out when the
        first GRPO step is scored costs the time it took to start training.
        """,
)

RL131 = _code(
    "RL131",
    ERROR,
    "schema file is not JSON",
    "the JSON Schema file `{file}` is not JSON: {problem}",
    """
        A `json` rule's `schema` file exists but does not hold strict JSON
        (a trailing comma, a comment, single quotes, `NaN`, an empty file).
        The message gives the line and column in the schema file where the
        JSON parser stopped.

        A schema file such as

            {"type": "object", "required": ["name"],}

        fails on the trailing comma; `{"type": "object", "required": ["name"]}`
        is fixed.

        Why it matters: the rule cannot check any completion against a file
        it cannot read as JSON.
        """,
)

RL132 = _code(
    "RL132",
    ERROR,
    "invalid JSON Schema",
    "`{file}` is not a valid JSON Schema: `{keyword}` at `{where}`: {problem}",
    """
        A `json` rule's `schema` file is JSON, but not a valid JSON Schema:
        it fails its draft's metaschema (the draft named by `$schema`; Draft
        2020-12 without one), names a `$schema` that no draft has, or has a
        `pattern` (or `patternProperties` key) that RE2 cannot run: schema
        patterns run in linear time, without lookaround or backreferences.
        The message names the keyword at fault and its place in the schema,
        as a JSON path (`$.properties.city.type`).

        A schema file such as

            {"type": "object", "properties": {"city": {"type": "text"}}}

        fails at `$.properties.city.type` ("text" is no JSON type); with
        `"type": "string"` it is fixed.

        Why it matters: an invalid schema does not check what you meant; the
        validator would fail or accept values you wanted rejected, and the
        policy learns from that.
        """,
)

RL133 = _code(
    "RL133",
    ERROR,
    "unresolvable `$ref` in a schema",
    "`{file}`: the `$ref` {ref} at `{where}` cannot be resolved",
    """
        A `$ref` of a `json` rule's schema file points to nothing: another
        file that does not exist (a relative `$ref` resolves from the schema
        file's own folder, or from its `$id`), a JSON pointer into a part the
        schema does not have (`#/$defs/argumnets`), or a remote address
        (schemas are never fetched from the network).

        A schema file holding

            {"properties": {"arguments": {"$ref": "argument.json"}}}

        next to a file named `arguments.json` fails; `"$ref": "arguments.json"`
        is fixed.

        Why it matters: the validator would stop at the first completion that
        reaches the reference, in the middle of training.
        """,
)

RL134 = _code(
    "RL134",
    ERROR,
    "`punctuation` with `compare numeric`",
    "`punctuation {punctuation}` does not apply to `compare numeric`",
    """
        An `equals` rule compares numbers (`compare numeric`) and sets
        `punctuation ignore` or `punctuation trailing`. Numbers are read as
        written, in Python's `float` syntax, where a `.` is a decimal point
        and a `-` a sign: removing punctuation would turn "-3.5" into "35".

        Wrong:

            reward math
            rule correct: equals column answer { compare numeric  punctuation ignore }

        Fixed (numbers as written):

            reward math
            rule correct: equals column answer { compare numeric }

        or, to match a text answer whatever its punctuation:

            reward math
            rule correct: equals column answer { punctuation ignore }

        Why it matters: a reference "0.5" and an answer "5" would match, and
        the policy would be paid for a wrong answer.
        """,
)

# example errors

RL135 = _code(
    "RL135",
    ERROR,
    "malformed example",
    "example `{name}` has no `completion`",
    """
        An example cannot be scored as written: it has no `completion` (the
        reply the spec scores), it gives both a plain `prompt "..."` and
        messages (`user "..."`: a conversation), its messages have no user
        turn with text, or a line of an examples file is not a usable row
        (the same rules as `rewardc score` data: `prompt` + `completion`, or
        `messages`).

        Wrong:

            reward chat
            rule brief: length ..50 words
            example "short" {
                user "Hi!"
                expect brief = 1
            }

        Fixed:

            reward chat
            rule brief: length ..50 words
            example "short" {
                user "Hi!"
                completion "Hello! How can I help?"
                expect brief = 1
            }

        Why it matters: an example that cannot run would pass unnoticed, and
        the spec would carry a promise nobody checks.
        """,
    mixed="example `{name}` has both a `prompt` and messages",
    messages="example `{name}`: {problem}",
    record="example `{name}` cannot be scored: {problem}",
)

RL136 = _code(
    "RL136",
    ERROR,
    "unknown message role",
    "unknown message role `{role}`",
    """
        A line of an example block starts with a word that is neither an
        example item (`prompt`, `completion`, `column`, `expect`) nor a
        message role (`system`, `developer`, `user`, `assistant`, `tool`).
        Messages are written `ROLE "text"`, in conversation order; the last
        one is usually the user's turn that the completion answers.

        Wrong:

            reward chat
            rule brief: length ..50 words
            example {
                usr "Hi!"
                completion "Hello!"
            }

        Fixed:

            reward chat
            rule brief: length ..50 words
            example {
                user "Hi!"
                completion "Hello!"
            }

        Why it matters: the roles are what a chat template renders; a
        misspelled one would score the example against a prompt that training
        never produces.
        """,
)

RL137 = _code(
    "RL137",
    ERROR,
    "examples file cannot be read",
    "cannot read examples file `{path}`: {reason}",
    """
        An `examples "FILE"` statement names a file that cannot be read
        (missing, a folder, no permission, too large), or a line of it is
        not a usable example: not JSON, not an object, a `name` that is not a
        string, or an `expect` that is not an object of rule names to
        expectations. Each expectation is a number (`=`), null (`n/a`) or a
        string written as in a spec: `">= 0.5"`, `"= 1 within 0.1"`.
        The path is relative to the spec's folder; diagnostics about a line
        point into the examples file.

        Wrong:

            reward chat
            rule brief: length ..50 words
            examples "no-such-file.jsonl"

        Fixed:

            reward chat
            rule brief: length ..50 words
            example {
                user "Hi!"
                completion "Hello!"
            }

        Why it matters: examples that are silently not read test nothing.
        """,
    line="example on line {line} cannot be read: {reason}",
)

RL138 = _code(
    "RL138",
    ERROR,
    "expectation can never hold",
    "`expect {subject} {expected}` can never hold: {why}",
    """
        An example expects a score that the rule (or the total) can never
        produce: a value outside the rule's score range, or outside the
        spec's `clip`, or `n/a` for the total, which always has a value.

        Wrong:

            reward chat
            rule brief: length ..50 words
            example {
                user "Hi!"
                completion "Hello!"
                expect brief >= 2
            }

        Fixed:

            reward chat
            rule brief: length ..50 words
            example {
                user "Hi!"
                completion "Hello!"
                expect brief = 1
            }

        Why it matters: an expectation that cannot hold is a mistake in the
        example or a misunderstanding of the rule; either way it would fail
        every run and teach people to ignore failures.
        """,
)

RL139 = _code(
    "RL139",
    ERROR,
    "expectation not met",
    "`{subject}` scored {actual} in example `{name}`, expected {expected}",
    """
        `rewardc test` scored an example and a rule's score (or the total)
        is not what the example expects. The label shows the actual value;
        the note gives the rule's own explanation of the score (what it
        found), and for the total every rule's score. Either the spec does
        not score what you meant (fix the rule), or the example's
        expectation is wrong (fix the example). `rewardc check` does not
        report this code: it never scores examples.

        Why it matters: examples pin down what a spec must pay for before
        any training; a failing one is a reward that would have trained the
        wrong behaviour.
        """,
)


RL140 = _code(
    "RL140",
    ERROR,
    "condition inside a condition",
    "rule `{name}` has a `when` of its own inside a `when` group",
    """
        A rule written inside a `when CONDITION { ... }` group applies where
        the group's condition holds; it cannot add a `when` option of its
        own. The two conditions would have to be combined (both? either?),
        and the language does not guess. Move the rule out of the group and
        give it the one condition it needs, or remove its own `when`.

        Wrong:

            reward tasks
            when task = "math" {
                rule answer: math column solution { when has solution }
            }

        Fixed:

            reward tasks
            when task = "math" {
                rule answer: math column solution
            }

        Why it matters: a rule that silently applied to the wrong rows
        would train a task on another task's reward.
        """,
)

RL141 = _code(
    "RL141",
    ERROR,
    "condition on a column rewards never see",
    "`when` reads `{column}`, which is never passed to rewards as a column",
    """
        A `when` condition names `prompt`, `completion`, `completion_ids` or
        one of the keywords TRL passes to every reward function (`prompts`,
        `completions`, `trainer_state`, `log_extra`, `log_metric`). TRL
        takes those out of the dataset row before calling the rewards, so
        the condition could never be decided. Give the dataset a column
        that names the task (`task`, `source`, ...) and test that.

        Wrong:

            reward tasks
            rule answer: math column solution { when prompt = "What is 2 + 2?" }

        Fixed:

            reward tasks
            rule answer: math column solution { when task = "math" }

        Why it matters: the rule would never apply, and every training log
        of it would be empty.
        """,
)

RL143 = _code(
    "RL143",
    ERROR,
    "schedule steps out of order",
    "a schedule's steps must increase: {detail}",
    """
        A weight schedule changes a weight over training steps, and its
        steps must run forward: each point of `points STEP: WEIGHT, ...`
        after the one before, a warm-up `A -> B over N` (or `over L..H`)
        over at least one step, a switch `A -> B at N` after step 0. Steps
        are whole numbers from 0 (TRL's `trainer_state.global_step`).

        Wrong:

            reward chat
            rule brief: length ..200 words { weight points 0: 0, 100: 1, 50: 0.5 }

        Fixed:

            reward chat
            rule brief: length ..200 words { weight points 0: 0, 50: 0.5, 100: 1 }

        Why it matters: a schedule whose steps go backwards has no single
        weight at a step; rather than guess which point was meant, the spec
        is refused.
        """,
    open="a warm-up needs both ends of its step range",
)

RL144 = _code(
    "RL144",
    ERROR,
    "gate on a schedule",
    "`gate {name}` compares a schedule, not a rule's score",
    """
        A `gate` names a weight schedule (`schedule NAME: ...`). A gate
        compares a rule's score on each completion; a schedule is a weight
        that depends only on the training step, the same for every
        completion. Gate on a rule; to switch a term on or off at a step,
        multiply it by a schedule in the `total` formula.

        Wrong:

            reward chat
            rule brief: length ..200 words
            schedule late: 0 -> 1 at 100
            total = brief
            gate late < 1 then 0

        Fixed:

            reward chat
            rule brief: length ..200 words
            schedule late: 0 -> 1 at 100
            total = late * brief

        Why it matters: a gate on a schedule would zero the reward of every
        completion alike until a step, which GRPO cannot learn from; a
        schedule in the formula says what was meant.
        """,
)

RL146 = _code(
    "RL146",
    ERROR,
    "`correct` names a rule that reads another rule",
    "`correct` names `{rule}`, which itself reads the scores of `{reads}`",
    """
        A `brevity` rule's `correct RULE` names a rule whose own score depends
        on another rule's score: another `brevity` rule with `correct`, or the
        rule itself. The compiler scores the named rule before the `brevity`
        rule; one level is all a spec needs, so chains and cycles are refused.
        Name the rule that decides correctness directly (`equals`, `math`,
        ...).

        Wrong:

            reward math
            rule accuracy: equals column answer
            rule short: brevity words { correct accuracy }
            rule shorter: brevity tokens { correct short >= 0 }

        Fixed:

            reward math
            rule accuracy: equals column answer
            rule short: brevity words { correct accuracy }
            rule shorter: brevity tokens { correct accuracy }

        Why it matters: a rule that reads a rule that reads another hides what
        "correct" means, and a cycle has no order in which to score it.
        """,
)

RL147 = _code(
    "RL147",
    ERROR,
    "`correct` threshold out of reach",
    "`correct {rule} {comparison} {threshold}` never holds: `{rule}` scores lie in {low}..{high}",
    """
        A `brevity` rule's `correct RULE COMPARISON NUMBER` compares RULE's
        score with a number that RULE can never reach, so no completion ever
        counts as correct and every one gets at most 0. Pick a threshold
        inside RULE's score range, or leave it out: `correct RULE` alone
        means `>=` the highest score RULE can give (1 for `equals` and `math`).

        Wrong:

            reward math
            rule accuracy: equals column answer
            rule short: brevity words { correct accuracy >= 2 }

        Fixed:

            reward math
            rule accuracy: equals column answer
            rule short: brevity words { correct accuracy >= 1 }

        Why it matters: with nothing ever correct, brevity only ever
        penalises, and training learns that short answers are never worth it.
        """,
)

RL149 = _code(
    "RL149",
    ERROR,
    "unknown rule kind",
    "unknown rule kind `{kind}`",
    """
        A rule names a kind that is neither built in nor provided by an
        installed plugin package. Usually it is a misspelling of a built-in
        kind (the help suggests the closest kind). A plugin kind needs its
        package installed (`pip install PACKAGE`) and named in the spec's
        `plugins "PACKAGE"` statement; when that statement names a package
        that is not installed, the message says which package to install.

        Wrong:

            reward chat
            rule brief: lenght ..200 words

        Fixed:

            reward chat
            rule brief: length ..200 words

        Why it matters: a rule of an unknown kind has no scorer; training
        cannot start, and on another machine the same spec may need a package
        that is missing there.
        """,
    not_installed="kind `{kind}` is not installed; the spec needs {needs}: pip install {packages}",
)

RL150 = _code(
    "RL150",
    ERROR,
    "plugin package not installed",
    "package `{package}` is not installed",
    """
        The `plugins` statement names a distribution that is not installed in
        this Python environment, so the rule kinds it provides cannot be
        checked, compiled or scored. Install it (`pip install PACKAGE`), or
        remove it from `plugins` if the spec no longer uses its kinds.

        Wrong:

            reward chat
            plugins "rewardlang-not-installed"
            rule brief: length ..200 words

        Fixed:

            reward chat
            rule brief: length ..200 words

        Why it matters: a spec names its plugin packages so that any machine
        that runs it is told exactly what to install before training starts.
        """,
)

RL151 = _code(
    "RL151",
    ERROR,
    "broken plugin kind",
    "rule kind `{kind}` cannot be used: {reason}",
    """
        An installed package registers the rule kind in the entry point group
        `rewardlang.kinds`, but the kind cannot be used: its entry point fails
        to import, its object is not a `rewardlang.kind.Kind` record, its
        model is of another kind, or its name is that of a built-in kind. The
        message names the package; the fix belongs in that package (or
        uninstall it). It is reported only for a spec that uses the kind: a
        broken plugin that no spec names harms nothing. (No example here: it
        takes a broken package; tests/test_plugins.py installs one.)

        Why it matters: a plugin that fails here would fail at the start of a
        training run, or score with code its author did not mean to ship.
        """,
)

RL152 = _code(
    "RL152",
    ERROR,
    "value does not fit a plugin kind",
    "`{field}` of `{kind}` rules takes {expected}",
    """
        A rule of a plugin kind gives a value its kind cannot take. The
        grammar cannot know a plugin kind's header or the types of its
        options, so it accepts any of the language's values there (strings,
        numbers, ranges, names, `column NAME`); the kind's model checks them.
        Reported for a header with more or fewer values than the kind takes
        (the values between the kind's name and `{ ... }` are its arguments,
        in order), for a value of the wrong type (a string where a number
        belongs), and for a required value that is missing. The package's
        documentation gives the header: the example plugin's `readability`
        kind takes one range.

        Wrong:

            reward chat
            plugins "rewardlang-readability"
            rule plain: readability 6..10 12

        Fixed:

            reward chat
            plugins "rewardlang-readability"
            rule plain: readability 6..10

        Why it matters: a value in the wrong place would be read as another
        argument, and the rule would score something else than meant.
        """,
    header="`{kind}` rules are written `{header}`",
    missing="`{kind}` rules need `{field}`",
)

RL153 = _code(
    "RL153",
    ERROR,
    "embedding backend not installed",
    "`backend {backend}` needs {packages}, which is not installed",
    """
        A `relevance` rule asks for an embedding backend whose packages are
        not installed in this Python environment. `backend static` distils a
        static model from the rule's embedding model once, locally, with
        model2vec (and skeletoken, which model2vec's distillation imports);
        the help line gives the pip command. (`model2vec[distill]` is not the
        command: that extra pins an older transformers.) No example here:
        it takes an environment without model2vec; tests/test_embedding_backends.py
        runs the check in a process where it cannot be imported.

        Why it matters: the distillation would fail at the first batch of a
        training run; the check says what to install before it starts.
        """,
)


# warnings

RL201 = _code(
    "RL201",
    WARNING,
    "phrase both rewarded and banned",
    "`{phrase}` is rewarded by `{rule}` but banned by `{banned_by}`",
    """
        A phrase rewarded by a `phrases` rule with a positive `each` is also
        banned by a `banned` rule. Phrases are compared after NFKC
        normalisation and case folding; when the banned rule uses
        `match substring`, a banned phrase found inside a rewarded phrase is
        reported too. (The check compares whole entries: it does not notice a
        banned word that occurs as a whole word inside a longer rewarded
        phrase.)

        Wrong:

            reward chat
            rule helpful: phrases "I can help", "Let me explain"
            rule no_filler: banned "let me explain", "as an AI"

        Fixed:

            reward chat
            rule helpful: phrases "I can help"
            rule no_filler: banned "let me explain", "as an AI"

        Why it matters: the two rules pull in opposite directions on the same
        text. Which one wins depends on the weights, and the model receives a
        muddled signal for every completion that uses the phrase.
        """,
)

RL202 = _code(
    "RL202",
    WARNING,
    "rule can never score above zero",
    "rule `{name}` can never score above {high}",
    """
        The highest score this rule can produce, as configured, is 0 or less:
        a `phrases` rule with a negative `each`, a `banned` rule whose
        `present` and `absent` are both at most 0, a `regex` or `overlap` rule
        counting with a negative `each`. (`overlong` rules, and `repetition`
        rules with a `penalty`, are penalties by design and are not reported.)

        Wrong:

            reward chat
            rule no_disclaimer: phrases "As an AI" { each -1 }

        Fixed (a positive score that means "more of this", negative weight):

            reward chat
            rule no_disclaimer: phrases "As an AI" { weight -1 }

        or simply a `banned` rule, which scores 1 when none of its phrases is
        found and 0 when one is.

        Why it matters: GRPO only compares completions, so a rule that always
        scores below zero still works; but a negative score combined with a
        negative weight silently flips the sign back, the most common reward
        bug. Keeping scores non-negative and putting the sign in the weight
        makes the direction of every rule readable.
        """,
)

RL203 = _code(
    "RL203",
    WARNING,
    "weight ignored under `total`",
    "the weight of {whose} is ignored",
    """
        The spec has a `total` formula, and a rule sets `weight` (itself or
        through `defaults`). With a formula, the formula alone decides how the
        rules combine, so the weight has no effect.

        Wrong:

            reward chat
            rule brief: length ..200 words { weight 2 }
            rule safety: banned "dangerous"
            total = brief + safety

        Fixed:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = 2 * brief + safety

        Why it matters: a weight that looks active but is not makes the
        reward differ from what the spec appears to say.
        """,
)

RL204 = _code(
    "RL204",
    WARNING,
    "duplicate list entry",
    "`{item}` is listed twice in `{rule}`",
    """
        An entry appears twice in a `phrases`, `banned`, `tags`, `markers` or
        `keys` list, possibly only after normalisation: phrases are compared
        with the rule's own `case` and `unicode` settings (by default NFKC and
        case folding, so "Here's how" and "here's how" are the same phrase);
        tags and keys are compared case-sensitively after NFKC; markers exactly
        as written.

        Wrong:

            reward chat
            rule helpful: phrases "Here's how", "here's how"

        Fixed:

            reward chat
            rule helpful: phrases "Here's how", "Let me explain"

        Why it matters: a duplicate is either dead weight or a typo for the
        phrase you really meant; either way the rule measures less than it
        seems to.
        """,
)

RL205 = _code(
    "RL205",
    WARNING,
    "rule not used in `total`",
    "rule `{name}` is not used in the total",
    """
        The spec has a `total` formula, and this rule appears neither in the
        formula nor in any `gate`. Its score is still computed and logged, but
        it does not affect the reward.

        Wrong:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = brief

        Fixed:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            total = brief
            gate safety < 1 then 0

        Why it matters: a rule left out of the formula usually is an
        oversight; if you only want to monitor a score, say so with a comment,
        and keep in mind that an embedding or classifier rule still costs its
        compute on every step.
        """,
)

RL206 = _code(
    "RL206",
    WARNING,
    "pattern matches the empty string",
    "the pattern matches the empty string",
    """
        The regular expression matches the empty string, so it is found in
        every completion, for example `\\d*` or `(yes)?`.

        Wrong:

            reward chat
            rule has_digits: regex r"\\d*"

        Fixed:

            reward chat
            rule has_digits: regex r"\\d+"

        Why it matters: in presence mode the rule scores `present` for every
        completion, a constant that gives GRPO no signal; in counting mode
        empty matches are counted too, which rewards nothing you meant.
        """,
)

RL207 = _code(
    "RL207",
    WARNING,
    "rule has weight 0",
    "rule `{name}` has weight 0",
    """
        A rule has weight 0 in a spec without a `total` formula (when every
        rule has weight 0, RL117 is reported instead). The rule's score is
        computed and logged under its name, but it adds nothing to the reward.
        A rule that a `gate` reads is not reported: it acts through the gate
        (`gate copied > 0.7 then 0` with `rule copied: ... { weight 0 }`).

        Wrong:

            reward chat
            rule brief: length ..200 words
            rule on_topic: relevance to last_user { weight 0 }

        Fixed (remove the rule, or give it a weight):

            reward chat
            rule brief: length ..200 words
            rule on_topic: relevance to last_user { weight 0.5 }

        Why it matters: weight 0 is a fine way to monitor a score, but it is
        also a common leftover; embedding and classifier rules cost compute on
        every step even when they do not count.
        """,
)

RL208 = _code(
    "RL208",
    WARNING,
    "`scope` has no effect on tokens",
    "`scope {scope}` has no effect on a length in tokens",
    """
        A `length` or `overlong` rule measures `tokens` and sets `scope` to
        `answer` or `thinking` (itself or through `defaults`). Token counts
        come from the generated token ids (`completion_ids`) and always cover
        the whole completion, thinking included, so the scope is ignored.

        Wrong:

            reward chat
            rule brief: length ..256 tokens { scope answer }

        Fixed (measure the answer in words, or drop `scope`):

            reward chat
            rule brief: length ..200 words { scope answer }

        Why it matters: for a reasoning model the thinking is often far longer
        than the answer; a "short answer" rule that actually counts the
        thinking would push the model to think less, not to answer briefly.
        """,
)

RL209 = _code(
    "RL209",
    WARNING,
    "gate always or never fires",
    "this gate {fires} fires",
    """
        A `gate RULE < x then v` compares the rule's score with `x`; this one
        can never hold, or always holds, given the rule's documented score
        range (for example a `banned` rule scores 0..1 by default, so
        `< 0` never holds and `<= 1` always does).

        Wrong:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            gate safety < 0 then 0

        Fixed:

            reward chat
            rule brief: length ..200 words
            rule safety: banned "dangerous"
            gate safety < 1 then 0

        Why it matters: a gate that never fires silently drops the safety
        condition it was written for; a gate that always fires makes the
        reward constant, and GRPO learns nothing from a constant reward.
        """,
)

RL210 = _code(
    "RL210",
    WARNING,
    "default applies to no rule",
    "default `{option}` applies to no rule",
    """
        An option set in `defaults` is accepted by none of the spec's rules,
        for example `match` in a spec that has no `phrases` or `banned` rule,
        so it has no effect.

        Wrong:

            reward chat
            defaults { match substring }
            rule brief: length ..200 words

        Fixed:

            reward chat
            rule brief: length ..200 words

        Why it matters: a default that looks active but is not makes the spec
        read differently from what it does; it is often left behind when a
        rule was removed or changed kind.
        """,
)

RL211 = _code(
    "RL211",
    WARNING,
    "think tags checked on the answer",
    "`<think>` tags are stripped from the answer this rule scores",
    """
        A `tags` rule lists `think` (or a `markers` rule lists a marker
        holding `<think>` or `</think>`), but scores the answer (`scope
        answer`, the default of `tags`). The answer is the completion with its
        `<think>...</think>` blocks removed, so the rule can never find them.

        Wrong:

            reward reasoning
            rule format: tags "think", "answer"

        Fixed:

            reward reasoning
            rule format: tags "think", "answer" { scope full }

        Why it matters: the rule would score every completion as missing its
        thinking, however well formatted, and push the policy away from the
        format you want.
        """,
)

RL212 = _code(
    "RL212",
    WARNING,
    "judge with a single choice",
    "a judge with a single choice always scores 1",
    """
        A `judge` rule lists one choice: the only verdict maps to 1, so the
        rule gives every completion the same score. List the verdicts worst
        to best.

        Wrong:

            reward chat
            rule helpful: judge "Is the reply helpful?" { choices "yes" }

        Fixed:

            reward chat
            rule helpful: judge "Is the reply helpful?" { choices "no", "yes" }

        Why it matters: a constant reward has zero advantage in every GRPO
        group: the rule costs judge calls and teaches nothing.
        """,
)

RL213 = _code(
    "RL213",
    WARNING,
    "judge template without the answer",
    "the judge template `{path}` has no answer placeholder: the judge never sees the completion",
    """
        A `judge` rule's `template` file never uses `{answer}` (nor does its
        criterion), so the judge grades the prompt alone and every completion
        of a prompt gets the same verdict. The check cannot show it with an
        inline example, as it needs a template file; the Fixed spec uses the
        built-in template, which shows the answer.

        Fixed:

            reward chat
            rule helpful: judge "Is the reply helpful?"

        Why it matters: completions of one prompt scoring the same have zero
        advantage in their GRPO group, so the rule teaches nothing.
        """,
)


RL214 = _code(
    "RL214",
    WARNING,
    "`scope` has no effect on tool calls",
    "`scope {scope}` has no effect with `extract tool_calls`",
    """
        A `json` rule reads TRL's parsed tool calls (`extract tool_calls`)
        and sets `scope` (itself or through `defaults`). Tool calls are read
        from the `tool_calls` of the completion's assistant messages, not
        from their text, so there is no thinking or answer to choose.

        Wrong:

            reward tools
            rule call: json { extract tool_calls  scope full }

        Fixed:

            reward tools
            rule call: json { extract tool_calls }

        Why it matters: the option suggests the rule reads text that it never
        reads; to check JSON written in the text, use `extract first` or
        `extract fenced` instead.
        """,
)


RL215 = _code(
    "RL215",
    WARNING,
    "misspelled JSON Schema keyword",
    "`{file}`: `{key}` at `{where}` is no JSON Schema keyword",
    """
        A `json` rule's schema file has, in one of its schemas, a key that is
        no keyword of its draft but is close to one (`requried`, `propertys`,
        `minLenght`). JSON Schema ignores keywords it does not know, so the
        check the key was meant to make is silently skipped. Property names
        (the keys under `properties`) are never taken for keywords.

        A schema file such as

            {"type": "object", "requried": ["city"]}

        accepts an object without `city`; `"required": ["city"]` is fixed.

        Why it matters: the policy is rewarded for output the schema was
        meant to reject, and nothing says so.
        """,
)


RL216 = _code(
    "RL216",
    WARNING,
    "text option has no effect on token ids",
    "`{option}` has no effect on token ids",
    """
        A `repetition` rule counts n-grams of the generated token ids (`split
        tokens`) and sets `case`, `unicode`, or `scope answer`/`thinking` in
        its own block. Token ids are read from `completion_ids` as generated:
        they are never normalised, and they cover the whole completion,
        thinking included, so these options change nothing. (Values set
        through `defaults` apply to every rule that accepts them and are not
        reported.)

        Wrong:

            reward chat
            rule varied: repetition { split tokens  case sensitive  scope answer }

        Fixed (token ids as generated):

            reward chat
            rule varied: repetition { split tokens }

        or, to count the answer's words:

            reward chat
            rule varied: repetition { case sensitive  scope answer }

        Why it matters: a rule meant to catch loops in the answer alone would
        also count the thinking, and penalise a model that reasons at length.
        """,
)


RL217 = _code(
    "RL217",
    WARNING,
    "exact expectation on a model score",
    "`expect {subject} = {value}` compares a model's score exactly",
    """
        An example expects an exact score (`=` without `within`) from a
        rule backed by a model (`relevance`, `classifier`, `judge`). Model
        scores differ in their last digits between machines, library
        versions and batch sizes, so the example may pass here and fail in CI.
        Give a tolerance, or a bound.

        Wrong:

            reward chat
            rule on_topic: relevance to last_user
            example {
                user "How do I reset my password?"
                completion "Open Settings, then Reset password."
                expect on_topic = 0.62
            }

        Fixed:

            reward chat
            rule on_topic: relevance to last_user
            example {
                user "How do I reset my password?"
                completion "Open Settings, then Reset password."
                expect on_topic = 0.62 within 0.05
            }

        Why it matters: a test that fails by chance is a test people stop
        reading.
        """,
)

RL218 = _code(
    "RL218",
    WARNING,
    "example without a column a rule reads",
    "example `{name}` has no column `{column}`, which rule `{rule}` reads",
    """
        A rule compares the completion with a dataset column (`equals column
        answer`, `similarity rouge1 to column summary`, ...) and an example
        does not give that column, so the rule does not apply to it (its
        score is `n/a`). Add the column, or say you expect `n/a`.

        Wrong:

            reward math
            rule correct: equals column answer
            example {
                user "What is 6 x 7?"
                completion "42"
            }

        Fixed:

            reward math
            rule correct: equals column answer
            example {
                user "What is 6 x 7?"
                completion "42"
                column answer "42"
                expect correct = 1
            }

        Why it matters: in training every row has the column; an example
        without it tests the rule on a case that never happens.
        """,
)

RL219 = _code(
    "RL219",
    WARNING,
    "column missing from the data",
    "rule `{rule}` reads column `{column}`, which the data does not have",
    """
        `rewardc check SPEC --data FILE` (and `grpo-train` when it starts)
        compares the columns the spec reads with the dataset's: the column
        of a `when` condition, a `column NAME` target, a judge's
        `{column.NAME}` placeholder. A column the data lacks is most often
        a misspelling; the help line suggests the closest column of the
        data, or lists them. Where a row lacks the column, a `when` on it
        does not hold and a rule comparing with it scores `n/a`.

        For data whose rows hold a `task` column:

            {"prompt": "What is 2 + 2?", "completion": "4", "task": "math", "solution": "4"}

        this spec gets the warning for `tsak`:

            reward tasks
            rule answer: math column solution { when tsak = "math" }

        Fixed:

            reward tasks
            rule answer: math column solution { when task = "math" }

        Why it matters: the rule would score `n/a` on every row, and the run
        would train without it while its log line stays empty.
        """,
    condition="`when {condition}` reads column `{column}`, which the data does not have",
)

RL220 = _code(
    "RL220",
    WARNING,
    "condition holds on no row of the data",
    "no row of the data has `{condition}` ({rows} read)",
    """
        `rewardc check SPEC --data FILE` (and `grpo-train` when it starts)
        evaluates each `when` condition on the rows of the data: this one
        holds on none of them, so its rules would never apply. The help line
        lists the values the column does hold (at most 8). Values compare as
        written: `"Math"` is not `"math"`, and a string never equals a
        number (`task = "1"` does not hold on the number 1; `task = 1` does,
        and also on the text "1").

        For data whose `task` column holds "math" and "chat":

            reward tasks
            rule answer: math column solution { when task = "maths" }

        Fixed:

            reward tasks
            rule answer: math column solution { when task = "math" }

        Why it matters: a per-task rule that never applies trains nothing,
        and its mean in the training logs is missing rather than wrong, which
        is easy to overlook.
        """,
)

RL221 = _code(
    "RL221",
    WARNING,
    "empty `when` group",
    "`when {condition}` holds no rules",
    """
        A `when CONDITION { ... }` group applies its condition to the rules
        written inside its braces; this one has none, so it does nothing.
        Move the rules meant for those rows inside it, or remove it.

        Wrong:

            reward tasks
            rule answer: math column solution
            when task = "math" {}

        Fixed:

            reward tasks
            when task = "math" {
                rule answer: math column solution
            }

        Why it matters: the rules meant for those rows most likely apply to
        every row instead.
        """,
)

RL222 = _code(
    "RL222",
    WARNING,
    "schedule never completes",
    "{what} changes until step {last}, past the run's last step ({max_steps} steps)",
    """
        `grpo-train` reports this at start-up: a weight schedule's last
        point lies beyond `max_steps`, so the run ends before the weight
        reaches its final value (a warm-up `0 -> 1 over 1000` in a run of 200
        steps scores its last step, step 199, with 0.199). The first step is
        step 0 (TRL's `global_step` when the batch is scored). `rewardc check`
        does not know the run's length and never reports it. Shorten the
        schedule, or train longer.

        Why it matters: a schedule is a plan for the whole run; one that is
        cut off trains on weights nobody chose.
        """,
)

RL223 = _code(
    "RL223",
    WARNING,
    "unused schedule",
    "schedule `{name}` is not used by the total",
    """
        A named schedule (`schedule NAME: ...`) is a weight for a term of the
        `total` formula, and no formula names it (or the spec has no
        formula). Its value is still logged as `schedule/NAME`, but it
        changes no reward. Multiply a term by it, or give a rule the schedule
        as its weight (`weight 0 -> 1 over 100`).

        Wrong:

            reward chat
            rule brief: length ..200 words
            schedule warmup: 0 -> 1 over 100

        Fixed:

            reward chat
            rule brief: length ..200 words { weight 0 -> 1 over 100 }

        Why it matters: an unused schedule looks like a plan for the reward
        and does nothing.
        """,
)

RL225 = _code(
    "RL225",
    WARNING,
    "a group rule may see part of a group",
    "group rules {rules} may score part of a prompt's group: {reason}",
    """
        grpo-train reports this at start-up, from the training configuration,
        when the spec has a group rule (`brevity`, `diversity`) and TRL's
        settings let a prompt's completions be scored apart: each process
        scores its own `per_device_train_batch_size x steps_per_generation`
        completions, and when that is not a multiple of `num_generations` a
        group can be split between two processes; each then scores the part
        it holds as a group of its own (docs/language.md §12.3). With
        `num_generations` 1 every group holds one completion and group rules
        score it neutrally (`brevity` 0, `diversity` 1). Make
        `per_device_train_batch_size x steps_per_generation` a multiple of
        `num_generations`.

        Why it matters: a split group compares a completion with fewer of its
        siblings, so its score depends on where TRL cut the batch.
        """,
)

RL226 = _code(
    "RL226",
    WARNING,
    "`correct` threshold always met",
    "`correct {rule} {comparison} {threshold}` always holds: `{rule}` scores lie in {low}..{high}",
    """
        A `brevity` rule's `correct RULE COMPARISON NUMBER` is met by every
        score RULE can give, so every completion where RULE applies counts as
        correct, as if `correct` were not written. Pick a threshold inside
        RULE's score range, or write `correct RULE` alone (`>=` the highest
        score RULE can give).

        Wrong:

            reward math
            rule accuracy: equals column answer
            rule short: brevity words { correct accuracy >= 0 }

        Fixed:

            reward math
            rule accuracy: equals column answer
            rule short: brevity words { correct accuracy >= 1 }

        Why it matters: wrong answers would be paid for being short, which
        is what `correct` is there to prevent.
        """,
)

RL228 = _code(
    "RL228",
    WARNING,
    "plugin package unused",
    "package `{package}` provides no rule kind this spec uses",
    """
        The `plugins` statement names an installed package, but no rule of
        the spec has one of the kinds it provides. Remove it, so that a
        machine running the spec is not asked to install what it does not
        need. The example plugin provides `readability`, which no rule here
        uses:

        Wrong:

            reward chat
            plugins "rewardlang-readability"
            rule brief: length ..200 words

        Fixed:

            reward chat
            rule brief: length ..200 words

        Why it matters: the `plugins` statement is the spec's list of what to
        install; an entry that is not needed makes every set-up heavier and
        hides which package really matters.
        """,
)

RL229 = _code(
    "RL229",
    WARNING,
    "plugin package not named",
    "kind `{kind}` comes from package `{package}`, which the spec's `plugins` does not name",
    """
        A rule uses a kind provided by an installed plugin package, but the
        spec does not name that package in a `plugins` statement. The spec
        works here; on a machine without the package it would only be told
        that the kind is unknown. Name the package.

        Wrong:

            reward chat
            rule plain: readability 6..10

        Fixed:

            reward chat
            plugins "rewardlang-readability"
            rule plain: readability 6..10

        Why it matters: a spec travels to other machines (a cluster, a
        colleague's laptop); naming its packages tells them what to install.
        """,
)

#: Every code, by its name: the module's `Code` objects (a test asserts each is bound to its own name).
CODES: dict[str, Code] = {value.code: value for value in list(globals().values()) if isinstance(value, Code)}


def explain(code: str) -> str | None:
    """The text `rewardc explain CODE` prints: a title line, a blank line, the explanation."""
    info = CODES.get(code.strip().upper())
    if info is None:
        return None
    return f"{info.severity.value}[{info.code}]: {info.title}\n\n{info.explanation}"


def markdown_table() -> str:
    """The table of codes in docs/language.md §9 (a test asserts the docs hold exactly this)."""
    rows = [f"| {info.code} | {info.severity.value} | {info.title} |" for _, info in sorted(CODES.items())]
    return "\n".join(["| Code | Severity | Title |", "|---|---|---|", *rows]) + "\n"
