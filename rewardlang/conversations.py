"""Chat messages and conversations: what a valid one is, where it splits, and its text.

One set of rules for `rewardc score` and `grpo-train` (described for users in
docs/language.md §10 and docs/training.md):

- A **message** is an object with a string `role`, one of `ROLES`, and a string
  `content`. An assistant message that calls tools (a non-empty `tool_calls` list)
  may have no content (null or missing). Content-part lists (multimodal messages)
  are not accepted: the chat templates of text models render only strings.
- A **conversation** (a `messages` value, or a message-list `prompt`) is a list of
  messages with a user turn, and no user turn that is empty or whitespace only.
- A conversation **splits after its last user turn**: the prompt is every message up
  to and including it; the reply is every message after it (the assistant's answer,
  with the tool calls and tool results on the way). `rewardc score` scores the reply;
  grpo-train trains on the prompt and keeps the reply's final answer as `reference`.

The checks never raise: they return a `Problem`, a reason code (the key of
`REASONS`, what grpo-train counts) and the row's problem in words (what `rewardc
score` lists). The text extraction below them is lenient instead: compiled rules
read with it whatever TRL passes, and odd shapes become text or None.

Standard library and `rewardlang.jsonlines` only: `rewardc` and the runtime import it
without anything heavy.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from rewardlang.jsonlines import json_type

#: The roles a message may have: those of HF chat templates and TRL (`developer` is OpenAI's `system`).
ROLES = frozenset({"system", "developer", "user", "assistant", "tool"})

#: Why a message, conversation, prompt or completion is not usable (reason code -> what it means).
REASONS: dict[str, str] = {
    "messages_not_list": "'messages' (or a message-list 'prompt') is not a list",
    "message_not_dict": "a message is not a dict",
    "role_not_string": "a message's 'role' is missing or not a string",
    "unknown_role": f"a message's role is not one of {', '.join(sorted(ROLES))}",
    "content_not_string": "a message's 'content' is missing or not a string",
    "no_user_turn": "the conversation has no user turn",
    "empty_user_content": "a user turn (or a string prompt) is empty or whitespace only",
    "prompt_wrong_type": "'prompt' is neither a string nor a list of messages",
    "no_reply": "the conversation has no assistant reply after its last user turn",
    "completion_wrong_type": "'completion' is neither a string nor a list of messages",
    "no_assistant_message": "a message-list 'completion' has no assistant message",
}

PART_SEPARATOR = "\n\n"
_SHOWN_ROLE_CHARS = 40


class Problem(NamedTuple):
    """Why a value cannot be used: a key of `REASONS`, and this value's problem in words."""

    reason: str
    message: str


# ------------------------------------------------------------------ checks
def message_problem(message: Any, where: str) -> Problem | None:
    """Why `message` (an item of the field `where`, e.g. "`messages`") is not a valid message, or None."""
    if not isinstance(message, Mapping):
        return Problem("message_not_dict", f"{where} holds {json_type(message)}, not a message object")
    role = message.get("role")
    if not isinstance(role, str):
        return Problem("role_not_string", f"{where} holds a message without a string `role`")
    if role not in ROLES:
        shown = json.dumps(role[:_SHOWN_ROLE_CHARS])  # escapes control characters: safe to print
        roles = ", ".join(sorted(ROLES))
        return Problem("unknown_role", f"{where} holds a message with the unknown role {shown} (roles: {roles})")
    content = message.get("content")
    if isinstance(content, str) or (content is None and role == "assistant" and _calls_tools(message)):
        return None
    if "content" not in message:
        return Problem("content_not_string", f"{where} holds a message without `content`")
    what = json_type(content)
    return Problem("content_not_string", f"{where} holds a message whose `content` is {what}, not a string")


def _calls_tools(message: Mapping[str, Any]) -> bool:
    calls = message.get("tool_calls")
    return isinstance(calls, list | tuple) and len(calls) > 0


def conversation_problem(value: Any, where: str = "`messages`") -> Problem | None:
    """Why `value` is not a valid conversation (messages, a user turn, none empty), or None."""
    if not isinstance(value, list | tuple):
        return Problem("messages_not_list", f"{where} is {json_type(value)}, not a list of messages")
    for message in value:
        problem = message_problem(message, where)
        if problem:
            return problem
    users = [message for message in value if message["role"] == "user"]
    if not users:
        return Problem("no_user_turn", f"{where} has no user turn")
    if any(not message["content"].strip() for message in users):
        return Problem("empty_user_content", f"{where} has an empty user turn")
    return None


