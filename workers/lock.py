"""One worker per key and chain on a machine: an exclusive lock file in the temp directory.

Two workers on one key race for nonces ("nonce too low", reverted transactions) and run
the same jobs twice. The second one to start is refused with the holder's PID. The lock is
named by the chain's genesis hash and the address, not put in the state directory: a
second worker started with another ``--state-dir`` is refused too, while two local chains
(a test Anvil beside the demo's, both chain id 31337) never share a lock. It is ``flock``
on an open file, so the kernel drops it when the holder exits, even by SIGKILL: no stale
lock to clean up. It does not reach across machines; sharing a key between machines is
unsupported (docs/worker.md).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from pathlib import Path

from inferchain.worker.errors import WorkerNotReady


class KeyLock:
    """Held from ``acquire`` until ``release`` (or the process ends)."""

    def __init__(self, path: Path, address: str) -> None:
        self.path, self.address = path, address
        self._fd: int | None = None

    @staticmethod
    def path_for(genesis_hash: bytes, address: str) -> Path:
        """The machine-wide lock of ``address`` on the chain with this genesis block."""
        name = f"inferchain-worker-{genesis_hash.hex()[:16]}-{address.lower()}.lock"
        return Path(tempfile.gettempdir()) / name

    def acquire(self) -> None:
        """Take the lock or raise ``WorkerNotReady`` saying who holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError as exc:  # another user's worker made it
            raise WorkerNotReady(
                f"cannot open the worker lock {self.path} ({exc.strerror}): another user may "
                f"run a worker with {self.address} on this chain"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise WorkerNotReady(
                f"another worker is already running with {self.address} (pid {holder}, lock "
                f"{self.path}); two workers on one key race for nonces and run jobs twice: "
                "stop the other one, or give this one its own key"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None
