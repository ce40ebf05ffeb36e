"""Issue 8, data input and output: `rewardc score` and grpo-train's data reading.

Standard input, pipes and FIFOs lose no row; lines that cannot be read (a number too
long for Python, over-long lines) are skipped and counted, not fatal; a lone
surrogate is printed as U+FFFD; both tools read JSON Lines with one reader; a split
past the end is a clear error; `--explain` costs one row per row; reading is bounded.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rewardlang import cli, compiler, datafile, jsonlines
from rewardlang.jsonlines import BadLine
from rewardlang.rules.base import RuleScorer

SPEC = "reward demo\nrule brief: length 1..5 words { outside 0.5 }\n"
LONG_NUMBER = "1" * 5000
TOO_MANY_DIGITS = f"a whole number with more than {sys.get_int_max_str_digits()} digits"


def rows(count: int) -> list[dict[str, str]]:
    # About 70 bytes a row: 300 rows are well over the 8 KB the format sniffing reads first.
    return [{"prompt": "p", "completion": f"row {i} " + "x" * 30} for i in range(1, count + 1)]


def jsonl_bytes(items: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(item) + "\n" for item in items).encode()


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "demo.reward"
    path.write_text(SPEC, encoding="utf-8")
    return path


def rewardc(*argv: str | Path, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """The real command in a child process: real pipes, strict UTF-8 standard output."""
    return subprocess.run(
        [sys.executable, "-m", "rewardlang.cli", "score", *map(str, argv)],
        input=stdin, capture_output=True, check=False, timeout=120,  # a guard against a hang, not a speed test
    )


def scored_rows(out: bytes) -> list[int]:
    return [json.loads(line)["row"] for line in out.decode().splitlines()]


class OneWayReader(io.RawIOBase):
    """A pipe in the test's process: cannot seek, counts the bytes it hands out."""

    def __init__(self, data: bytes):
        self.data = data
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        size = min(len(buffer), len(self.data) - self.position)
        buffer[:size] = self.data[self.position : self.position + size]
        self.position += size
        return size


def pipe_stdin(monkeypatch: pytest.MonkeyPatch, data: bytes) -> OneWayReader:
    raw = OneWayReader(data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8"))
    return raw


# ------------------------------------------------- 1. stdin, pipes, FIFOs
@pytest.mark.parametrize("data", ["/dev/stdin", "-"])
def test_a_pipe_into_rewardc_score_loses_no_row(spec, data) -> None:
    payload = jsonl_bytes(rows(300))
    assert len(payload) > 2 * 8192
    result = rewardc(spec, "--data", data, "--format", "jsonl", stdin=payload)
    assert result.returncode == 0, result.stderr.decode()
    assert scored_rows(result.stdout) == list(range(1, 301))
    assert result.stderr == b""


def test_a_fifo_is_read_once_to_the_end(spec, tmp_path) -> None:
    fifo = tmp_path / "rows.fifo"
    os.mkfifo(fifo)
    payload = jsonl_bytes(rows(300))

    def write() -> None:
        with open(fifo, "wb") as stream:  # blocks until rewardc opens the FIFO
            stream.write(payload)

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    result = rewardc(spec, "--data", fifo, "--format", "jsonl")
    writer.join(timeout=10)
    assert result.returncode == 0, result.stderr.decode()
    assert scored_rows(result.stdout) == list(range(1, 301))


@pytest.mark.skipif(shutil.which("bash") is None or shutil.which("gzip") is None, reason="needs bash and gzip")
def test_process_substitution_of_a_compressed_file(spec, tmp_path) -> None:
    packed = tmp_path / "rows.jsonl.gz"
    packed.write_bytes(gzip.compress(jsonl_bytes(rows(300))))
    python, spec_path, packed_path = (shlex.quote(str(p)) for p in (sys.executable, spec, packed))
    command = f"{python} -m rewardlang.cli score {spec_path} --data <(gzip -dc {packed_path}) --format jsonl"
    result = subprocess.run(["bash", "-c", command], capture_output=True, check=False, timeout=120)
    assert result.returncode == 0, result.stderr.decode()
    assert scored_rows(result.stdout) == list(range(1, 301))


def test_json_and_parquet_from_a_pipe(spec, tmp_path, monkeypatch, capsys) -> None:
    pipe_stdin(monkeypatch, json.dumps(rows(300)).encode())
    assert cli.main(["score", str(spec), "--data", "-", "--format", "jsonl"]) == 0
    assert scored_rows(capsys.readouterr().out.encode()) == list(range(1, 301))

    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    sink = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows(300)), sink)
    pipe_stdin(monkeypatch, sink.getvalue())
    assert cli.main(["score", str(spec), "--data", "-", "--format", "jsonl"]) == 0
    assert scored_rows(capsys.readouterr().out.encode()) == list(range(1, 301))


