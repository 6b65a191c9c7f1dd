"""Issue 12: workers cannot serve two markets.

On v1 `WorkerRegistry.bindMarket` works once, and only the bound market may count claims, so
a second market (or the next version) on the same registry cannot use its staked workers.
"""

from __future__ import annotations

import pytest

from tests.contracts.attacks.harness import Move, attack_steps, outcome
from tests.contracts.helpers import (
    ETH_PRICE,
    Deployment,
    event,
    job_from_created,
    job_tuple,
    request_tuple,
)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12: a worker staked on the v1 registry cannot claim in a second market",
)
def test_two_markets_share_one_staked_worker(d: Deployment) -> None:
    with attack_steps():
        second = d.another_market()
        bound = outcome(
            d,
            Move("owner", d.workers.functions.bindMarket(second.address)),
            refusals=["WorkerRegistryMarketAlreadyBound"],
        )
        d.claim(*d.create())  # the staked worker serves the first market
        receipt = d.tx(
            "requester",
            second.functions.createJob(d.addr("requester"), request_tuple(d.request())),
            value=ETH_PRICE,
        )
        created = event(second, receipt, "JobCreated")
        claim = second.functions.claim(created["jobId"], job_tuple(job_from_created(created)))
        refused = outcome(d, Move("worker", claim), refusals=["WorkerRegistryNotMarket"])
    assert refused is None, (
        f"the worker's claim in the second market was refused with {refused} "
        f"(binding the registry to it: {bound or 'done'})"
    )
