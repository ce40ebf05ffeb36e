#!/usr/bin/env bash
# Creates .venv (if missing), installs rewardlang with its test and training
# dependencies, and runs the test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# torch first, pinned: the CPU wheel on machines that have it, never the CUDA bundle by accident.
.venv/bin/pip install --quiet --disable-pip-version-check torch==2.13.0
.venv/bin/pip install --quiet --disable-pip-version-check -e ".[train,test]"
exec .venv/bin/python -m pytest -m "not slow" "$@"
