"""The indexer as a background service of the gateway: index, reconcile now and then.

It connects to the chain inside its thread (the gateway must start while the chain is
down), retries a failing step with capped backoff, and stops within one poll interval of
``stop`` (the lifecycle is ``inferchain.service.Service``, shared with the worker).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from inferchain.gateway.indexer.indexer import Indexer
from inferchain.gateway.indexer.reconcile import reconcile
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.metrics import GatewayMetrics
from inferchain.gateway.settings import GatewaySettings
from inferchain.service import Backoff, Service

log = logging.getLogger(__name__)

FAILURE_BACKOFF_CAP_S = 60.0


class IndexerService(Service):
    name = "inferchain-indexer"

    def __init__(
        self,
        settings: GatewaySettings,
        contracts: Callable[[], MarketContracts],
        sessions: sessionmaker[Session],
        metrics: GatewayMetrics,
    ) -> None:
        super().__init__(settings.index_poll_s)
        self._settings = settings
        self._contracts = contracts
        self._sessions = sessions
        self._metrics = metrics
        self._backoff = Backoff(initial=settings.index_poll_s, cap=FAILURE_BACKOFF_CAP_S)
        self._retry_in: float | None = None
        self._indexer: Indexer | None = None
        self._steps = 0

    def step(self) -> bool:
        if self._indexer is None:
            try:
                self._indexer = self._connect()
            except Exception:
                return self._failed("indexer cannot reach the chain")
        try:
            result = self._indexer.step()
            self._steps += 1
            every = self._settings.reconcile_every
            if every and self._steps % every == 1:
                reconcile(self._indexer.contracts, self._sessions, self._metrics)
        except Exception:
            self._metrics.indexer_errors.inc()
            return self._failed(f"index step failed ({self._backoff.failures + 1} in a row)")
        self._backoff.succeeded()
        self._retry_in = None
        return result.caught_up

    def idle_wait_s(self) -> float:
        return self._retry_in if self._retry_in is not None else self._interval

    def _connect(self) -> Indexer:
        return Indexer.configured(self._contracts(), self._sessions, self._settings, self._metrics)

    def _failed(self, what: str) -> bool:
        self._retry_in = self._backoff.failed()
        log.exception("%s; retrying in %.1fs", what, self._retry_in)
        return True
