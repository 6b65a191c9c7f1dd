#!/usr/bin/env bash
# Installs everything Inferchain needs into this checkout: a Python venv (.venv) with the
# package and its dev tools, and the npm toolchain (Anvil, solc, OpenZeppelin, js-ipfs)
# from the committed lock file. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "error: Python >= 3.11 is required (found $("$PYTHON" --version 2>&1)); set PYTHON=..." >&2
    exit 1
fi
command -v node >/dev/null || { echo "error: Node.js 20+ and npm are required" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=.venv/.inferchain-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip
    .venv/bin/python -m pip install --quiet -e ".[dev]"
    touch "$stamp"
fi

# --ignore-scripts: nothing here needs an install script (anvil ships as an optional
# per-platform package; js-ipfs loads prebuilt native modules), and none may download.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
echo "installed: .venv (Python) and node_modules (Anvil, solc, OpenZeppelin, js-ipfs)"
