"""The `judge` rule's local backend: a causal LM's probabilities of each verdict label.

The judge prompt is the user turn of the model's chat template, with a generation
prompt (a model without a chat template gets the prompt followed by a newline). For
each prompt and each label (a choice such as `"yes"`, or a scale value written as text,
`"1"` .. `"10"`), the sequence `prompt + label` is scored in one forward pass: the sum of
the log-probabilities of the label's tokens is the label's log-likelihood; a softmax over
the labels gives their probabilities, and the score is the expected value of the labels'
0..1 positions. Nothing is generated or parsed, so a verdict can never be unreadable.

The prompts of a call go through the model in chunks (`batch_size` (prompt x label) rows
per chunk, so `batch_size // labels` prompts), longest first, left-padded with explicit
position ids and an attention mask, so that padding does not change a result (batched
equals one at a time, up to float rounding). Each prompt is run once: its last logits give
every label's first token, and labels of several tokens continue from the prompt's
key/value cache in a second, small pass (all labels of the chunk at once, right-padded).
Only the last position's logits of the prompts are computed (`logits_to_keep`).

The model is loaded with transformers once per process (`rules.models.cached_model`),
lazily, on the device TRL trains on (`rules.models.select_device`). The default model
is the packaged SmolLM2-135M-Instruct folder (`rules.smollm2.default_model_dir`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from rewardlang.rules import models

# A rendered prompt is cut to this many characters per token of `max_length` before
# tokenizing (from the left: the end holds the answer and the instruction), so that a
# 1 MB completion costs no more than a long one.
CHARS_PER_TOKEN_CAP = 32


@dataclass(frozen=True)
class LabelVerdict:
    """The local judge's verdict on one prompt: each label's probability and the expected position."""

    probabilities: tuple[float, ...]  # one per label, summing to 1
    score: float  # sum of probability x position, in 0..1


def default_model_path(rule: str | None = None) -> str:
    """The packaged SmolLM2-135M-Instruct folder (converted from its GGUF on first use)."""
    from rewardlang.rules import smollm2

    try:
        return str(smollm2.default_model_dir())
    except (FileNotFoundError, ImportError, FileExistsError, RuntimeError) as error:
        who = f"rule `{rule}`: " if rule else ""
        raise models.ModelLoadError(
            f"{who}the default judge model (SmolLM2-135M-Instruct) is not available: {error}; "
            'or give the rule a model folder: `judge "..." { model "path/to/model" }`'
        ) from error


def causal_lm(name: str | None, *, device: str | None = None, rule: str | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) of a causal LM in eval mode, loaded once per (model, device) per process."""
    path, local = models.resolve_model_name(name if name is not None else default_model_path(rule), rule)
    device = device or models.select_device()
    key = ("causal-lm", path, device, "torch")

    def load() -> tuple[Any, Any]:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            extra: dict[str, Any] = {"local_files_only": True} if local or models.hub_offline() else {}
            tokenizer = AutoTokenizer.from_pretrained(path, **extra)
            dtype = "auto" if str(device).startswith("cuda") else torch.float32
            model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **extra)
        except Exception as error:
            raise models._load_error("judge model", path if local else name or path, rule, local, error) from error
        if tokenizer.pad_token_id is None:
            fallback = tokenizer.eos_token or tokenizer.unk_token
            if fallback is None:
                who = f"rule `{rule}`: " if rule else ""
                raise models.ModelLoadError(f"{who}the tokenizer of `{path}` has no padding, end or unknown token")
            tokenizer.pad_token = fallback
        models._to_device(model, device, f"rule `{rule}`: " if rule else "", name or path)
        model.eval()
        return tokenizer, model

    return models.cached_model(key, load)


