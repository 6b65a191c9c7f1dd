"""The gateway's dependency container: what one process holds (settings, database, chain,
IPFS, limits, indexer)."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from inferchain.chain import Chain, ChainError, WrongChain
from inferchain.gateway.api.ratelimit import RateLimiter
from inferchain.gateway.auth.tokens import TokenSigner
from inferchain.gateway.db import make_engine, make_sessionmaker, upgrade
from inferchain.gateway.errors import Unavailable
from inferchain.gateway.indexer.service import IndexerService
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.market.funding import JobFunder
from inferchain.gateway.market.limits import ModelLimitsCache
from inferchain.gateway.metrics import GatewayMetrics
from inferchain.gateway.settings import GatewaySettings
from inferchain.ipfs import IpfsClient

log = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: GatewaySettings, job_funder: JobFunder | None = None) -> None:
        self.settings = settings
        self.job_funder = job_funder
        self.engine = make_engine(settings.database_url)
        self.sessions: sessionmaker[Session] = make_sessionmaker(self.engine)
        self.metrics = GatewayMetrics()
        self.limiter = RateLimiter(settings.rate_per_minute, settings.rate_burst)
        self.tokens = TokenSigner(settings.secret_key.get_secret_value())
        self.ipfs = IpfsClient(settings.ipfs_api_url, timeout=settings.ipfs_timeout_s)
        self.model_limits = ModelLimitsCache(self.ipfs, settings.ipfs_timeout_s)
        self._contracts: MarketContracts | None = None
        self._lock = threading.Lock()
        self.indexer: IndexerService | None = None

    def start(self) -> None:
        """Migrate the schema, then start the indexer thread if configured."""
        upgrade(self.engine)
        if self.settings.market_address and self.settings.run_indexer:
            self.indexer = IndexerService(
                self.settings, self.contracts, self.sessions, self.metrics
            )
            self.indexer.start()

    def stop(self) -> None:
        if self.indexer is not None:
            self.indexer.stop(timeout=10.0)
        self.ipfs.close()
        self.engine.dispose()

    def contracts(self) -> MarketContracts:
        """The deployed contracts, connected on first use (503 while the chain is down)."""
        if self.settings.market_address is None:
            raise Unavailable("chain.not_configured", "this gateway has no market configured")
        with self._lock:
            if self._contracts is None:
                try:
                    chain = Chain(self.settings.rpc_url, expected_chain_id=self.settings.chain_id)
                except WrongChain as exc:
                    raise Unavailable("chain.wrong_chain", "the node serves another chain") from exc
                except ChainError as exc:
                    raise Unavailable("chain.unavailable", "the chain node is unreachable") from exc
                self._contracts = MarketContracts.connect(chain, self.settings.market_address)
            return self._contracts
