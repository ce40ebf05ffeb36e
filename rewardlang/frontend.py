"""The front end as one call: source text -> Spec + every diagnostic, sorted."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from rewardlang import ast
from rewardlang import syntax as syn
from rewardlang.check import CheckContext, check_spec
from rewardlang.diagnostics import Diagnostic, SpecError, sort_diagnostics
from rewardlang.parser import MAX_SOURCE_CHARS, parse_syntax, too_large
from rewardlang.source import SourceMap, normalize_newlines
from rewardlang.validate import build_spec


@dataclass(frozen=True)
class Analysis:
    spec: ast.Spec | None  # None when any error was found
    diagnostics: list[Diagnostic]
    syntax: syn.SpecSyntax

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if not d.is_error]


def analyze(text: str, base: str | os.PathLike[str] | None = None) -> Analysis:
    """Parse, validate and check `text`. Never raises on a bad spec.

    Relative paths in the spec (models, templates, schemas) resolve from `base`, the
    folder of the spec file (`spec_base(path)`); None means the working directory.
    """
    tree, diagnostics = parse_syntax(text)
    built = build_spec(tree, base)
    diagnostics = diagnostics + built.diagnostics
    context = CheckContext(
        spec=built.spec,
        spans=built.spans,
        broken_rule_names=tree.broken_rule_names | built.failed_rules,
        had_syntax_errors=any(d.is_error for d in diagnostics),
    )
    diagnostics = sort_diagnostics(diagnostics + check_spec(context))
    spec = None if any(d.is_error for d in diagnostics) else built.spec
    return Analysis(spec, diagnostics, tree)


class SourceError(OSError):
    """A spec file could not be read as text (missing, a directory, not UTF-8...)."""


class SourceTooLarge(SourceError):
    """More bytes than a spec can hold: reading stopped there. `rewardc` reports it as RL008."""

    def __init__(self, name: str, head: str):
        size = f"more than {MAX_SOURCE_BYTES:,} bytes"
        super().__init__(f"{name}: spec is too large ({size}, not read further; "
                         f"a spec holds at most {MAX_SOURCE_CHARS:,} characters)")
        self.head = head  # the first line read: the source the diagnostic is shown on
        self.diagnostic = too_large(size, SourceMap(head))


# A spec holds at most MAX_SOURCE_CHARS characters, so at most 4 bytes each in UTF-8:
# reading stops one byte past this, so /dev/zero or an endless pipe cannot fill memory.
MAX_SOURCE_BYTES = 4 * MAX_SOURCE_CHARS


def read_source(path: str | Path) -> str:
    path = Path(path)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise SourceError(unreadable(str(path), exc, "a spec file")) from None
    with stream:
        return read_source_stream(stream, str(path))


def read_source_stream(stream: BinaryIO, name: str = "<stdin>") -> str:
    """The spec text of an open binary stream (a file, standard input); reads at most the size limit."""
    try:
        data = stream.read(MAX_SOURCE_BYTES + 1)
    except OSError as exc:
        raise SourceError(unreadable(name, exc, "a spec")) from None
    return decode_source(data, name)


def unreadable(name: str, exc: OSError, expected: str) -> str:
    """Why a file could not be read, in the user's terms."""
    if isinstance(exc, FileNotFoundError):
        return f"{name}: no such file"
    if isinstance(exc, IsADirectoryError):
        return f"{name}: is a directory, not {expected}"
    if isinstance(exc, PermissionError):
        return f"{name}: permission denied"
    return f"{name}: cannot read ({exc.strerror or exc})"


def unwritable(name: str, exc: OSError) -> str:
    """Why a file could not be written, in the user's terms."""
    if isinstance(exc, PermissionError):
        reason = "permission denied"
    elif isinstance(exc, IsADirectoryError):
        reason = "is a directory"
    else:
        reason = exc.strerror or str(exc)
    return f"{name}: cannot write ({reason})"


def decode_source(data: bytes, name: str) -> str:
    if b"\0" in data[:8192]:
        raise SourceError(f"{name}: binary file, not a spec (found a NUL byte)")
    if len(data) > MAX_SOURCE_BYTES:
        head = data[:1000].decode("utf-8", "replace").split("\n", 1)[0]
        raise SourceTooLarge(name, head)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        where = f"byte 0x{data[exc.start]:02x} at offset {exc.start}"
        raise SourceError(f"{name}:{line}: not valid UTF-8 ({where})") from None
    return normalize_newlines(text.removeprefix("\ufeff"))


def spec_base(path: str | os.PathLike[str]) -> str:
    """The folder that the relative paths of spec file `path` resolve from: the file's own folder."""
    return os.path.dirname(os.path.abspath(path))


def parse(text: str, filename: str = "<spec>", base: str | os.PathLike[str] | None = None) -> ast.Spec:
    """The validated Spec of `text`, or `SpecError` carrying every diagnostic."""
    analysis = analyze(text, base)
    if analysis.spec is None:
        raise SpecError(analysis.diagnostics, text, filename)
    return analysis.spec


def parse_file(path: str | Path) -> ast.Spec:
    """`parse` of a file's text. Raises `SourceError` when the file cannot be read."""
    return parse(read_source(path), filename=str(path), base=spec_base(path))
