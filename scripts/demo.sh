#!/usr/bin/env bash
# The main command: installs what is missing, then runs the whole local marketplace
# (`inferchain demo up`): Anvil + IPFS, the contracts, four demo models with prices and
# royalties plus the ZK-tier digits-mlp (circuit and verifier built), a worker that also
# proves and the gateway, and a fresh wallet's first eight jobs (one `--verify zk`, paid at
# submission) with their verified results and the money flow. Re-runnable: a second run reuses what runs.
# Stop everything with `.venv/bin/inferchain dev down`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
exec .venv/bin/python -m inferchain.demo up "$@"
