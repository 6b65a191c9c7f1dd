"""Typed reads of a worker's standing: its stake and allocations in the shared worker
registry (v2), and its collateral lock and record in a market (the market is a "venue").

A claim in a market locks the job's collateral and needs `locked + collateral <=
allocation` (else `JobMarketAllocationExceeded`), so what a worker may still claim in a
token is `free_allocation`: what it allocated to the market minus what is locked there.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from inferchain.chain import Chain


@dataclass(frozen=True)
class Stake:
    """IWorkerRegistry.stakeOf: a worker's stake in one token and how much is allocated."""

    stake: int
    allocated: int

    @property
    def unallocated(self) -> int:
        """What `unstake` may take out at once."""
        return self.stake - self.allocated


@dataclass(frozen=True)
class Exposure:
    """IJobMarket.Exposure: a worker's collateral lock in one token in one market and its
    record of claimed jobs ended there, by outcome (a won dispute counts as paid too)."""

    locked: int
    paid: int
    failed: int
    timed_out: int
    disputes_lost: int
    disputes_won: int


def read_stake(chain: Chain, workers: Contract, worker: str, token: str) -> Stake:
    """`worker`'s stake in `token` (address(0) for ETH)."""
    staked, allocated = chain.call(workers.functions.stakeOf(worker, token))
    return Stake(int(staked), int(allocated))


def read_allocation(chain: Chain, workers: Contract, worker: str, token: str, venue: str) -> int:
    """What `venue` (a market) may lock `worker`'s new claims against in `token`: the
    allocation, or 0 while a forced deallocation from it is pending (`allocationState` holds
    the stored amount, which is what the venue may still slash)."""
    return int(chain.call(workers.functions.allocationOf(worker, token, venue)))


def read_exposure(chain: Chain, market: Contract, worker: str, token: str) -> Exposure:
    """`worker`'s lock and record in `token` in `market`."""
    values = chain.call(market.functions.exposureOf(worker, token))
    return Exposure(*(int(v) for v in values))


def free_allocation(
    chain: Chain, workers: Contract, market: Contract, worker: str, token: str
) -> int:
    """Collateral of `token` that `worker` may still lock in `market` by claiming."""
    allocation = read_allocation(chain, workers, worker, token, market.address)
    locked = int(chain.call(market.functions.lockedOf(worker, token)))
    return max(0, allocation - locked)
