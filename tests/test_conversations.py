"""One set of conversation rules for `rewardc score` and `grpo-train` (rewardlang.conversations).

The same conversations go through both real tools: `rewardc score` skips exactly the
rows that grpo-train skips, with the same reason (grpo-train counts its code, `rewardc
score` lists it in words), and both split a usable conversation at the same place.
The one difference is by design: a conversation that ends with the user is a prompt
to train on, with no reply to score.
"""

from __future__ import annotations

import contextlib
import io
import json
from typing import Any

import pytest

from rewardlang import cli
from rewardlang.conversations import (
    REASONS,
    completion_text,
    conversation_problem,
    final_answer,
    split_conversation,
)
from rewardlang.scoring import Row, Skipped, to_row
from rewardlang_trainer.data import SKIP_REASONS, load_dataset_source, prepare, row_problem

SPEC = "reward t\nrule brief: length ..50 words\n"
ROLES_SHOWN = "(roles: assistant, developer, system, tool, user)"
TOOL_CALL = [{"type": "function", "function": {"name": "weather"}}]


def user(text: Any) -> dict[str, Any]:
    return {"role": "user", "content": text}


def assistant(text: Any, **fields: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": text, **fields}


def message(role: Any, text: Any) -> dict[str, Any]:
    return {"role": role, "content": text}


# (name, messages, grpo-train's reason code or None, `rewardc score`'s reason or None).
# Every value fits one Arrow column, so one JSON Lines file holds them all for both tools.
CASES: list[tuple[str, Any, str | None, str | None]] = [
    ("one turn", [user("Hi"), assistant("Hello.")], None, None),
    ("system first", [message("system", "Be brief."), user("Hi"), assistant("Hello.")], None, None),
    ("developer first", [message("developer", "Be brief."), user("Hi"), assistant("Hello.")], None, None),
    ("multi-turn", [user("a"), assistant("b"), user("c"), assistant("d")], None, None),
    (
        "tool call then answer",
        [user("Weather?"), assistant(None, tool_calls=TOOL_CALL), message("tool", "sunny"), assistant("Sunny.")],
        None,
        None,
    ),
    ("ends with a tool result", [user("Weather?"), assistant("Checking."), message("tool", "sunny")], None, None),
    (
        "unknown role",
        [message("wizard", "hm"), user("Hi"), assistant("Hello.")],
        "unknown_role",
        f'`messages` holds a message with the unknown role "wizard" {ROLES_SHOWN}',
    ),
    ("role null", [message(None, "x"), user("Hi"), assistant("Hello.")], "role_not_string",
     "`messages` holds a message without a string `role`"),
    ("a null message", [user("Hi"), None, assistant("Hello.")], "message_not_dict",
     "`messages` holds null, not a message object"),
    ("user content null", [user(None), assistant("Hello.")], "content_not_string",
     "`messages` holds a message whose `content` is null, not a string"),
    ("assistant content null, no tool call", [user("Hi"), assistant(None)], "content_not_string",
     "`messages` holds a message whose `content` is null, not a string"),
    ("assistant content null, empty tool calls", [user("Hi"), assistant(None, tool_calls=[])], "content_not_string",
     "`messages` holds a message whose `content` is null, not a string"),
    ("no user turn", [message("system", "s"), assistant("Hello.")], "no_user_turn", "`messages` has no user turn"),
    ("no message at all", [], "no_user_turn", "`messages` has no user turn"),
    ("blank user turn", [user("  \n"), assistant("Hello.")], "empty_user_content", "`messages` has an empty user turn"),
    ("earlier empty user turn", [user(""), assistant("b"), user("c"), assistant("d")], "empty_user_content",
     "`messages` has an empty user turn"),
    ("messages null", None, "no_prompt_or_messages", "no `completion` or `messages`"),
]
IDS = [case[0] for case in CASES]


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[int, str]]:
    """Each tool's skipped rows (0-based index -> reason) for one file holding every case."""
    folder = tmp_path_factory.mktemp("conversations")
    data = folder / "chats.jsonl"
    data.write_text("".join(json.dumps({"messages": m, "id": i}) + "\n" for i, (_, m, _, _) in enumerate(CASES)))
    spec = folder / "t.reward"
    spec.write_text(SPEC, encoding="utf-8")

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        assert cli.main(["score", str(spec), "--data", str(data), "--format", "json"]) == 0, err.getvalue()
    score = {item["row"] - 1: item["reason"] for item in json.loads(out.getvalue())["summary"]["skipped_rows"]}

    _, report = prepare(load_dataset_source(str(data)))
    train = {index: reason for reason, indices in report.examples.items() for index in indices}
    assert len(train) == report.rows_skipped  # no reason has more rows than the report lists
    return {"score": score, "train": train}


@pytest.mark.parametrize(("name", "messages", "code", "reason"), CASES, ids=IDS)
def test_both_tools_skip_the_same_rows_for_the_same_reason(verdicts, name, messages, code, reason) -> None:
    index = IDS.index(name)
    assert verdicts["train"].get(index) == code
    assert verdicts["score"].get(index) == reason
    assert code is None or code in SKIP_REASONS


USABLE = [(case[0], case[1]) for case in CASES if case[2] is None]


@pytest.mark.parametrize(("name", "messages"), USABLE, ids=[name for name, _ in USABLE])
def test_both_tools_split_a_conversation_after_its_last_user_turn(name, messages) -> None:
    row = to_row(1, {"messages": messages})
    assert isinstance(row, Row)
    prepared, _ = prepare(_dataset([{"messages": messages}]))
    last_user = max(i for i, m in enumerate(messages) if m["role"] == "user")
    assert row.prompt == messages[: last_user + 1] == _plain(prepared[0]["prompt"])
    assert row.completion == messages[last_user + 1 :]  # the reply is what `rewardc score` scores
    # grpo-train keeps the reply's final answer as the reference; a reply that ends otherwise has none.
    ends_with_answer = messages[-1]["role"] == "assistant" and isinstance(messages[-1]["content"], str)
    assert prepared[0]["reference"] == (messages[-1]["content"] if ends_with_answer else None)


