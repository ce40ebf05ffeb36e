"""A spec as OpenRLHF's `reward_func(queries, prompts, labels)`.

OpenRLHF imports the function from a Python file named by `--reward.remote_url` (formerly
`--remote_rm_url`): a file whose module-level `reward_func` is built here,

    # reward_func.py
    from rewardlang.adapters.openrlhf import RewardFunc

    reward_func = RewardFunc("/abs/path/to/chat.reward", end_tokens=["<|im_end|>", "<|endoftext|>"])

How OpenRLHF calls it (OpenRLHF/OpenRLHF at 3c3be6234e0cb353e76bb8019947db9dfe99fca7; openrlhf
0.11.2 from PyPI calls it the same way):

- `openrlhf/utils/agent.py`, `SingleTurnAgentExecutor.__init__`: a `remote_rm_url` ending
  in `.py` is loaded with `importlib.util.spec_from_file_location` and its `reward_func`
  kept. `execute` then builds, per generated sample, `query =
  hf_tokenizer.decode(prompt_token_ids + action_token_ids, skip_special_tokens=False)`
  (so the query is the prompt followed by the response, special tokens included: the
  end-of-turn token stays at its end), and `_fetch_rewards_via_func` calls
  `reward_func([query], [prompt], [label])` in a thread, one sample per call.
- `openrlhf/datasets/prompts_dataset.py`, `preprocess_data`: `prompt` is the input text,
  through the tokenizer's chat template with `--apply_chat_template` (or
  `--input_template`); `label` is the `--label_key` field ("" without one).
- The result (`examples/python/reward_func.py`): a dict with `rewards` (the reward for
  the advantage), `scores` (for dynamic filtering) and `extra_logs` (logged to wandb /
  TensorBoard), torch tensors. `openrlhf/trainer/ppo_utils/samples_generator.py`,
  `_process_response_into_experience`, makes `info["reward"]` of `rewards` and turns each
  `extra_logs` value into `value.flatten()[0].item()`: one number per sample, kept in the
  experience's `info`; `openrlhf/trainer/ray/ppo_actor.py` merges every `info` tensor into
  the step's logged metrics (averaged over the samples).

What the rules see: the response (the query after the prompt, less any trailing
`end_tokens`) as the completion; OpenRLHF's prompt string as the prompt (chat-templated
when the run applies the template); the label as the column `reference` (`label_column`
renames it). The rewards are the spec's total; `extra_logs` holds each rule's score as
`<spec>/<rule>`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from typing import Any

from rewardlang.adapters import compiled_spec, logged_scores, score_rows

__all__ = ["RewardFunc", "response_of"]

_log = logging.getLogger(__name__)


def response_of(query: str, prompt: str, end_tokens: Sequence[str] = ()) -> str:
    """The response in OpenRLHF's query (prompt + response), less trailing end tokens (in any order)."""
    if prompt and query.startswith(prompt):
        response = query[len(prompt):]
    else:
        # The prompt's tokens decode to other text (a tokenizer that normalises spaces, a prompt
        # truncated to fit): the query is all there is.
        _log.warning("rewardlang: an OpenRLHF query does not start with its prompt; scoring the whole query")
        response = query
    stripped = True
    while stripped:
        stripped = False
        for token in end_tokens:
            if token and response.endswith(token):
                response = response[: -len(token)]
                stripped = True
    return response


class RewardFunc:
    """OpenRLHF's `reward_func`: the spec's total as `rewards` and `scores`, each rule in `extra_logs`."""

    def __init__(
        self, spec: str | os.PathLike[str], *, end_tokens: Sequence[str] = (), label_column: str = "reference"
    ) -> None:
        self.spec = os.fspath(spec)
        self.end_tokens = tuple(end_tokens)
        self.label_column = label_column
        compiled_spec(self.spec)  # a bad spec fails when OpenRLHF loads the file, not at the first step

    def __call__(
        self, queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any
    ) -> dict[str, Any]:
        import torch

        compiled = compiled_spec(self.spec)
        pairs = zip(queries, prompts, strict=True)
        responses = [response_of(query, prompt, self.end_tokens) for query, prompt in pairs]
        columns = [{self.label_column: label} for label in labels]
        scores = score_rows(compiled, responses, list(prompts), columns)
        rewards = torch.tensor(scores.total, dtype=torch.float)
        per_row = [logged_scores(compiled, scores, i) for i in range(len(responses))]
        keys = [f"{compiled.spec.name}/{rule}" for rule in compiled.spec.rule_names]
        extra_logs = {key: torch.tensor([row[key] for row in per_row], dtype=torch.float) for key in keys}
        return {"rewards": rewards, "scores": rewards.clone(), "extra_logs": extra_logs}
