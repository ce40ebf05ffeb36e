"""A tiny, randomly initialised chat model built offline, for fast trainer tests.

No Hugging Face Hub: the tokenizer is a byte-level BPE trained with `tokenizers`
on a few hundred built-in sentences, wrapped as a `PreTrainedTokenizerFast` with
ChatML special tokens and a ChatML `chat_template` (so conversational prompts
work), and the model is a `Qwen2ForCausalLM` with hidden size 64 and 2 layers
(about 0.1 M parameters besides the embeddings). Both are saved to one folder that
`AutoTokenizer` / `AutoModelForCausalLM.from_pretrained` (and TRL, given the
path) load directly.

    def test_x(tiny_model_dir): GRPOTrainer(model=str(tiny_model_dir), ...)

in any test (tests/conftest.py registers this module as a plugin), or
`build_tiny_model(folder)` outside pytest.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

EOS = "<|im_end|>"
PAD = "<|endoftext|>"
SPECIAL_TOKENS = [PAD, "<|im_start|>", EOS]

# The ChatML template (as Qwen2 / SmolLM2 use it), with a generation prompt.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + (message['content'] or '') + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

_SUBJECTS = ["The cat", "A student", "My friend", "The assistant", "Our team", "The teacher", "A robot", "The weather"]
_VERBS = ["explains", "likes", "finds", "writes about", "asks about", "helps with", "thinks about", "reads"]
_OBJECTS = [
    "the garden", "python code", "a short story", "the capital of France", "healthy food",
    "the solar system", "a math problem", "the history of Rome", "music theory", "the weekend plan",
]
_EXTRA = [
    "I can help with that.", "Here's how it works.", "Let me explain step by step.",
    "That is dangerous and illegal.", "Thank you for asking!", "What is the capital of France?",
    "Paris is the capital of France.", "How do I bake bread?", "Mix flour, water, yeast and salt.",
    "Tell me a joke about computers.", "Why did the computer sneeze? It had a virus.",
    "<think> reasoning here </think> The answer is 42.", '{"answer": 42, "confidence": 0.9}',
    "system user assistant tool",
]


def corpus(size: int = 300, seed: int = 0) -> list[str]:
    """A few hundred deterministic English sentences (plus chat markup) to train the tokenizer on."""
    rng = random.Random(seed)
    sentences = [f"{s} {v} {o}." for s, v, o in itertools.product(_SUBJECTS, _VERBS, _OBJECTS)]
    rng.shuffle(sentences)
    return sentences[: max(0, size - len(_EXTRA))] + _EXTRA


def build_tokenizer(vocab_size: int = 512):  # -> PreTrainedTokenizerFast
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte: no unknown tokens, ever
        show_progress=False,
    )
    tokenizer.train_from_iterator(corpus(), trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        eos_token=EOS,
        pad_token=PAD,
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|im_start|>"],
        chat_template=CHAT_TEMPLATE,
        model_max_length=512,
        padding_side="left",
    )


def build_tiny_model(folder: str | Path, seed: int = 0) -> Path:
    """Build the tokenizer and a random tiny Qwen2 model, save both to `folder`; returns it."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tokenizer()
    eos_id = tokenizer.convert_tokens_to_ids(EOS)
    pad_id = tokenizer.convert_tokens_to_ids(PAD)
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
        bos_token_id=eos_id,
        eos_token_id=eos_id,
        pad_token_id=pad_id,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=eos_id, pad_token_id=pad_id, bos_token_id=eos_id)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny chat model's folder, built once per test session."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"))
