"""grpo-train's prompt trimming (`train.trim_prompts`): each turn tokenized once, the same result.

The result is compared with the binary search it replaced (kept here as the reference: the
trimming before issue 13, which re-tokenized the whole chat log2(turns) times) and with the
turn-by-turn definition, on the tiny ChatML model and on a chat template whose messages do not
each cost the same tokens, where the estimate from per-turn counts is off and the real
tokenizations must correct it. A prompt left with one turn that still does not fit loses the
start of that turn: the reference is the longest token suffix that fits, found by brute force.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("transformers")

from rewardlang_trainer import train


def _length(tokenizer: Any, messages: list[dict[str, Any]]) -> int:
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def binary_search_trim(tokenizer: Any, prompt: list[dict[str, Any]], max_tokens: int) -> list[dict[str, Any]]:
    """The trimming before issue 13, verbatim but for the dataset map."""
    system = [m for m in prompt if m.get("role") in ("system", "developer")]
    turns = [m for m in prompt if m.get("role") not in ("system", "developer")]
    low, high = 0, max(len(turns) - 1, 0)
    while low < high:
        middle = (low + high) // 2
        if _length(tokenizer, system + turns[middle:]) > max_tokens:
            low = middle + 1
        else:
            high = middle
    turns = turns[low:]
    while turns and turns[0].get("role") != "user" and len(turns) > 1:
        turns = turns[1:]
    return cut_reference(tokenizer, system + turns, max_tokens)


def cut_reference(tokenizer: Any, prompt: list[dict[str, Any]], max_tokens: int) -> list[dict[str, Any]]:
    """A prompt with one turn that does not fit: that turn's longest token suffix that fits, if any."""
    system, turn = prompt[:-1], prompt[-1]
    if len([m for m in prompt if m["role"] != "system"]) != 1 or _length(tokenizer, prompt) <= max_tokens:
        return prompt
    if _length(tokenizer, [*system, {**turn, "content": ""}]) >= max_tokens:
        return prompt  # no room for a single token of it
    ids = tokenizer(turn["content"], add_special_tokens=False)["input_ids"]
    for keep in range(len(ids), 0, -1):
        candidate = [*system, {**turn, "content": tokenizer.decode(ids[-keep:]).lstrip("\ufffd")}]
        if _length(tokenizer, candidate) <= max_tokens:
            return candidate
    return prompt


def _prompts() -> list[list[dict[str, str]]]:
    prompts = []
    for size in (1, 2, 3, 8, 21, 60):
        turns = [
            {"role": "user" if i % 2 == 0 else "assistant", "content": "word " * (1 + (7 * i) % 13) + str(i)}
            for i in range(size)
        ]
        prompts += [turns, [{"role": "system", "content": "be brief"}, *turns]]
    # One very long old turn, as in the packaged chats (one is 29,457 tokens).
    prompts.append([{"role": "user", "content": "long " * 3000}, {"role": "assistant", "content": "ok"},
                    {"role": "user", "content": "and now?"}])
    # A last turn that alone is longer than most budgets: its start is cut.
    prompts.append([{"role": "system", "content": "be brief"},
                    {"role": "user", "content": " ".join(f"w{i}é" for i in range(90)) + " the end?"}])
    return prompts


def _check(tokenizer: Any, budgets: tuple[int, ...]) -> None:
    from datasets import Dataset

    prompts = _prompts()
    dataset = Dataset.from_list([{"prompt": p} for p in prompts])
    for max_tokens in budgets:
        trimmed = [row["prompt"] for row in train.trim_prompts(dataset, tokenizer, max_tokens=max_tokens)]
        assert trimmed == [binary_search_trim(tokenizer, p, max_tokens) for p in prompts], max_tokens
        for before, after in zip(prompts, trimmed, strict=True):
            last = {**after[-1], "content": ""}
            if _length(tokenizer, [*after[:-1], last]) < max_tokens:  # room for a token of the last turn
                assert _length(tokenizer, after) <= max_tokens
            if after != before:  # what is left of the last turn is its end
                assert after[-1]["role"] == before[-1]["role"]
                assert before[-1]["content"].endswith(after[-1]["content"])


def test_trimming_matches_the_binary_search_it_replaced(tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    _check(AutoTokenizer.from_pretrained(tiny_model_dir), (1, 20, 45, 80, 200, 10_000))


def test_trimming_drops_what_a_turn_by_turn_scan_drops(tiny_model_dir) -> None:
    """Trimming stops where dropping one turn at a time would, for every prompt and budget."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)

    def length(messages):
        text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return len(tokenizer(text, add_special_tokens=False)["input_ids"])

    def scan(prompt, max_tokens):  # the turn-by-turn definition
        system = [m for m in prompt if m["role"] == "system"]
        turns = [m for m in prompt if m["role"] != "system"]
        while len(turns) > 1 and length(system + turns) > max_tokens:
            turns = turns[1:]
        while turns and turns[0]["role"] != "user" and len(turns) > 1:
            turns = turns[1:]
        return cut_reference(tokenizer, system + turns, max_tokens)

    prompts = []
    for size in (1, 2, 3, 8, 21):
        turns = [
            {"role": "user" if i % 2 == 0 else "assistant", "content": "word " * (1 + (7 * i) % 13) + str(i)}
            for i in range(size)
        ]
        prompts += [turns, [{"role": "system", "content": "be brief"}, *turns]]
    dataset = Dataset.from_list([{"prompt": p} for p in prompts])
    for max_tokens in (1, 20, 45, 80, 200, 10_000):
        trimmed = [row["prompt"] for row in train.trim_prompts(dataset, tokenizer, max_tokens=max_tokens)]
        assert trimmed == [scan(p, max_tokens) for p in prompts], max_tokens


#: A template whose messages cost different tokens by role and position: a counter, a long
#: decoration on assistant turns only, and a header naming how many messages follow.
UNEVEN_TEMPLATE = (
    "conversation of {{ messages | length }} messages\n"
    "{% for m in messages %}"
    "{% if m['role'] == 'assistant' %}<|im_start|>the assistant said, at turn {{ loop.index }}, as follows:\n"
    "{% else %}<|im_start|>{{ m['role'] }}\n{% endif %}"
    "{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def test_a_template_that_is_not_additive_is_still_trimmed_exactly(tiny_model_dir) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    tokenizer.chat_template = UNEVEN_TEMPLATE
    _check(tokenizer, (1, 30, 64, 150, 400, 10_000))


def test_each_turn_is_tokenized_once_plus_a_few_short_checks(tiny_model_dir, monkeypatch) -> None:
    """A 60-turn chat with one 3,000-word turn: no tokenization of the whole chat."""
    from datasets import Dataset
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    prompt = _prompts()[-2][:1] + _prompts()[10]  # the long turn, then 60 short turns
    texts: list[str] = []
    original = type(tokenizer).__call__

    def counting(self: Any, text: Any, *args: Any, **kwargs: Any) -> Any:
        texts.extend([text] if isinstance(text, str) else text)
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(type(tokenizer), "__call__", counting)
    trimmed = train.trim_prompts(Dataset.from_list([{"prompt": prompt}]), tokenizer, max_tokens=100)[0]["prompt"]
    assert trimmed[-1] == prompt[-1] and len(trimmed) < len(prompt)
    characters = sum(len(t) for t in texts)
    whole = len(tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True))
    # The turns once each (the chat's characters) plus a few prompts that fit 100 tokens.
    assert characters < whole + 10 * 100 * 8
    assert not any(len(t) >= whole for t in texts)
