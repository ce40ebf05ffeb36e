"""Diagnostics as data: what went wrong, where, and how to fix it.

Every phase (parse, validate, check) produces `Diagnostic` values, made by the
code objects of `codes.py` (which hold each code's severity, title, message and
explanation); renderers in `render.py` turn them into text or JSON. This module
knows nothing of rendering.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from rewardlang.source import Span


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Label:
    """A secondary annotation: another place in the source that explains the diagnostic."""

    span: Span
    message: str


@dataclass(frozen=True, slots=True, eq=False)
class SourceFile:
    """Another file a diagnostic points into (a spec's examples file): its name and text."""

    name: str
    text: str


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
    file: SourceFile | None = None  # None: the spec the diagnostic was found in

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def with_file(self, file: SourceFile | None) -> Diagnostic:
        """This diagnostic, located in `file` (None: the spec)."""
        return dataclasses.replace(self, file=file)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """By position, errors before warnings at the same place; duplicates dropped.

    Diagnostics in other files (examples files) come after the spec's own, by file."""
    unique = dict.fromkeys(diagnostics)
    return sorted(
        unique,
        key=lambda d: (d.file is not None, d.file.name if d.file else "", d.span.start, d.span.end,
                       not d.is_error, d.code),
    )


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
