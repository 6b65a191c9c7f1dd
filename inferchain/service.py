"""Pieces shared by the long-running loops of the worker and the gateway.

Both retry a failing step (an RPC call, a connection) after a delay that doubles up to a
cap, so a dead chain is polled gently and a recovered one promptly.
"""

from __future__ import annotations

__all__ = ["Backoff"]


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