def test_progress_bar_on_a_pipe_counts_nothing_ahead(spec, monkeypatch, capsys) -> None:
    # A stream that cannot seek is never read twice: the bar has no total, every row is scored.
    pipe_stdin(monkeypatch, jsonl_bytes(rows(300)))
    code = cli.main(["score", str(spec), "--data", "-", "--format", "jsonl", "--progress", "always"])
    assert code == 0
    assert scored_rows(capsys.readouterr().out.encode()) == list(range(1, 301))


# --------------------------------------------- 2. numbers too long to read
def test_a_row_with_a_5000_digit_number_is_skipped_and_counted(spec, tmp_path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"prompt": "x", "completion": "ok"}\n'
        f'{{"prompt": "x", "completion": "y", "n": {LONG_NUMBER}}}\n'
        '{"prompt": "x", "completion": "fine too"}\n',
        encoding="utf-8",
    )
    result = rewardc(spec, "--data", path, "--format", "jsonl")
    assert result.returncode == 0
    assert scored_rows(result.stdout) == [1, 3]
    err = result.stderr.decode()
    assert err == (
        f"rewardc: skipped 1 of 3 rows in {path}:\n  row 2: {TOO_MANY_DIGITS} (Python's limit for reading integers)\n"
    )


def test_a_json_array_element_with_a_5000_digit_number_is_the_only_row_lost(spec, tmp_path, capsys) -> None:
    path = tmp_path / "d.json"
    path.write_text(
        f'[{{"completion": "ok"}}, {{"completion": "y", "n": [{LONG_NUMBER}]}}, {{"completion": "z", "n": -7}}]',
        encoding="utf-8",
    )
    assert cli.main(["score", str(path.parent / "demo.reward"), "--data", str(path), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)["summary"]
    assert (summary["rows"], summary["scored"], summary["skipped"]) == (3, 2, 1)
    assert summary["skipped_rows"][0]["row"] == 2
    assert summary["skipped_rows"][0]["reason"].startswith(TOO_MANY_DIGITS)


def test_the_trainer_skips_and_counts_the_same_row(tmp_path) -> None:
    from rewardlang_trainer.data import load_dataset_source, prepare

    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"prompt": "first"}\n\n'
        f'{{"prompt": "second", "n": {LONG_NUMBER}}}\n'
        '{"prompt": "third"}\n',
        encoding="utf-8",
    )
    dataset, report = prepare(load_dataset_source(str(path)))
    assert dataset["prompt"] == ["first", "third"]
    assert "__unreadable__" not in dataset.column_names
    assert (report.rows_total, report.rows_kept, report.skipped) == (3, 2, {"unreadable_row": 1})
    assert report.notes == [f"line 3: {TOO_MANY_DIGITS} (Python's limit for reading integers)"]
    assert "1 x unreadable_row" in report.summary()


# ------------------------------------------------------ 3. lone surrogates
SURROGATE_LINE = b'{"prompt": "p", "completion": "\\ud800 lone"}\n'


def test_a_lone_surrogate_is_printed_as_the_replacement_character(spec, tmp_path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(SURROGATE_LINE)
    table = rewardc(spec, "--data", path, "--color", "never")
    assert table.returncode == 0, table.stderr.decode()
    assert "    1   \ufffd lone       1.000   1.000  " in table.stdout.decode().splitlines()

    explained = rewardc(spec, "--data", path, "--explain", "--color", "never")
    assert explained.returncode == 0, explained.stderr.decode()
    lines = explained.stdout.decode().splitlines()
    assert "    1   \ufffd lone       1.000                            1.000  " in lines
    assert "                     2 words, inside 1..5? yes -> 1          " in lines

    for output in ("json", "jsonl"):
        result = rewardc(spec, "--data", path, "--format", output, "--explain")
        assert result.returncode == 0, result.stderr.decode()
        assert b"\\ud800" not in result.stdout


def test_the_table_shows_invisible_characters_as_escapes(spec, tmp_path) -> None:
    """A zero-width space is what hides a banned word: the table shows it, as the rules see it."""
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"prompt": "p", "completion": "harm\u200bful \u2019ok"}) + "\n", encoding="utf-8")
    table = rewardc(spec, "--data", path, "--color", "never")
    assert table.returncode == 0, table.stderr.decode()
    assert "    1   harm\\u200bful \u2019ok   1.000   1.000  " in table.stdout.decode().splitlines()


