"""The embedding backends a `relevance` rule can run on (`backend torch` / `backend static`).

- `torch` (the default): the sentence-transformers model itself, in PyTorch.
- `static`: a static embedding (one vector per token, averaged; no attention) distilled
  once, locally, from the rule's model with model2vec, and cached outside the checkout
  (`<cache root>/embeddings/static-...`, the cache root of `rules.smollm2`). Roughly a
  hundred times faster, but it tells a real reply from a random one much less well
  (measured figures: docs/performance-embeddings.md); so it is never the default.

Distilling needs `model2vec` and `skeletoken` (`REQUIREMENTS`); loading a distilled model
needs only sentence-transformers (`StaticEmbedding`). Every heavy import happens inside
a function, so importing this module costs nothing and `rewardc check` never pays for it.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

#: The words of the `backend` option (docs/language.md, `relevance`).
EmbeddingBackend = Literal["torch", "static"]
BACKENDS: tuple[str, ...] = get_args(EmbeddingBackend)


@dataclass(frozen=True)
class Requirement:
    """An importable module a backend needs, and the distribution that provides it."""

    module: str
    distribution: str


#: What each backend needs installed beyond the model stack (pinned in pyproject.toml's
#: `static` extra). Not `model2vec[distill]`: that extra pins transformers < 5.4, while
#: model2vec's distillation runs on the transformers rewardlang uses, with `skeletoken` beside it.
REQUIREMENTS: dict[str, tuple[Requirement, ...]] = {
    "torch": (),
    "static": (Requirement("model2vec", "model2vec"), Requirement("skeletoken", "skeletoken")),
}
assert set(REQUIREMENTS) == set(BACKENDS), "every backend word has its requirements"

#: Folder (inside the cache root) holding the distilled models.
CACHE_FOLDER = "embeddings"
#: Written last into a finished distillation; a folder without it is not ours or not finished.
_MARKER = "rewardlang-distillation.json"
#: Bumped when the distillation recipe changes, so older artefacts are not reused.
_FORMAT = 1
#: model2vec's recipe: principal components kept (its default, 256 of MiniLM's 384).
PCA_DIMS = 256


def missing_packages(backend: str) -> list[Requirement]:
    """The requirements of `backend` that are not importable here (found without importing them)."""
    return [req for req in REQUIREMENTS.get(backend, ()) if importlib.util.find_spec(req.module) is None]


def install_command(requirements: list[Requirement]) -> str:
    """`pip install model2vec skeletoken`: short enough for a help line (the pins: the `static` extra)."""
    return "pip install " + " ".join(req.distribution for req in requirements)


# ------------------------------------------------------------------ static
def _source_fingerprint(source: str, local: bool) -> dict[str, object]:
    """What identifies the distilled model's source: its folder and its files' sizes and times."""
    import importlib.metadata

    info: dict[str, object] = {"format": _FORMAT, "backend": "static", "pca_dims": PCA_DIMS, "source": source}
    if local:
        files = sorted(p for p in Path(source).rglob("*") if p.is_file())
        info["files"] = [[str(p.relative_to(source)), p.stat().st_size, int(p.stat().st_mtime)] for p in files]
    for dist in ("model2vec",):
        try:
            info[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            info[dist] = None
    return info


def static_model_dir(source: str, *, local: bool = True, cache_dir: Path | str | None = None) -> Path:
    """A sentence-transformers folder holding the static model distilled from `source`; distilled on first use.

    The folder is `<cache root>/embeddings/static-<name>-<hash>`, keyed by the source
    (its path and its files' sizes and times, or its Hub id), the recipe and model2vec's
    version. The first call distils (about a minute for MiniLM on two cores) into a
    temporary sibling and renames it into place, so concurrent processes and interrupted
    runs never see a half-written folder.
    """
    import hashlib
    import re

    from rewardlang.rules.smollm2 import build_cache_folder, default_cache_root

    root = (Path(cache_dir).expanduser() if cache_dir is not None else default_cache_root()) / CACHE_FOLDER
    fingerprint = _source_fingerprint(source, local)
    digest = hashlib.sha256(json.dumps(fingerprint, sort_keys=True).encode()).hexdigest()[:16]
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(source).name or "model")[:40]
    target = root / f"static-{name}-{digest}"
    if _is_complete(target):
        return target
    if target.exists():  # finished folders get their marker before they are renamed into place
        raise FileExistsError(
            f"{target} exists but is not a finished rewardlang distillation (no {_MARKER}); remove it and run again"
        )

    missing = missing_packages("static")
    if missing:
        raise ImportError(
            "`backend static` distils the static model with model2vec, which is not installed: "
            + install_command(missing)
        )
    return build_cache_folder(target, lambda tmp: _distill(source, tmp), _MARKER, fingerprint, _is_complete)


def _is_complete(folder: Path) -> bool:
    try:
        info = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(info, dict) and info.get("format") == _FORMAT


def _distill(source: str, out: Path) -> None:
    """model2vec's distillation of `source`, saved as a sentence-transformers folder (StaticEmbedding)."""
    import torch
    from model2vec.distill import distill
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import StaticEmbedding

    static = distill(source, device="cpu", pca_dims=PCA_DIMS)
    # float32 weights: model2vec keeps float16 by default, which costs nothing in speed here
    # but would add rounding to every cosine.
    weights = torch.as_tensor(static.embedding.astype("float32"))
    module = StaticEmbedding(static.tokenizer, embedding_weights=weights)
    SentenceTransformer(modules=[module], device="cpu").save(str(out))
