"""Job inputs from IPFS, fetched before the claim, in threads of their own, into a bounded cache.

A worker must not claim what it cannot serve: a claimed job it cannot finish is slashed.
So a job is claimed only once its input is here: its bytes, verified against the on-chain
CID, or a refusal, when the requester got it wrong (no valid CID, a directory or another
non-file DAG, larger than the limit); a refusal is reported with ``reportFailure`` right
after the claim (requester refunded, no slash). Anything else (no node has the CID, IPFS
down, a node serving wrong bytes) is transient: the CID is retried with capped backoff
and its jobs stay unclaimed; if it never appears, the request deadline passes and the
requester takes the price back with ``expire``.

Fetches never block the tick: a CID no node has costs one thread for the IPFS timeout, and
retries take at most half the threads, so fresh inputs never wait behind missing ones.
Each finished fetch calls ``on_done`` (the node wakes its loop), so a job is claimed the
moment its input is here rather than at the next tick.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from inferchain.bundle import InvalidInput
from inferchain.ipfs import Cid, InvalidCid, IpfsTooLarge, UnsupportedDag
from inferchain.worker.seams import InputSource

#: Bytes of a fetched input, or why the requester's input cannot be run.
Outcome = bytes | InvalidInput
RETRY_CAP_S = 60.0


@dataclass
class _Failed:
    attempts: int
    retry_at: float


class InputFetcher:
    def __init__(
        self,
        ipfs: InputSource,
        *,
        timeout_s: float,
        max_bytes: int,
        cache_bytes: int,
        threads: int = 8,
        on_done: Callable[[], None] | None = None,
    ) -> None:
        self._ipfs = ipfs
        self._on_done = on_done
        self._timeout, self._max = timeout_s, max_bytes
        self._cache_bytes = cache_bytes
        self._threads = threads
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="worker-fetch")
        self._cache: OrderedDict[bytes, Outcome] = OrderedDict()
        self._cached = 0
        self._running: dict[bytes, Future[Outcome]] = {}
        self._failed: dict[bytes, _Failed] = {}
        self._new_failures: list[tuple[bytes, Exception, int]] = []

    def want(self, cids: Iterable[bytes]) -> None:
        """Start fetching, in order, each CID not cached, in flight or backing off."""
        self._collect()
        now = time.monotonic()
        for cid in cids:
            if len(self._running) >= self._threads:
                return
            if cid in self._cache or cid in self._running:
                continue
            failed = self._failed.get(cid)
            if failed is not None and (now < failed.retry_at or self._retries_full()):
                continue
            future = self._pool.submit(self._fetch, cid)
            self._running[cid] = future
            future.add_done_callback(self._finished)

    def get(self, cid: bytes) -> Outcome | None:
        """The input's bytes or refusal, once fetched; None while unknown."""
        self._collect()
        outcome = self._cache.get(cid)
        if outcome is not None:
            self._cache.move_to_end(cid)
        return outcome

    def failures(self) -> list[tuple[bytes, Exception, int]]:
        """Transient failures finished since the last call: (CID, error, attempts so far)."""
        self._collect()
        out, self._new_failures = self._new_failures, []
        return out

    def retain(self, cids: set[bytes]) -> None:
        """Forget the failures of inputs no job needs any more."""
        self._failed = {cid: f for cid, f in self._failed.items() if cid in cids}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    # -- internals -----------------------------------------------------------------------

    def _finished(self, _future: Future[Outcome]) -> None:
        if self._on_done is not None:
            self._on_done()

    def _retries_full(self) -> bool:
        """Retries may take half the threads, so fresh inputs never wait behind them."""
        return 2 * sum(1 for cid in self._running if cid in self._failed) >= self._threads

    def _collect(self) -> None:
        for cid, future in list(self._running.items()):
            if not future.done():
                continue
            del self._running[cid]
            error = future.exception()
            if isinstance(error, Exception):
                failed = self._failed.setdefault(cid, _Failed(0, 0.0))
                failed.attempts += 1
                failed.retry_at = time.monotonic() + min(2.0 ** (failed.attempts - 1), RETRY_CAP_S)
                self._new_failures.append((cid, error, failed.attempts))
            else:
                self._failed.pop(cid, None)
                self._store(cid, future.result())

    def _store(self, cid: bytes, outcome: Outcome) -> None:
        self._cache[cid] = outcome
        self._cached += len(outcome) if isinstance(outcome, bytes) else 0
        while self._cached > self._cache_bytes and len(self._cache) > 1:
            _, evicted = self._cache.popitem(last=False)
            self._cached -= len(evicted) if isinstance(evicted, bytes) else 0

    def _fetch(self, raw: bytes) -> Outcome:
        """The input or its refusal; raises what is transient (IPFS errors, and bugs)."""
        try:
            cid = Cid.parse(raw)
        except InvalidCid as exc:
            return InvalidInput("undecodable", f"input CID is not a valid sha2-256 CID: {exc}")
        started = time.monotonic()
        try:
            stat = self._ipfs.stat(cid, timeout=self._timeout)
            if stat.kind != "file":
                return InvalidInput("wrong_type", f"input {cid} is a {stat.kind}, not a file")
            if stat.size is not None and stat.size > self._max:
                return InvalidInput("oversize", f"input is {stat.size} bytes, over {self._max}")
            left = max(self._timeout - (time.monotonic() - started), 0.1)
            return self._ipfs.cat(cid, timeout=left, max_size=self._max)
        except IpfsTooLarge:
            return InvalidInput("oversize", f"input is larger than {self._max} bytes")
        except UnsupportedDag as exc:
            return InvalidInput("wrong_type", f"input CID is not a file: {exc}")