def test_the_reader_replaces_lone_surrogates_in_strings_and_keys() -> None:
    value = jsonlines.parse_line(1, b'{"a\\udfff": ["\\ud800x", {"k": "\\udc00"}], "pair": "\\ud83d\\ude00"}')
    assert value == {"a\ufffd": ["\ufffdx", {"k": "\ufffd"}], "pair": "\U0001f600"}
    assert jsonlines.read_json(b'["\\ud800", "ok"]') == [(1, "\ufffd"), (2, "ok")]


def test_the_trainer_reads_a_lone_surrogate_as_the_replacement_character(tmp_path) -> None:
    from rewardlang_trainer.data import load_dataset_source

    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"prompt": "a \\ud800 b"}\n')
    assert load_dataset_source(str(path))["prompt"] == ["a \ufffd b"]


# --------------------------------------- 4. one reader for both commands
# Raw U+2028, U+2029 and U+0085 inside strings are valid JSON; `str.splitlines()` splits on them.
ODD_LINES = (
    b"\xef\xbb\xbf"
    + '{"prompt": "a\u2028b", "completion": "c\u0085d", "id": 1}\r\n'.encode()
    + b"\n"
    + '{"prompt": "e\u2029f", "completion": "g", "id": 2}\n'.encode()
    + '{"prompt": "h", "completion": "i\u2028\u0085j", "id": 3}'.encode()  # no final newline
)
ODD_ROWS = [
    {"prompt": "a\u2028b", "completion": "c\u0085d", "id": 1},
    {"prompt": "e\u2029f", "completion": "g", "id": 2},
    {"prompt": "h", "completion": "i\u2028\u0085j", "id": 3},
]


@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_both_readers_read_the_same_rows(tmp_path, suffix) -> None:
    from rewardlang_trainer.data import load_dataset_source

    path = tmp_path / f"odd{suffix}"
    path.write_bytes(ODD_LINES)
    source = datafile.open_data(str(path))
    try:
        scored = list(source.records())
    finally:
        source.close()
    assert scored == [(1, ODD_ROWS[0]), (3, ODD_ROWS[1]), (4, ODD_ROWS[2])]  # line numbers
    assert load_dataset_source(str(path)).to_list() == ODD_ROWS


def test_the_trainer_reads_a_json_array_with_a_bom(tmp_path) -> None:
    from rewardlang_trainer.data import load_dataset_source

    path = tmp_path / "d.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(ODD_ROWS).encode())
    assert load_dataset_source(str(path)).to_list() == ODD_ROWS


def test_the_trainer_keeps_fields_missing_from_the_first_row(tmp_path) -> None:
    from rewardlang_trainer.data import load_dataset_source

    path = tmp_path / "d.jsonl"
    path.write_bytes(jsonl_bytes([{"prompt": "a"}, {"prompt": "b", "reference": "r"}]))
    assert load_dataset_source(str(path)).to_list() == [
        {"prompt": "a", "reference": None},
        {"prompt": "b", "reference": "r"},
    ]


def test_the_trainer_skips_unreadable_lines_like_rewardc(tmp_path) -> None:
    from rewardlang_trainer.data import load_dataset_source, prepare

    path = tmp_path / "d.jsonl"
    path.write_bytes(b'{"prompt": "a"}\n{"prompt": \n[1]\n\xff\n{"prompt": "b"}\n')
    dataset, report = prepare(load_dataset_source(str(path)))
    assert dataset["prompt"] == ["a", "b"]
    assert report.skipped == {"unreadable_row": 3}
    assert report.notes == [
        "line 2: invalid JSON (Expecting value)",
        "line 3: a list, not a JSON object",
        "line 4: not valid UTF-8 (byte 0xff at column 1)",
    ]


