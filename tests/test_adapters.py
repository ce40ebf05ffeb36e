"""verl and OpenRLHF adapters: called as each trainer's own code calls a reward function, they return the
per-rule scores `rewardc score` gives on the same rows.

Neither trainer installs on a CPU machine without GPU builds (verl needs ray, vllm/sglang and
flash-attn; OpenRLHF needs deepspeed, vllm and flash-attn), so each call is rebuilt here line for
line from the trainer's source, at the commits named in `rewardlang/adapters/verl.py` and
`rewardlang/adapters/openrlhf.py`:

- verl `verl/trainer/ppo/reward.py` `get_custom_reward_fn` (load, `partial(_call_with_kwargs, ...)`),
  `verl/utils/import_utils.py` `load_module` (`pkg://`), `verl/workers/reward_manager/naive.py`
  `NaiveRewardManager.__call__` (one call per response) and `batch.py`
  `BatchRewardManager.verify`/`__call__` (one call per batch, numpy object arrays);
- OpenRLHF `openrlhf/utils/agent.py` `SingleTurnAgentExecutor` (`spec_from_file_location`,
  `_fetch_rewards_via_func`: one `[query], [prompt], [label]` call per sample, in a thread) and
  `openrlhf/trainer/ppo_utils/samples_generator.py` `_process_response_into_experience`.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import inspect
import io
import json
from collections import defaultdict
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from rewardlang import cli

np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")

SPEC = """\
reward adapt "adapter demo"
rule brief: length 1..12 words { ramp 8 }
rule correct: equals column reference
rule safety: banned "harmful"
rule echo: overlap to last_user
when data_source = "chat" {
    rule polite: phrases "please", "thank you" { each 0.5  cap 1 }
}
"""
RULES = ["brief", "correct", "safety", "echo", "polite"]

# verl rows: data_source, the prompt (kept in extra_info by the data preparation), the response, the
# ground truth (`reward_model.ground_truth`).
VERL_ROWS = [
    ("gsm8k", "What is 2+2?", "4", "4"),
    ("gsm8k", "What is 3+5?", "The answer is 9, I think, but please check it twice.", "8"),
    ("chat", "Say thank you to the team", "Thank you, team! Please keep going.", ""),
    ("chat", "Explain it", "This is a harmful and very long answer that keeps on going well past the window.", ""),
]

# OpenRLHF rows: the chat-templated prompt (`preprocess_data` with --apply_chat_template), the response
# as generated (ending with the end-of-turn token: the query is decoded with skip_special_tokens=False),
# the label (`--label_key`).
TEMPLATE = "<|im_start|>user\n{}<|im_end|>\n<|im_start|>assistant\n"
OPENRLHF_ROWS = [
    (TEMPLATE.format("What is 2+2?"), "4<|im_end|>", "4"),
    (TEMPLATE.format("What is 3+5?"), "It is 9, thank you for asking.<|im_end|>", "8"),
    (TEMPLATE.format("Say hi"), "Hi there! Hi there! harmful<|im_end|>", "hello"),
]
END = "<|im_end|>"


def _rewardc_rows(tmp_path: Path, spec: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rewardc score --format json`'s rows for `rows`."""
    data = tmp_path / "rows.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli.main(["score", str(spec), "--data", str(data), "--format", "json"]) == 0
    return list(json.loads(out.getvalue())["rows"])


def rewardc_scores(tmp_path: Path, spec: Path, rows: list[dict[str, Any]]) -> list[dict[str, float | None]]:
    """Each row's rule scores from `rewardc score --format json`."""
    return [row["scores"] for row in _rewardc_rows(tmp_path, spec, rows)]


def as_logged(scores: dict[str, float | None]) -> dict[str, float]:
    """What an adapter logs for a row: `<spec>/<rule>`, not applicable as 0."""
    return {f"adapt/{rule}": 0.0 if value is None else value for rule, value in scores.items()}


