"""Issue 12, attack 2: a worker hoards jobs it cannot cover.

On v1 a claim needed only `stake >= minStake`, whatever the worker already held: one minimum
stake held any number of jobs and locked honest workers out, a junk `reportFailure` just before
each deadline cost nothing, and timeouts slashed one stake in total. Since slice 6 a claim
locks the job's collateral (1x its price by default) within the worker's allocation to the
market (`JobMarketAllocationExceeded` otherwise, a skip in a batch), a timeout slashes the whole
collateral to the requester, and a failure report costs `collateral * max(1 %, held / workTime)`
(docs/design/contracts-v2.md §2.2). The hoarder is `worker2`, with 1 ETH allocated; `worker`
is the honest worker.
"""

from __future__ import annotations

from eth_utils import function_abi_to_4byte_selector

from inferchain.market.deploy import ETHER
from tests.contracts.attacks.harness import attack_steps, stake_of
from tests.contracts.helpers import (
    ETH,
    ETH_ROYALTY_BPS,
    OPEN,
    STAKE,
    Deployment,
    cid,
    events,
    job_from_created,
    job_tuple,
    sign_request,
)

HOARDER, HONEST = "worker2", "worker"
#: The hoarded jobs' price (and collateral): the hoarder's 1 ETH covers two of them.
PRICE = ETHER // 2
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


def _claim_all(
    d: Deployment, role: str, ids: list[int], jobs: list[dict]
) -> tuple[dict[int, dict], int]:
    """`role` claims `ids` in batches: the jobs it got, by id, as claimed, and how many items
    were skipped because their collateral did not fit in its allocation."""
    exceeded = _selector(d, "JobMarketAllocationExceeded")
    got: list[int] = []
    skipped = 0
    for start in range(0, len(ids), MAX_BATCH):
        batch = slice(start, start + MAX_BATCH)
        tuples = [job_tuple(j) for j in jobs[batch]]
        receipt = d.tx(role, d.market.functions.claimBatch(ids[batch], tuples))
        got += [c["jobId"] for c in events(d.market, receipt, "JobClaimed")]
        reasons = [s["reason"] for s in events(d.market, receipt, "BatchItemSkipped")]
        skipped += sum(1 for r in reasons if r == exceeded)
    by_id = dict(zip(ids, jobs, strict=True))
    return {i: {**by_id[i], "worker": d.addr(role)} for i in got}, skipped


def _selector(d: Deployment, error: str) -> bytes:
    item = next(i for i in d.market.abi if i["type"] == "error" and i["name"] == error)
    return function_abi_to_4byte_selector(item)


def _stake_lost(d: Deployment, at: int, call: object, *, role: str = HOARDER) -> int:
    """What sending `call` as `role` in a block stamped `at` took from the hoarder's stake."""
    before = stake_of(d, HOARDER)
    d.tx_at(at, role, call)
    return before - stake_of(d, HOARDER)


def test_attack2_one_stake_cannot_hold_more_jobs_than_it_covers(d: Deployment) -> None:
    with attack_steps():
        # The honest worker covers what it means to take.
        d.stake_and_allocate(HONEST, ETH, 49 * ETHER)
        ids, jobs = _open_jobs(d, 100)
        hoarded, refused = _claim_all(d, HOARDER, ids, jobs)
        # The honest worker, in the next block, claims whatever is still open.
        left = [(i, j) for i, j in zip(ids, jobs, strict=True) if d.status(i)[0] == OPEN]
        honest, _ = _claim_all(d, HONEST, [i for i, _ in left], [j for _, j in left])
        d.chain.increase_time(jobs[0]["terms"]["workTime"] + 1)
        registry_before = d.chain.balance(d.workers.address)
        compensation = []
        for job_id, job in hoarded.items():
            before = d.balance("requester")
            d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
            compensation.append(d.balance("requester") - before)
        registry_lost = registry_before - d.chain.balance(d.workers.address)
    covered = STAKE // PRICE
    assert (len(hoarded), refused, len(honest), compensation, registry_lost) == (
        covered,
        len(ids) - covered,
        len(ids) - covered,
        [PRICE + PRICE] * covered,
        STAKE,
    ), (
        f"an allocation of {STAKE} held {len(hoarded)} of {len(ids)} jobs of {PRICE} "
        f"({refused} refused); the honest worker got {len(honest)}; the timed-out requesters "
        f"got {compensation}; the registry lost {registry_lost}"
    )


def test_attack2_every_timeout_compensates_its_requester(d: Deployment) -> None:
    with attack_steps():
        ids, jobs = _open_jobs(d, 4)
        hoarded, _ = _claim_all(d, HOARDER, ids, jobs)
        d.chain.increase_time(jobs[0]["terms"]["workTime"] + 1)
        compensation = []
        for job_id, job in hoarded.items():
            before = d.balance("requester")
            d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
            compensation.append(d.balance("requester") - before - PRICE)
        record = d.exposure(HOARDER)
    assert (compensation, record["timedOut"], record["locked"]) == ([PRICE] * 2, 2, 0), (
        f"{len(hoarded)} jobs of {PRICE} held on an allocation of {STAKE} timed out; their "
        f"requesters were compensated {compensation}; the hoarder's record: {record}"
    )


def test_attack2_junk_failure_reports_cost_the_worker(d: Deployment) -> None:
    with attack_steps():
        created = [d.create() for _ in range(3)]
        held, _ = _claim_all(d, HOARDER, [i for i, _ in created], [j for _, j in created])
        (early_id, early), (late_id, late), (lapsed_id, lapsed) = held.items()
        collateral = late["terms"]["collateral"]
        deadline = d.status(late_id)[1]
        work_time = late["terms"]["workTime"]
        claimed_at = deadline - work_time
        report = d.market.functions.reportFailure
        early_cost = _stake_lost(d, claimed_at + 1, report(early_id, job_tuple(early), JUNK))
        requester_before = d.balance("requester")
        late_cost = _stake_lost(d, deadline - 1, report(late_id, job_tuple(late), JUNK))
        late_requester = d.balance("requester") - requester_before
        timeout = d.market.functions.timeout(lapsed_id, job_tuple(lapsed))
        timeout_cost = _stake_lost(d, deadline + 1, timeout, role="outsider")
        record = d.exposure(HOARDER)
    late_fee = collateral * ((work_time - 1) * 10_000 // work_time) // 10_000
    assert (early_cost, late_cost, late_requester, timeout_cost, record["failed"]) == (
        collateral // 100,
        late_fee,
        late["terms"]["price"] + late_fee,
        collateral,
        2,
    ) and late_cost * 1_000 >= timeout_cost * 998, (
        f"junk failure reports cost the hoarder {early_cost} just after its claim and "
        f"{late_cost} one second before its deadline (its requester got {late_requester}); "
        f"a timeout cost it {timeout_cost}; its record: {record}"
    )
