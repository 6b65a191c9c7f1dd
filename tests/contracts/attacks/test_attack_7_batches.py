"""Issue 12, attack 7: one item front-run into the same block sinks a whole batch.

Batches are all-or-nothing on v1, so anyone who settles, claims or relays item 7 alone just
before a batch of 20 reverts the other 19 and wastes the batch's gas.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.contracts.attacks.harness import (
    Move,
    attack_steps,
    frontrun_into_same_block,
    submit_all,
)
from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    CLAIMED,
    ETH,
    ETH_PRICE,
    SETTLED,
    Deployment,
    job_tuple,
    sign_request,
)

BATCH = 20
TARGET = 7

#: (front-run, batch, how many items other than TARGET the batch did) for one batch kind.
Scenario = tuple[Move, Move, Callable[[], int]]


def _open_jobs(d: Deployment) -> tuple[list[int], list[dict]]:
    created = [d.create() for _ in range(BATCH)]
    return [job_id for job_id, _ in created], [job for _, job in created]


def _others(ids: list[int]) -> list[int]:
    return ids[:TARGET] + ids[TARGET + 1 :]


def _claim_batch(d: Deployment) -> Scenario:
    """worker2 claims item 7 alone ahead of worker's claimBatch."""
    ids, jobs = _open_jobs(d)
    front = Move("worker2", d.market.functions.claim(ids[TARGET], job_tuple(jobs[TARGET])))
    batch = Move("worker", d.market.functions.claimBatch(ids, [job_tuple(j) for j in jobs]))
    return front, batch, lambda: sum(d.status(i)[0] == CLAIMED for i in _others(ids))


def _finalize_batch(d: Deployment) -> Scenario:
    """An outsider finalizes item 7 alone ahead of the worker's finalizeBatch."""
    ids, jobs = _open_jobs(d)
    submitted = submit_all(d, ids, jobs)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    front = Move("outsider", d.market.functions.finalize(ids[TARGET], job_tuple(submitted[TARGET])))
    batch = Move("worker", d.market.functions.finalizeBatch(ids, [job_tuple(j) for j in submitted]))
    return front, batch, lambda: sum(d.status(i)[0] == SETTLED for i in _others(ids))


def _create_jobs_for(d: Deployment) -> Scenario:
    """An outsider relays signed request 7 alone ahead of the relayer's createJobsFor."""
    d.tx("requester", d.market.functions.deposit(ETH, BATCH * ETH_PRICE), value=BATCH * ETH_PRICE)
    nonces = list(range(1, BATCH + 1))
    signed = [
        sign_request(
            d,
            d.actors.requester,
            d.request(),
            nonce=n,
            expiry=d.now() + 600,
        )
        for n in nonces
    ]
    front = Move("outsider", d.router.functions.createJobFor(signed[TARGET]))
    batch = Move("relayer", d.router.functions.createJobsFor(signed))
    used = d.router.functions.nonceUsed
    return front, batch, lambda: sum(used(d.addr("requester"), n).call() for n in _others(nonces))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 7 works on contracts v1: a front-run item reverts the whole batch",
)
@pytest.mark.parametrize(
    ("scenario", "v1_refusal"),
    [
        (_claim_batch, "JobMarketInvalidStatus"),
        (_finalize_batch, "JobMarketInvalidStatus"),
        (_create_jobs_for, "JobRouterNonceUsed"),
    ],
    ids=["claimBatch", "finalizeBatch", "createJobsFor"],
)
def test_attack7_frontrun_item_does_not_sink_the_batch(
    d: Deployment, scenario: Callable[[Deployment], Scenario], v1_refusal: str
) -> None:
    with attack_steps():
        front, batch, others_done = scenario(d)
        receipt, refused = frontrun_into_same_block(d, front, batch, refusals=[v1_refusal])
        done = others_done()
    assert (refused, done) == (None, BATCH - 1), (
        f"the batch was refused with {refused} after {receipt['gasUsed']} gas; "
        f"{done} of the other {BATCH - 1} items done"
    )