class LocalJudge:
    """Scores judge prompts by the label probabilities of a local causal LM. Picklable: the model is transient."""

    def __init__(
        self,
        model: str | None,
        labels: Sequence[str],
        positions: Sequence[float],
        *,
        batch_size: int = 16,
        max_length: int = 2048,
        rule: str | None = None,
    ) -> None:
        if len(labels) != len(positions) or not labels:
            raise ValueError("one position per label, at least one label")
        self.model_name = model
        self.labels = tuple(labels)
        self.positions = tuple(positions)
        self.batch_size = batch_size
        self.max_length = max_length
        self.rule = rule
        self._loaded: tuple[Any, Any, list[list[int]], int] | None = None
        self.prompts_forwarded = 0  # judge prompts run through the model, over this object's life

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_loaded"] = None
        return state

    def _load(self) -> tuple[Any, Any, list[list[int]], int]:
        if self._loaded is None:
            tokenizer, model = causal_lm(self.model_name, rule=self.rule)
            label_ids = [list(tokenizer(label, add_special_tokens=False)["input_ids"]) for label in self.labels]
            for label, ids in zip(self.labels, label_ids, strict=True):
                if not ids:
                    raise models.ModelLoadError(
                        f"rule `{self.rule}`: the judge model's tokenizer gives no token for {label!r}"
                    )
            limit = self.max_length
            positions = getattr(model.config, "max_position_embeddings", None)
            if isinstance(positions, int) and positions > 0:
                limit = min(limit, positions)
            prompt_limit = max(1, limit - max(len(ids) for ids in label_ids))
            self._loaded = (tokenizer, model, label_ids, prompt_limit)
        return self._loaded

    def prompt_ids(self, prompt: str) -> list[int]:
        """The token ids of the judge prompt as the model's user turn, generation prompt included."""
        tokenizer, _, _, prompt_limit = self._load()
        prompt = prompt[-CHARS_PER_TOKEN_CAP * self.max_length :]
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], add_generation_prompt=True, tokenize=False
            )
        else:
            text = prompt + "\n"
        ids = list(tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"])
        return ids[-prompt_limit:]  # too long: the start goes (the end holds the answer and the generation prompt)

    def judge(self, prompts: Sequence[str]) -> list[LabelVerdict]:
        """One verdict per prompt, in order."""
        if not prompts:
            return []
        import torch

        _, model, label_ids, _ = self._load()
        prompt_ids = [self.prompt_ids(p) for p in prompts]
        order = sorted(range(len(prompts)), key=lambda i: -len(prompt_ids[i]))  # little padding within a chunk
        loglik: list[list[float]] = [[] for _ in prompts]
        per_chunk = max(1, self.batch_size // len(label_ids))  # prompts per pass: batch_size (prompt x label) rows
        device = next(model.parameters()).device
        with torch.inference_mode():
            for start in range(0, len(order), per_chunk):
                chunk = order[start : start + per_chunk]
                for row, values in zip(chunk, self._chunk([prompt_ids[i] for i in chunk], label_ids, device),
                                       strict=True):
                    loglik[row] = values
                self.prompts_forwarded += len(chunk)
        return [self._verdict(values) for values in loglik]

    def _chunk(self, prompt_ids: list[list[int]], label_ids: list[list[int]], device: Any) -> list[list[float]]:
        """Each label's log-likelihood after each prompt: the prompts once, then every label on their cache."""
        import torch

        tokenizer, model, _, _ = self._load()
        pad = int(tokenizer.pad_token_id)
        rows, labels = len(prompt_ids), len(label_ids)
        width = max(len(ids) for ids in prompt_ids)
        input_ids = torch.full((rows, width), pad, dtype=torch.long)
        mask = torch.zeros((rows, width), dtype=torch.long)
        for i, ids in enumerate(prompt_ids):  # left padding: every prompt ends at the last column
            input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
            mask[i, width - len(ids) :] = 1
        positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
        longest = max(len(ids) for ids in label_ids)
        out = model(
            input_ids=input_ids.to(device), attention_mask=mask.to(device), position_ids=positions.to(device),
            use_cache=longest > 1, logits_to_keep=1,
        )
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)  # (rows, vocab): each label's first token
        values = [[float(first[i, ids[0]]) for ids in label_ids] for i in range(rows)]
        if longest == 1:  # single-token labels (`"yes"`, `"1"`..`"9"`): the prompts' pass is all it takes
            return values
        # The labels' later tokens: each (prompt, label) row continues its prompt's cache.
        # `cache` in transformers 5 (reading `past_key_values` there warns), `past_key_values` before.
        cache = out.cache if "cache" in out else out.past_key_values
        cache.batch_repeat_interleave(labels)
        label_input = torch.full((rows * labels, longest), pad, dtype=torch.long)
        label_mask = torch.zeros((rows * labels, longest), dtype=torch.long)
        for i in range(rows):
            for j, ids in enumerate(label_ids):
                label_input[i * labels + j, : len(ids)] = torch.tensor(ids, dtype=torch.long)
                label_mask[i * labels + j, : len(ids)] = 1  # right padding: after the label, never attended to
        full_mask = torch.cat([mask.repeat_interleave(labels, dim=0), label_mask], dim=1)
        start = positions[:, -1:].repeat_interleave(labels, dim=0) + 1
        label_positions = start + torch.arange(longest).unsqueeze(0)
        logits = model(
            input_ids=label_input.to(device), attention_mask=full_mask.to(device),
            position_ids=label_positions.to(device), use_cache=False, **{_cache_argument(model): cache},
        ).logits.float()
        logprobs = torch.log_softmax(logits, dim=-1)  # position k predicts the label's token k + 1
        for i in range(rows):
            for j, ids in enumerate(label_ids):
                row = logprobs[i * labels + j]
                values[i][j] += sum(float(row[k, token]) for k, token in enumerate(ids[1:]))
        return values

    def _verdict(self, loglik: list[float]) -> LabelVerdict:
        top = max(loglik)
        weights = [math.exp(v - top) for v in loglik]
        total = sum(weights)
        probabilities = tuple(w / total for w in weights)
        score = sum(p * pos for p, pos in zip(probabilities, self.positions, strict=True))
        return LabelVerdict(probabilities, min(1.0, max(0.0, score)))


def _cache_argument(model: Any) -> str:
    """The forward argument taking a key/value cache: `cache` in newer transformers, `past_key_values` before."""
    import inspect

    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
