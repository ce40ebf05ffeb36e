"""A spec as verl's custom reward function.

    reward:                             # verl 0.9; earlier releases: a top-level custom_reward_function
      custom_reward_function:
        path: pkg://rewardlang.adapters.verl
        name: compute_score             # compute_score_batch for the `batch` manager of earlier releases
        reward_kwargs:
          spec: /abs/path/to/math.reward  # absolute: the function runs in verl's worker processes
          prompt_key: question            # optional: the extra_info field holding the prompt

How verl calls it (volcengine/verl at b178a3cd56f58b2d502255daba591e92833930a7, January 2026;
verl 0.9.1 from PyPI is the same but for where the config lives, `reward.custom_reward_function`,
and the reward loop's managers being the only ones its trainer builds):

- `verl/trainer/ppo/reward.py`, `get_custom_reward_fn`: loads `name` from `path` (`pkg://`
  imports a module, `verl/utils/import_utils.py` `load_module`) and wraps it with
  `partial(_call_with_kwargs, raw_fn, reward_kwargs)`: every call gets `reward_kwargs` as
  keyword arguments. That is how the spec is named here.
- `verl/workers/reward_manager/naive.py` (and the reward loop's
  `verl/experimental/reward_loop/reward_manager/naive.py`): one call per response,
  `compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)`;
  `solution_str` is the response alone, decoded with `skip_special_tokens=True`;
  `ground_truth` is the row's `reward_model["ground_truth"]`; `extra_info` is the row's
  `extra_info` dict plus `num_turns` and `rollout_reward_scores`. A dict result gives the
  reward as `score`, and every key (each rule here) goes to `reward_extra_info`.
- `verl/workers/reward_manager/batch.py`, `BatchRewardManager.verify` (before 0.9): one call per batch,
  `compute_score(data_sources=..., solution_strs=..., ground_truths=..., extra_infos=...,
  **reward_kwargs)` with numpy object arrays for `data_sources` and `extra_infos`; it
  returns one float or dict per response.
- `verl/trainer/ppo/ray_trainer.py`: `reward_extra_info` lands in the batch's
  `non_tensor_batch` (and the rollout dumps), and validation logs each key's mean per data
  source (`val-core/<data_source>/<key>/mean@N`, `process_validation_metrics`).

What the rules see: the response as the completion; the prompt from
`extra_info[prompt_key]` (verl does not pass it: put it there when preparing the data, a
string or a message list; None without it); the ground truth as the column `reference`
(`label_column` renames it); `data_source` as a column (so `when data_source = "gsm8k"`
makes per-source rules); and every other `extra_info` field as a column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rewardlang.adapters import compiled_spec, logged_scores, score_rows

__all__ = ["compute_score", "compute_score_batch"]


def compute_score(
    data_source: Any = None,
    solution_str: str = "",
    ground_truth: Any = None,
    extra_info: Mapping[str, Any] | None = None,
    *,
    spec: str | None = None,
    prompt_key: str = "prompt",
    label_column: str = "reference",
    reward_router_address: Any = None,  # passed by verl's reward loop when a reward model serves; unused
    reward_model_tokenizer: Any = None,
) -> dict[str, float]:
    """verl's per-response contract: `{"score": total, "<spec>/<rule>": score, ...}`."""
    return compute_score_batch(
        [data_source], [solution_str], [ground_truth], [extra_info], spec=spec, prompt_key=prompt_key,
        label_column=label_column,
    )[0]


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
    *,
    spec: str | None = None,
    prompt_key: str = "prompt",
    label_column: str = "reference",
) -> list[dict[str, float]]:
    """verl's batch contract (`reward_model.reward_manager=batch`): one dict per response."""
    if spec is None:
        raise ValueError(
            "rewardlang.adapters.verl needs the spec's path: set custom_reward_function.reward_kwargs.spec"
        )
    compiled = compiled_spec(spec)
    size = len(solution_strs)
    extras = [dict(extra or {}) for extra in (extra_infos if extra_infos is not None else [None] * size)]
    if not len(data_sources) == len(ground_truths) == len(extras) == size:
        raise ValueError(
            f"rewardlang.adapters.verl: {size} solution_strs but {len(data_sources)} data_sources, "
            f"{len(ground_truths)} ground_truths and {len(extras)} extra_infos"
        )
    prompts = [extra.get(prompt_key) for extra in extras]
    columns = [
        extra | {"data_source": source, label_column: truth}
        for extra, source, truth in zip(extras, data_sources, ground_truths, strict=True)
    ]
    scores = score_rows(compiled, solution_strs, prompts if any(p is not None for p in prompts) else None, columns)
    return [{"score": float(scores.total[i])} | logged_scores(compiled, scores, i) for i in range(size)]
