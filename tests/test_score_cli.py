"""`rewardc score SPEC --data FILE`: input forms, bad rows, errors, output formats, --explain, --limit.

The specs here use lexical rules only (length, phrases, banned, equals, overlap), so
the tests are fast and never load a model. The command is run in-process through
`rewardlang.cli.main(["score", ...])` and, once, as its own process; the scoring core
(`rewardlang.scoring`) is called without the command too.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rewardlang import cli
from rewardlang.scoring import Row, Skipped, to_row

# Scores are easy to work out by hand:
#   brief   1 for 1..5 words, else 0.5
#   helpful 0.5 per distinct phrase found, at most 1
#   safety  0 when "dangerous" appears, else 1
# The total is their weighted sum (safety weighs 2).
SPEC = """\
reward demo
rule brief: length 1..5 words { outside 0.5 }
rule helpful: phrases "I can help", "here's how" { each 0.5 }
rule safety: banned "dangerous" { weight 2 }
"""
RULES = ["brief", "helpful", "safety"]

# A total, a gate and rules that need a prompt or a dataset column.
SPEC_COMBINED = """\
reward combo
rule brief: length ..5 words
rule safety: banned "dangerous"
rule correct: equals column answer
rule echo: overlap to last_user
total = brief + correct + echo
gate safety < 1 then -1
"""

ROWS = [
    {"prompt": "Hi", "completion": "I can help. Here's how.", "reference": "x"},  # 5 words: 1, 1, 1 -> 4
    {"prompt": "Hello", "completion": "This is a dangerous idea, friend."},  # 6 words: 0.5, 0, 0 -> 0.5
    {"prompt": "Q", "completion": "Fine."},  # 1, 0, 1 -> 3
]
EXPECTED = {
    1: ({"brief": 1.0, "helpful": 1.0, "safety": 1.0}, 4.0),
    2: ({"brief": 0.5, "helpful": 0.0, "safety": 0.0}, 0.5),
    3: ({"brief": 1.0, "helpful": 0.0, "safety": 1.0}, 3.0),
}


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def jsonl(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines()]


@pytest.fixture
def score(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run `rewardc score ARGS` in-process."""
    monkeypatch.setenv("COLUMNS", "200")

    def run(*argv: str | Path) -> Result:
        capsys.readouterr()
        code = cli.main(["score", *(str(a) for a in argv)])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "demo.reward"
    path.write_text(SPEC, encoding="utf-8")
    return path


@pytest.fixture
def combined_spec(tmp_path: Path) -> Path:
    path = tmp_path / "combo.reward"
    path.write_text(SPEC_COMBINED, encoding="utf-8")
    return path


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def write_parquet(path: Path, rows: list[dict[str, Any]]) -> Path:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def by_row(document: dict[str, Any]) -> dict[int, tuple[dict[str, Any], float]]:
    return {item["row"]: (item["scores"], item["total"]) for item in document["rows"]}


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


def assistant(text: str | None) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


# ------------------------------------------------------------- input forms
def test_jsonl_prompt_and_completion_strings(score, spec, tmp_path) -> None:
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", ROWS), "--format", "json")
    assert result.code == 0, result.err
    assert by_row(result.json()) == EXPECTED
    assert result.err == ""


def test_jsonl_message_lists(score, spec, tmp_path) -> None:
    rows = [
        {"prompt": [{"role": "system", "content": "Be kind."}, user("Hi")], "completion": [assistant("I can help.")]},
        # Every assistant message of a completion is scored (a tool call, its result, the answer).
        {
            "prompt": [user("Weather?")],
            "completion": [
                {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {"name": "w"}}]},
                {"role": "tool", "content": "dangerous storm"},
                assistant("Here's how it looks."),
            ],
        },
        # A single message object is a one-message completion.
        {"prompt": [user("Yo")], "completion": assistant("dangerous")},
    ]
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", rows), "--format", "json")
    assert result.code == 0, result.err
    scores = by_row(result.json())
    assert scores[1] == ({"brief": 1.0, "helpful": 0.5, "safety": 1.0}, 3.5)
    # The tool's "dangerous" is not assistant text; "Here's how it looks." is 4 words.
    assert scores[2] == ({"brief": 1.0, "helpful": 0.5, "safety": 1.0}, 3.5)
    assert scores[3] == ({"brief": 1.0, "helpful": 0.0, "safety": 0.0}, 1.0)


