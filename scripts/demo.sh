#!/usr/bin/env bash
# The main command: installs what is missing, brings up the local stack (Anvil + IPFS)
# and shows it healthy. Stop it with `.venv/bin/inferchain dev down`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
.venv/bin/inferchain dev up
.venv/bin/inferchain dev status
cat <<'MSG'

The stack is running. Next:
  .venv/bin/inferchain dev status     # health, PIDs, ports, logs
  .venv/bin/inferchain dev down       # stop exactly what `dev up` started
MSG
