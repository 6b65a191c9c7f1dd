"""Issue 12, attack 2: a worker hoards jobs it cannot cover.

On v1 a claim needs only `stake >= minStake`, whatever the worker already holds: one minimum
stake holds any number of jobs and locks honest workers out. A `reportFailure` with junk
evidence just before each deadline costs nothing, and timeouts slash `minStake * slashBps`
per job only until the one stake is gone. The hoarder is `worker2`, staked exactly the
minimum (1 ETH); `worker` is the honest worker.
"""

from __future__ import annotations

import pytest

from inferchain.market.deploy import ETHER
from tests.contracts.attacks.harness import attack_steps, stake_of
from tests.contracts.helpers import (
    ETH,
    ETH_ROYALTY_BPS,
    MIN_STAKE,
    OPEN,
    Deployment,
    cid,
    events,
    job_from_created,
    job_tuple,
    sign_request,
)

HOARDER, HONEST = "worker2", "worker"
#: The hoarded jobs' price: the hoarder's 1 ETH covers two of them.
PRICE = ETHER // 2
#: The most items a v1 batch takes.
MAX_BATCH = 50
JUNK = cid("junk evidence")


def _open_jobs(d: Deployment, count: int) -> tuple[list[int], list[dict]]:
    """`count` open ETH jobs at PRICE, relayed from the requester's signed requests."""
    d.tx("provider", d.models.functions.updateTerms(d.eth_model, PRICE, ETH_ROYALTY_BPS))
    d.tx("requester", d.market.functions.deposit(ETH, count * PRICE), value=count * PRICE)
    expiry = d.now() + 3_600
    signed = [
        sign_request(
            d,
            d.actors.requester,
            d.request(maxPrice=PRICE, inputCid=cid(f"hoarded {i}")),
            nonce=i,
            expiry=expiry,
        )
        for i in range(count)
    ]
    created = []
    for start in range(0, count, MAX_BATCH):
        batch = signed[start : start + MAX_BATCH]
        receipt = d.tx("relayer", d.router.functions.createJobsFor(batch))
        created += events(d.market, receipt, "JobCreated")
    return [c["jobId"] for c in created], [job_from_created(c) for c in created]


def _claim_all(d: Deployment, role: str, ids: list[int], jobs: list[dict]) -> dict[int, dict]:
    """`role` claims `ids` in batches; the jobs it got, by id, as claimed."""
    got: list[int] = []
    for start in range(0, len(ids), MAX_BATCH):
        batch = slice(start, start + MAX_BATCH)
        tuples = [job_tuple(j) for j in jobs[batch]]
        receipt = d.tx(role, d.market.functions.claimBatch(ids[batch], tuples))
        got += [c["jobId"] for c in events(d.market, receipt, "JobClaimed")]
    by_id = dict(zip(ids, jobs, strict=True))
    return {i: {**by_id[i], "worker": d.addr(role)} for i in got}


def _stake_lost(d: Deployment, at: int, call: object, *, role: str = HOARDER) -> int:
    """What sending `call` as `role` in a block stamped `at` took from the hoarder's stake."""
    before = stake_of(d, HOARDER)
    d.tx_at(at, role, call)
    return before - stake_of(d, HOARDER)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 2 works on contracts v1: one minimum stake claims any number of jobs",
)
def test_attack2_one_stake_cannot_hold_more_jobs_than_it_covers(d: Deployment) -> None:
    with attack_steps():
        ids, jobs = _open_jobs(d, 100)
        hoarded = _claim_all(d, HOARDER, ids, jobs)
        # The honest worker, in the next block, claims whatever is still open.
        left = [(i, j) for i, j in zip(ids, jobs, strict=True) if d.status(i)[0] == OPEN]
        honest = _claim_all(d, HONEST, [i for i, _ in left], [j for _, j in left])
    covered = MIN_STAKE // PRICE
    assert (len(hoarded), len(honest)) == (covered, len(ids) - covered), (
        f"a stake of {MIN_STAKE} held {len(hoarded)} of {len(ids)} jobs of {PRICE}; "
        f"the honest worker got {len(honest)}"
    )


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 2 works on contracts v1: timeouts slash one minimum stake in total",
)
def test_attack2_every_timeout_compensates_its_requester(d: Deployment) -> None:
    with attack_steps():
        ids, jobs = _open_jobs(d, 4)
        hoarded = _claim_all(d, HOARDER, ids, jobs)
        d.chain.increase_time(jobs[0]["terms"]["workTime"] + 1)
        compensation = []
        for job_id, job in hoarded.items():
            before = d.balance("requester")
            d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
            compensation.append(d.balance("requester") - before - PRICE)
    assert compensation == [PRICE] * len(hoarded), (
        f"{len(hoarded)} jobs of {PRICE} held on a stake of {MIN_STAKE} timed out; "
        f"their requesters were compensated {compensation}"
    )


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 2 works on contracts v1: a junk failure report costs nothing",
)
def test_attack2_junk_failure_reports_cost_the_worker(d: Deployment) -> None:
    with attack_steps():
        created = [d.create() for _ in range(3)]
        held = _claim_all(d, HOARDER, [i for i, _ in created], [j for _, j in created])
        (early_id, early), (late_id, late), (lapsed_id, lapsed) = held.items()
        deadline = d.status(late_id)[1]
        claimed_at = deadline - late["terms"]["workTime"]
        report = d.market.functions.reportFailure
        early_cost = _stake_lost(d, claimed_at + 1, report(early_id, job_tuple(early), JUNK))
        late_cost = _stake_lost(d, deadline - 1, report(late_id, job_tuple(late), JUNK))
        timeout = d.market.functions.timeout(lapsed_id, job_tuple(lapsed))
        timeout_cost = _stake_lost(d, deadline + 1, timeout, role="outsider")
    assert early_cost > 0 and late_cost * 100 >= timeout_cost * 99, (
        f"junk failure reports cost the hoarder {early_cost} just after its claim and "
        f"{late_cost} one second before its deadline; a timeout cost it {timeout_cost}"
    )