# ------------------------------------------------ 5. splits past the end
@pytest.mark.parametrize(
    ("split", "message"),
    [
        ("train[100:]", "split 'train[100:]' selects no rows: 'train[100:]' starts past the end"),
        ("train[10:]", "split 'train[10:]' selects no rows"),
        ("train[:2]+train[20:]", "split 'train[:2]+train[20:]' selects no rows: 'train[20:]'"),
        ("train[:200%]", "invalid split 'train[:200%]': ValueError: Percent slice boundaries"),
    ],
)
def test_a_split_past_the_end_of_a_file_names_the_split_and_the_rows(tmp_path, split, message) -> None:
    from rewardlang_trainer.data import DataError, load_dataset_source

    path = tmp_path / "d.jsonl"
    path.write_bytes(jsonl_bytes([{"prompt": f"q{i}"} for i in range(10)]))
    with pytest.raises(DataError) as info:
        load_dataset_source(str(path), split=split)
    assert str(info.value).startswith(f"{path}: {message}")
    assert str(info.value).endswith("(the file has 10 rows)")


def test_a_split_that_ends_past_the_end_is_clamped(tmp_path) -> None:
    from rewardlang_trainer.data import load_dataset_source

    path = tmp_path / "d.jsonl"
    path.write_bytes(jsonl_bytes([{"prompt": f"q{i}"} for i in range(10)]))
    assert load_dataset_source(str(path), split="train[8:100]")["prompt"] == ["q8", "q9"]


# ------------------------------------------------ 6. --explain cost
class WholeBatchScorer(RuleScorer):
    """Explains as the classifier and similarity rules do: by scoring its whole batch."""

    def __init__(self, rule: Any):
        super().__init__(rule)
        self.scored = 0  # completions scored, over every call
        self.views = 0  # completions whose per-batch view was computed

    def _lengths(self, batch: Any) -> list[int]:
        def compute() -> list[int]:
            self.views += batch.size
            return [len(text) for text in batch.texts()]

        return batch.cached(("test", "lengths"), compute)

    def score(self, batch: Any) -> list[float | None]:
        self.scored += batch.size
        return [min(1.0, n / 100) for n in self._lengths(batch)]

    def explain(self, batch: Any, index: int) -> str:
        return f"{self.score(batch)[index]:g}"


def test_explain_scores_each_row_once_not_the_batch_per_row() -> None:
    compiled = compiler.loads(SPEC)
    scorer = compiled.scorers["brief"] = WholeBatchScorer(compiled.spec.rules[0])
    completions = ["x" * i for i in range(64)]
    scores = compiled.score(completions, explain=True)
    assert scores.explanations == {"brief": [f"{i / 100:g}" for i in range(64)]}
    assert scorer.scored == 64 + 64  # the pass, then one row per explanation (was 64 + 64 * 64)
    assert scorer.views == 64  # each row's explanation reuses the pass's view


def test_rewardc_score_explain_with_a_similarity_rule_scores_each_row_twice(tmp_path, monkeypatch, capsys) -> None:
    from rewardlang.kinds.similarity import SimilarityScorer

    scored: list[int] = []
    real = SimilarityScorer.score

    def counting(self: SimilarityScorer, batch: Any) -> list[float | None]:
        scored.append(batch.size)
        return real(self, batch)

    monkeypatch.setattr(SimilarityScorer, "score", counting)
    spec = tmp_path / "s.reward"
    spec.write_text("reward s\nrule sim: similarity fuzzy to column answer\n", encoding="utf-8")
    data = tmp_path / "d.jsonl"
    data.write_bytes(jsonl_bytes([{"completion": f"answer {i}", "answer": "answer 7"} for i in range(128)]))
    code = cli.main(["score", str(spec), "--data", str(data), "--format", "jsonl", "--explain", "--batch-size", "64"])
    assert code == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(lines) == 128
    assert lines[7]["explanations"] == {"sim": "fuzzy 1.000 against column answer"}
    assert sum(scored) == 2 * 128  # two passes of 64, then 128 one-row explanations (was 128 + 2 * 64 * 64)