def prompt_problem(prompt: Any) -> Problem | None:
    """Why a `prompt` value (not None) is not usable: a non-blank string or a valid conversation."""
    if isinstance(prompt, str):
        return None if prompt.strip() else Problem("empty_user_content", "`prompt` is empty")
    if isinstance(prompt, list | tuple):
        return conversation_problem(prompt, "`prompt`")
    return Problem("prompt_wrong_type", f"`prompt` is {json_type(prompt)}, not a string or a list of messages")


def completion_problem(completion: Any) -> Problem | None:
    """Why a `completion` value (not None) cannot be scored: a string, or messages with an assistant one."""
    if isinstance(completion, str):
        return None
    if not isinstance(completion, list | tuple):
        return Problem(
            "completion_wrong_type", f"`completion` is {json_type(completion)}, not a string or a list of messages"
        )
    for message in completion:
        problem = message_problem(message, "`completion`")
        if problem:
            return problem
    if not any(message["role"] == "assistant" for message in completion):
        return Problem("no_assistant_message", "`completion` has no assistant message")
    return None


def reply_problem(reply: Sequence[Any]) -> Problem | None:
    """Why the reply of a valid conversation (`split_conversation`) has nothing to score, or None."""
    if any(message["role"] == "assistant" for message in reply):
        return None
    return Problem("no_reply", "`messages` has no assistant reply after the last user turn")


# ------------------------------------------------------------------- split
def split_conversation(messages: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """(prompt, reply) of a valid conversation: the messages up to and including the last
    user turn, and the messages after it (empty when the conversation ends with the user)."""
    last_user = max(i for i, message in enumerate(messages) if message["role"] == "user")
    return list(messages[: last_user + 1]), list(messages[last_user + 1 :])


def final_answer(reply: Sequence[Any]) -> str | None:
    """The answer a reply ends with: the content of its last message when that is an assistant
    message with text; None when it ends otherwise (a tool call, a tool result) or is empty."""
    if not reply:
        return None
    last = reply[-1]
    content = last.get("content")
    return content if last.get("role") == "assistant" and isinstance(content, str) else None


# -------------------------------------------------- lenient text extraction
def message_text(message: Any) -> str:
    """The text content of one chat message: a string, a list of content parts, or nothing."""
    if isinstance(message, str):
        return message
    if not isinstance(message, dict):
        return ""
    return content_text(message.get("content"))


def content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal content parts: keep the text parts
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return PART_SEPARATOR.join(parts)
    return ""


def completion_text(completion: Any) -> str:
    """All the assistant text of a completion: a plain string, or every assistant message's content joined."""
    if isinstance(completion, str):
        return completion
    if type(completion) is list and len(completion) == 1:  # the common TRL shape, fast
        message = completion[0]
        if type(message) is dict and message.get("role", "assistant") == "assistant":
            content = message.get("content")
            if type(content) is str:
                return content
    if completion is None:
        return ""
    if isinstance(completion, dict):
        completion = [completion]
    if not isinstance(completion, Sequence):
        return ""
    texts = [
        message_text(message)
        for message in completion
        if isinstance(message, str) or (isinstance(message, dict) and message.get("role", "assistant") == "assistant")
    ]
    return PART_SEPARATOR.join(text for text in texts if text)


def last_user(prompt: Any) -> str | None:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        for message in reversed(prompt):
            if type(message) is dict and message.get("role") == "user":
                content = message.get("content")
                return content if type(content) is str else message_text(message)
    return None


def system_message(prompt: Any) -> str | None:
    if isinstance(prompt, Sequence) and not isinstance(prompt, str):
        for message in prompt:
            if isinstance(message, dict) and message.get("role") == "system":
                return message_text(message)
    return None


def prompt_text(prompt: Any) -> str | None:
    if prompt is None:
        return None
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, Sequence):
        return PART_SEPARATOR.join(t for t in (message_text(m) for m in prompt) if t)
    return None


def column_text(value: Any) -> str | None:
    """A dataset column's value as text: strings as they are, conversations as their assistant text."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list | dict):
        return completion_text(value)
    if isinstance(value, float) and value != value:  # NaN from pandas
        return None
    return str(value)
