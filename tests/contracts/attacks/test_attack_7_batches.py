"""Issue 12, attack 7: one item front-run into the same block sinks a whole batch.

Batches were all-or-nothing on v1, so anyone who settles, claims or relays item 7 alone just
before a batch of 20 reverted the other 19 and wasted the batch's gas. Since slice 5 the
market's batches skip such an item with `BatchItemSkipped(jobId, reason)` and do the rest,
and the router's `createJobsFor` skips such a request with `RequestSkipped(requester, nonce,
reason)`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from eth_utils import function_abi_to_4byte_selector
from web3.contract import Contract

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
    SUBMITTED,
    Deployment,
    cid,
    events,
    job_tuple,
    result_tuple,
    sign_request,
)

BATCH = 20
TARGET = 7

#: (front-run, batch, how many items other than TARGET the batch did, TARGET's job id)
#: for one batch kind.
Scenario = tuple[Move, Move, Callable[[], int], int]


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
    return front, batch, lambda: sum(d.status(i)[0] == CLAIMED for i in _others(ids)), ids[TARGET]


def _submit_batch(d: Deployment) -> Scenario:
    """worker2 submits item 7 alone on Open ahead of worker's submitBatch on Open."""
    ids, jobs = _open_jobs(d)
    results = [result_tuple(cid(f"output {i}")) for i in ids]
    fns = d.market.functions
    front = Move("worker2", fns.submitResult(ids[TARGET], job_tuple(jobs[TARGET]), results[TARGET]))
    batch = Move("worker", fns.submitBatch(ids, [job_tuple(j) for j in jobs], results))
    return front, batch, lambda: sum(d.status(i)[0] == SUBMITTED for i in _others(ids)), ids[TARGET]


def _finalize_batch(d: Deployment) -> Scenario:
    """An outsider finalizes item 7 alone ahead of the worker's finalizeBatch."""
    ids, jobs = _open_jobs(d)
    submitted = submit_all(d, ids, jobs)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    front = Move("outsider", d.market.functions.finalize(ids[TARGET], job_tuple(submitted[TARGET])))
    batch = Move("worker", d.market.functions.finalizeBatch(ids, [job_tuple(j) for j in submitted]))
    return front, batch, lambda: sum(d.status(i)[0] == SETTLED for i in _others(ids)), ids[TARGET]


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

    def done() -> int:
        return sum(used(d.addr("requester"), n).call() for n in _others(nonces))

    return front, batch, done, nonces[TARGET]


def _selector(contract: Contract, error: str) -> bytes:
    """The 4-byte selector of `contract`'s custom error `error`, from its ABI."""
    (item,) = (e for e in contract.abi if e["type"] == "error" and e["name"] == error)
    return function_abi_to_4byte_selector(item)


def _run(d: Deployment, scenario: Callable[[Deployment], Scenario], refusal: str) -> tuple:
    with attack_steps():
        front, batch, others_done, target = scenario(d)
        receipt, refused = frontrun_into_same_block(d, front, batch, refusals=[refusal])
        done = others_done()
    assert (refused, done) == (None, BATCH - 1), (
        f"the batch was refused with {refused} after {receipt['gasUsed']} gas; "
        f"{done} of the other {BATCH - 1} items done"
    )
    return receipt, target


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        (_claim_batch, "JobMarketInvalidStatus"),
        (_submit_batch, "JobMarketInvalidStatus"),
        (_finalize_batch, "JobMarketInvalidStatus"),
    ],
    ids=["claimBatch", "submitBatch", "finalizeBatch"],
)
def test_attack7_frontrun_item_does_not_sink_the_batch(
    d: Deployment, scenario: Callable[[Deployment], Scenario], reason: str
) -> None:
    receipt, target = _run(d, scenario, reason)
    skipped = [(e["jobId"], e["reason"]) for e in events(d.market, receipt, "BatchItemSkipped")]
    assert skipped == [(target, _selector(d.market, reason))]


def test_attack7_frontrun_request_does_not_sink_create_jobs_for(d: Deployment) -> None:
    created_before = d.market.functions.nextJobId().call()
    receipt, target = _run(d, _create_jobs_for, "JobRouterNonceUsed")
    skipped = [
        (e["requester"], e["nonce"], e["reason"])
        for e in events(d.router, receipt, "RequestSkipped")
    ]
    assert skipped == [(d.addr("requester"), target, _selector(d.router, "JobRouterNonceUsed"))]
    # Request 7 was opened once, by the front-run; the batch opened the other 19 and paid
    # only for them: 20 jobs, 20 prices out of the requester's deposit.
    assert len(events(d.market, receipt, "JobCreated")) == BATCH - 1
    assert d.market.functions.nextJobId().call() == created_before + BATCH
    assert d.balance("requester") == 0
