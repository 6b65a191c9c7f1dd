"""Wakes the node's loop when the chain head moves, so new jobs are seen within a poll.

The loop's own tick (``poll_interval_s``) reads the latest block and does all the work; this
thread only asks ``eth_blockNumber`` every ``poll_s`` (one small call, its own connection)
and sets the loop's wake-up event when the number changes. Errors are the loop's to report:
the watcher just asks again at the next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from inferchain.chain import Chain

__all__ = ["HeadWatch"]

log = logging.getLogger(__name__)


class HeadWatch:
    def __init__(self, chain: Chain, poll_s: float, wake: Callable[[], None]) -> None:
        self._chain, self._poll_s, self._wake = chain, poll_s, wake
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-head", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        last: int | None = None
        while not self._stop.wait(self._poll_s):
            try:
                head = int(self._chain.w3.eth.block_number)
            except Exception as exc:  # any RPC failure: the loop's tick reports it
                log.debug("head poll failed", extra={"error": str(exc)})
                continue
            if head != last:
                last = head
                self._wake()
