"""Measures how long `inferchain dev up` takes until Anvil and IPFS both answer.

Usage: .venv/bin/python scripts/bench_devstack.py [--runs 3]
Each run starts the stack in a fresh state folder on free ports and stops it again.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from inferchain.devstack import DevStack, free_port
from inferchain.settings import DevStackSettings


def one_run() -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="inferchain-bench-") as tmp:
        settings = DevStackSettings(
            state_dir=Path(tmp),
            anvil_port=free_port(),
            ipfs_api_port=free_port(),
            ipfs_gateway_port=free_port(),
            ipfs_swarm_port=free_port(),
        )
        stack = DevStack(settings)
        start = time.perf_counter()
        statuses = stack.up()
        total = time.perf_counter() - start
        try:
            assert all(s.healthy for s in statuses), statuses
            ready = {s.name: s.service.ready_after_s for s in statuses if s.service}
        finally:
            stack.down()
    return {"total": total, **ready}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    runs = [one_run() for _ in range(args.runs)]
    for key in ("total", "anvil", "ipfs"):
        values = [r[key] for r in runs]
        print(f"dev up {key:5}: median {statistics.median(values):.2f}s  max {max(values):.2f}s")


if __name__ == "__main__":
    main()
