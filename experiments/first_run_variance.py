"""Which rules can GRPO learn from on the first run? Each rule's spread within groups.

    .venv/bin/python experiments/first_run_variance.py SPEC [SPEC...] [--prompts 16] [--generations 4]
        [--max_prompt_length 128] [--max_completion_length 48] [--temperature 0.9] [--seed 0]
        [--completions FILE]

Samples the packaged SmolLM2-135M-Instruct on the packaged chitchat prompts exactly as `grpo-train`
prepares them (64 seeded rows, oldest turns trimmed to `--max_prompt_length`), `--generations`
completions per prompt, and scores the same completions with every SPEC. GRPO learns only from
differences within a group (one prompt's completions): a rule whose scores are equal within every
group has no advantage to give, whatever its weight. Printed per rule: the mean, the mean
within-group standard deviation, and the share of groups in which the rule varies at all.
With `--completions FILE`, the sampled prompts and completions are written to FILE (JSON lines), or
read from it when it exists, so that other specs can be scored on the same completions in seconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("specs", nargs="+", type=Path)
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--generations", type=int, default=4)
    parser.add_argument("--max_prompt_length", type=int, default=128)
    parser.add_argument("--max_completion_length", type=int, default=48)
    parser.add_argument("--temperature", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--completions", type=Path, help="JSON lines to write the samples to, or to read them from")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    import rewardlang
    from rewardlang_trainer.data import prepare
    from rewardlang_trainer.defaults import default_dataset, default_model_dir
    from rewardlang_trainer.train import trim_prompts

    compiled = {spec: rewardlang.load(spec) for spec in args.specs}
    model_dir = default_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    dataset, _ = prepare(default_dataset(), None, 64, seed=42)
    dataset = trim_prompts(dataset, tokenizer, args.max_prompt_length)
    torch.set_num_threads(1)  # see grpo-train: two threads on two shared cores are many times slower
    torch.manual_seed(args.seed)

    prompts, completions, lengths, stopped = [], [], [], 0
    start = time.perf_counter()
    if args.completions is not None and args.completions.exists():
        rows = [json.loads(line) for line in args.completions.read_text().splitlines()]
        prompts = [row["prompt"] for row in rows]
        completions = [row["completion"] for row in rows]
        lengths = [row["tokens"] for row in rows]
        stopped = sum(n < args.max_completion_length for n in lengths)
    for index in range(0 if prompts else min(args.prompts, dataset.num_rows)):
        prompt = dataset[index]["prompt"]
        text = tokenizer.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False)
        inputs = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(
                **inputs, do_sample=True, temperature=args.temperature, top_p=1.0, top_k=0,
                max_new_tokens=args.max_completion_length, num_return_sequences=args.generations,
                pad_token_id=tokenizer.eos_token_id,
            )
        new = out[:, inputs["input_ids"].shape[1] :]
        for ids in new.tolist():
            ids = [t for t in ids if t != tokenizer.eos_token_id]
            lengths.append(len(ids))
            stopped += len(ids) < args.max_completion_length
        texts = tokenizer.batch_decode(new, skip_special_tokens=True)
        prompts.extend([prompt] * len(texts))
        completions.extend([[{"role": "assistant", "content": t}] for t in texts])
    seconds = time.perf_counter() - start
    if args.completions is not None and not args.completions.exists():
        rows = zip(prompts, completions, lengths, strict=True)
        args.completions.write_text("".join(
            json.dumps({"prompt": p, "completion": c, "tokens": n}) + "\n" for p, c, n in rows
        ))
    print(f"{len(completions)} completions in {seconds:.0f} s; prompt tokens <= {args.max_prompt_length}, "
          f"completion tokens: mean {statistics.mean(lengths):.1f}, {stopped} of {len(lengths)} stopped before the cap")

    g = args.generations
    for spec, reward in compiled.items():
        scores = reward.score(completions, prompts=prompts)
        print(f"\n{spec}:")
        print(f"  {'rule':<12} {'mean':>6} {'sd in group':>12} {'groups varying':>15}")
        for name, values in [("total", scores.total), *scores.rules.items()]:
            if any(v is None for v in values):  # not applicable here (a `tokens` rule: no completion_ids)
                print(f"  {name:<12} not applicable without completion_ids")
                continue
            numbers = [float(v) for v in values]
            groups = [numbers[i : i + g] for i in range(0, len(numbers), g)]
            sds = [statistics.pstdev(group) for group in groups]
            varying = sum(sd > 1e-9 for sd in sds)
            print(f"  {name:<12} {statistics.mean(numbers):>6.3f} {statistics.mean(sds):>12.3f} "
                  f"{varying:>8} of {len(groups)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