def test_messages_conversations_last_assistant_turn_is_the_completion(score, combined_spec, tmp_path) -> None:
    rows = [
        {
            "messages": [
                {"role": "system", "content": "sys"},
                user("first question"),
                assistant("an earlier dangerous answer"),
                user("paris"),
                assistant("paris"),
            ],
            "answer": "Paris",
        },
        {"messages": [user("tell me"), assistant("something long that goes on and on")], "answer": "x"},
    ]
    result = score(combined_spec, "--data", write_jsonl(tmp_path / "d.jsonl", rows), "--format", "json")
    assert result.code == 0, result.err
    scores = by_row(result.json())
    # Only the last turn is scored (the earlier "dangerous" is prompt), and the last user
    # message is the `last_user` target: brief 1 + correct 1 + echo 1.
    assert scores[1] == ({"brief": 1.0, "safety": 1.0, "correct": 1.0, "echo": 1.0}, 3.0)
    assert scores[2][0]["brief"] == 0.0
    assert scores[2][0]["correct"] == 0.0


def test_json_list_file(score, spec, tmp_path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps(ROWS, indent=2), encoding="utf-8")
    result = score(spec, "--data", path, "--format", "json")
    assert result.code == 0, result.err
    assert by_row(result.json()) == EXPECTED


def test_json_lines_in_a_json_file_are_read_as_json_lines(score, spec, tmp_path) -> None:
    result = score(spec, "--data", write_jsonl(tmp_path / "d.json", ROWS), "--format", "json")
    assert result.code == 0, result.err
    assert by_row(result.json()) == EXPECTED


def test_format_is_detected_from_content_and_can_be_forced(score, spec, tmp_path) -> None:
    path = tmp_path / "data.txt"
    path.write_text(json.dumps(ROWS), encoding="utf-8")
    assert by_row(score(spec, "--data", path, "--format", "json").json()) == EXPECTED
    forced = score(spec, "--data", path, "--format", "json", "--data-format", "jsonl")
    assert forced.code == 2  # one line holding a list: no usable rows
    assert "row 1: not an object (a list)" in forced.err


def test_parquet_file(score, spec, tmp_path) -> None:
    rows = [
        {"prompt": [user("Hi")], "completion": [assistant("I can help. Here's how.")], "reference": "x"},
        {"prompt": [user("Hello")], "completion": [assistant("This is a dangerous idea, friend.")], "reference": None},
        {"prompt": [user("Q")], "completion": [assistant("Fine.")], "reference": "z"},
    ]
    result = score(spec, "--data", write_parquet(tmp_path / "d.parquet", rows), "--format", "json")
    assert result.code == 0, result.err
    assert by_row(result.json()) == EXPECTED


def test_parquet_messages_with_null_values(score, combined_spec, tmp_path) -> None:
    rows = [
        {"messages": [user("paris"), assistant("Paris")], "answer": "paris"},
        {"messages": [user("q"), assistant("Q")], "answer": None},
        {"messages": [user("q"), assistant(None)], "answer": "q"},  # no text, no tool call: not a message
    ]
    result = score(combined_spec, "--data", write_parquet(tmp_path / "d.parquet", rows), "--format", "json")
    assert result.code == 0, result.err
    document = result.json()
    scores = by_row(document)
    assert scores[1][0]["correct"] == 1.0
    assert scores[2][0]["correct"] is None  # a null column value: not applicable
    assert document["summary"]["skipped_rows"] == [
        {"row": 3, "reason": "`messages` holds a message whose `content` is null, not a string"}
    ]


