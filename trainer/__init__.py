"""rewardlang_trainer: the ``grpo-train`` entry point (dataset preparation and TRL GRPO wiring)."""
