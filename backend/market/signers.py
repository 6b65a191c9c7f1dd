"""Session signers on-chain: the gateway's key for a wallet, its authorisation, its calls.

A wallet lets the gateway's session signer spend (the router's ``increaseSignerCap``: an
amount of one token added to what is left, and an expiry); the gateway then signs that
wallet's ``JobRequest``s with it and the router takes each price from the cap, the market
from the wallet's deposit. ``decreaseSignerCap`` lowers what is left (never below 0), so a
signer cannot front-run it into spending more than it was granted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount

from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.market.session_keys import session_account

if TYPE_CHECKING:
    from inferchain.gateway.container import Services


@dataclass(frozen=True)
class Session:
    """What the session signer may still spend of a token for a wallet, and until when."""

    signer: str
    token: str
    remaining: int
    expiry: int

    @property
    def authorized(self) -> bool:
        return self.expiry != 0

    def active_at(self, now: int) -> bool:
        return self.authorized and now <= self.expiry


def gateway_signer(services: Services, c: MarketContracts, wallet: str) -> LocalAccount:
    secret = services.settings.secret_key.get_secret_value()
    return session_account(secret, c.chain.chain_id, c.router.address, wallet)


def read_session(c: MarketContracts, wallet: str, signer: str, token: str) -> Session:
    remaining, expiry = c.chain.call(c.router.functions.sessionOf(wallet, signer, token))
    return Session(signer, token, int(remaining), int(expiry))


def increase_calldata(c: MarketContracts, signer: str, token: str, added: int, expiry: int) -> str:
    return c.router.encode_abi("increaseSignerCap", args=[signer, token, added, expiry])


def decrease_calldata(c: MarketContracts, signer: str, token: str, removed: int) -> str:
    return c.router.encode_abi("decreaseSignerCap", args=[signer, token, removed])


def revoke_calldata(c: MarketContracts, signer: str, token: str) -> str:
    return c.router.encode_abi("revokeSigner", args=[signer, token])