def test_standard_input(score, spec, monkeypatch) -> None:
    import io

    data = "".join(json.dumps(row) + "\n" for row in ROWS).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    result = score(spec, "--data", "-", "--format", "jsonl")
    assert result.code == 0, result.err
    assert [line["row"] for line in result.jsonl()] == [1, 2, 3]


def test_completion_ids_feed_token_lengths(score, tmp_path) -> None:
    spec = tmp_path / "tokens.reward"
    spec.write_text("reward t\nrule budget: length ..3 tokens\n", encoding="utf-8")
    rows = [
        {"completion": "a b c d e f", "completion_ids": [1, 2, 3]},
        {"completion": "a", "completion_ids": [1, 2, 3, 4]},
        {"completion": "no ids"},
    ]
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", rows), "--format", "json")
    assert result.code == 0, result.err
    scores = by_row(result.json())
    assert scores[1][0]["budget"] == 1.0
    assert scores[2][0]["budget"] == 0.0
    assert scores[3][0]["budget"] is None  # no token ids: a length in tokens does not apply


# ---------------------------------------------------------------- bad rows
BAD_ROWS_FILE = "\n".join(
    [
        json.dumps(ROWS[0]),
        json.dumps({"prompt": "no completion here"}),  # 2
        "{not json",  # 3
        json.dumps({"completion": 42}),  # 4
        "",  # 5: blank lines are not rows
        json.dumps([1, 2]),  # 6
        json.dumps({"messages": [user("only a question")]}),  # 7
        json.dumps({"completion": "ok", "prompt": 7}),  # 8
        json.dumps({"completion": [{"content": "no role"}]}),  # 9
        json.dumps({"completion": None}),  # 10
        json.dumps({"completion": [user("not the assistant")]}),  # 11
        json.dumps({"completion": "ok", "completion_ids": "123"}),  # 12
        json.dumps(ROWS[2]),  # 13
    ]
) + "\n"


