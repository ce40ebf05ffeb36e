"""Two real `GRPOTrainer` steps with the tiny model: the one TRL run that the tests of every rule kind share.

    history = train_two_steps(spec.reward_funcs, spec.weights, tiny_model_dir, tmp_path / "out", dataset)
    logged(history, "rewards/<spec>/<rule>/mean")  # one value per step

G=2 completions per prompt, 4 completions a step, 16 new tokens, CPU, no checkpoints, no
report: a test of the reward contract, not of training. Dataset columns are kept
(`remove_unused_columns=False`), so that `column NAME` targets reach the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


def train_two_steps(
    reward_funcs: Sequence[Callable[..., Any]],
    weights: Sequence[float],
    model_dir: Path,
    output_dir: Path,
    dataset: Any,
    max_completion_length: int = 16,
) -> list[dict[str, Any]]:
    """Train two steps on `dataset` (a `datasets.Dataset` with a `prompt` column); TRL's log history."""
    from transformers import AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    args = GRPOConfig(
        output_dir=str(output_dir),
        max_steps=2,
        per_device_train_batch_size=4,  # 2 prompts x 2 generations per step
        num_generations=2,
        max_completion_length=max_completion_length,
        learning_rate=1e-4,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        bf16=False,
        remove_unused_columns=False,  # keep the columns that `column NAME` targets read
        reward_weights=list(weights),
        seed=0,
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    trainer = GRPOTrainer(
        model=str(model_dir),
        processing_class=AutoTokenizer.from_pretrained(model_dir),
        reward_funcs=list(reward_funcs),
        args=args,
        train_dataset=dataset,
    )
    trainer.train()
    assert trainer.state.global_step == 2
    return trainer.state.log_history


def logged(history: list[dict[str, Any]], key: str) -> list[Any]:
    """The values logged under `key`, one per logging step."""
    return [entry[key] for entry in history if key in entry]
