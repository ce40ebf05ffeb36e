"""The HTTP judge with concurrency vs one request at a time, side by side, against the local test server.

    PYTHONPATH=. .venv/bin/python benchmarks/judge_http_speed.py [--requests 64] [--delay 0.05] [--concurrency 8]

The server is tests/judge_server.py on 127.0.0.1, answering from the tiny random Qwen2 (the
label with the highest log-probability, one batched forward pass per request), after
`--delay` seconds per reply that stand for a model server's latency. The same judge
conversations are sent with `--concurrency` requests in flight and with 1 (sequential),
in one run, on one warm server; every reply must succeed.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # rewardlang from this checkout; the test server

from judge_server import Behaviour, JudgeServer, TinyJudgeModel  # noqa: E402 - after the path
from rewardlang.rules.judge_http import ChatClient, HttpSettings  # noqa: E402 - after the path
from tiny_model import build_tiny_model  # noqa: E402 - after the path

LABELS = ["bad", "okay", "good"]


def judged(count: int) -> list[list[dict[str, str]]]:
    return [
        [
            {"role": "system", "content": "You grade answers. Reply with one word: bad, okay or good."},
            {"role": "user", "content": f"Question {i}: what is the capital of France?\nAnswer: Paris, number {i}."},
        ]
        for i in range(count)
    ]


def timed(server: JudgeServer, concurrency: int, conversations: list[list[dict[str, str]]]) -> float:
    client = ChatClient(HttpSettings(base_url=server.base_url, model="tiny-judge", concurrency=concurrency,
                                     timeout=30, budget=600))
    client.complete(conversations[:concurrency])  # warm: connections open, threads started
    start = time.perf_counter()
    replies = client.complete(conversations)
    seconds = time.perf_counter() - start
    client.close()
    failed = [reply.failure for reply in replies if reply.failure is not None]
    if failed:
        sys.exit(f"{len(failed)} of {len(replies)} requests failed: {sorted(set(failed))}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64, help="judge requests per run (default 64)")
    parser.add_argument("--delay", type=float, default=0.05, help="server latency per reply, seconds (default 0.05)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (default 8)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        model = TinyJudgeModel(build_tiny_model(folder))
        server = JudgeServer(model, Behaviour(labels=LABELS, delay=args.delay)).start()
        try:
            conversations = judged(args.requests)
            concurrent = timed(server, args.concurrency, conversations)
            sequential = timed(server, 1, conversations)
            in_flight = server.counters.max_in_flight
        finally:
            server.stop()

    print("command:", shlex.join([Path(sys.executable).name, *sys.argv]))
    print(f"{args.requests} judge requests, {args.delay:g} s server latency per reply, tiny model answering")
    print(f"concurrency {args.concurrency:>2}  {concurrent:7.2f} s  {args.requests / concurrent:7.1f} requests/s"
          f"  (max in flight at the server: {in_flight})")
    print(f"sequential      {sequential:7.2f} s  {args.requests / sequential:7.1f} requests/s")
    print(f"speed-up        {sequential / concurrent:7.2f}x")


if __name__ == "__main__":
    main()
