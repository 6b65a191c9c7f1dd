"""A throwaway Anvil and IPFS node on free ports, for one run of a benchmark or script.

Unlike `inferchain dev up` nothing is recorded: both stop when the block exits.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from inferchain.devstack.anvil import start_anvil
from inferchain.devstack.ipfs import start_ipfs
from inferchain.devstack.process import free_port
from inferchain.devstack.running import RunningService


@contextmanager
def scratch_stack(
    root: Path, *, anvil_log: str = "anvil.log", block_time: float | None = None
) -> Iterator[tuple[RunningService, RunningService]]:
    """(anvil, ipfs) with their logs and IPFS repo under ``root``; IPFS stops first on exit."""
    anvil = start_anvil(free_port(), root / anvil_log, block_time=block_time)
    try:
        ipfs = start_ipfs(
            root / "ipfs",
            root / "ipfs.log",
            api_port=free_port(),
            gateway_port=free_port(),
            swarm_port=free_port(),
        )
    except BaseException:
        anvil.stop()
        raise
    try:
        yield anvil, ipfs
    finally:
        ipfs.stop()
        anvil.stop()