def test_a_conversation_that_ends_with_the_user_is_a_prompt_to_train_on_not_a_reply_to_score() -> None:
    messages = [user("a"), assistant("b"), user("c")]
    assert to_row(1, {"messages": messages}) == Skipped(1, "`messages` has no assistant reply after the last user turn")
    prepared, report = prepare(_dataset([{"messages": messages}]))
    assert (_plain(prepared[0]["prompt"]), prepared[0]["reference"], report.skipped) == (messages, None, {})


# Values that do not fit one Arrow column with the others: checked row by row, with the
# function grpo-train's `prepare` applies to each row, and through `rewardc score` itself.
TYPE_CASES: list[tuple[str, Any, str, str]] = [
    ("a string", "hello", "messages_not_list", "`messages` is a string, not a list of messages"),
    ("one object", user("Hi"), "messages_not_list", "`messages` is an object, not a list of messages"),
    ("a string message", ["hello", assistant("x")], "message_not_dict",
     "`messages` holds a string, not a message object"),
    ("a number role", [message(1, "x"), assistant("x")], "role_not_string",
     "`messages` holds a message without a string `role`"),
    ("no content", [{"role": "user"}, assistant("x")], "content_not_string",
     "`messages` holds a message without `content`"),
    ("content parts", [user([{"type": "text", "text": "Hi"}]), assistant("x")], "content_not_string",
     "`messages` holds a message whose `content` is a list, not a string"),
    ("a number content", [user("Hi"), assistant(3)], "content_not_string",
     "`messages` holds a message whose `content` is a number, not a string"),
    ("tool calls not a list", [user("Hi"), assistant(None, tool_calls="weather()")], "content_not_string",
     "`messages` holds a message whose `content` is null, not a string"),
]


@pytest.mark.parametrize(("name", "messages", "code", "reason"), TYPE_CASES, ids=[c[0] for c in TYPE_CASES])
def test_values_of_other_types_get_the_same_reason_from_both_tools(
    tmp_path, capsys, name, messages, code, reason
) -> None:
    assert row_problem("messages", messages) == code
    spec = tmp_path / "t.reward"
    spec.write_text(SPEC, encoding="utf-8")
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"messages": messages}) + "\n" + json.dumps({"completion": "ok"}) + "\n")
    assert cli.main(["score", str(spec), "--data", str(data), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["skipped_rows"] == [{"row": 1, "reason": reason}]


@pytest.mark.parametrize(
    ("prompt", "code", "reason"),
    [
        ("Hi", None, None),
        ([user("Hi")], None, None),
        ("", "empty_user_content", "`prompt` is empty"),
        (" \t", "empty_user_content", "`prompt` is empty"),
        (3, "prompt_wrong_type", "`prompt` is a number, not a string or a list of messages"),
        ([message("system", "s")], "no_user_turn", "`prompt` has no user turn"),
        (
            [message("wizard", "s"), user("Hi")],
            "unknown_role",
            f'`prompt` holds a message with the unknown role "wizard" {ROLES_SHOWN}',
        ),
    ],
)
def test_a_prompt_follows_the_same_rules_in_both_tools(prompt, code, reason) -> None:
    assert row_problem("prompt", prompt) == code
    row = to_row(1, {"prompt": prompt, "completion": "An answer."})
    assert (row.reason if isinstance(row, Skipped) else None) == reason


@pytest.mark.parametrize(
    ("completion", "reason"),
    [
        ([assistant("Hi")], None),
        ([assistant(None, tool_calls=TOOL_CALL), message("tool", "t"), assistant("Done.")], None),
        ([message("wizard", "Hi")], f'`completion` holds a message with the unknown role "wizard" {ROLES_SHOWN}'),
        ([assistant(None)], "`completion` holds a message whose `content` is null, not a string"),
        (
            [assistant([{"type": "text", "text": "Hi"}])],
            "`completion` holds a message whose `content` is a list, not a string",
        ),
        ([user("Hi")], "`completion` has no assistant message"),
    ],
)
def test_a_completion_holds_valid_messages(completion, reason) -> None:
    row = to_row(1, {"completion": completion})
    assert (row.reason if isinstance(row, Skipped) else None) == reason


def test_every_reason_has_an_explanation_in_grpo_trains_summary() -> None:
    assert set(REASONS) <= set(SKIP_REASONS)
    assert all(SKIP_REASONS[code] == text for code, text in REASONS.items())


def test_split_and_answer_of_a_tool_turn() -> None:
    messages = [user("Weather?"), assistant(None, tool_calls=TOOL_CALL), message("tool", "sunny"), assistant("Sunny.")]
    assert conversation_problem(messages) is None
    prompt, reply = split_conversation(messages)
    assert (prompt, reply) == (messages[:1], messages[1:])
    assert final_answer(reply) == "Sunny."
    assert completion_text(reply) == "Sunny."  # the tool's result is not assistant text
    assert final_answer([]) is None


def _dataset(rows: list[dict[str, Any]]) -> Any:
    from datasets import Dataset

    return Dataset.from_list(rows)


def _plain(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages as written: Arrow gives every message every key of the column (None where absent)."""
    return [{key: value for key, value in m.items() if value is not None or key == "content"} for m in messages]
