"""Is the IPFS node answering? Asked every few seconds, off the loop, for /health.

With no jobs in flight nothing else talks to IPFS, so without a probe a dead node would
show only when the next job fails. The probe runs in a pool thread: a frozen node costs the
probe its timeout, never the tick.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import Executor, Future

from inferchain.ipfs import IpfsClient

log = logging.getLogger(__name__)

PROBE_EVERY_S = 2.0


class IpfsProbe:
    def __init__(self, ipfs: IpfsClient, pool: Executor, every_s: float = PROBE_EVERY_S) -> None:
        self._ipfs, self._pool, self._every = ipfs, pool, every_s
        self._future: Future[str] | None = None
        self._started = -every_s
        #: Why the last probe failed; None while the node answers (or before the first answer).
        self.error: str | None = None

    def poll(self) -> None:
        """Record a finished probe (logging changes only) and start the next one when due."""
        if self._future is not None and self._future.done():
            exc = self._future.exception()
            self._future = None
            error = None if exc is None else str(exc)
            if error and not self.error:
                log.warning("IPFS node not answering", extra={"error": error})
            elif self.error and not error:
                log.info("IPFS node answering again")
            self.error = error
        if self._future is None and time.monotonic() - self._started >= self._every:
            self._started = time.monotonic()
            self._future = self._pool.submit(self._ipfs.version)
