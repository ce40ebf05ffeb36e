#!/usr/bin/env bash
# Installs everything into .venv (scripts/setup.sh), lints (ruff, mypy: configured in pyproject.toml)
# and runs the test suite; arguments go to pytest. A finding of either linter fails the run, and so
# does a test run that wrote into the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

# The report's browser test (tests/test_report_browser.py) runs Debian's headless Chromium and its driver.
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
    else
        echo "scripts/test.sh: chromium and chromedriver are missing; the browser test will fail:" \
            "sudo apt-get install chromium chromium-driver" >&2
    fi
fi

.venv/bin/ruff check
.venv/bin/mypy

# No __pycache__ folders in the checkout: the project's few modules compile in memory (the
# installed packages keep the byte code pip wrote for them).
export PYTHONDONTWRITEBYTECODE=1

# Every file git sees besides .venv, ignored ones included: what the suite must leave as it was.
checkout_files() {
    git status --porcelain --ignored --untracked-files=all -- . ':(exclude).venv'
}
in_git=false
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    in_git=true
    before=$(checkout_files)
fi

.venv/bin/python -m pytest -m "not slow" "$@"

if $in_git; then
    after=$(checkout_files)
    if [[ "$after" != "$before" ]]; then
        echo "scripts/test.sh: the test run wrote into the checkout (files new or changed during the run):" >&2
        diff <(echo "$before") <(echo "$after") | grep '^>' >&2 || true
        exit 1
    fi
fi
