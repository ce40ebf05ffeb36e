#!/usr/bin/env bash
# Installs everything into .venv (scripts/setup.sh) and runs grpo-train; arguments go to grpo-train.
# With none, it trains the packaged SmolLM2-135M-Instruct on chitchat conversations, offline,
# with grpo-train's default spec (trainer/specs/default_chat.reward), into grpo-output/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/grpo-train "$@"
