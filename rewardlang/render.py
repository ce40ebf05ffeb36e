"""Renderers: diagnostics -> rich (rustc/ruff style), short, or JSON text.

Rendering is pure: it returns a string, in time linear in the source and the
number of diagnostics. Colour is plain ANSI escape codes, added only when asked.
"""

from __future__ import annotations

import json
import os
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from rewardlang.diagnostics import Diagnostic, SpecError
from rewardlang.source import Span, normalize_newlines

STYLES = ("rich", "short", "json")
_WINDOW = 100  # characters of a long source line shown around a span
_TAB = "    "


def render(
    diagnostics: Sequence[Diagnostic], source: str, filename: str, style: str = "rich", color: bool = False
) -> str:
    """`diagnostics` of spec `filename` (text `source`); one in another file (`Diagnostic.file`) shows that file."""
    if style == "short":
        return "".join(render_short(d, filename) + "\n" for d in diagnostics)
    if style == "json":
        return json.dumps([to_json(d, filename) for d in diagnostics], indent=2, ensure_ascii=False) + "\n"
    # Each source is split once, whatever the number of diagnostics: rendering stays linear.
    split: dict[int, list[str]] = {}
    segments: list[Segment] = []
    for diagnostic in diagnostics:
        text, name = (diagnostic.file.text, diagnostic.file.name) if diagnostic.file else (source, filename)
        lines = split.get(id(text))
        if lines is None:
            lines = split[id(text)] = normalize_newlines(text).split("\n")
        segments += _rich_segments(diagnostic, lines, name)
    return _colored(segments) if color else "".join(text for text, _ in segments)


def render_error(error: SpecError, style: str = "rich", color: bool = False) -> str:
    """Every diagnostic a `SpecError` carries, on the source it was raised for."""
    return render(error.diagnostics, error.source, error.filename, style=style, color=color)


def render_short(diagnostic: Diagnostic, filename: str) -> str:
    span = diagnostic.span
    filename = diagnostic.file.name if diagnostic.file else filename
    return (
        f"{filename}:{span.line}:{span.column}: {diagnostic.severity.value}[{diagnostic.code}]: "
        f"{_compact(diagnostic.message)}"
    )


# Every quoted name, paired from the left (so the text between two quoted names is never taken for one).
_QUOTED = re.compile(r"`([^`]*)`")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _compact(text: str) -> str:
    """Terminal-safe text: control characters escaped, absurdly long quoted names shortened."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    return _QUOTED.sub(lambda m: f"`{m.group(1)[:39]}…`" if len(m.group(1)) > 40 else m.group(0), text)


def to_json(diagnostic: Diagnostic, filename: str) -> dict[str, Any]:
    return {
        "file": diagnostic.file.name if diagnostic.file else filename,
        "severity": diagnostic.severity.value,
        "code": diagnostic.code,
        "message": diagnostic.message,
        "span": _span_json(diagnostic.span),
        "label": diagnostic.label,
        "labels": [{"span": _span_json(label.span), "message": label.message} for label in diagnostic.labels],
        "help": diagnostic.help or None,
        "note": diagnostic.note or None,
    }


def _span_json(span: Span) -> dict[str, int]:
    return {
        "start": span.start,
        "end": span.end,
        "line": span.line,
        "column": span.column,
        "end_line": span.end_line,
        "end_column": span.end_column,
    }


# ------------------------------------------------------------------ rich
Segment = tuple[str, str]  # (text, style name)


def render_rich(diagnostic: Diagnostic, source: str, filename: str, color: bool = False) -> str:
    """One diagnostic in rich style, without a final newline."""
    return render([diagnostic], source, filename, color=color).removesuffix("\n")


def _colored(segments: list[Segment]) -> str:
    """ANSI colours (SGR codes) around each styled piece; each line is reset before its newline."""
    out: list[str] = []
    for chunk, style in segments:
        code = _SGR.get(style)
        if code is None:
            out.append(chunk)
            continue
        out.append("\n".join(f"\x1b[{code}m{piece}\x1b[0m" if piece else "" for piece in chunk.split("\n")))
    return "".join(out)


_SGR = {  # bold plus a standard colour
    "error": "1;31",
    "warning": "1;33",
    "title": "1",
    "gutter": "1;34",
    "secondary": "1;34",
    "help": "1;36",
}


def _rich_segments(diagnostic: Diagnostic, lines: list[str], filename: str) -> list[Segment]:
    """The segments of one diagnostic, ending with a newline; `lines` are the source's lines."""
    severity = diagnostic.severity.value
    annotations = [(diagnostic.span, _compact(diagnostic.label), True)] + [
        (label.span, _compact(label.message), False) for label in diagnostic.labels
    ]
    annotations.sort(key=lambda a: (a[0].line, a[0].column))
    width = len(str(max(a[0].line for a in annotations)))
    pad = " " * width
    out: list[Segment] = [
        (f"{severity}[{diagnostic.code}]", severity),
        (f": {_compact(diagnostic.message)}\n", "title"),
        (f"{pad}--> ", "gutter"),
        (f"{filename}:{diagnostic.span.line}:{diagnostic.span.column}\n", ""),
        (f"{pad} |\n", "gutter"),
    ]
    previous_line = None
    for span, message, primary in annotations:
        if span.line > len(lines):
            continue
        if previous_line is not None and span.line > previous_line + 1:
            out.append((f"{pad} ...\n" if span.line > previous_line + 2 else f"{pad} |\n", "gutter"))
        text, start, length = _visible(lines[span.line - 1], span)
        if span.line != previous_line:
            out += [(f"{span.line:>{width}} | ", "gutter"), (text.rstrip() + "\n", "")]
        marker = "^" if primary else "-"
        style = severity if primary else "secondary"
        out += [(f"{pad} | ", "gutter"), (" " * start, ""), (marker * max(1, length), style)]
        out.append(((" " + message if message else "") + "\n", style))
        previous_line = span.line
    out.append((f"{pad} |\n", "gutter"))
    for word, text in (("help", diagnostic.help), ("note", diagnostic.note)):
        if text:
            out += [(f"{pad} = ", "gutter"), (f"{word}:", "help"), (f" {_compact(text)}\n", "")]
    return out


def _visible(line: str, span: Span) -> tuple[str, int, int]:
    """The shown part of a source line, plus the display column and width of the span in it."""
    start = span.column - 1
    end = span.end_column - 1 if span.end_line == span.line else len(line)
    end = max(start + 1, end)
    prefix = ""
    if len(line) > 2 * _WINDOW:  # one enormous line: show a window around the span
        window_start = max(0, start - _WINDOW // 2)
        prefix = "…" if window_start else ""
        suffix = "…" if window_start + _WINDOW < len(line) else ""
        line = prefix + line[window_start : window_start + _WINDOW] + suffix
        start, end = start - window_start + len(prefix), min(end - window_start + len(prefix), len(line))
    shown = _expand(line)
    column = _width(_expand(line[:start]))
    length = _width(_expand(line[start:end])) if end > start else 1
    return shown, column, max(1, length)


def _expand(text: str) -> str:
    # Control characters would garble the terminal; show them as U+FFFD.
    return "".join(_TAB if c == "\t" else ("\ufffd" if unicodedata.category(c) == "Cc" else c) for c in text)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 0 if unicodedata.combining(c) else 1 for c in text)


def use_color(choice: str, stream: Any) -> bool:
    """`--color auto|always|never`: auto means a terminal, unless NO_COLOR is set or TERM is dumb."""
    if choice != "auto":
        return choice == "always"
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def summary(errors: int, warnings: int) -> str:
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return "found " + " and ".join(parts) if parts else ""