@pytest.fixture
def spec(tmp_path: Path) -> Path:
    path = tmp_path / "adapt.reward"
    path.write_text(SPEC, encoding="utf-8")
    return path


def verl_reward_fn(spec: Path, name: str) -> Any:
    """`get_custom_reward_fn` for `custom_reward_function: {path: pkg://rewardlang.adapters.verl, name: NAME,
    reward_kwargs: {spec: ..., prompt_key: question}}`."""
    reward_fn_config = {
        "path": "pkg://rewardlang.adapters.verl", "name": name,
        "reward_kwargs": {"spec": str(spec), "prompt_key": "question"},
    }
    module_path = reward_fn_config["path"]
    assert isinstance(module_path, str) and module_path.startswith("pkg://")
    module = importlib.import_module(module_path[len("pkg://"):].replace("/", "."))  # load_module
    raw_fn = getattr(module, name)  # load_extern_object
    reward_kwargs = dict(reward_fn_config.get("reward_kwargs", {}))

    def _call_with_kwargs(raw_fn: Any, extra_kwargs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        merged_kwargs = {**kwargs, **extra_kwargs}
        return raw_fn(*args, **merged_kwargs)

    assert not inspect.iscoroutinefunction(raw_fn)
    return partial(_call_with_kwargs, raw_fn, reward_kwargs)


def verl_rewardc_rows() -> list[dict[str, Any]]:
    return [
        {"prompt": question, "completion": response, "reference": truth, "data_source": source}
        for source, question, response, truth in VERL_ROWS
    ]


def test_verl_naive_reward_manager_call(tmp_path: Path, spec: Path):
    compute_score = verl_reward_fn(spec, "compute_score")
    reward_extra_info: dict[str, list[Any]] = defaultdict(list)
    rewards = []
    for index, (source, question, response, truth) in enumerate(VERL_ROWS):
        # NaiveRewardManager.__call__: the row's extra_info, plus what verl adds to it.
        extra_info = {"split": "train", "index": index, "question": question}
        extra_info["num_turns"] = None
        extra_info["rollout_reward_scores"] = {}
        score = compute_score(data_source=source, solution_str=response, ground_truth=truth, extra_info=extra_info)
        assert isinstance(score, dict)
        reward = score["score"]
        for key, value in score.items():
            reward_extra_info[key].append(value)
        rewards.append(reward)
    expected = rewardc_scores(tmp_path, spec, verl_rewardc_rows())
    for index, scores in enumerate(expected):
        assert {key: values[index] for key, values in reward_extra_info.items() if key != "score"} == as_logged(scores)
    assert expected[0] == {"brief": 1.0, "correct": 1.0, "safety": 1.0, "echo": expected[0]["echo"], "polite": None}
    assert expected[2]["polite"] == 1.0 and expected[3]["safety"] == 0.0
    # The totals are `rewardc score`'s too, and verl's validation metrics average every key.
    assert rewards == pytest.approx(_rewardc_totals(tmp_path, spec, verl_rewardc_rows()))
    for values in reward_extra_info.values():
        assert np.isfinite(np.mean(np.array(values, dtype=float)))


def test_verl_batch_reward_manager_call(tmp_path: Path, spec: Path):
    compute_score = verl_reward_fn(spec, "compute_score_batch")
    # BatchRewardManager.verify: non_tensor_batch fields are numpy object arrays.
    data_sources = np.array([row[0] for row in VERL_ROWS], dtype=object)
    extras = np.array([{"index": i, "question": row[1]} for i, row in enumerate(VERL_ROWS)], dtype=object)
    rollout_reward_scores = [{} for _ in range(len(VERL_ROWS))]
    for i in range(len(VERL_ROWS)):
        extras[i]["rollout_reward_scores"] = rollout_reward_scores[i]
    ground_truths = [row[3] for row in VERL_ROWS]
    responses_str = [row[2] for row in VERL_ROWS]
    scores = compute_score(
        data_sources=data_sources, solution_strs=responses_str, ground_truths=ground_truths, extra_infos=extras
    )
    assert len(scores) == len(VERL_ROWS)
    expected = rewardc_scores(tmp_path, spec, verl_rewardc_rows())
    totals = _rewardc_totals(tmp_path, spec, verl_rewardc_rows())
    for score, rules, total in zip(scores, expected, totals, strict=True):
        assert {key: value for key, value in score.items() if key != "score"} == as_logged(rules)
        assert score["score"] == total
    # __call__: the reward tensor holds each score at its response's last token.
    reward_tensor = torch.zeros((len(VERL_ROWS), 8), dtype=torch.float32)
    for i, score in enumerate(scores):
        reward_tensor[i, 7] = score["score"]
    assert reward_tensor[:, 7].tolist() == pytest.approx(totals)


def test_verl_without_a_spec_says_what_to_set():
    from rewardlang.adapters.verl import compute_score

    with pytest.raises(ValueError, match=r"set custom_reward_function\.reward_kwargs\.spec"):
        compute_score(data_source="x", solution_str="y", ground_truth="z", extra_info={})


def _rewardc_totals(tmp_path: Path, spec: Path, rows: list[dict[str, Any]]) -> list[float]:
    return [row["total"] for row in _rewardc_rows(tmp_path, spec, rows)]


def test_openrlhf_reward_func_file(tmp_path: Path, spec: Path):
    # The user's file named by --reward.remote_url.
    path = tmp_path / "reward_func.py"
    path.write_text(
        "from rewardlang.adapters.openrlhf import RewardFunc\n\n"
        f"reward_func = RewardFunc({str(spec)!r}, end_tokens=[{END!r}])\n",
        encoding="utf-8",
    )
    # SingleTurnAgentExecutor.__init__
    module_spec = importlib.util.spec_from_file_location("reward_func", str(path))
    assert module_spec is not None and module_spec.loader is not None
    reward_module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(reward_module)
    reward_func = reward_module.reward_func

    async def fetch(queries_list: list[str], prompts_list: list[str], labels_list: list[str]) -> list[Any]:
        """`_fetch_rewards_via_func`: chunks of one, each in a thread."""
        batch_size = 1
        num_chunks = (len(queries_list) + batch_size - 1) // batch_size
        tasks = []
        for i in range(num_chunks):
            start_idx, end_idx = i * batch_size, min((i + 1) * batch_size, len(queries_list))
            tasks.append(asyncio.to_thread(
                reward_func, queries_list[start_idx:end_idx], prompts_list[start_idx:end_idx],
                labels_list[start_idx:end_idx],
            ))
        return await asyncio.gather(*tasks)

    infos = []
    for prompt, response, label in OPENRLHF_ROWS:
        query = prompt + response  # decode(prompt_token_ids + action_token_ids, skip_special_tokens=False)
        rewards_info = asyncio.run(fetch([query], [prompt], [label]))[0]
        # execute(): the fields kept, then _process_response_into_experience
        score_value = rewards_info.get("scores")
        if score_value is None:
            score_value = rewards_info.get("rewards")
        reward_val, extra_logs = rewards_info.get("rewards"), rewards_info.get("extra_logs") or {}
        info = {"reward": torch.tensor([reward_val]), "score": torch.tensor([score_value])}
        for key, value in extra_logs.items():
            if isinstance(value, torch.Tensor):
                value = value.flatten()[0].item()
            info[key] = torch.tensor([value])
        infos.append(info)

    rows = [
        {"prompt": prompt, "completion": response[: -len(END)], "reference": label}
        for prompt, response, label in OPENRLHF_ROWS
    ]
    expected = rewardc_scores(tmp_path, spec, rows)
    totals = _rewardc_totals(tmp_path, spec, rows)
    for info, rules, total in zip(infos, expected, totals, strict=True):
        logged = {key: value.item() for key, value in info.items() if key.startswith("adapt/")}
        assert logged == pytest.approx(as_logged(rules), abs=1e-6)  # float32 tensors
        assert info["reward"].item() == pytest.approx(total, abs=1e-6)
        assert info["score"].item() == pytest.approx(total, abs=1e-6)
    assert expected[0]["correct"] == 1.0 and expected[1]["correct"] == 0.0  # the end token was removed
    assert expected[2]["safety"] == 0.0


def test_openrlhf_batch_call_returns_one_value_per_query(spec: Path):
    from rewardlang.adapters.openrlhf import RewardFunc

    reward_func = RewardFunc(spec, end_tokens=[END])
    queries = [prompt + response for prompt, response, _ in OPENRLHF_ROWS]
    result = reward_func(queries, [row[0] for row in OPENRLHF_ROWS], [row[2] for row in OPENRLHF_ROWS])
    assert set(result) == {"rewards", "scores", "extra_logs"}
    assert result["rewards"].shape == (3,) and result["rewards"].dtype == torch.float32
    assert sorted(result["extra_logs"]) == sorted(f"adapt/{rule}" for rule in RULES)
    assert all(value.shape == (3,) for value in result["extra_logs"].values())


def test_openrlhf_response_of():
    from rewardlang.adapters.openrlhf import response_of

    assert response_of("PROMPT answer</s><|endoftext|>", "PROMPT ", ["<|endoftext|>", "</s>"]) == "answer"
    assert response_of("other text", "PROMPT", []) == "other text"  # no prompt at its start: the whole query


def test_real_verl_reward_managers(tmp_path: Path, spec: Path):
    """With verl installed (not a dependency: it pulls ray; scripts/test.sh does not install it), its own
    `get_custom_reward_fn`, `NaiveRewardManager` and `BatchRewardManager` on a real `DataProto`."""
    pytest.importorskip("verl")
    from omegaconf import OmegaConf
    from verl import DataProto
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.workers.reward_manager.batch import BatchRewardManager
    from verl.workers.reward_manager.naive import NaiveRewardManager

    from tiny_model import build_tokenizer

    tokenizer = build_tokenizer()
    prompt_ids = [tokenizer.encode(row[1]) for row in VERL_ROWS]
    response_ids = [[*tokenizer.encode(row[2]), tokenizer.convert_tokens_to_ids("<|im_end|>")] for row in VERL_ROWS]
    width_p, width_r = max(map(len, prompt_ids)), max(map(len, response_ids))
    pad = tokenizer.pad_token_id
    # As verl's rollout lays a batch out: prompts left-padded, responses right-padded, one attention mask.
    prompts = torch.tensor([[pad] * (width_p - len(ids)) + ids for ids in prompt_ids])
    responses = torch.tensor([ids + [pad] * (width_r - len(ids)) for ids in response_ids])
    mask = torch.tensor([
        [0] * (width_p - len(p)) + [1] * len(p) + [1] * len(r) + [0] * (width_r - len(r))
        for p, r in zip(prompt_ids, response_ids, strict=True)
    ])

    def batch() -> Any:
        return DataProto.from_dict(
            tensors={"prompts": prompts, "responses": responses, "attention_mask": mask},
            non_tensors={
                "data_source": np.array([row[0] for row in VERL_ROWS], dtype=object),
                "reward_model": np.array([{"style": "rule", "ground_truth": row[3]} for row in VERL_ROWS],
                                         dtype=object),
                "extra_info": np.array([{"index": i, "question": row[1]} for i, row in enumerate(VERL_ROWS)],
                                       dtype=object),
            },
        )

    expected = rewardc_scores(tmp_path, spec, verl_rewardc_rows())
    totals = _rewardc_totals(tmp_path, spec, verl_rewardc_rows())
    lengths = [len(ids) for ids in response_ids]

    def reward_fn(name: str) -> Any:
        function = {"path": "pkg://rewardlang.adapters.verl", "name": name,
                    "reward_kwargs": {"spec": str(spec), "prompt_key": "question"}}
        # verl 0.9 reads `reward.custom_reward_function`; earlier releases the top-level key (0.9 migrates it).
        return get_custom_reward_fn(OmegaConf.create({"reward": {"custom_reward_function": function},
                                                      "custom_reward_function": function}))

    for name, manager_class in (("compute_score", NaiveRewardManager), ("compute_score_batch", BatchRewardManager)):
        manager = manager_class(tokenizer, num_examine=0, compute_score=reward_fn(name))
        result = manager(batch(), return_dict=True)
        info = result["reward_extra_info"]
        for i, rules in enumerate(expected):
            assert {key: values[i] for key, values in info.items() if key.startswith("adapt/")} == as_logged(rules)
        assert [result["reward_tensor"][i, n - 1].item() for i, n in enumerate(lengths)] == pytest.approx(totals)

    # The reward loop's manager (verl/experimental/reward_loop/reward_manager/naive.py): one row per run_single.
    from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager as LoopNaiveRewardManager

    loop_manager = LoopNaiveRewardManager(OmegaConf.create({}), tokenizer, compute_score=reward_fn("compute_score"))
    data = batch()
    for i, (rules, total) in enumerate(zip(expected, totals, strict=True)):
        found = loop_manager.loop.run_until_complete(loop_manager.run_single(data[i : i + 1]))
        assert found["reward_score"] == total
        assert {k: v for k, v in found["reward_extra_info"].items() if k.startswith("adapt/")} == as_logged(rules)


def test_real_openrlhf_single_turn_executor(tmp_path: Path, spec: Path):
    """With OpenRLHF installed (not a dependency: it pins flash-attn and deepspeed; its `agent` module
    alone imports without them), its own `SingleTurnAgentExecutor` loads the reward file and scores
    each sample after generation. The generator is the only stand-in: an object with vLLM's
    `generate` shape that returns the response's tokens (what the policy wrote)."""
    pytest.importorskip("openrlhf.utils.agent")
    from types import SimpleNamespace

    from openrlhf.utils.agent import SingleTurnAgentExecutor

    from tiny_model import build_tokenizer

    tokenizer = build_tokenizer()
    path = tmp_path / "reward_func.py"
    path.write_text(
        "from rewardlang.adapters.openrlhf import RewardFunc\n\n"
        f"reward_func = RewardFunc({str(spec)!r}, end_tokens=[{END!r}])\n",
        encoding="utf-8",
    )
    executor = SingleTurnAgentExecutor(remote_rm_url=str(path))
    questions = ["What is 2+2?", "What is 3+5?", "Say hi"]
    rows = []
    for question, (_, response, label) in zip(questions, OPENRLHF_ROWS, strict=True):
        # preprocess_data with --apply_chat_template
        prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}], tokenize=False,
                                               add_generation_prompt=True)
        action = tokenizer.encode(response, add_special_tokens=False)

        class Generator:
            async def generate(self, prompt_token_ids: list[int], sampling_params: Any,
                               multi_modal_data: Any = None, action: list[int] = action) -> Any:
                return SimpleNamespace(outputs=[SimpleNamespace(token_ids=action, finish_reason="stop",
                                                                logprobs=None)])

        sampling = SimpleNamespace(max_tokens=64, logprobs=None)
        output = asyncio.run(executor.execute(prompt, label, sampling, 512, tokenizer, Generator()))
        rows.append((prompt, response, label, output))
    expected = rewardc_scores(tmp_path, spec, [
        {"prompt": prompt, "completion": response[: -len(END)], "reference": label}
        for prompt, response, label, _ in rows
    ])
    totals = _rewardc_totals(tmp_path, spec, [
        {"prompt": prompt, "completion": response[: -len(END)], "reference": label}
        for prompt, response, label, _ in rows
    ])
    for (_, _, _, output), rules, total in zip(rows, expected, totals, strict=True):
        assert output["reward"] is not None  # the executor logs and drops a reward function that raised
        assert output["reward"].tolist() == pytest.approx([total])
        logged = {key: value.flatten()[0].item() for key, value in output["extra_logs"].items()}
        assert logged == pytest.approx(as_logged(rules), abs=1e-6)
