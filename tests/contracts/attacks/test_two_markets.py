"""Issue 12: workers cannot serve two markets.

On v1 `WorkerRegistry.bindMarket` worked once, and only the bound market could count claims,
so a second market (or the next version) on the same registry could not use its staked
workers. Since slice 6 the registry is shared: a worker stakes once and allocates to each
market (a venue), which may lock and slash only its own allocation; deallocating reads back
only that venue's `lockedOf`. The router is shared too, and a signed request names its market,
so one session serves them all (docs/design/contracts-v2.md §2.9).
"""

from __future__ import annotations

from web3.contract import Contract

from inferchain.market.deploy import ETHER
from tests.contracts.attacks.harness import (
    SESSION_KEY,
    Move,
    attack_steps,
    grant,
    outcome,
)
from tests.contracts.helpers import (
    ETH,
    ETH_PRICE,
    Deployment,
    event,
    events,
    job_from_created,
    job_tuple,
    request_tuple,
    sign_request,
)

WORKER = "outsider"


def _create(d: Deployment, market: Contract) -> tuple[int, dict]:
    receipt = d.tx(
        "requester",
        market.functions.createJob(d.addr("requester"), request_tuple(d.request())),
        value=ETH_PRICE,
    )
    created = event(market, receipt, "JobCreated")
    return created["jobId"], job_from_created(created)


def _claim(d: Deployment, market: Contract, job_id: int, job: dict) -> dict:
    d.tx(WORKER, market.functions.claim(job_id, job_tuple(job)))
    return {**job, "worker": d.addr(WORKER)}


def test_two_markets_share_one_staked_worker(d: Deployment) -> None:
    w = d.workers.functions
    with attack_steps():
        m1, m2 = d.market, d.another_market()
        # One stake, allocated half to each market.
        d.tx(WORKER, w.stake(ETH, 2 * ETHER), value=2 * ETHER)
        d.tx(WORKER, w.allocate(m1.address, ETH, ETHER))
        d.tx(WORKER, w.allocate(m2.address, ETH, ETHER))
        first_id, first = _create(d, m1)
        first = _claim(d, m1, first_id, first)
        _claim(d, m2, *_create(d, m2))
        d.chain.increase_time(first["terms"]["workTime"] + 1)
        d.tx("outsider", m1.functions.timeout(first_id, job_tuple(first)))
        slash = first["terms"]["collateral"]
        after_timeout = (
            d.allocation(WORKER, ETH, m1.address),
            d.allocation(WORKER, ETH, m2.address),
            d.stake_of(WORKER),
        )
        # M1 holds a new job: its whole allocation cannot leave, M2's unlocked part can.
        _claim(d, m1, *_create(d, m1))
        locked_m1 = outcome(
            d,
            Move(WORKER, w.deallocate(m1.address, ETH, ETHER - slash)),
            refusals=["WorkerRegistryAllocationLocked"],
        )
        free_m2 = ETHER - d.locked(WORKER, ETH, m2)
        d.tx(WORKER, w.deallocate(m2.address, ETH, free_m2))
        # Unstaking takes only what is deallocated.
        too_much = outcome(
            d,
            Move(WORKER, w.unstake(ETH, free_m2 + 1, d.addr(WORKER))),
            refusals=["WorkerRegistryInsufficientFreeStake"],
        )
        d.tx(WORKER, w.unstake(ETH, free_m2, d.addr(WORKER)))
        # One session grant serves requests to both markets.
        for market in (m1, m2):
            d.tx("requester", market.functions.deposit(ETH, ETH_PRICE), value=ETH_PRICE)
        session = grant(d, "requester", ETH, 2 * ETH_PRICE)
        d.tx(session.role, session.call)
        opened = []
        for nonce, market in enumerate((m1, m2)):
            signed = sign_request(
                d,
                SESSION_KEY.key.hex(),
                d.request(),
                nonce=nonce,
                expiry=d.now() + 600,
                requester=d.addr("requester"),
                market=market.address,
            )
            receipt = d.tx("relayer", d.router.functions.createJobsFor([signed]))
            opened.append(len(events(market, receipt, "JobCreated")))
    assert (after_timeout, locked_m1, too_much, d.stake_of(WORKER), opened) == (
        (ETHER - slash, ETHER, (2 * ETHER - slash, 2 * ETHER - slash)),
        "WorkerRegistryAllocationLocked",
        "WorkerRegistryInsufficientFreeStake",
        (2 * ETHER - slash - free_m2, 2 * ETHER - slash - free_m2),
        [1, 1],
    )
