"""One start/stop lifecycle for the worker's long-running parts (backoff: `inferchain.service`).

A service runs ``step()`` in a thread it keeps a reference to, so a crash is logged and
visible in ``failure`` instead of vanishing. ``stop()`` asks it to wind down (``draining``
becomes true, the loop keeps stepping until ``drained()`` or the grace time ends).
"""

from __future__ import annotations

import logging
import threading
import time
from enum import StrEnum

from inferchain.service import Backoff
from inferchain.worker.errors import IllegalTransition

__all__ = ["Backoff", "Service", "ServiceState"]

log = logging.getLogger(__name__)


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
    """Subclasses implement ``setup``, ``step`` (one unit of work) and ``drained``."""

    name = "service"

    def __init__(self, interval_s: float, grace_s: float) -> None:
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
                raise IllegalTransition(f"{self.name}: cannot go from {self._state} to {to}")
            self._state = to

    def start(self) -> None:
        """Set up in the caller's thread (errors surface here), then loop in a thread."""
        self.setup()
        self._move(ServiceState.RUNNING)
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, *, wait: bool = True) -> None:
        """Stop taking new work, finish what is in flight within the grace time."""
        with self._state_lock:
            if self._state is ServiceState.RUNNING:
                self._state = ServiceState.DRAINING
            elif self._state is ServiceState.NEW:
                self._state = ServiceState.STOPPED
        self._wake.set()
        if wait:
            self.join()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def draining(self) -> bool:
        return self._state is not ServiceState.RUNNING

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
