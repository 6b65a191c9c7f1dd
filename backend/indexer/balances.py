"""Balances are read from ``JobMarket.balanceOf`` at a block, never summed from events:
payouts, refunds, fees and slashes all move them, and the contract is the source of truth."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from inferchain.gateway.db.models import Balance
from inferchain.gateway.market.contracts import MarketContracts


def refresh_balances(
    session: Session, contracts: MarketContracts, keys: Iterable[tuple[str, str]], block: int
) -> None:
    for account, token in sorted(set(keys)):
        amount = contracts.chain.call(
            contracts.market.functions.balanceOf(account, token), block=block
        )
        session.merge(Balance(account=account, token=token, amount=int(amount), block_number=block))