def test_bad_rows_are_skipped_and_counted_with_their_row_numbers(score, spec, tmp_path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(BAD_ROWS_FILE, encoding="utf-8")
    result = score(spec, "--data", path, "--format", "json")
    assert result.code == 0, result.err
    document = result.json()
    assert sorted(by_row(document)) == [1, 13]
    summary = document["summary"]
    skipped = {item["row"]: item["reason"] for item in summary["skipped_rows"]}
    assert sorted(skipped) == [2, 3, 4, 6, 7, 8, 9, 10, 11, 12]
    assert (summary["rows"], summary["scored"], summary["skipped"]) == (12, 2, 10)
    assert "invalid JSON" in skipped[3]
    assert "no `completion` or `messages`" in skipped[2]
    assert "number" in skipped[4]
    assert skipped[7] == "`messages` has no assistant reply after the last user turn"
    # The same list on stderr, never a traceback.
    assert "skipped 10 of 12 rows" in result.err
    assert "row 3: invalid JSON" in result.err
    assert "Traceback" not in result.err


def test_invalid_utf8_line_is_a_bad_row(score, spec, tmp_path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(json.dumps(ROWS[0]).encode() + b"\n" + b'{"completion": "\xff\xfe"}\n')
    result = score(spec, "--data", path, "--format", "jsonl")
    assert result.code == 0
    assert [line["row"] for line in result.jsonl()] == [1]
    assert "row 2: not valid UTF-8" in result.err


def test_json_elements_that_are_not_rows_are_skipped(score, spec, tmp_path) -> None:
    path = tmp_path / "d.json"
    path.write_text(json.dumps([ROWS[0], "text", None, ROWS[2]]), encoding="utf-8")
    result = score(spec, "--data", path, "--format", "json")
    assert result.code == 0
    assert sorted(by_row(result.json())) == [1, 4]
    assert result.json()["summary"]["skipped"] == 2


def test_many_bad_rows_are_summarised(score, spec, tmp_path) -> None:
    rows = [{"prompt": "x"}] * 30 + [ROWS[0]]
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", rows), "--format", "jsonl")
    assert result.code == 0
    assert "skipped 30 of 31 rows" in result.err
    assert "... and 10 more" in result.err


def test_reserved_column_names_are_not_passed_to_rules(score, spec, tmp_path) -> None:
    rows = [{"completion": "Fine.", "completions": "clash", "explain": 1}]
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", rows), "--format", "jsonl")
    assert result.code == 0, result.err
    assert "`completions`" in result.err and "`explain`" in result.err


def test_to_row_splits_conversations() -> None:
    tool_turn = [
        {"role": "system", "content": "s"},
        user("weather?"),
        {"role": "assistant", "content": None, "tool_calls": [{"type": "function", "function": {"name": "w"}}]},
        {"role": "tool", "content": "sunny"},
        assistant("It is sunny."),
    ]
    row = to_row(1, {"messages": tool_turn, "reference": "r"})
    assert isinstance(row, Row)
    assert row.prompt == tool_turn[:2]  # up to and including the last user turn
    assert row.completion == tool_turn[2:]  # the reply: the tool call, its result, the answer
    assert row.columns == {"reference": "r"}
    # A conversation that ends with the user has no reply to score (grpo-train trains on it as a prompt).
    assert to_row(2, {"messages": [*tool_turn, user("thanks")]}) == Skipped(
        2, "`messages` has no assistant reply after the last user turn"
    )
    # An assistant that speaks first, with no user turn, is no conversation to score or train on.
    assert to_row(3, {"messages": [assistant("Hello!")]}) == Skipped(3, "`messages` has no user turn")
    assert to_row(3, {"completion": "x", "prompt": None, "id": 3}) == Row(3, None, "x", None, {"id": 3})
    assert isinstance(to_row(4, {"messages": "text"}), Skipped)
    assert isinstance(to_row(5, {"messages": [user("a"), 3]}), Skipped)
    assert isinstance(to_row(6, {"completion": [assistant({"not": "text"})]}), Skipped)
    assert isinstance(to_row(7, {"completion": "x", "completion_ids": [1, True]}), Skipped)


# ---------------------------------------------------- unreadable and empty
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.jsonl", b"", "empty file"),
        ("blank.jsonl", b"\n  \n\t\n", "empty file"),
        ("binary.jsonl", b"\x00\x01\x02PK", "binary file"),
        ("broken.json", b'[{"completion": "x"}', "invalid JSON"),
        ("object.json", b'{"rows": []}', "expected a list of objects"),
        ("bad.json", b"[1, 2", "invalid JSON"),
        ("latin1.json", b'[{"completion": "caf\xe9"}]', "not valid UTF-8"),
        ("bad.parquet", b"PAR1 not really parquet", "not a readable Parquet file"),
        ("tiny.parquet", b"xyz", "not a readable Parquet file"),
        ("empty.json", b"[]", "no rows"),
        ("junk.jsonl", b"hello\nworld\n", "no usable rows (2 skipped)"),
    ],
)
def test_unreadable_or_empty_data_exits_2(score, spec, tmp_path, name, content, message) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = score(spec, "--data", path, "--format", "json")
    assert result.code == 2
    assert result.out == ""
    assert message in result.err
    assert "Traceback" not in result.err


def test_missing_data_file_and_directory_exit_2(score, spec, tmp_path) -> None:
    missing = score(spec, "--data", tmp_path / "nope.jsonl")
    assert missing.code == 2 and "nope.jsonl: no such file" in missing.err
    directory = score(spec, "--data", tmp_path)
    assert directory.code == 2 and "is a directory" in directory.err


def test_no_usable_rows_lists_why(score, spec, tmp_path) -> None:
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", [{"prompt": "a"}, {"completion": 1}]))
    assert result.code == 2
    assert "row 1: no `completion` or `messages`" in result.err
    assert "no usable rows (2 skipped)" in result.err


