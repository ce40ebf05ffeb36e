"""`rewardc score SPEC --data FILE`: score a dataset of completions with a spec.

Tip 5 of the GRPO guide is "iterate on rewards": before spending GPU hours, run
the spec over completions you already have and look at what each rule gives.

    rewardc score specs/chat.reward --data samples.jsonl
    rewardc score specs/chat.reward --data samples.parquet --format jsonl --explain

Data: JSON Lines, a JSON list of objects, or Parquet (detected from the content,
then the extension; `--data-format` overrides; `--data -` reads standard input).
The data is read once, front to back, so standard input, `/dev/stdin`, a pipe
(`<(zcat data.jsonl.gz)`) or a FIFO lose no row; JSON Lines are streamed in
batches from any of them (see `open_data`).
Each row holds either `prompt` + `completion` (strings or message lists) or
`messages` (a conversation: the last assistant turn is the completion, the
messages before it the prompt). Other fields are dataset columns (`column NAME`
targets); `completion_ids` (a list of token ids) feeds `tokens` lengths.

Rows that cannot be scored (no completion, wrong types, a line that is not
valid UTF-8 or JSON, a number too long for Python) are skipped and listed with their row numbers; row numbers are 1-based
(for JSON Lines, the line number). Exit codes: 0 scored; 1 the spec has errors
(printed like `rewardc check`); 2 usage, unreadable spec or data, or no usable
rows.

This module is imported by `rewardc` to build its parser, so it imports only
the standard library and light rewardlang modules (`jsonlines`, `text`) at the top: rich, pyarrow and whatever the spec's rules
need are imported when `score` runs.
"""

from __future__ import annotations

import argparse
import io
import json
import logging
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, NamedTuple, Self

from rewardlang.frontend import unreadable
from rewardlang.jsonlines import BOM, BadLine, JsonError, chunks, read_json, read_lines, split_lines
from rewardlang.jsonlines import json_type as _type_name
from rewardlang.render import use_color
from rewardlang.text import ignorable_characters, non_ascii, replace_surrogates

EXIT_OK, EXIT_SPEC, EXIT_USAGE = 0, 1, 2
OUTPUT_FORMATS = ("table", "json", "jsonl")
DATA_FORMATS = ("auto", "jsonl", "json", "parquet")
DEFAULT_BATCH_SIZE = 64
SNIFF_BYTES = 8192  # read first, kept in memory, to detect the format
PREVIEW_CHARS = 40
SKIPPED_SHOWN = 20  # skipped rows listed on stderr; the JSON document lists them all

# Fields of a row that are not dataset columns.
_ROW_FIELDS = frozenset({"prompt", "completion", "messages", "completion_ids"})
# Column names that cannot be passed to `CompiledSpec.score(**columns)` (they are its parameters).
_CLASHING_COLUMNS = frozenset({"self", "completions", "prompts", "explain"})
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonlines")
_PARQUET_SUFFIXES = (".parquet", ".pq")


class DataError(Exception):
    """The data file cannot be read at all (exit 2)."""


