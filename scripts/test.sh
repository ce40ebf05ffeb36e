#!/usr/bin/env bash
# Installs everything into .venv (scripts/setup.sh) and runs the test suite; arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m pytest -m "not slow" "$@"
