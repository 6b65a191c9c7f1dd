"""One lifecycle for the long-running loops of the worker and the gateway's indexer.

A service runs ``step()`` in a thread it keeps a reference to, so a crash is logged and
visible in ``failure`` instead of vanishing. ``stop()`` asks it to wind down (``draining``
becomes true, the loop keeps stepping until ``drained()`` or the grace time ends). Both
users retry a failing step (an RPC call, a connection) after a delay that doubles up to a
cap (``Backoff``), so a dead chain is polled gently and a recovered one promptly.
"""

from __future__ import annotations

import logging
import threading
import time
from enum import StrEnum

from inferchain.errors import InferchainError

__all__ = ["Backoff", "Service", "ServiceState", "ServiceStateError"]

log = logging.getLogger(__name__)


class Backoff:
    """Exponential delay between retries, capped, reset on success."""

    def __init__(self, initial: float = 0.2, cap: float = 10.0) -> None:
        self.initial, self.cap = initial, cap
        self._next = initial
        self.failures = 0

    def failed(self) -> float:
        """The delay to wait now; the next one doubles up to the cap."""
        delay, self._next = self._next, min(self._next * 2, self.cap)
        self.failures += 1
        return delay

    def succeeded(self) -> None:
        self._next, self.failures = self.initial, 0


class ServiceStateError(InferchainError, RuntimeError):
    """A service was asked to move between states its lifecycle forbids (started twice)."""


class ServiceState(StrEnum):
    NEW = "new"
    RUNNING = "running"
    DRAINING = "draining"
    STOPPED = "stopped"


_ALLOWED = {
    ServiceState.NEW: {ServiceState.RUNNING, ServiceState.STOPPED},
    ServiceState.RUNNING: {ServiceState.DRAINING, ServiceState.STOPPED},
    ServiceState.DRAINING: {ServiceState.STOPPED},
    ServiceState.STOPPED: set(),
}


class Service:
    """Subclasses implement ``step`` (one unit of work), and ``setup``/``drained``/``teardown``
    where they have something to do."""

    name = "service"

    def __init__(self, interval_s: float, grace_s: float = 0.0) -> None:
        self._interval = interval_s
        self._grace = grace_s
        self._state = ServiceState.NEW
        self._state_lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.failure: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------

    @property
    def state(self) -> ServiceState:
        return self._state

    def _move(self, to: ServiceState) -> None:
        with self._state_lock:
            if to not in _ALLOWED[self._state]:
                raise ServiceStateError(f"{self.name}: cannot go from {self._state} to {to}")
            self._state = to

    def start(self) -> None:
        """Set up in the caller's thread (errors surface here), then loop in a thread."""
        self.setup()
        self._move(ServiceState.RUNNING)
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, *, wait: bool = True, timeout: float | None = None) -> None:
        """Stop taking new work, finish what is in flight within the grace time."""
        with self._state_lock:
            if self._state is ServiceState.RUNNING:
                self._state = ServiceState.DRAINING
            elif self._state is ServiceState.NEW:
                self._state = ServiceState.STOPPED
        self._wake.set()
        if wait:
            self.join(timeout)
            if self.running:
                log.warning("%s did not stop within %.0fs", self.name, timeout or 0.0)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def draining(self) -> bool:
        return self._state is not ServiceState.RUNNING

    @property
    def running(self) -> bool:
        """Whether the loop's thread is alive (false before start, after stop or a crash)."""
        return self._thread is not None and self._thread.is_alive()

    def _main(self) -> None:
        drain_until: float | None = None
        try:
            while True:
                if self._state is ServiceState.DRAINING:
                    drain_until = drain_until or time.monotonic() + self._grace
                    if self.drained() or time.monotonic() >= drain_until:
                        break
                idle = self.step()
                if idle:
                    self._wake.wait(self.idle_wait_s())
                    self._wake.clear()
        except BaseException as exc:  # kept for the owner, and logged
            self.failure = exc
            log.exception("%s crashed", self.name)
        finally:
            try:
                self.teardown()
            finally:
                with self._state_lock:
                    self._state = ServiceState.STOPPED

    # -- to implement ------------------------------------------------------------------

    def setup(self) -> None:
        """Checks and connections before the loop; raise to refuse starting."""

    def step(self) -> bool:
        """One round of work; return True when idle (the loop then sleeps one interval)."""
        raise NotImplementedError

    def idle_wait_s(self) -> float:
        """How long to sleep after an idle step."""
        return self._interval

    def drained(self) -> bool:
        """True when stopping loses nothing (no work in flight)."""
        return True

    def teardown(self) -> None:
        """Persist and close, after the last step."""
