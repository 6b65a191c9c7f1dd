"""The indexer as a background thread of the gateway: start, stop, reconcile now and then.

It connects to the chain inside the thread (the gateway must start while the chain is
down), keeps a reference to its thread (failures are logged, never lost) and stops
within one poll interval of ``stop``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from inferchain.gateway.config import GatewaySettings
from inferchain.gateway.indexer.indexer import Indexer, StepResult
from inferchain.gateway.indexer.reconcile import reconcile
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.metrics import GatewayMetrics
from inferchain.service import Backoff

log = logging.getLogger(__name__)


class IndexerService:
    def __init__(
        self,
        settings: GatewaySettings,
        contracts: Callable[[], MarketContracts],
        sessions: sessionmaker[Session],
        metrics: GatewayMetrics,
    ) -> None:
        self._settings = settings
        self._contracts = contracts
        self._sessions = sessions
        self._metrics = metrics
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._steps = 0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("indexer already started")
        self._thread = threading.Thread(target=self._main, name="inferchain-indexer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("indexer thread did not stop within %.0fs", timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _main(self) -> None:
        s = self._settings
        backoff = Backoff(initial=s.index_poll_s, cap=60.0)
        while not self._stop.is_set():
            try:
                contracts = self._contracts()
                break
            except Exception:
                delay = backoff.failed()
                log.exception("indexer cannot reach the chain; retrying in %.1fs", delay)
                self._stop.wait(delay)
        else:
            return
        indexer = Indexer(
            contracts,
            self._sessions,
            deployment_block=s.deployment_block,
            confirmations=s.confirmations,
            batch_blocks=s.index_batch_blocks,
            metrics=self._metrics,
        )

        def after_step(result: StepResult) -> None:
            self._steps += 1
            if s.reconcile_every and self._steps % s.reconcile_every == 1:
                reconcile(contracts, self._sessions, self._metrics)

        indexer.run(self._stop, s.index_poll_s, on_step=after_step)
