#!/usr/bin/env bash
# The one test command: installs what is missing, lints, then runs the whole suite against
# a real Anvil chain and a real IPFS node that the tests start on free ports.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/inferchain contracts check
exec .venv/bin/pytest "$@"
