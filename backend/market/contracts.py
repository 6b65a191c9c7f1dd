"""The three deployed contracts, found from the market's address alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.exceptions import Web3Exception

from inferchain.chain import Chain, ChainError
from inferchain.gateway.errors import Unavailable
from inferchain.market import ZERO_ADDRESS, read_market_domain

__all__ = ["ZERO_ADDRESS", "MarketContracts"]


@dataclass(frozen=True)
class MarketContracts:
    chain: Chain
    market: Contract
    models: Contract
    workers: Contract
    eip712_domain: dict[str, Any]

    @classmethod
    def connect(cls, chain: Chain, market_address: str) -> MarketContracts:
        """Bind JobMarket at ``market_address`` and the registries it names (read on-chain)."""
        try:
            market = chain.contract("JobMarket", market_address)
            models = chain.contract("ModelRegistry", chain.call(market.functions.modelRegistry()))
            workers = chain.contract(
                "WorkerRegistry", chain.call(market.functions.workerRegistry())
            )
            domain = read_market_domain(chain, market)
        except (ChainError, Web3Exception) as exc:
            raise Unavailable("chain.unavailable", "cannot read the market contract") from exc
        return cls(chain, market, models, workers, domain)

    @property
    def addresses(self) -> dict[str, str]:
        return {
            "JobMarket": self.market.address,
            "ModelRegistry": self.models.address,
            "WorkerRegistry": self.workers.address,
        }
