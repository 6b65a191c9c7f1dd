#!/usr/bin/env bash
# The one test command: installs what is missing, lints (ruff, then the import layers of
# pyproject.toml), runs the whole suite against a real Anvil chain and a real IPFS node
# that the tests start on free ports. Slither runs first (skip it while iterating with
# INFERCHAIN_SKIP_SLITHER=1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python scripts/lint_imports.py
.venv/bin/inferchain contracts check
if [ -z "${INFERCHAIN_SKIP_SLITHER:-}" ]; then
    .venv/bin/python scripts/slither.py
fi
exec .venv/bin/pytest "$@"