# ------------------------------------------------ 7. bounded reading
def test_standard_input_is_streamed_not_read_whole(spec, monkeypatch) -> None:
    payload = jsonl_bytes(rows(100_000))  # about 5 MB
    raw = pipe_stdin(monkeypatch, payload)
    source = datafile.open_data("-")
    records = source.records()
    assert next(records) == (1, rows(1)[0])
    # The sniffed head and one chunk (plus the buffered reader's own buffer), not the whole input.
    assert raw.position <= datafile.SNIFF_BYTES + jsonlines.CHUNK_BYTES + io.DEFAULT_BUFFER_SIZE
    assert sum(1 for _ in records) == 100_000 - 1
    assert raw.position == len(payload)


def test_an_overlong_line_is_a_skipped_row_and_is_not_kept_in_memory() -> None:
    piece = b"a" * 10_000

    def endless_line() -> Any:
        yield b'{"completion": "before"}\n'
        for _ in range(2_000):  # a 20 MB line
            yield piece
        yield b'\n{"completion": "after"}\n'

    tracemalloc.start()
    try:
        found = list(jsonlines.read_lines(endless_line(), max_line_bytes=64 * 1024))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert found == [
        (1, {"completion": "before"}),
        (2, BadLine(2, "line longer than 65536 bytes")),
        (3, {"completion": "after"}),
    ]
    assert peak < 1024 * 1024  # what is kept of the 20 MB line is bounded by the cap


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([b"a", b"bb", b"\n", b"cccc", b"\n\n", b"\r\n"]), max_size=12).map(b"".join),
    st.lists(st.integers(min_value=0, max_value=40), max_size=4),
    st.integers(min_value=0, max_value=8),
)
def test_lines_are_the_same_however_the_stream_is_cut(data: bytes, cuts: list[int], cap: int) -> None:
    points = sorted({min(cut, len(data)) for cut in cuts})
    parts = [data[i:j] for i, j in zip([0, *points], [*points, len(data)], strict=True)]
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()  # a final newline ends the last line; it does not start another
    expected = [(n, line if len(line) <= cap else None) for n, line in enumerate(lines, 1)]
    assert list(jsonlines.split_lines(parts, cap)) == expected


def test_rewardc_reports_the_overlong_line(spec, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(jsonlines, "MAX_LINE_BYTES", 1000)  # the cap, made small for the test
    path = tmp_path / "d.jsonl"
    path.write_bytes(jsonl_bytes([{"completion": "ok"}, {"completion": "y" * 2000}, {"completion": "ok"}]))
    assert cli.main(["score", str(spec), "--data", str(path), "--format", "jsonl"]) == 0
    captured = capsys.readouterr()
    assert scored_rows(captured.out.encode()) == [1, 3]
    assert "  row 2: line longer than 1000 bytes\n" in captured.err


class EndlessReader(io.RawIOBase):
    """Standard input that never ends (`yes '#' | rewardc score - ...`); counts what it hands out."""

    def __init__(self) -> None:
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        buffer[:] = b"#" * len(buffer)
        self.position += len(buffer)
        return len(buffer)


def test_a_spec_from_endless_standard_input_stops_at_the_size_limit(tmp_path, monkeypatch, capsys) -> None:
    from rewardlang.frontend import MAX_SOURCE_BYTES, SourceError, read_source_stream

    with pytest.raises(SourceError) as too_large:  # the front end's own wording for an oversized spec
        read_source_stream(io.BytesIO(b"#" * (MAX_SOURCE_BYTES + 1)), "<stdin>")
    raw = EndlessReader()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(raw), encoding="utf-8"))
    data = tmp_path / "d.jsonl"
    data.write_bytes(jsonl_bytes(rows(1)))
    assert cli.main(["score", "-", "--data", str(data)]) == 2
    assert capsys.readouterr().err == f"rewardc: error: {too_large.value}\n"
    assert raw.position <= MAX_SOURCE_BYTES + 1 + io.DEFAULT_BUFFER_SIZE


def test_a_spec_from_standard_input(tmp_path, monkeypatch, capsys) -> None:
    pipe_stdin(monkeypatch, SPEC.encode())
    data = tmp_path / "d.jsonl"
    data.write_bytes(jsonl_bytes(rows(3)))
    assert cli.main(["score", "-", "--data", str(data), "--format", "jsonl"]) == 0
    assert scored_rows(capsys.readouterr().out.encode()) == [1, 2, 3]
