"""A running local service as recorded in the stack's state file."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from inferchain.devstack.process import is_running, spawn, start_ticks, terminate, wait_ready


@dataclass(frozen=True)
class RunningService:
    name: str
    pid: int
    url: str
    log_path: Path
    executable: str
    identity: int | None
    ports: dict[str, int]
    started_at: float
    ready_after_s: float
    # A directory only this process writes (Anvil's HOME: its on-disk history), removed once
    # the process has stopped; Anvil leaves it behind on SIGTERM, and it grows with every block.
    scratch: str | None = None

    def alive(self) -> bool:
        return is_running(self.pid, self.identity)

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop this exact process (PID and start time); False if it was already gone."""
        stopped = terminate(self.pid, self.identity, timeout)
        if self.scratch and not self.alive():
            shutil.rmtree(self.scratch, ignore_errors=True)
        return stopped

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "log_path": str(self.log_path)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunningService:
        return cls(**{**data, "log_path": Path(data["log_path"])})


def launch(
    name: str,
    cmd: list[str],
    log_path: Path,
    *,
    env: dict[str, str],
    url: str,
    probe: Callable[[], bool],
    label: str,
    timeout: float,
    executable: str,
    ports: dict[str, int],
    scratch: str | None = None,
) -> RunningService:
    """Spawn ``cmd`` detached, wait until ``probe`` answers, and record it: how Anvil and IPFS
    both start."""
    started = time.time()
    pid = spawn(cmd, log_path, env=env)
    waited = wait_ready(probe, pid, label, log_path, timeout)
    return RunningService(
        name=name,
        pid=pid,
        url=url,
        log_path=log_path,
        executable=executable,
        identity=start_ticks(pid),
        ports=ports,
        started_at=started,
        ready_after_s=round(waited, 3),
        scratch=scratch,
    )
