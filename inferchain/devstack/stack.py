"""`inferchain dev up | status | down`: the local stack and its state file.

The state file records exactly what `up` started (PID + start time, ports, logs), so `down`
stops those processes and nothing else, and a second `up` reuses services still running and
restarts dead ones on their recorded ports (clients hold those URLs; flags do not move them).
Other tools (the demo's worker and gateway) record their processes here too with
`record`, so one `down` stops the whole local marketplace.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from inferchain import untrusted_json
from inferchain.devstack.anvil import rpc_answers, start_anvil
from inferchain.devstack.errors import DevStackError, PortInUse
from inferchain.devstack.ipfs import api_answers, start_ipfs
from inferchain.devstack.running import RunningService
from inferchain.settings import DevStackSettings

SERVICES = ("anvil", "ipfs")


@dataclass(frozen=True)
class ServiceStatus:
    name: str
    service: RunningService | None
    running: bool
    answering: bool

    @property
    def healthy(self) -> bool:
        return self.running and self.answering


class DevStack:
    def __init__(self, settings: DevStackSettings) -> None:
        self.settings = settings
        self.state_dir = settings.state_dir.resolve()
        self.state_file = self.state_dir / "stack.json"

    def up(self, on_progress: Callable[[str], None] = lambda _msg: None) -> list[ServiceStatus]:
        """Start whatever is not already running and healthy; reuse the rest."""
        with self._locked():
            recorded = self._read_state()
            for name in SERVICES:
                current = self._status(name, recorded.get(name))
                if current.healthy:
                    on_progress(f"{name}: already running (pid {current.service.pid})")  # type: ignore[union-attr]
                    continue
                if current.service is not None and current.running:
                    current.service.stop()  # alive but not answering: restart it
                again = f"restarting on {current.service.url}" if current.service else "starting"
                on_progress(f"{name}: {again}")
                recorded[name] = self._start(name, current.service)
                self._write_state(recorded)  # after each: a later failure still leaves it stoppable
                on_progress(f"{name}: ready in {recorded[name].ready_after_s:.2f}s")
            return [self._status(name, recorded.get(name)) for name in SERVICES]

    def status(self) -> list[ServiceStatus]:
        recorded = self._read_state()
        return [self._status(name, recorded.get(name)) for name in SERVICES]

    def extra_services(self) -> dict[str, RunningService]:
        """Services recorded with `record` (anything besides Anvil and IPFS)."""
        return {n: s for n, s in self._read_state().items() if n not in SERVICES}

    def record(self, service: RunningService) -> None:
        """Add a process started elsewhere, so that `down` stops it too (replaces its name)."""
        if service.name in SERVICES:
            raise ValueError(f"{service.name!r} is managed by the stack itself")
        with self._locked():
            recorded = self._read_state()
            recorded[service.name] = service
            self._write_state(recorded)

    def forget(self, name: str) -> RunningService | None:
        """Stop a recorded extra service and drop it from the state file."""
        with self._locked():
            recorded = self._read_state()
            service = recorded.pop(name, None) if name not in SERVICES else None
            if service is not None:
                service.stop()
                self._write_state(recorded)
            return service

    def down(self) -> list[str]:
        """Stop exactly the recorded processes; return the names of those that were running."""
        with self._locked():
            recorded = self._read_state()
            # Newest first: clients (worker, gateway) go before the chain and IPFS they use.
            stopped = [name for name, service in reversed(recorded.items()) if service.stop()]
            stopped.reverse()  # reported in the order they were started
            self.state_file.unlink(missing_ok=True)
            return stopped

    # -- internals -------------------------------------------------------------------

    def _start(self, name: str, previous: RunningService | None) -> RunningService:
        """Start `name`; a restart keeps the ports it was recorded with (clients use them)."""
        try:
            return self._spawn(name, previous.ports if previous else {})
        except PortInUse as exc:
            if previous is None:
                raise
            raise PortInUse(
                f"{exc} (a restart keeps the recorded ports {previous.ports}: run "
                "`inferchain dev down` first to start on other ports)"
            ) from exc

    def _spawn(self, name: str, recorded_ports: dict[str, int]) -> RunningService:
        s = self.settings
        ports = {
            "rpc": s.anvil_port,
            "api": s.ipfs_api_port,
            "gateway": s.ipfs_gateway_port,
            "swarm": s.ipfs_swarm_port,
        } | recorded_ports
        logs = self.state_dir / "logs"
        if name == "anvil":
            return start_anvil(
                ports["rpc"],
                logs / "anvil.log",
                chain_id=s.chain_id,
                block_time=s.block_time,
                timeout=s.start_timeout,
            )
        return start_ipfs(
            self.state_dir / "ipfs",
            logs / "ipfs.log",
            api_port=ports["api"],
            gateway_port=ports["gateway"],
            swarm_port=ports["swarm"],
            timeout=s.start_timeout,
        )

    @staticmethod
    def _status(name: str, service: RunningService | None) -> ServiceStatus:
        if service is None:
            return ServiceStatus(name, None, running=False, answering=False)
        running = service.alive()
        probe = rpc_answers if name == "anvil" else api_answers
        return ServiceStatus(
            name, service, running=running, answering=running and probe(service.url)
        )

    def _read_state(self) -> dict[str, RunningService]:
        if not self.state_file.exists():
            return {}
        try:
            data = untrusted_json.loads(self.state_file.read_bytes(), source="state file")
        except untrusted_json.UntrustedJsonError as exc:
            raise DevStackError(
                f"{self.state_file} is not valid JSON ({exc.reason}): {exc.detail}; "
                "delete it if no dev stack is running"
            ) from exc
        return {name: RunningService.from_dict(item) for name, item in data.items()}

    def _write_state(self, services: dict[str, RunningService]) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({n: s.to_dict() for n, s in services.items()}, indent=2))
        tmp.replace(self.state_file)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One `up`/`down` at a time per state folder."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with (self.state_dir / "stack.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