# ------------------------------------------------------------ spec errors
def test_spec_with_errors_exits_1_with_check_diagnostics(score, tmp_path) -> None:
    bad = tmp_path / "bad.reward"
    bad.write_text("reward x\nrule a: lenght 1..2 words\n", encoding="utf-8")
    result = score(bad, "--data", write_jsonl(tmp_path / "d.jsonl", ROWS))
    assert result.code == 1
    assert result.out == ""
    assert "error[RL149]: unknown rule kind `lenght`" in result.err
    assert f"--> {bad}:2:9" in result.err
    assert "= help: did you mean `length`?" in result.err
    assert result.err.rstrip().endswith("found 1 error")


def test_spec_errors_are_reported_before_the_data_is_read(score, tmp_path) -> None:
    bad = tmp_path / "bad.reward"
    bad.write_text("reward x\nrule a: json { each 1 }\n", encoding="utf-8")
    assert score(bad, "--data", tmp_path / "missing.jsonl").code == 1


def test_spec_warnings_are_shown_but_scoring_goes_on(score, tmp_path) -> None:
    spec = tmp_path / "warn.reward"
    spec.write_text('reward w\nrule a: phrases "x", "x"\n', encoding="utf-8")
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", [{"completion": "x"}]), "--format", "jsonl")
    assert result.code == 0
    assert "warning[RL204]" in result.err
    assert result.jsonl()[0]["scores"] == {"a": 1.0}


def test_missing_spec_exits_2(score, tmp_path) -> None:
    result = score(tmp_path / "nope.reward", "--data", write_jsonl(tmp_path / "d.jsonl", ROWS))
    assert result.code == 2
    assert "nope.reward: no such file" in result.err


@pytest.mark.parametrize(
    "argv",
    [
        [],  # no --data
        ["--data", "x.jsonl", "--format", "csv"],
        ["--data", "x.jsonl", "--limit", "0"],
        ["--data", "x.jsonl", "--limit", "many"],
        ["--data", "x.jsonl", "--batch-size", "-1"],
    ],
)
def test_usage_errors_exit_2(score, spec, argv) -> None:
    result = score(spec, *argv)
    assert result.code == 2
    assert "rewardc: error:" in result.err
    assert "Traceback" not in result.err


def test_spec_and_data_cannot_both_be_stdin(score) -> None:
    assert score("-", "--data", "-").code == 2


# ---------------------------------------------------------------- formats
def test_table_format(score, spec, tmp_path) -> None:
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", ROWS), "--color", "never")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    header = next(line for line in lines if "completion" in line)
    assert header.split() == ["row", "completion", *RULES, "total"]
    row1 = next(line for line in lines if line.split()[:1] == ["1"])
    assert row1.split()[-4:] == ["1.000", "1.000", "1.000", "4.000"]
    assert "I can help. Here's how." in row1
    # The summary: one line per rule and the total, with mean, min, max and the n/a count.
    summary_header = next(line for line in lines if line.split() == ["rule", "mean", "min", "max", "n/a"])
    summary = lines[lines.index(summary_header) + 2 :]
    stats = {line.split()[0]: line.split()[1:] for line in summary if line.strip()}
    assert stats["brief"] == ["0.833", "0.500", "1.000", "0"]
    assert stats["safety"] == ["0.667", "0.000", "1.000", "0"]
    assert stats["total"] == ["2.500", "0.500", "4.000", "0"]
    assert "summary: 3 scored" in result.out
    assert "\x1b[" not in result.out


def test_table_shows_not_applicable_and_long_completions_shortened(score, combined_spec, tmp_path) -> None:
    rows = [
        {"prompt": "q", "completion": "word " * 50, "answer": None},
        {"prompt": "q", "completion": "q", "answer": "q"},
    ]
    result = score(combined_spec, "--data", write_jsonl(tmp_path / "d.jsonl", rows), "--color", "never")
    assert result.code == 0, result.err
    row1 = next(line for line in result.out.splitlines() if line.split()[:1] == ["1"])
    assert "n/a" in row1
    assert "…" in row1
    correct = next(line for line in result.out.splitlines() if line.split()[:1] == ["correct"])
    assert correct.split()[-1] == "1"  # one n/a


