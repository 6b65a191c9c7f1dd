"""The deployed contracts, found from the market's address alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.exceptions import Web3Exception

from inferchain.chain import Chain, ChainError
from inferchain.gateway.errors import Unavailable
from inferchain.market import ZERO_ADDRESS, read_router_domain

__all__ = ["ZERO_ADDRESS", "MarketContracts"]


@dataclass(frozen=True)
class MarketContracts:
    chain: Chain
    market: Contract
    models: Contract
    workers: Contract
    #: The shared JobRouter the market trusts: signed requests, session signers.
    router: Contract
    #: The router's EIP-712 domain, which every signature the gateway relays is under.
    eip712_domain: dict[str, Any]

    @classmethod
    def connect(cls, chain: Chain, market_address: str) -> MarketContracts:
        """Bind JobMarket at ``market_address`` and the registries and router it names (read
        on-chain)."""
        try:
            market = chain.contract("JobMarket", market_address)
            models = chain.contract("ModelRegistry", chain.call(market.functions.modelRegistry()))
            workers = chain.contract(
                "WorkerRegistry", chain.call(market.functions.workerRegistry())
            )
            router = chain.contract("JobRouter", chain.call(market.functions.router()))
            domain = read_router_domain(chain, router)
        except (ChainError, Web3Exception) as exc:
            raise Unavailable("chain.unavailable", "cannot read the market contract") from exc
        return cls(chain, market, models, workers, router, domain)

    @property
    def addresses(self) -> dict[str, str]:
        return {
            "JobMarket": self.market.address,
            "ModelRegistry": self.models.address,
            "WorkerRegistry": self.workers.address,
            "JobRouter": self.router.address,
        }
