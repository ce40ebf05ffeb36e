"""`classifier "MODEL"`: a sequence-classification reward model's output for one label.

The model (a local Transformers folder, or a Hub id for users who have the Hub)
is loaded with `AutoModelForSequenceClassification` + `AutoTokenizer` on first use,
once per process (`rules.models`), on the device TRL trains on.

- `label`: a class index, or a class name looked up in the model's `id2label`
  (exactly, then ignoring case); an unknown name or an index beyond the model's
  classes is a clear error naming the rule and the known labels.
- `activation`: `sigmoid` (default) of the label's logit, `softmax` over the
  classes, or `none` (the raw logit; the compiler clamps it to `LOGIT_BOUND`).
- `context`: `none` scores the text alone; `last_user` / `prompt` score the pair
  (context, text) as reward models trained on (question, answer) pairs expect.
  `None` where the context is missing.
- `batch_size` inputs per forward pass, sorted by length (little padding);
  `max_length` tokens at most per input, pair truncation `longest_first` (the
  longer side loses tokens first). `max_length` is lowered to what the model can
  take (`max_position_embeddings`, the tokenizer's `model_max_length`).

Texts are cut to `CHARS_PER_TOKEN_CAP * max_length` characters before tokenizing,
so a 1 MB completion costs no more than a long one. Distinct (context, text)
inputs are scored once per call.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from rewardlang.kind import Kind
from rewardlang.nodes import BatchSize, ModelName, RuleBase, Target, Text
from rewardlang.rules import models
from rewardlang.rules.base import LazyModelScorer
from rewardlang.runtime import Batch

CHARS_PER_TOKEN_CAP = 32
# With `activation none` the score is the raw logit, clamped to this bound.
LOGIT_BOUND = 100.0
_TARGETS = {"last_user": Target(kind="last_user"), "prompt": Target(kind="prompt")}

Activation = Literal["sigmoid", "softmax", "none"]
Context = Literal["none", "last_user", "prompt"]


class ClassifierRule(RuleBase):
    kind: Literal["classifier"]
    model: ModelName
    label: Annotated[int, Field(ge=0, le=100_000)] | Text = 0
    activation: Activation = "sigmoid"
    context: Context = "none"
    batch_size: BatchSize = 16
    max_length: Annotated[int, Field(ge=8, le=1_000_000)] = 512


class ClassifierScorer(LazyModelScorer):
    _transient = ("_model", "_tokenizer")

    def __init__(self, rule: ClassifierRule):
        super().__init__(rule)
        self.rule: ClassifierRule = rule
        self._tokenizer: Any = None
        self._label_index: int | None = None
        self._max_length: int | None = None
        self.texts_scored = 0

    # ------------------------------------------------------------ model
    def _load(self) -> tuple[Any, Any]:
        if self._model is None or self._tokenizer is None:
            tokenizer, model = models.sequence_classifier(self.rule.model, rule=self.rule.name)
            self._label_index = label_index(model.config, self.rule.label, self.rule.name)
            self._max_length = effective_max_length(self.rule.max_length, model.config, tokenizer)
            self._tokenizer, self._model = tokenizer, model
        return self._tokenizer, self._model

    # ---------------------------------------------------------- scoring
    def score(self, batch: Batch) -> list[float | None]:
        rule = self.rule
        texts = batch.texts(rule.scope)
        if rule.context == "none":
            contexts: list[str | None] = [None] * batch.size
        else:
            contexts = batch.targets(_TARGETS[rule.context])
        inputs: dict[tuple[str | None, str], int] = {}  # distinct input -> position
        rows: list[tuple[str | None, str] | None] = []
        for text, context in zip(texts, contexts, strict=True):
            if rule.context != "none" and context is None:
                rows.append(None)
                continue
            item = (context, text)
            inputs.setdefault(item, len(inputs))
            rows.append(item)
        if not inputs:
            return [None] * batch.size
        values = self._predict(list(inputs))
        return [None if item is None else values[inputs[item]] for item in rows]

    def _predict(self, items: list[tuple[str | None, str]]) -> list[float]:
        import torch

        tokenizer, model = self._load()
        assert self._label_index is not None and self._max_length is not None
        cap = CHARS_PER_TOKEN_CAP * self._max_length
        items = [(None if c is None else c[:cap], t[:cap]) for c, t in items]
        order = sorted(range(len(items)), key=lambda i: -(len(items[i][1]) + len(items[i][0] or "")))
        values: list[float] = [0.0] * len(items)
        device = next(model.parameters()).device
        size = self.rule.batch_size
        with torch.inference_mode():
            for start in range(0, len(order), size):
                chunk = order[start : start + size]
                texts = [items[i][1] for i in chunk]
                contexts = [items[i][0] or "" for i in chunk]
                encoded = tokenizer(
                    *((contexts, texts) if self.rule.context != "none" else (texts,)),
                    padding=True,
                    truncation="longest_first",
                    max_length=self._max_length,
                    return_tensors="pt",
                )
                _never_empty(encoded, tokenizer)
                encoded = {k: v.to(device) for k, v in encoded.items()}
                logits = model(**encoded).logits.float()
                if logits.dim() == 1:
                    logits = logits.unsqueeze(-1)
                if self.rule.activation == "softmax":
                    out = torch.softmax(logits, dim=-1)[:, self._label_index]
                elif self.rule.activation == "sigmoid":
                    out = torch.sigmoid(logits[:, self._label_index])
                else:
                    out = logits[:, self._label_index]
                for i, value in zip(chunk, out.tolist(), strict=True):
                    values[i] = value
        self.texts_scored += len(items)
        return values

    def explain(self, batch: Batch, index: int) -> str:
        value = self.score(batch)[index]
        if value is None:
            return f"no {self.rule.context} context: not applicable"
        return f"label {self.rule.label} ({self.rule.activation}) {value:.3f}"


def label_index(config: Any, label: int | str, rule: str) -> int:
    """The class index of `label` (an index, or a name from the model's `id2label`)."""
    count = int(getattr(config, "num_labels", 0) or len(getattr(config, "id2label", {}) or {}) or 1)
    names = {int(i): str(name) for i, name in (getattr(config, "id2label", None) or {}).items()}
    if isinstance(label, int):
        if 0 <= label < count:
            return label
        raise models.ModelLoadError(f"rule `{rule}`: label {label} is out of range: the model has {count} classes")
    exact = [i for i, name in names.items() if name == label]
    ignoring_case = [i for i, name in names.items() if name.casefold() == label.casefold()]
    for found in (exact, ignoring_case):
        if len(found) == 1:
            return found[0]
    known = ", ".join(f"{i}: {name!r}" for i, name in sorted(names.items())) or "none"
    raise models.ModelLoadError(f"rule `{rule}`: the model has no label named {label!r} (its labels: {known})")


def effective_max_length(wanted: int, config: Any, tokenizer: Any) -> int:
    """`max_length`, lowered to what the model and tokenizer can take."""
    limits = [wanted]
    positions = getattr(config, "max_position_embeddings", None)
    if isinstance(positions, int) and positions > 0:
        # BERT-like models reserve nothing; RoBERTa-like ones offset positions by padding_idx + 1.
        offset = (
            (getattr(config, "pad_token_id", None) or 0) + 1
            if config.model_type in {"roberta", "xlm-roberta", "camembert"}
            else 0
        )
        limits.append(max(8, positions - offset))
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 10_000_000:
        limits.append(model_max)
    return min(limits)


def _never_empty(encoded: Any, tokenizer: Any) -> None:
    """A tokenizer without special tokens gives no token for an empty text; give it one (the pad token)."""
    import torch

    ids = encoded["input_ids"]
    if ids.shape[1] == 0:
        for name in list(encoded.keys()):
            encoded[name] = torch.zeros((ids.shape[0], 1), dtype=encoded[name].dtype)
        encoded["input_ids"][:] = tokenizer.pad_token_id
    mask = encoded.get("attention_mask")
    if mask is None:
        return
    empty = mask.sum(dim=1) == 0
    if bool(empty.any()):
        encoded["attention_mask"][empty, 0] = 1
        encoded["input_ids"][empty, 0] = tokenizer.pad_token_id


def score_range(rule: ClassifierRule) -> tuple[float, float]:
    return (-LOGIT_BOUND, LOGIT_BOUND) if rule.activation == "none" else (0.0, 1.0)


KIND = Kind(
    model=ClassifierRule,
    arguments=("model",),
    template="classifier {model}",
    scorer=ClassifierScorer,
    summary="a sequence-classification reward model's output for one `label`",
    range_doc="0..1, or -100..100 with `activation none`",
    score_range=score_range,
)
