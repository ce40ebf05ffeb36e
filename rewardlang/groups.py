"""Group-aware rules (`brevity`, `diversity`): the scoring order they need, and where TRL splits groups.

A group rule scores a completion against the other completions of its prompt
(`Batch.groups`). `brevity { correct RULE }` also reads RULE's scores, so the
compiler scores RULE first (`scoring_order`) and takes the default threshold,
the highest score RULE can give, from RULE (`bind_thresholds`).

Under TRL 1.16 each rank scores only its share of a generation batch:
`RepeatSampler` yields each prompt index `num_generations` times in a row, and
accelerate hands rank r the r-th slice of `per_device_train_batch_size *
steps_per_generation` consecutive rows. A prompt's group is whole on one rank
exactly when that slice size is a multiple of `num_generations`;
`group_split_warning` says so at grpo-train start-up (docs/language.md §12.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rewardlang import ast, codes
from rewardlang.kinds.brevity import BrevityRule, BrevityScorer
from rewardlang.registry import kind_of, score_range
from rewardlang.rules.base import RuleScorer
from rewardlang.source import NO_SPAN


def dependencies(rule: ast.RuleBase) -> tuple[str, ...]:
    """The rules whose scores `rule` reads: `brevity`'s `correct RULE`."""
    if isinstance(rule, BrevityRule) and rule.correct is not None:
        return (rule.correct.rule,)
    return ()


def scoring_order(spec: ast.Spec, scorers: Mapping[str, RuleScorer]) -> dict[str, RuleScorer]:
    """`scorers` with every rule after the rules it reads, in spec order otherwise.

    The checks refuse chains and cycles (RL146); this order stays defined on them
    anyway (a rule already being placed is not waited for).
    """
    by_name = {rule.name: rule for rule in spec.rules}
    ordered: dict[str, RuleScorer] = {}
    placing: set[str] = set()

    def place(name: str) -> None:
        if name in ordered or name in placing or name not in scorers:
            return
        placing.add(name)
        for dependency in dependencies(by_name[name]):
            place(dependency)
        ordered[name] = scorers[name]

    for name in scorers:
        place(name)
    return ordered


def bind_thresholds(spec: ast.Spec, scorers: Mapping[str, RuleScorer]) -> None:
    """Give each `correct RULE` written without a threshold `>=` the highest score RULE can give."""
    by_name = {rule.name: rule for rule in spec.rules}
    for scorer in scorers.values():
        if not isinstance(scorer, BrevityScorer) or scorer.rule.correct is None:
            continue
        correct = scorer.rule.correct
        if correct.threshold is None and correct.rule in by_name:
            scorer.threshold = score_range(by_name[correct.rule])[1]


def has_group_rules(spec: ast.Spec) -> bool:
    return any(kind_of(rule.kind).group for rule in spec.rules)


def group_split_warning(spec: ast.Spec, training_args: Any) -> str | None:
    """RL225, as grpo-train prints it, when a rank may score part of a prompt's group; None when groups are whole.

    `training_args` is TRL's `GRPOConfig` after its own checks: `steps_per_generation` and
    `generation_batch_size` (`per_rank` x the number of processes) are set.
    """
    if not has_group_rules(spec):
        return None
    generations = int(training_args.num_generations)
    per_rank = int(training_args.per_device_train_batch_size) * int(training_args.steps_per_generation)
    num_processes = int(training_args.generation_batch_size) // per_rank
    names = ", ".join(f"`{rule.name}`" for rule in spec.rules if kind_of(rule.kind).group)
    if generations < 2:
        reason = f"num_generations is {generations}: every group holds one completion"
        help = "group rules compare the completions of one prompt: use num_generations of 2 or more"
    elif num_processes > 1 and per_rank % generations:
        reason = (f"each of the {num_processes} processes scores {per_rank} completions "
                  f"(per_device_train_batch_size x steps_per_generation), not a multiple of "
                  f"num_generations ({generations}): a prompt's group can be split between processes")
        help = ("make per_device_train_batch_size x steps_per_generation a multiple of num_generations; "
                "a split group is scored as the smaller groups each process holds")
    else:
        return None
    diagnostic = codes.RL225(NO_SPAN, rules=names, reason=reason, help=help)
    return f"grpo-train: warning[{diagnostic.code}]: {diagnostic.message}\n  = help: {diagnostic.help}"
