"""Start, probe and stop detached service processes, touching only PIDs we recorded."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from inferchain.devstack.errors import PortInUse, ServiceFailed


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_port_free(port: int, service: str, flag: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            raise PortInUse(
                f"{service} needs 127.0.0.1:{port} but it is in use by another process; "
                f"stop that process or choose another port with {flag}"
            ) from exc


def spawn(cmd: list[str], log_path: Path, env: dict[str, str] | None = None) -> int:
    """Start `cmd` in its own session (so a Ctrl-C in our terminal does not reach it)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    return proc.pid


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot: with the PID, a unique identity.

    The command line is no identity: js-ipfs rewrites its own process title.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(") ", 1)[1].split()[19])


def is_running(pid: int, identity: int | None = None) -> bool:
    """True when `pid` is alive, not a zombie, and (if given) still the process we started."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # some other user's process: never ours
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except OSError:
        return True  # no /proc here: trust the signal probe
    if state == "Z":
        _reap(pid)
        return False
    return identity is None or start_ticks(pid) == identity


def terminate(pid: int, identity: int | None = None, timeout: float = 10.0) -> bool:
    """SIGTERM, then SIGKILL after `timeout`; False when the process was already gone."""
    if not is_running(pid, identity):
        return False
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid, identity):
            return True
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while is_running(pid, identity):
        time.sleep(0.05)
    return True


def wait_ready(
    probe: Callable[[], bool], pid: int, service: str, log_path: Path, timeout: float
) -> float:
    """Poll `probe` until it answers; fail early if the process dies. Returns seconds waited."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if probe():
            return time.monotonic() - start
        if not is_running(pid):
            raise ServiceFailed(f"{service} exited during start-up; see its log: {log_path}")
        time.sleep(0.05)
    terminate(pid)
    raise ServiceFailed(f"{service} did not answer within {timeout:.0f}s; see its log: {log_path}")


def _reap(pid: int) -> None:
    """Collect a zombie child of ours (tests start services in-process)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
