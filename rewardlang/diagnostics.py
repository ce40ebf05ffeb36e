"""Diagnostics as data: what went wrong, where, and how to fix it.

Every phase (parse, validate, check) produces `Diagnostic` values; renderers in
`render.py` turn them into text or JSON. Codes are stable and documented in
`codes.py` (`rewardc explain CODE`).
"""

from __future__ import annotations

import bisect
import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum


@dataclass(frozen=True, slots=True)
class Span:
    """A region of source text, with every line ending read as `\\n` (`normalize_newlines`).

    Offsets count characters of that text; lines and columns are 1-based; `end_*` is exclusive.
    """

    start: int
    end: int
    line: int
    column: int
    end_line: int
    end_column: int

    def to(self, other: Span) -> Span:
        """The span from the start of `self` to the end of `other`."""
        return Span(self.start, other.end, self.line, self.column, other.end_line, other.end_column)


NO_SPAN = Span(0, 0, 1, 1, 1, 1)


def normalize_newlines(text: str) -> str:
    """`\r\n` and a lone `\r` as `\n`: how every spec is read, so spans mean the same whatever the line endings."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


class SourceMap:
    """Turns character offsets into spans with 1-based lines and columns."""

    def __init__(self, text: str):
        self.text = text
        self._line_starts = [0]
        position = text.find("\n")
        while position != -1:
            self._line_starts.append(position + 1)
            position = text.find("\n", position + 1)

    def _line_column(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._line_starts, offset)
        return line, offset - self._line_starts[line - 1] + 1

    def span(self, start: int, end: int) -> Span:
        start = max(0, min(start, len(self.text)))
        end = max(start, min(end, len(self.text)))
        line, column = self._line_column(start)
        end_line, end_column = self._line_column(end)
        return Span(start, end, line, column, end_line, end_column)

    def point(self, offset: int) -> Span:
        offset = max(0, min(offset, len(self.text)))
        width = 1 if offset < len(self.text) and self.text[offset] != "\n" else 0
        return self.span(offset, offset + width)


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary annotation: another place in the source that explains the diagnostic."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    message: str
    span: Span
    severity: Severity = Severity.ERROR
    label: str = ""  # the text under the primary carets
    labels: tuple[Label, ...] = ()
    help: str = ""
    note: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


def error(code: str, message: str, span: Span, **kwargs: object) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.ERROR, **kwargs)  # type: ignore[arg-type]


def warning(code: str, message: str, span: Span, **kwargs: object) -> Diagnostic:
    return Diagnostic(code, message, span, Severity.WARNING, **kwargs)  # type: ignore[arg-type]


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """By position, errors before warnings at the same place; duplicates dropped."""
    unique = dict.fromkeys(diagnostics)
    return sorted(unique, key=lambda d: (d.span.start, d.span.end, not d.is_error, d.code))


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """The closest candidate to a misspelled `word`, if any is close enough."""
    candidates = tuple(candidates)
    # A file with thousands of the same typo asks the same question: remembered, for short words.
    return _cached_closest(word, candidates) if len(word) <= 100 else _closest(word, candidates)


def _closest(word: str, candidates: tuple[str, ...]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    if not matches:
        lowered = {c.lower(): c for c in candidates}
        matches = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
        matches = [lowered[m] for m in matches]
    return matches[0] if matches else None


_cached_closest = functools.lru_cache(maxsize=4096)(_closest)


def one_of(words: Sequence[str]) -> str:
    """`a`, `b` or `c` — for "expected one of" labels."""
    quoted = [f"`{w}`" for w in words]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def suggestion_help(word: str, candidates: Iterable[str]) -> str:
    best = did_you_mean(word, candidates)
    return f"did you mean `{best}`?" if best else ""


class SpecError(Exception):
    """A spec did not validate; carries every diagnostic found (errors and warnings)."""

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str = "", filename: str = "<spec>"):
        self.diagnostics = list(diagnostics)
        self.source = source
        self.filename = filename
        errors = [d for d in self.diagnostics if d.is_error]
        first = errors[0] if errors else (self.diagnostics[0] if self.diagnostics else None)
        summary = (
            f"{filename}:{first.span.line}:{first.span.column}: {first.severity.value}[{first.code}]: "
            f"{first.message}"
            if first
            else f"{filename}: invalid spec"
        )
        more = len(errors) - 1
        if more > 0:
            summary += f" (and {more} more error{'s' if more > 1 else ''})"
        super().__init__(summary)

    def render(self, style: str = "rich") -> str:
        from rewardlang.render import render

        return render(self.diagnostics, self.source, self.filename, style=style)


@dataclass
class DiagnosticSink:
    """Collects diagnostics across a phase; phases never raise on user mistakes."""

    diagnostics: list[Diagnostic] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        self.diagnostics.append(diagnostic)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diagnostics)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)
