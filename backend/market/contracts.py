"""The gateway's view of one deployment, found from the market's address alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.exceptions import Web3Exception

from inferchain.chain import Chain, ChainError
from inferchain.gateway.errors import Unavailable
from inferchain.market import ZERO_ADDRESS, Market, read_router_domain

__all__ = ["ZERO_ADDRESS", "MarketContracts"]


@dataclass(frozen=True)
class MarketContracts:
    """The shared bindings (`inferchain.market.Market`, discovered on-chain from the market's
    address) and the router's EIP-712 domain, which every signature the gateway relays is
    under. The properties name the contracts the gateway's code reads."""

    bindings: Market
    eip712_domain: dict[str, Any]

    @classmethod
    def connect(cls, chain: Chain, market_address: str) -> MarketContracts:
        try:
            bindings = Market.at(chain, market_address)
            domain = read_router_domain(chain, bindings.router)
        except (ChainError, Web3Exception) as exc:
            raise Unavailable("chain.unavailable", "cannot read the market contract") from exc
        return cls(bindings, domain)

    @property
    def chain(self) -> Chain:
        return self.bindings.chain

    @property
    def market(self) -> Contract:
        """The JobMarket."""
        return self.bindings.jobs

    @property
    def models(self) -> Contract:
        return self.bindings.models

    @property
    def workers(self) -> Contract:
        return self.bindings.workers

    @property
    def router(self) -> Contract:
        """The shared JobRouter the market trusts: signed requests, session signers."""
        return self.bindings.router
