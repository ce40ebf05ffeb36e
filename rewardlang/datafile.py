"""Data files for `rewardc score`: JSON Lines, a JSON array or Parquet, from any stream.

The format is detected from the content, then the extension (`open_data`'s
`data_format` overrides). The data is read once, front to back, so standard input,
`/dev/stdin`, a pipe (`<(zcat data.jsonl.gz)`) or a FIFO lose no row; JSON Lines are
streamed in batches from any of them. A file yields records, each with its row number
(1-based; for JSON Lines, the line number); a line that cannot be read is a
`jsonlines.BadLine` record, never an exception. Only a file that cannot be read at all
raises `DataError`.

The standard library and `rewardlang.jsonlines` only at the top: `rewardc` imports this
module to build its parser; pyarrow is imported for Parquet only.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from typing import IO, Any, BinaryIO

from rewardlang.jsonlines import BOM, JsonError, chunks, read_json, read_lines, split_lines

DATA_FORMATS = ("auto", "jsonl", "json", "parquet")
SNIFF_BYTES = 8192  # read first, kept in memory, to detect the format
DEFAULT_BATCH_SIZE = 64  # Parquet rows read at a time, and rows scored at a time

_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_PARQUET_SUFFIXES = (".parquet", ".pq")
# A lone JSON object is one row when it holds one of these; otherwise it is taken for a wrapper.
_ROW_KEYS = ("completion", "messages")


class DataError(Exception):
    """The data cannot be read at all (the message is meant for the user)."""


# Plain classes, not dataclasses: `rewardc check` imports this module to build its parser,
# and creating dataclasses costs milliseconds at import.
class DataSource:
    """A readable data file: its records, one at a time, with their row numbers."""

    def __init__(
        self,
        name: str,
        data_format: str,
        total: int | None,
        records: Callable[[], Iterator[tuple[int, Any]]],
        count: Callable[[], int] | None = None,
    ):
        self.name = name
        self.data_format = data_format  # "jsonl", "json" or "parquet"
        self.total = total  # number of records, when known cheaply
        self._records = records
        self._count = count  # counts records on demand (for a progress bar)
        self.file: IO[bytes] | None = None  # the file opened for this source (not standard input)

    def records(self) -> Iterator[tuple[int, Any]]:
        return self._records()

    def count(self) -> int | None:
        if self.total is None and self._count is not None:
            self.total = self._count()
        return self.total

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def open_data(path: str, data_format: str = "auto", batch_size: int = DEFAULT_BATCH_SIZE) -> DataSource:
    """Open a data file (or `-`, standard input); raises `DataError` if it cannot be read.

    The data is read once, front to back, from the one stream opened here: the format is
    sniffed from the first bytes kept in memory, never by reopening, so standard input, a
    pipe (`/dev/stdin`, `<(zcat ...)`) or a FIFO loses no row. JSON Lines are streamed;
    a JSON document is read whole, as is Parquet from a stream that cannot seek (the
    format needs random access).
    """
    name = "<stdin>" if path == "-" else str(path)
    if path == "-":
        stream = stdin_bytes()
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed by DataSource.close
        except OSError as exc:
            raise DataError(_unreadable(name, exc)) from None
    try:
        source = _open_stream(stream, name, data_format, batch_size)
    except BaseException:
        if path != "-":
            stream.close()
        raise
    if path != "-":
        source.file = stream
    return source


def stdin_bytes() -> BinaryIO:
    """Standard input as bytes (a test may have replaced it with a text stream)."""
    stream = sys.stdin
    return stream.buffer if hasattr(stream, "buffer") else io.BytesIO(stream.read().encode("utf-8"))


def _unreadable(name: str, exc: OSError) -> str:
    from rewardlang.frontend import unreadable  # the front end's wording for files that cannot be read

    return unreadable(name, exc, "a data file")


def _open_stream(stream: IO[bytes], name: str, data_format: str, batch_size: int) -> DataSource:
    try:
        head = stream.read(SNIFF_BYTES)
    except OSError as exc:
        raise DataError(_unreadable(name, exc)) from None
    fmt = data_format if data_format != "auto" else _detect_format(name, head)
    if fmt == "parquet":
        return _open_parquet(stream, head, name, batch_size)
    if len(head) < SNIFF_BYTES and not head.strip().removeprefix(BOM).strip():  # all of it was read
        raise DataError(f"{name}: empty file, no rows")
    if b"\0" in head:
        raise DataError(f"{name}: binary file, not JSON Lines, JSON or Parquet (found a NUL byte)")
    if fmt == "json":
        return _open_json(stream, head, name)
    return _open_jsonl(stream, head, name)


def _detect_format(name: str, head: bytes) -> str:
    """Parquet by its magic bytes; else a known extension; else the first character."""
    if head.startswith(b"PAR1"):
        return "parquet"
    lower = name.lower()
    if lower.endswith(_PARQUET_SUFFIXES):
        return "parquet"
    if lower.endswith(_JSONL_SUFFIXES):
        return "jsonl"
    if lower.endswith(".json"):
        return "json"  # JSON Lines in a .json file are recognised when parsing
    start = head.removeprefix(BOM).lstrip()[:1]
    return "json" if start == b"[" else "jsonl"


def _open_jsonl(stream: IO[bytes], head: bytes, name: str) -> DataSource:
    def records() -> Iterator[tuple[int, Any]]:
        try:
            yield from read_lines(chunks(stream, head))
        except OSError as exc:
            raise DataError(f"{name}: cannot read ({exc.strerror or exc})") from None

    def count() -> int:
        # Only for a file that can seek: a second pass from the start, then back to where reading is.
        position = stream.tell()
        stream.seek(0)
        try:
            return sum(1 for _, raw in split_lines(chunks(stream)) if raw is None or raw.strip())
        finally:
            stream.seek(position)

    return DataSource(name, "jsonl", None, records, count if _seekable(stream) else None)


def _open_json(stream: IO[bytes], head: bytes, name: str) -> DataSource:
    try:
        data = head + stream.read()
    except OSError as exc:
        raise DataError(f"{name}: cannot read ({exc.strerror or exc})") from None
    try:
        rows = read_json(data)
    except JsonError as exc:
        raise DataError(exc.where(name)) from None
    if len(rows) == 1 and isinstance(rows[0][1], dict) and data.removeprefix(BOM).lstrip().startswith(b"{"):
        document = rows[0][1]
        if not any(key in document for key in _ROW_KEYS):
            raise DataError(f"{name}: expected a list of objects (one per row), got an object with keys "
                            + ", ".join(f"`{key}`" for key in list(document)[:5]))

    def records() -> Iterator[tuple[int, Any]]:
        yield from rows

    return DataSource(name, "json", len(rows), records)


def _open_parquet(stream: IO[bytes], head: bytes, name: str, batch_size: int) -> DataSource:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise DataError(f"{name}: reading Parquet needs pyarrow (`pip install pyarrow`)") from None
    try:
        if _seekable(stream):
            stream.seek(0)
            source: Any = stream
        else:  # a pipe: Parquet's footer is at the end, so the whole stream is read into memory
            source = pa.BufferReader(head + stream.read())
        parquet = pq.ParquetFile(source)
        total = parquet.metadata.num_rows
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{name}: not a readable Parquet file ({first_line(exc)})") from None

    def records() -> Iterator[tuple[int, Any]]:
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=batch_size):
                for record in batch.to_pylist():
                    number += 1
                    yield number, record
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(f"{name}: cannot read row {number + 1} ({first_line(exc)})") from None

    return DataSource(name, "parquet", total, records)


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (OSError, ValueError):
        return False


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
