"""Tests for rewardlang_trainer.data: loading dataset sources and preparing GRPO prompts."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from datasets import Dataset, DatasetDict

from rewardlang_trainer.data import (
    SKIP_REASONS,
    DataError,
    PrepareReport,
    load_dataset_source,
    prepare,
    row_problem,
)

SYS = {"role": "system", "content": "You are terse."}


def conv(i: int) -> list[dict]:
    return [
        {"role": "user", "content": f"question {i}"},
        {"role": "assistant", "content": f"answer {i}"},
    ]


ROWS = [{"messages": conv(i), "id": i} for i in range(10)]


def write_jsonl(path, rows):
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- loading


def test_load_jsonl(tmp_path):
    ds = load_dataset_source(str(write_jsonl(tmp_path / "d.jsonl", ROWS)))
    assert ds.num_rows == 10
    assert ds[3]["messages"][1]["content"] == "answer 3"
    assert ds[3]["id"] == 3


def test_load_json_array(tmp_path):
    p = tmp_path / "d.json"
    p.write_text(json.dumps(ROWS), encoding="utf-8")
    ds = load_dataset_source(str(p))
    assert ds.num_rows == 10 and ds[0]["messages"][0]["role"] == "user"


def test_load_json_lines_with_json_extension(tmp_path):
    ds = load_dataset_source(str(write_jsonl(tmp_path / "d.json", ROWS)))
    assert ds.num_rows == 10


def test_load_parquet(tmp_path):
    p = tmp_path / "d.parquet"
    Dataset.from_list(ROWS).to_parquet(str(p))
    ds = load_dataset_source(str(p))
    assert ds.num_rows == 10 and ds[9]["messages"][0]["content"] == "question 9"


def test_load_csv_prompt_strings(tmp_path):
    p = tmp_path / "d.csv"
    pd.DataFrame({"prompt": [f"say {i}" for i in range(5)], "answer": list(range(5))}).to_csv(
        p, index=False
    )
    ds = load_dataset_source(str(p))
    assert ds.column_names == ["prompt", "answer"]
    assert ds[2] == {"prompt": "say 2", "answer": 2}
    out, report = prepare(ds)
    assert out[2]["prompt"] == "say 2" and report.rows_kept == 5 and report.input_form == "prompt"


def test_load_save_to_disk_dataset(tmp_path):
    Dataset.from_list(ROWS).save_to_disk(str(tmp_path / "saved"))
    ds = load_dataset_source(str(tmp_path / "saved"))
    assert ds.num_rows == 10
    assert load_dataset_source(str(tmp_path / "saved"), split="train[:3]").num_rows == 3


def test_load_save_to_disk_dataset_dict(tmp_path):
    dd = DatasetDict(
        train=Dataset.from_list(ROWS), test=Dataset.from_list([{"messages": conv(99), "id": 99}])
    )
    dd.save_to_disk(str(tmp_path / "dd"))
    assert load_dataset_source(str(tmp_path / "dd")).num_rows == 10
    test = load_dataset_source(str(tmp_path / "dd"), split="test")
    assert test.num_rows == 1 and test[0]["id"] == 99
    assert [r["id"] for r in load_dataset_source(str(tmp_path / "dd"), split="train[2:4]")] == [2, 3]
    both = load_dataset_source(str(tmp_path / "dd"), split="train[:1]+test")
    assert [r["id"] for r in both] == [0, 99]
    with pytest.raises(DataError, match=r"no split 'validation'.*available: test, train"):
        load_dataset_source(str(tmp_path / "dd"), split="validation")


@pytest.mark.parametrize(
    ("split", "ids"),
    [
        ("train", list(range(10))),
        ("train[:3]", [0, 1, 2]),
        ("train[7:]", [7, 8, 9]),
        ("train[-2:]", [8, 9]),
        ("train[:20%]", [0, 1]),
        ("train[:1]+train[-1:]", [0, 9]),
    ],
)
def test_split_slicing_local_file(tmp_path, split, ids):
    p = write_jsonl(tmp_path / "d.jsonl", ROWS)
    assert [r["id"] for r in load_dataset_source(str(p), split=split)] == ids


def test_invalid_split(tmp_path):
    p = write_jsonl(tmp_path / "d.jsonl", ROWS)
    with pytest.raises(DataError, match="invalid split"):
        load_dataset_source(str(p), split="train[::")


def test_missing_file(tmp_path):
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(DataError, match=r"nope\.jsonl: no such file"):
        load_dataset_source(str(missing))
    with pytest.raises(DataError, match="no such file"):
        load_dataset_source("./data/absent")


def test_unknown_format(tmp_path):
    p = tmp_path / "d.txt"
    p.write_text("hello", encoding="utf-8")
    with pytest.raises(DataError, match=r"d\.txt: unknown data file format '\.txt'"):
        load_dataset_source(str(p))


def test_unreadable_files(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": \n{"prompt": \n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl: no readable row \(2 unreadable: line 1: invalid JSON"):
        load_dataset_source(str(bad))
    pq = tmp_path / "bad.parquet"
    pq.write_bytes(b"not parquet at all")
    with pytest.raises(DataError, match=r"bad\.parquet: cannot read as parquet"):
        load_dataset_source(str(pq))
    mixed = write_jsonl(tmp_path / "mixed.jsonl", [{"messages": "text"}, {"messages": conv(1)}])
    with pytest.raises(DataError, match=r"mixed\.jsonl: records do not share one type"):
        load_dataset_source(str(mixed))
    scalar = tmp_path / "s.json"
    scalar.write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(DataError, match=r"no readable row \(2 unreadable: element 1: a number, not a JSON object"):
        load_dataset_source(str(scalar))
    empty = tmp_path / "e.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(DataError, match="contains no rows"):
        load_dataset_source(str(empty))


def test_plain_folder_is_not_a_saved_dataset(tmp_path):
    (tmp_path / "f").mkdir()
    with pytest.raises(DataError, match="not a dataset saved with save_to_disk"):
        load_dataset_source(str(tmp_path / "f"))


def test_hub_errors_are_data_errors(monkeypatch):
    import datasets

    calls = []

    def fake_load(source, config, split):
        calls.append((source, config, split))
        raise ConnectionError("offline")

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    with pytest.raises(DataError, match=r"org/name: .*Hub failed: ConnectionError: offline"):
        load_dataset_source("org/name", split="train[:5]", config="cfg")
    assert calls == [("org/name", "cfg", "train[:5]")]


# ---------------------------------------------------------------- messages -> prompt/reference


def test_multi_turn_with_system():
    msgs = [
        SYS,
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "u3"},
        {"role": "assistant", "content": "final"},
    ]
    out, report = prepare(Dataset.from_list([{"messages": msgs, "topic": "x"}]))
    row = out[0]
    assert row["prompt"] == msgs[:6]
    assert row["reference"] == "final"
    assert row["topic"] == "x" and row["messages"] == msgs  # other columns kept
    assert report.rows_kept == report.rows_total == 1 and report.skipped == {}


def test_conversation_ending_with_user():
    msgs = [
        {"role": "user", "content": "u1"},
        {"role": "assistant", "content": "a1"},
        {"role": "user", "content": "u2"},
    ]
    out, _ = prepare(Dataset.from_list([{"messages": msgs}]))
    assert out[0]["prompt"] == msgs and out[0]["reference"] is None


def test_tool_messages():
    msgs = [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": "calling"},
        {"role": "tool", "content": "sunny"},
        {"role": "user", "content": "and tomorrow?"},
        {"role": "assistant", "content": "checking"},
        {"role": "tool", "content": "rain"},
        {"role": "assistant", "content": "Rain tomorrow."},
    ]
    out, _ = prepare(Dataset.from_list([{"messages": msgs}]))
    # Up to and including the last user turn; earlier tool turns stay in the prompt.
    assert out[0]["prompt"] == msgs[:4]
    assert out[0]["reference"] == "Rain tomorrow."


def test_ends_with_tool_turn_has_no_reference():
    msgs = [{"role": "user", "content": "q"}, {"role": "tool", "content": "t"}]
    out, _ = prepare(Dataset.from_list([{"messages": msgs}]))
    assert out[0]["prompt"] == msgs[:1] and out[0]["reference"] is None


def test_tool_call_only_assistant_turn_is_allowed():
    msgs = [
        {"role": "user", "content": "q", "tool_calls": None},
        {"role": "assistant", "content": None, "tool_calls": [{"name": "f"}]},
    ]
    assert row_problem("messages", msgs) is None
    out, _ = prepare(Dataset.from_list([{"messages": msgs}]))
    assert out[0]["prompt"][0]["content"] == "q" and out[0]["reference"] is None


def test_existing_reference_column_kept():
    ds = Dataset.from_list([{"messages": conv(0), "reference": "gold"}])
    out, report = prepare(ds)
    assert out[0]["reference"] == "gold"
    assert any("reference" in n for n in report.notes)


def test_prompt_message_list_passes_through():
    p = [SYS, {"role": "user", "content": "hi"}]
    out, report = prepare(Dataset.from_list([{"prompt": p, "answer": "4"}]))
    assert out[0] == {"prompt": p, "answer": "4"} and report.input_form == "prompt"


# ---------------------------------------------------------------- system prompt, max_samples


def test_system_prompt_inserted_when_missing():
    with_sys = [SYS, {"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    ds = Dataset.from_list([{"messages": conv(0)}, {"messages": with_sys}])
    out, _ = prepare(ds, system_prompt="Be kind.")
    assert out[0]["prompt"][0] == {"role": "system", "content": "Be kind."}
    assert [m["role"] for m in out[0]["prompt"]] == ["system", "user"]
    assert out[1]["prompt"][0] == SYS  # an existing system message wins
    assert len(out[1]["prompt"]) == 2


def test_system_prompt_with_extra_message_keys():
    msgs = [
        {"role": "user", "content": "q", "name": "bob"},
        {"role": "assistant", "content": "a", "name": None},
    ]
    out, _ = prepare(Dataset.from_list([{"messages": msgs}]), system_prompt="S")
    assert out[0]["prompt"] == [
        {"role": "system", "content": "S", "name": None},
        {"role": "user", "content": "q", "name": "bob"},
    ]


def test_system_prompt_string_prompt():
    out, _ = prepare(Dataset.from_list([{"prompt": "hi"}, {"prompt": "yo"}]), system_prompt="S")
    assert out[1]["prompt"] == [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "yo"},
    ]


def test_system_prompt_prompt_list():
    ds = Dataset.from_list([{"prompt": [{"role": "user", "content": "hi"}]}])
    out, _ = prepare(ds, system_prompt="S")
    assert [m["role"] for m in out[0]["prompt"]] == ["system", "user"]


def test_max_samples_deterministic_and_after_filtering():
    rows = [{"messages": conv(i), "id": i} for i in range(20)]
    rows[0]["messages"] = [{"role": "assistant", "content": "no user"}]
    ds = Dataset.from_list(rows)
    a, rep = prepare(ds, max_samples=5, seed=1)
    b, _ = prepare(ds, max_samples=5, seed=1)
    ids = [r["id"] for r in a]
    assert ids == [r["id"] for r in b] and len(ids) == 5
    assert ids == sorted(ids) and 0 not in ids
    assert rep.rows_total == 20 and rep.rows_usable == 19 and rep.rows_kept == 5
    assert "limited from 19" in rep.summary()
    c, _ = prepare(ds, max_samples=5, seed=2)
    assert c.num_rows == 5 and 0 not in c["id"][:]
    full, rep2 = prepare(ds, max_samples=100)
    assert full.num_rows == 19 and rep2.rows_kept == 19


def test_max_samples_invalid():
    with pytest.raises(ValueError, match="max_samples"):
        prepare(Dataset.from_list(ROWS), max_samples=0)


# ---------------------------------------------------------------- bad rows


def test_bad_rows_counted_by_reason():
    u = {"role": "user", "content": "ok"}
    a = {"role": "assistant", "content": "fine"}
    rows = [
        [u, a],  # 0 good
        [a],  # 1 no_user_turn
        [{"role": "user", "content": "   "}, a],  # 2 empty_user_content
        [{"role": None, "content": "x"}, a],  # 3 role_not_string
        [{"role": "wizard", "content": "x"}, u, a],  # 4 unknown_role
        [{"role": "user", "content": None}, a],  # 5 content_not_string
        [u, None, a],  # 6 message_not_dict (null list element)
        None,  # 7 no_prompt_or_messages
        [],  # 8 no_user_turn
        [u, a],  # 9 good
        [{"role": "user", "content": ""}, a, u, a],  # 10 empty earlier user turn
    ]
    ds = Dataset.from_list([{"messages": m, "i": i} for i, m in enumerate(rows)])
    out, report = prepare(ds)
    assert [r["i"] for r in out] == [0, 9]
    assert report.skipped == {
        "no_user_turn": 2,
        "empty_user_content": 2,
        "role_not_string": 1,
        "unknown_role": 1,
        "content_not_string": 1,
        "message_not_dict": 1,
        "no_prompt_or_messages": 1,
    }
    assert report.examples["no_user_turn"] == [1, 8]
    assert report.examples["empty_user_content"] == [2, 10]
    assert report.rows_total == 11 and report.rows_kept == 2 and report.rows_skipped == 9
    text = report.summary()
    assert "2 of 11 rows kept" in text
    assert "2 x no_user_turn" in text and "(rows 1, 8)" in text
    assert set(report.skipped) <= set(SKIP_REASONS)


def test_bad_types_row_level():
    """Type errors Arrow cannot hold in one column, checked on the row validators directly."""
    assert row_problem("messages", "hello") == "messages_not_list"
    assert row_problem("messages", {"role": "user"}) == "messages_not_list"
    assert row_problem("messages", ["hello"]) == "message_not_dict"
    assert row_problem("messages", [{"role": 1, "content": "x"}]) == "role_not_string"
    assert row_problem("messages", [{"content": "x"}]) == "role_not_string"
    assert row_problem("messages", [{"role": "user"}]) == "content_not_string"
    assert row_problem("messages", [{"role": "user", "content": ["part"]}]) == "content_not_string"
    assert row_problem("messages", [{"role": "assistant", "content": None}]) == "content_not_string"
    assert row_problem("prompt", 3) == "prompt_wrong_type"
    assert row_problem("prompt", {"a": 1}) == "prompt_wrong_type"
    assert row_problem("prompt", " \n") == "empty_user_content"
    assert row_problem("prompt", None) == "no_prompt_or_messages"
    assert row_problem("prompt", [{"role": "assistant", "content": "x"}]) == "no_user_turn"
    assert row_problem("prompt", "fine") is None


def test_bad_string_prompts_counted():
    ds = Dataset.from_list([{"prompt": "ok"}, {"prompt": "  "}, {"prompt": None}, {"prompt": "y"}])
    out, report = prepare(ds)
    assert out["prompt"][:] == ["ok", "y"]
    assert report.skipped == {"empty_user_content": 1, "no_prompt_or_messages": 1}


def test_messages_column_wrong_type_all_bad():
    ds = Dataset.from_list([{"messages": "hello"}, {"messages": "there"}])
    with pytest.raises(DataError, match=r"no usable rows.*\n.*2 x messages_not_list.*rows 0, 1"):
        prepare(ds)


def test_neither_column_all_bad():
    ds = Dataset.from_list([{"text": "a"}, {"text": "b"}])
    with pytest.raises(DataError) as info:
        prepare(ds)
    assert "2 x no_prompt_or_messages" in str(info.value)
    assert "neither a 'messages' nor a 'prompt'" in str(info.value)


def test_all_bad_rows_error_lists_reasons():
    ds = Dataset.from_list(
        [
            {"messages": [{"role": "assistant", "content": "x"}]},
            {"messages": [{"role": "user", "content": " "}]},
        ]
    )
    with pytest.raises(DataError) as info:
        prepare(ds)
    msg = str(info.value)
    assert "1 x no_user_turn" in msg and "1 x empty_user_content" in msg


def test_report_summary_clean():
    rep = PrepareReport(rows_total=3, rows_usable=3, rows_kept=3, input_form="messages")
    assert rep.summary() == "dataset: 3 of 3 rows kept (input form: messages; 0 skipped)"


def test_end_to_end_jsonl_to_prepared(tmp_path):
    rows = [{"messages": [SYS, *conv(i)], "id": i} for i in range(6)]
    rows.append({"messages": [SYS], "id": 6})
    p = write_jsonl(tmp_path / "d.jsonl", rows)
    out, report = prepare(load_dataset_source(str(p), split="train[1:]"), system_prompt="ignored")
    assert [r["id"] for r in out] == [1, 2, 3, 4, 5]
    assert out[0]["prompt"] == [SYS, {"role": "user", "content": "question 1"}]
    assert out[0]["reference"] == "answer 1"
    assert report.skipped == {"no_user_turn": 1} and report.examples["no_user_turn"] == [5]
