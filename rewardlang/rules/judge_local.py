"""The `judge` rule's local backend: a causal LM's probabilities of each verdict label.

The judge prompt is the user turn of the model's chat template, with a generation
prompt (a model without a chat template gets the prompt followed by a newline). For
each prompt and each label (a choice such as `"yes"`, or a scale value written as text,
`"1"` .. `"10"`), the sequence `prompt + label` is scored in one forward pass: the sum of
the log-probabilities of the label's tokens is the label's log-likelihood; a softmax over
the labels gives their probabilities, and the score is the expected value of the labels'
0..1 positions. Nothing is generated or parsed, so a verdict can never be unreadable.

All (prompt x label) sequences of a call go through the model in chunks of `batch_size`
sequences, longest first, left-padded with explicit position ids and an attention mask,
so that padding does not change a result (batched equals one at a time, up to float
rounding). Only the last positions' logits are computed (`logits_to_keep`).

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
        self.rows_forwarded = 0  # (prompt x label) sequences run through the model, over this object's life

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

        tokenizer, model, label_ids, _ = self._load()
        prompt_ids = [self.prompt_ids(p) for p in prompts]
        sequences = [(row, label, ids + label_ids[label]) for row, ids in enumerate(prompt_ids)
                     for label in range(len(label_ids))]
        sequences.sort(key=lambda item: -len(item[2]))  # little padding within a chunk
        loglik = [[0.0] * len(label_ids) for _ in prompts]
        device = next(model.parameters()).device
        pad = int(tokenizer.pad_token_id)
        keep = max(len(ids) for ids in label_ids) + 1
        with torch.inference_mode():
            for start in range(0, len(sequences), self.batch_size):
                chunk = sequences[start : start + self.batch_size]
                width = max(len(ids) for _, _, ids in chunk)
                input_ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)
                for i, (_, _, ids) in enumerate(chunk):
                    input_ids[i, width - len(ids) :] = torch.tensor(ids, dtype=torch.long)
                    mask[i, width - len(ids) :] = 1
                position_ids = (mask.cumsum(dim=1) - 1).clamp(min=0)
                input_ids, mask, position_ids = input_ids.to(device), mask.to(device), position_ids.to(device)
                logits = model(
                    input_ids=input_ids, attention_mask=mask, position_ids=position_ids,
                    logits_to_keep=min(keep, width),
                ).logits.float()
                logprobs = torch.log_softmax(logits, dim=-1)  # (chunk, kept, vocab); position j predicts token j+1
                kept = logprobs.shape[1]
                for i, (row, label, _) in enumerate(chunk):
                    ids = label_ids[label]
                    # The label's tokens are the sequence's last len(ids); each is predicted one position earlier.
                    offsets = range(kept - 1 - len(ids), kept - 1)
                    loglik[row][label] = float(
                        sum(logprobs[i, o, t].item() for o, t in zip(offsets, ids, strict=True))
                    )
                self.rows_forwarded += len(chunk)
        return [self._verdict(values) for values in loglik]

    def _verdict(self, loglik: list[float]) -> LabelVerdict:
        top = max(loglik)
        weights = [math.exp(v - top) for v in loglik]
        total = sum(weights)
        probabilities = tuple(w / total for w in weights)
        score = sum(p * pos for p, pos in zip(probabilities, self.positions, strict=True))
        return LabelVerdict(probabilities, min(1.0, max(0.0, score)))
