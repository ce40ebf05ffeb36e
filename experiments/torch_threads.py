"""How long sampling takes with each torch thread count, on the packaged model.

    .venv/bin/python experiments/torch_threads.py 2 1 2 1

For each count given: `torch.set_num_threads(N)`, then 4 sampled completions of 32 tokens for
one short chat prompt on the packaged SmolLM2-135M-Instruct, timed. On 2 cores shared with other
work, torch's default of 2 threads was 10-14 times slower than 1 (docs/performance-training.md,
"First run"), which is why grpo-train uses one thread fewer than the cores on a CPU.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from rewardlang_trainer.defaults import default_model_dir

    folder = default_model_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    chat = [{"role": "user", "content": "What did you do at the weekend? I went hiking."}]
    inputs = tokenizer.apply_chat_template(chat, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    for threads in (int(arg) for arg in sys.argv[1:] or ["2", "1"]):
        torch.set_num_threads(threads)
        start = time.perf_counter()
        with torch.no_grad():
            model.generate(**inputs, do_sample=True, temperature=0.9, max_new_tokens=32, num_return_sequences=4,
                           pad_token_id=tokenizer.eos_token_id)
        print(f"{threads} threads: {time.perf_counter() - start:.2f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