# ------------------------------------------------------------------ parser
def add_score_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `score` command to `rewardc`'s subparsers; returns the new parser."""
    from rewardlang.cli import positive_int

    score = subparsers.add_parser(
        "score",
        help="score a dataset of completions with a spec (rule by rule, and the total)",
        description="Score every completion of a dataset (JSONL, JSON or Parquet) with a spec: "
        "each rule's score and the combined total, then per-rule statistics.",
    )
    score.add_argument("spec", metavar="SPEC", help="the .reward spec")
    score.add_argument(
        "--data", required=True, metavar="FILE",
        help="JSONL, JSON (a list of objects) or Parquet; `-` reads standard input",
    )
    score.add_argument("--format", choices=OUTPUT_FORMATS, default="table", help="output (default: table)")
    score.add_argument("--explain", action="store_true", help="add each rule's reason for its score")
    score.add_argument("--limit", type=positive_int, metavar="N", help="score only the first N usable rows")
    score.add_argument(
        "--data-format", choices=DATA_FORMATS, default="auto",
        help="format of the data (default: detected from its content and extension)",
    )
    score.add_argument(
        "--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE, metavar="N",
        help=f"rows scored per batch (default: {DEFAULT_BATCH_SIZE})",
    )
    score.add_argument(
        "--progress", choices=("auto", "always", "never"), default="auto",
        help="progress bar on stderr (auto: on a terminal, for more than one batch)",
    )
    score.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    return score  # type: ignore[no-any-return]


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m rewardlang.score_cli SPEC --data FILE ...`: the `score` command on its own."""
    from rewardlang.cli import _Parser, _UsageError

    parser = _Parser(prog="rewardc")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    add_score_parser(commands)
    try:
        args = parser.parse_args(["score", *(argv if argv is not None else sys.argv[1:])])
    except _UsageError as exc:
        print(f"rewardc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        return run_score(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK


# --------------------------------------------------------------------- run
def run_score(args: argparse.Namespace) -> int:
    """Run `rewardc score` with parsed arguments; returns the exit status."""
    from rewardlang.frontend import SourceError, analyze, read_source
    from rewardlang.render import render, summary
    from rewardlang.rules.models import ModelLoadError

    color = use_color(getattr(args, "color", "auto"), sys.stderr)
    if args.spec == "-" and args.data == "-":
        print("rewardc: error: the spec and the data cannot both come from standard input", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.spec == "-":
            from rewardlang.frontend import read_source_stream

            text = read_source_stream(_stdin_bytes(), "<stdin>")  # stops at the spec size limit
        else:
            text = read_source(args.spec)
    except SourceError as exc:
        print(f"rewardc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    spec_name = "<stdin>" if args.spec == "-" else str(args.spec)

    analysis = analyze(text)
    if analysis.diagnostics:
        sys.stderr.write(render(analysis.diagnostics, text, spec_name, color=color))
        print(summary(len(analysis.errors), len(analysis.warnings)), file=sys.stderr)
    if analysis.spec is None:
        return EXIT_SPEC

    from rewardlang.compiler import CompiledSpec

    try:
        compiled = CompiledSpec(analysis.spec)
    except ImportError as exc:
        print(f"rewardc: error: {spec_name}: cannot compile the spec: {exc}", file=sys.stderr)
        return EXIT_USAGE

    try:
        source = open_data(args.data, args.data_format, args.batch_size)
    except DataError as exc:
        print(f"rewardc: error: {exc}", file=sys.stderr)
        return EXIT_USAGE

    with _RuleLogCapture() as log_capture:
        try:
            result = _score_all(compiled, source, args)
        except DataError as exc:
            print(f"rewardc: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except ModelLoadError as exc:  # a rule's model is missing or unusable: a setup error
            print(f"rewardc: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        finally:
            source.close()
    log_capture.report()

    _report_skipped(result, source.name)
    if not result.scored:
        why = f"{source.name}: no rows" if not result.rows_read else f"{source.name}: no usable rows"
        if result.skipped:
            why += f" ({len(result.skipped)} skipped)"
        print(f"rewardc: error: {why}", file=sys.stderr)
        return EXIT_USAGE

    # Standard output is strict UTF-8: a file name holding undecodable bytes shows them as U+FFFD.
    shown_name = replace_surrogates(source.name)
    if args.format == "json":
        _write_json(result, compiled, shown_name, args.explain)
    elif args.format == "table":
        _write_tables(result, compiled, shown_name, args.explain, args.color)
    return EXIT_OK


# -------------------------------------------------------------------- data
# Plain classes and named tuples, not dataclasses: `rewardc check` imports this module to
# build its parser, and creating dataclasses costs milliseconds at import.
class Row(NamedTuple):
    """One usable row: what `CompiledSpec.score` takes for one completion."""

    number: int
    prompt: Any
    completion: Any
    completion_ids: Any
    columns: dict[str, Any]


# A row that cannot be scored, and why (the JSON-lines reader's type: its bad lines are skipped rows).
Skipped = BadLine


class DataSource:
    """A readable data file: its records, one at a time, with their row numbers."""

    def __init__(
        self,
        name: str,
        format: str,
        total: int | None,
        records: Callable[[], Iterator[tuple[int, Any]]],
        count: Callable[[], int] | None = None,
    ):
        self.name = name
        self.format = format
        self.total = total  # number of records, when known cheaply
        self._records = records
        self._count = count  # counts records on demand (for the progress bar)
        self.file: IO[bytes] | None = None  # the file opened for this source (not standard input)

    def records(self) -> Iterator[tuple[int, Any]]:
        return self._records()  # type: ignore[no-any-return]

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
        stream = _stdin_bytes()
    else:
        try:
            stream = open(path, "rb")  # noqa: SIM115 - closed by DataSource.close
        except OSError as exc:
            raise DataError(unreadable(name, exc, "a data file")) from None
    try:
        source = _open_stream(stream, name, data_format, batch_size)
    except BaseException:
        if path != "-":
            stream.close()
        raise
    if path != "-":
        source.file = stream
    return source


def _stdin_bytes() -> IO[bytes]:
    stream = sys.stdin
    return stream.buffer if hasattr(stream, "buffer") else io.BytesIO(stream.read().encode("utf-8"))


def _open_stream(stream: IO[bytes], name: str, data_format: str, batch_size: int) -> DataSource:
    try:
        head = stream.read(SNIFF_BYTES)
    except OSError as exc:
        raise DataError(unreadable(name, exc, "a data file")) from None
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
        if "completion" not in document and "messages" not in document:
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
        raise DataError(f"{name}: not a readable Parquet file ({_first_line(exc)})") from None

    def records() -> Iterator[tuple[int, Any]]:
        number = 0
        try:
            for batch in parquet.iter_batches(batch_size=batch_size):
                for record in batch.to_pylist():
                    number += 1
                    yield number, record
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise DataError(f"{name}: cannot read row {number + 1} ({_first_line(exc)})") from None

    return DataSource(name, "parquet", total, records)


def _seekable(stream: IO[bytes]) -> bool:
    try:
        return stream.seekable()
    except (OSError, ValueError):
        return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# ------------------------------------------------------------------- rows
def to_row(number: int, record: Any) -> Row | Skipped:
    """A record as a usable row, or why it cannot be scored."""
    if isinstance(record, Skipped):
        return record
    if not isinstance(record, dict):
        return Skipped(number, f"not an object ({_type_name(record)})")
    if record.get("completion") is not None:
        completion = record["completion"]
        if isinstance(completion, dict):
            completion = [completion]
        problem = _completion_problem(completion)
        if problem:
            return Skipped(number, problem)
        prompt = record.get("prompt")
        problem = _prompt_problem(prompt)
        if problem:
            return Skipped(number, problem)
    elif record.get("messages") is not None:
        split = _split_conversation(record["messages"])
        if isinstance(split, str):
            return Skipped(number, split)
        prompt, completion = split
    elif "completion" in record:
        return Skipped(number, "`completion` is null")
    else:
        return Skipped(number, "no `completion` or `messages`")
    completion_ids = record.get("completion_ids")
    if completion_ids is not None and not (
        isinstance(completion_ids, list) and all(isinstance(i, int) and not isinstance(i, bool) for i in completion_ids)
    ):
        return Skipped(number, "`completion_ids` is not a list of whole numbers")
    columns = {key: value for key, value in record.items() if key not in _ROW_FIELDS and isinstance(key, str)}
    return Row(number, prompt, completion, completion_ids, columns)


def _message_problem(message: Any, where: str) -> str | None:
    if not isinstance(message, dict):
        return f"{where} holds {_type_name(message)}, not a message object"
    if not isinstance(message.get("role"), str):
        return f"{where} holds a message without a string `role`"
    content = message.get("content")
    if content is not None and not isinstance(content, str | list):
        return f"{where} holds a message whose `content` is {_type_name(content)}"
    return None


def _completion_problem(completion: Any) -> str | None:
    if isinstance(completion, str):
        return None
    if not isinstance(completion, list):
        return f"`completion` is {_type_name(completion)}, not a string or a list of messages"
    for message in completion:
        problem = _message_problem(message, "`completion`")
        if problem:
            return problem
    if not any(message["role"] == "assistant" for message in completion):
        return "`completion` has no assistant message"
    return None


def _prompt_problem(prompt: Any) -> str | None:
    if prompt is None or isinstance(prompt, str):
        return None
    if not isinstance(prompt, list):
        return f"`prompt` is {_type_name(prompt)}, not a string or a list of messages"
    for message in prompt:
        problem = _message_problem(message, "`prompt`")
        if problem:
            return problem
    return None


def _split_conversation(messages: Any) -> tuple[list[Any] | None, list[Any]] | str:
    """(prompt, completion) of a conversation: the last assistant turn and what came before it.

    A turn is the run of assistant and tool messages that ends with the last assistant
    message (an assistant that calls a tool, the tool's result, the final answer).
    """
    if not isinstance(messages, list):
        return f"`messages` is {_type_name(messages)}, not a list of messages"
    for message in messages:
        problem = _message_problem(message, "`messages`")
        if problem:
            return problem
    last = next((i for i in range(len(messages) - 1, -1, -1) if messages[i]["role"] == "assistant"), None)
    if last is None:
        return "`messages` has no assistant message"
    start = last
    while start > 0 and messages[start - 1]["role"] in ("assistant", "tool"):
        start -= 1
    return (messages[:start] or None), messages[start : last + 1]


# ----------------------------------------------------------------- scoring
class Stats:
    """Mean, min, max and the number of `None` scores of one rule (or the total)."""

    def __init__(self) -> None:
        self.count = 0
        self.none = 0
        self.total = 0.0
        self.low = math.inf
        self.high = -math.inf

    def add(self, value: float | None) -> None:
        if value is None:
            self.none += 1
            return
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)

    def as_dict(self) -> dict[str, float | int | None]:
        if not self.count:
            return {"mean": None, "min": None, "max": None, "none": self.none}
        return {"mean": self.total / self.count, "min": self.low, "max": self.high, "none": self.none}


class ScoredRow(NamedTuple):
    number: int
    preview: str
    scores: dict[str, float | None]
    total: float
    explanations: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        item: dict[str, Any] = {"row": self.number, "scores": self.scores, "total": self.total}
        if self.explanations is not None:
            item["explanations"] = self.explanations
        return item


class Result:
    """Everything one run found: scored rows (unless streamed), skipped rows, statistics."""

    def __init__(self, rules: Sequence[str]):
        self.rows: list[ScoredRow] = []
        self.skipped: list[Skipped] = []
        self.rows_read = 0
        self.scored = 0
        self.stats = {name: Stats() for name in rules}
        self.total_stats = Stats()
        self.dropped_columns: set[str] = set()


def _score_all(compiled: Any, source: DataSource, args: argparse.Namespace) -> Result:
    """Read, score in batches, stream JSONL rows as they come; keep rows for table/JSON output."""
    result = Result([rule.name for rule in compiled.spec.rules])
    keep_rows = args.format != "jsonl"
    batch: list[Row] = []
    with _progress(source, args) as advance:
        for number, record in source.records():
            result.rows_read += 1
            row = to_row(number, record)
            if isinstance(row, Skipped):
                result.skipped.append(row)
                advance(1)
                continue
            batch.append(row)
            if args.limit is not None and result.scored + len(batch) >= args.limit:
                break
            if len(batch) >= args.batch_size:
                _score_batch(compiled, batch, args, result, keep_rows)
                advance(len(batch))
                batch = []
        if batch:
            _score_batch(compiled, batch, args, result, keep_rows)
            advance(len(batch))
    return result


def _score_batch(compiled: Any, batch: list[Row], args: argparse.Namespace, result: Result, keep: bool) -> None:
    from rewardlang.runtime import completion_text

    names = sorted({name for row in batch for name in row.columns})
    columns: dict[str, list[Any]] = {}
    for name in names:
        if name in _CLASHING_COLUMNS:
            result.dropped_columns.add(name)
            continue
        columns[name] = [row.columns.get(name) for row in batch]
    ids = [row.completion_ids for row in batch]
    scores = compiled.score(
        [row.completion for row in batch],
        prompts=[row.prompt for row in batch],
        completion_ids=ids if any(i is not None for i in ids) else None,
        explain=args.explain,
        **columns,
    )
    for i, row in enumerate(batch):
        rule_scores = {name: values[i] for name, values in scores.rules.items()}
        explanations = (
            {name: replace_surrogates(reasons[i]) for name, reasons in scores.explanations.items()}
            if args.explain and scores.explanations is not None
            else None
        )
        preview = _preview(completion_text(row.completion))
        scored = ScoredRow(row.number, preview, rule_scores, scores.total[i], explanations)
        for name, value in rule_scores.items():
            result.stats.setdefault(name, Stats()).add(value)
        result.total_stats.add(scored.total)
        result.scored += 1
        if keep:
            result.rows.append(scored)
        else:
            sys.stdout.write(json.dumps(scored.as_dict(), ensure_ascii=False) + "\n")
    if not keep:
        sys.stdout.flush()


def _preview(text: str) -> str:
    # A lone surrogate (from the Python API; the reader already replaces them) cannot be printed.
    flat = " ".join(replace_surrogates(text).split())
    # Invisible characters are shown as escapes: they are what a policy hides words with,
    # and the matching rules remove them (docs/language.md §6.5), so the reader should see them.
    if not flat.isascii() and not ignorable_characters().isdisjoint(non_ascii(flat)):
        flat = "".join(f"\\u{ord(c):04x}" if c in ignorable_characters() else c for c in flat)
    return flat if len(flat) <= PREVIEW_CHARS else flat[: PREVIEW_CHARS - 1] + "…"


class _progress:
    """A rich progress bar on stderr, or nothing (not a terminal, one batch, `--progress never`)."""

    def __init__(self, source: DataSource, args: argparse.Namespace):
        self.bar: Any = None
        choice = getattr(args, "progress", "auto")
        if choice == "never" or (choice == "auto" and not _isatty(sys.stderr)):
            return
        total = source.count()
        if total is not None and args.limit is not None:
            total = min(total, args.limit)
        if choice == "auto" and total is not None and total <= args.batch_size:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.bar = Progress(
            TextColumn("scoring"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
            console=Console(file=sys.stderr, force_terminal=choice == "always" or None),
            transient=True,
            redirect_stdout=False,  # JSONL rows stream to stdout untouched (never wrapped, never on stderr)
            redirect_stderr=False,
        )
        self.task = self.bar.add_task("scoring", total=total)

    def __enter__(self) -> Any:
        if self.bar is None:
            return lambda n: None
        self.bar.start()
        return lambda n: self.bar.advance(self.task, n)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.stop()


def _isatty(stream: Any) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


class _RuleLogCapture(logging.Handler):
    """While scoring, rule failures logged by the compiler become one line each, without tracebacks."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: dict[str, int] = {}
        self.logger = logging.getLogger("rewardlang")

    def __enter__(self) -> Self:
        self._propagate = self.logger.propagate
        self.logger.addHandler(self)
        self.logger.propagate = False
        return self

    def __exit__(self, *exc: object) -> None:
        self.logger.removeHandler(self)
        self.logger.propagate = self._propagate

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001
            message = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            message += f" ({type(error).__name__}: {_first_line(error)})"
        # One line per kind of message and rule (not per completion index).
        key = f"{record.msg}|{record.args[0] if isinstance(record.args, tuple) and record.args else ''}"
        if key not in self.counts:
            print(f"rewardc: warning: {message}", file=sys.stderr)
        self.counts[key] = self.counts.get(key, 0) + 1

    def report(self) -> None:
        repeated = sum(count - 1 for count in self.counts.values())
        if repeated:
            print(f"rewardc: warning: {repeated} more rule warning(s) like those above", file=sys.stderr)


# ------------------------------------------------------------------ output
def _report_skipped(result: Result, name: str) -> None:
    if result.dropped_columns:
        names = ", ".join(f"`{c}`" for c in sorted(result.dropped_columns))
        print(f"rewardc: warning: column(s) {names} not passed to rules (the name is reserved)", file=sys.stderr)
    if not result.skipped:
        return
    count = len(result.skipped)
    print(f"rewardc: skipped {count} of {result.rows_read} row{'s' if result.rows_read != 1 else ''} in {name}:",
          file=sys.stderr)
    for skipped in result.skipped[:SKIPPED_SHOWN]:
        print(f"  row {skipped.number}: {skipped.reason}", file=sys.stderr)
    if count > SKIPPED_SHOWN:
        print(f"  ... and {count - SKIPPED_SHOWN} more", file=sys.stderr)


def _summary(result: Result) -> dict[str, Any]:
    return {
        "rows": result.rows_read,
        "scored": result.scored,
        "skipped": len(result.skipped),
        "skipped_rows": [{"row": s.number, "reason": s.reason} for s in result.skipped],
        "rules": {name: stats.as_dict() for name, stats in result.stats.items()},
        "total": result.total_stats.as_dict(),
    }


def _write_json(result: Result, compiled: Any, name: str, explain: bool) -> None:
    document = {
        "spec": compiled.spec.name,
        "data": name,
        "rules": [rule.name for rule in compiled.spec.rules],
        "rows": [row.as_dict() for row in result.rows],
        "summary": _summary(result),
    }
    sys.stdout.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def _write_tables(result: Result, compiled: Any, name: str, explain: bool, color: str) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    terminal = _isatty(sys.stdout)
    colored = use_color(color, sys.stdout)
    console = Console(
        file=sys.stdout,
        width=None if terminal else int(os.environ.get("COLUMNS") or 0) or 200,
        color_system="auto" if colored else None,
        force_terminal=True if color == "always" else None,
        highlight=False,
        soft_wrap=False,
    )
    rules = [rule.name for rule in compiled.spec.rules]
    table = Table(title=f"{compiled.spec.name} · {name}", box=box.SIMPLE_HEAD, show_lines=explain)
    table.add_column("row", justify="right", no_wrap=True)
    table.add_column("completion", no_wrap=not explain, overflow="fold", max_width=PREVIEW_CHARS)
    for rule in rules:
        table.add_column(rule, justify="left" if explain else "right", overflow="fold")
    table.add_column("total", justify="right", style="bold", no_wrap=True)
    for row in result.rows:
        cells: list[Any] = [str(row.number), row.preview]
        for rule in rules:
            value = row.scores.get(rule)
            cell = Text(_number(value), style="dim" if value is None else "")
            reason = (row.explanations or {}).get(rule) if explain else None
            if reason:
                cell.append("\n" + reason, style="italic dim")
            cells.append(cell)
        cells.append(_number(row.total))
        table.add_row(*cells)
    console.print(table)

    skipped = f", {len(result.skipped)} skipped" if result.skipped else ""
    stats = Table(title=f"summary: {result.scored} scored{skipped}", box=box.SIMPLE_HEAD)
    for column in ("rule", "mean", "min", "max", "n/a"):
        stats.add_column(column, justify="left" if column == "rule" else "right", no_wrap=True)
    for rule in rules:
        item = result.stats[rule].as_dict()
        stats.add_row(rule, _number(item["mean"]), _number(item["min"]), _number(item["max"]), str(item["none"]))
    item = result.total_stats.as_dict()
    stats.add_row(Text("total", style="bold"), _number(item["mean"]), _number(item["min"]), _number(item["max"]),
                  str(item["none"]))
    console.print(stats)


if __name__ == "__main__":
    sys.exit(main())