def test_json_format_document(score, combined_spec, tmp_path) -> None:
    rows = [
        {"prompt": "paris", "completion": "paris", "answer": "Paris"},
        {"prompt": "q", "completion": "dangerous", "answer": "x"},
        {"prompt": "q", "completion": "x"},
    ]
    result = score(combined_spec, "--data", write_jsonl(tmp_path / "d.jsonl", rows), "--format", "json")
    assert result.code == 0, result.err
    document = result.json()
    assert set(document) == {"spec", "data", "rules", "rows", "summary"}
    assert document["spec"] == "combo"
    assert document["rules"] == ["brief", "safety", "correct", "echo"]
    assert [set(item) for item in document["rows"]] == [{"row", "scores", "total"}] * 3
    totals = [item["total"] for item in document["rows"]]
    assert totals[0] == 3.0
    assert totals[1] == -1.0  # the gate
    assert document["rows"][2]["scores"]["correct"] is None  # no `answer` column in that row
    summary = document["summary"]
    assert set(summary) == {"rows", "scored", "skipped", "skipped_rows", "rules", "total", "metrics"}
    assert summary["metrics"] == {}  # no rule of this spec counts anything
    assert summary["rules"]["correct"] == {"mean": 0.5, "min": 0.0, "max": 1.0, "none": 1}
    assert summary["total"]["min"] == -1.0


def test_jsonl_format_one_line_per_row(score, spec, tmp_path) -> None:
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", ROWS), "--format", "jsonl")
    assert result.code == 0, result.err
    lines = result.jsonl()
    assert len(lines) == len(result.out.splitlines()) == 3
    assert {line["row"]: (line["scores"], line["total"]) for line in lines} == EXPECTED
    assert all(set(line) == {"row", "scores", "total"} for line in lines)


def test_batches_and_progress_do_not_change_the_output(score, spec, tmp_path) -> None:
    rows = ROWS * 7
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    one = score(spec, "--data", path, "--format", "jsonl")
    small = score(spec, "--data", path, "--format", "jsonl", "--batch-size", "2", "--progress", "always")
    assert one.code == small.code == 0
    assert one.out == small.out  # the bar goes to stderr, never into the data
    assert len(one.jsonl()) == 21


