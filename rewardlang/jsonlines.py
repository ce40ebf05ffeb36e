"""Reading JSON Lines and JSON data files: one reader for `rewardc score` and `grpo-train`.

JSON Lines are split on b"\\n" only (a trailing "\\r" is whitespace to JSON): U+2028,
U+2029 and U+0085 are valid raw characters inside JSON strings and never end a line
(`str.splitlines()` would split on them). A UTF-8 byte order mark before the first
line is ignored. Blank lines are skipped but counted, so a row's number is its line
number.

A line that cannot be read becomes a `BadLine` with its number and the reason,
never an exception: not valid UTF-8, invalid JSON, JSON nested too deeply, a whole
number with more digits than Python converts (`sys.get_int_max_str_digits()`,
4300 by default), or a line longer than `MAX_LINE_BYTES` (its bytes are dropped as
they are read, so one endless line never fills the memory).

A lone surrogate escape (`"\\ud800"`: half of a UTF-16 pair, not a character) cannot
be written as UTF-8 or stored by Arrow: it is read as U+FFFD, the replacement
character.

The standard library and `rewardlang.text` only: `rewardc` imports this module without torch or pyarrow.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any, NamedTuple

from rewardlang.text import replace_surrogates

BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 1 << 16
# A `\uD800`..`\uDFFF` escape in the raw JSON: only then can a parsed string hold a lone surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")


class BadLine(NamedTuple):
    """A line (or an element of a JSON array) that cannot be read, and why."""

    number: int
    reason: str


class JsonError(ValueError):
    """A JSON document cannot be read at all."""

    def __init__(self, reason: str, location: str = ""):
        super().__init__(reason)
        self.reason = reason
        self.location = location  # "line" or "line:column", or "" for the whole file

    def where(self, name: str) -> str:
        """The message for the file `name`: `name:line:column: reason`."""
        return f"{name}:{self.location}: {self.reason}" if self.location else f"{name}: {self.reason}"


# --------------------------------------------------------------- JSON Lines
def chunks(stream: IO[bytes], head: bytes = b"") -> Iterator[bytes]:
    """`head` (bytes already read from `stream`, for sniffing), then the rest of `stream` in chunks.

    The stream is read once, front to back: a pipe, a FIFO or standard input loses nothing.
    """
    if head:
        yield head
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def split_lines(parts: Iterable[bytes], max_line_bytes: int | None = None) -> Iterator[tuple[int, bytes | None]]:
    """(line number, line without its b"\\n") for every line; None for a line over `max_line_bytes`
    (default `MAX_LINE_BYTES`)."""
    max_line_bytes = MAX_LINE_BYTES if max_line_bytes is None else max_line_bytes
    number = 0
    pending: list[bytes] = []  # the pieces of the unfinished line (empty once it is too long)
    pending_size = 0
    too_long = False
    for part in parts:
        pieces = part.split(b"\n")
        for piece in pieces[:-1]:  # each ends a line
            number += 1
            if pending or too_long:
                too_long = too_long or pending_size + len(piece) > max_line_bytes
                line = None if too_long else b"".join([*pending, piece])
                pending, pending_size, too_long = [], 0, False
            else:
                line = piece if len(piece) <= max_line_bytes else None
            yield number, line
        rest = pieces[-1]  # the start of the next line
        if rest and not too_long:
            pending_size += len(rest)
            if pending_size > max_line_bytes:
                too_long, pending = True, []  # drop what was kept: memory stays bounded
            else:
                pending.append(rest)
    if pending or too_long:  # a last line without a final newline
        yield number + 1, None if too_long else b"".join(pending)


def read_lines(parts: Iterable[bytes], max_line_bytes: int | None = None) -> Iterator[tuple[int, Any]]:
    """(line number, value or `BadLine`) for every non-blank line of JSON Lines."""
    max_line_bytes = MAX_LINE_BYTES if max_line_bytes is None else max_line_bytes
    for number, raw in split_lines(parts, max_line_bytes):
        if raw is None:
            yield number, BadLine(number, f"line longer than {_size(max_line_bytes)}")
            continue
        if number == 1:
            raw = raw.removeprefix(BOM)
        if not raw.strip():
            continue
        yield number, parse_line(number, raw)


def parse_line(number: int, raw: bytes) -> Any:
    """The JSON value of one line, or a `BadLine` saying why there is none."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return BadLine(number, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadLine(number, f"invalid JSON ({exc.msg})")
    except RecursionError:
        return BadLine(number, "invalid JSON (nested too deeply)")
    except ValueError:  # the only other ValueError json raises: int() refusing a very long number
        return BadLine(number, _too_many_digits())
    if _SURROGATE_ESCAPE.search(raw):
        value = _replace_surrogates_in([value])[0]
    return value


# ----------------------------------------------------------- JSON documents
def read_json(data: bytes) -> list[tuple[int, Any]]:
    """The rows of a whole JSON file: (row number, value or `BadLine`).

    A JSON array gives one row per element (numbered from 1); one JSON value gives one
    row; text starting with `{` that is not one JSON value is JSON Lines (numbered by
    line; its bad lines are `BadLine`s). An element holding a number too long for Python
    is a `BadLine`, the others are read. Raises `JsonError` for any other invalid JSON.
    """
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise JsonError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", str(line)) from None
    too_long = object()  # stands for each number too long for int(), so that only its rows are lost

    def whole_number(digits: str) -> Any:
        return int(digits) if len(digits.lstrip("-")) <= _max_digits() else too_long

    marked = False
    try:
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            raise
        except ValueError:  # int() refused a very long number: read again, marking such numbers
            document, marked = json.loads(text, parse_int=whole_number), True
    except json.JSONDecodeError as exc:
        if text.lstrip().startswith("{"):
            return list(read_lines([data]))
        raise JsonError(f"invalid JSON ({exc.msg})", f"{exc.lineno}:{exc.colno}") from None
    except RecursionError:
        raise JsonError("invalid JSON (nested too deeply)") from None
    if _SURROGATE_ESCAPE.search(data):
        document = _replace_surrogates_in([document])[0]
    rows = document if isinstance(document, list) else [document]
    return [
        (number, BadLine(number, _too_many_digits()) if marked and _holds(value, too_long) else value)
        for number, value in enumerate(rows, 1)
    ]


# ------------------------------------------------------------------ helpers
def _max_digits() -> int:
    return sys.get_int_max_str_digits() or sys.maxsize


def _too_many_digits() -> str:
    return f"a whole number with more than {_max_digits()} digits (Python's limit for reading integers)"


def _holds(value: Any, marker: object) -> bool:
    """Whether `marker` is anywhere inside `value` (iterative: depth is whatever json accepted)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if item is marker:
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def json_type(value: Any) -> str:
    """The JSON type of a parsed value, in words ("a string", "an object", "null")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _replace_surrogates_in(value: Any) -> Any:
    """Replace lone surrogates in every string inside `value` (json's fresh lists and dicts, changed
    in place; iterative, as deep as json accepted); returns `value`."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            for i, element in enumerate(item):
                if isinstance(element, str):
                    item[i] = replace_surrogates(element)
                elif isinstance(element, list | dict):
                    stack.append(element)
        elif isinstance(item, dict):
            entries = list(item.items())
            item.clear()  # rebuilt in the same order, keys repaired too
            for key, element in entries:
                if isinstance(element, str):
                    element = replace_surrogates(element)
                elif isinstance(element, list | dict):
                    stack.append(element)
                item[replace_surrogates(key)] = element
    return value


def _size(count: int) -> str:
    return f"{count // (1024 * 1024)} MiB" if count >= 1024 * 1024 else f"{count} bytes"