# ---------------------------------------------------------- explain, limit
def test_explain_adds_each_rules_reason(score, spec, tmp_path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", ROWS)
    result = score(spec, "--data", path, "--format", "json", "--explain")
    assert result.code == 0, result.err
    for item in result.json()["rows"]:
        assert set(item["explanations"]) == set(RULES)
        assert all(isinstance(reason, str) for reason in item["explanations"].values())
    lines = score(spec, "--data", path, "--format", "jsonl", "--explain").jsonl()
    assert all(set(line["explanations"]) == set(RULES) for line in lines)
    # The table shows the reasons under the scores.
    table = score(spec, "--data", path, "--explain", "--color", "never")
    assert table.code == 0
    reasons = [r for item in result.json()["rows"] for r in item["explanations"].values() if r]
    for reason in reasons[:3]:
        assert reason.split()[0] in table.out


def test_without_explain_no_explanations(score, spec, tmp_path) -> None:
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", ROWS), "--format", "json")
    assert all("explanations" not in item for item in result.json()["rows"])


def test_limit_scores_only_the_first_usable_rows(score, spec, tmp_path) -> None:
    rows = [{"prompt": "bad"}, *ROWS, *ROWS]
    path = write_jsonl(tmp_path / "d.jsonl", rows)
    result = score(spec, "--data", path, "--format", "json", "--limit", "2")
    assert result.code == 0
    document = result.json()
    assert [item["row"] for item in document["rows"]] == [2, 3]
    assert document["summary"]["scored"] == 2
    assert document["summary"]["skipped_rows"] == [{"row": 1, "reason": "no `completion` or `messages`"}]
    jsonl = score(spec, "--data", path, "--format", "jsonl", "--limit", "4", "--batch-size", "3")
    assert [line["row"] for line in jsonl.jsonl()] == [2, 3, 4, 5]
    assert len(score(spec, "--data", path, "--format", "jsonl", "--limit", "100").jsonl()) == 6


# ------------------------------------------------------ robustness, wiring
def test_a_failing_rule_is_a_warning_not_a_traceback(score, spec, tmp_path, monkeypatch) -> None:
    from rewardlang import compiler
    from rewardlang.rules.base import RuleScorer

    class Broken(RuleScorer):
        def score(self, batch):
            raise RuntimeError("kaboom")

    real = compiler.compile_rule
    monkeypatch.setattr(compiler, "compile_rule", lambda rule: Broken(rule) if rule.name == "helpful" else real(rule))
    result = score(spec, "--data", write_jsonl(tmp_path / "d.jsonl", ROWS), "--format", "jsonl")
    assert result.code == 0
    assert all(line["scores"]["helpful"] is None for line in result.jsonl())
    assert "rewardc: warning:" in result.err and "kaboom" in result.err
    assert "Traceback" not in result.err


def test_score_of_a_lexical_spec_imports_no_torch(spec, tmp_path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", ROWS)
    code = (
        "import contextlib, io, json, sys\n"
        "from rewardlang.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    code = main(['score', {str(spec)!r}, '--data', {str(data)!r}, '--format', 'jsonl'])\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'pyarrow') if m in sys.modules]\n"
        "print(json.dumps([code, heavy]))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [0, []]


def test_rewardc_score_runs_as_its_own_process(spec, tmp_path) -> None:
    data = write_jsonl(tmp_path / "d.jsonl", ROWS)
    result = subprocess.run(
        [sys.executable, "-m", "rewardlang.cli", "score", str(spec), "--data", str(data), "--format", "jsonl"],
        capture_output=True, text=True, timeout=120,
    )
    assert (result.returncode, result.stderr) == (0, "")
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert {line["row"]: (line["scores"], line["total"]) for line in lines} == EXPECTED


# ------------------------------------------------ the core, without argparse
def test_the_scoring_core_is_called_with_a_request(tmp_path) -> None:
    from rewardlang import loads
    from rewardlang.scoring import ScoreRequest, score

    path = write_jsonl(tmp_path / "d.jsonl", [ROWS[0], {"prompt": "no completion"}, ROWS[1], ROWS[2]])
    result = score(ScoreRequest(loads(SPEC), str(path), batch_size=2))
    assert (result.spec, result.rules, result.data) == ("demo", RULES, str(path))
    expected = {1: EXPECTED[1], 3: EXPECTED[2], 4: EXPECTED[3]}  # row 2 has no completion
    assert {row.number: (row.scores, row.total) for row in result.rows} == expected
    assert result.rows[0].text == "I can help. Here's how."
    assert result.skipped == [Skipped(2, "no `completion` or `messages`")]
    assert result.summary()["total"] == {"mean": 2.5, "min": 0.5, "max": 4.0, "none": 0}


def test_the_scoring_core_streams_rows_to_on_row_as_batches_finish(tmp_path) -> None:
    from rewardlang import loads
    from rewardlang.scoring import ScoreRequest, score

    path = write_jsonl(tmp_path / "d.jsonl", ROWS * 3)
    events: list[Any] = []
    request = ScoreRequest(
        loads(SPEC), str(path), batch_size=4, limit=7,
        on_row=lambda row: events.append(row.number), on_progress=lambda count: events.append(f"+{count}"),
    )
    result = score(request)
    assert events == [1, 2, 3, 4, "+4", 5, 6, 7, "+3"]
    assert (result.rows, result.scored, result.rows_read) == ([], 7, 7)  # streamed rows are not kept


def test_missing_model_is_a_clear_error_not_a_traceback(tmp_path, capsys) -> None:
    from rewardlang import cli

    spec = tmp_path / "m.reward"
    spec.write_text('reward t\nrule on_topic: relevance to last_user { model "./no/such/model" }\n')
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "hi", "completion": "hello"}\n')
    assert cli.main(["score", str(spec), "--data", str(data), "--progress", "never"]) == 2
    err = capsys.readouterr().err
    assert "no/such/model" in err and "Traceback" not in err
