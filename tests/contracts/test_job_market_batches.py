"""Batched claim / submit / finalize: same results as one by one, bounded; an item a third
party made ineligible is skipped and reported (issue 12, attack 7), the rest done."""

from __future__ import annotations

from eth_utils import function_abi_to_4byte_selector

from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    CLAIMED,
    ETH,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    FEE_BPS,
    SETTLED,
    SUBMITTED,
    TOKEN_PRICE,
    TOKEN_ROYALTY_BPS,
    TOKEN_STAKE,
    WORK_TIME,
    Deployment,
    cid,
    cid_parts,
    events,
    job_tuple,
    result_tuple,
    reverts,
)

#: An exposure with nothing locked and nothing recorded.
RECORD = {"locked": 0, "paid": 0, "failed": 0, "timedOut": 0, "disputesLost": 0, "disputesWon": 0}


def _open_jobs(d: Deployment, models: list[int]) -> tuple[list[int], list[dict]]:
    d.tx("requester", d.token.functions.approve(d.market.address, 2**255))
    ids, jobs = [], []
    for model in models:
        job_id, job = d.create(model=model)
        ids.append(job_id)
        jobs.append(job)
    return ids, jobs


def _worker_share(price: int, royalty_bps: int) -> int:
    return price - price * royalty_bps // 10_000 - price * FEE_BPS // 10_000


def test_mixed_batch_settles_like_single_jobs(d: Deployment) -> None:
    t, e = d.token_model, d.eth_model
    ids, jobs = _open_jobs(d, [e, e, t, e, t, t])
    receipt = d.tx("worker", d.market.functions.claimBatch(ids, [job_tuple(j) for j in jobs]))
    assert [c["jobId"] for c in events(d.market, receipt, "JobClaimed")] == ids
    assert all(d.status(i)[0] == CLAIMED for i in ids)
    token = d.token.address
    assert (d.locked("worker"), d.locked("worker", token)) == (3 * ETH_PRICE, 3 * TOKEN_PRICE)
    jobs = [{**j, "worker": d.addr("worker")} for j in jobs]
    outputs = [cid(f"out {i}") for i in ids]
    hashes = [bytes([i]) * 32 for i in ids]
    results = [result_tuple(o, h) for o, h in zip(outputs, hashes, strict=True)]
    d.tx("worker", d.market.functions.submitBatch(ids, [job_tuple(j) for j in jobs], results))
    assert all(d.status(i)[0] == SUBMITTED for i in ids)
    for k, (o, h) in enumerate(zip(outputs, hashes, strict=True)):
        codec, digest = cid_parts(o)
        jobs[k] = {**jobs[k], "outputCodec": codec, "outputDigest": digest, "outputHash": h}
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    receipt = d.tx("outsider", d.market.functions.finalizeBatch(ids, [job_tuple(j) for j in jobs]))
    assert len(events(d.market, receipt, "JobFinalized")) == 6
    assert all(d.status(i)[0] == SETTLED for i in ids)
    eth_jobs, token_jobs = 3, 3
    assert d.balance("worker") == eth_jobs * _worker_share(ETH_PRICE, ETH_ROYALTY_BPS)
    assert d.balance("worker", d.token.address) == token_jobs * _worker_share(
        TOKEN_PRICE, TOKEN_ROYALTY_BPS
    )
    assert d.balance("provider") == eth_jobs * (ETH_PRICE * ETH_ROYALTY_BPS // 10_000)
    assert d.balance(d.fees, d.token.address) == token_jobs * (TOKEN_PRICE * FEE_BPS // 10_000)
    for token in (ETH, d.token.address):
        assert d.exposure("worker", token) == {**RECORD, "paid": 3}


def test_finalize_batch_across_workers_counts_each(d: Deployment) -> None:
    ids, jobs = _open_jobs(d, [d.eth_model] * 4)
    roles = ["worker", "worker2", "worker2", "worker"]
    for k, role in enumerate(roles):
        jobs[k] = d.submit(ids[k], d.claim(ids[k], jobs[k], role), role)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.tx("outsider", d.market.functions.finalizeBatch(ids, [job_tuple(j) for j in jobs]))
    share = _worker_share(ETH_PRICE, ETH_ROYALTY_BPS)
    assert (d.balance("worker"), d.balance("worker2")) == (2 * share, 2 * share)
    for role in ("worker", "worker2"):
        assert d.exposure(role) == {**RECORD, "paid": 2}


def _selector(d: Deployment, error: str) -> bytes:
    (item,) = (e for e in d.market.abi if e["type"] == "error" and e["name"] == error)
    return function_abi_to_4byte_selector(item)


def _skipped(d: Deployment, receipt: dict) -> list[tuple[int, bytes]]:
    return [(e["jobId"], e["reason"]) for e in events(d.market, receipt, "BatchItemSkipped")]


def test_claim_batch_skips_a_taken_job_and_claims_the_rest(d: Deployment) -> None:
    ids, jobs = _open_jobs(d, [d.eth_model] * 3)
    d.claim(ids[1], jobs[1], "worker2")
    call = d.market.functions.claimBatch(ids, [job_tuple(j) for j in jobs])
    assert call.call({"from": d.addr("worker")}) == 0b101
    receipt = d.tx("worker", call)
    assert _skipped(d, receipt) == [(ids[1], _selector(d, "JobMarketInvalidStatus"))]
    assert [c["jobId"] for c in events(d.market, receipt, "JobClaimed")] == [ids[0], ids[2]]
    assert (d.locked("worker"), d.locked("worker2")) == (2 * ETH_PRICE, ETH_PRICE)
    # A single claim still reverts with the typed error.
    with reverts("JobMarketInvalidStatus") as caught:
        d.tx("worker", d.market.functions.claim(ids[1], job_tuple(jobs[1])))
    assert (caught.args["current"], caught.args["expected"]) == (CLAIMED, 1)


def test_claim_batch_of_only_skipped_jobs_locks_nothing(d: Deployment) -> None:
    ids, jobs = _open_jobs(d, [d.eth_model] * 2)
    stale = [{**j, "requester": d.addr("outsider")} for j in jobs]
    call = d.market.functions.claimBatch(ids, [job_tuple(j) for j in stale])
    assert call.call({"from": d.addr("worker")}) == 0
    receipt = d.tx("worker", call)
    mismatch = _selector(d, "JobMarketJobMismatch")
    assert _skipped(d, receipt) == [(i, mismatch) for i in ids]
    assert d.exposure("worker") == RECORD


def test_submit_batch_skips_lost_and_late_jobs_but_refuses_another_workers_job(
    d: Deployment,
) -> None:
    ids, jobs = _open_jobs(d, [d.eth_model] * 4)
    d.claim(ids[1], jobs[1], "worker2")  # a rival took it: worker's Open tuple is stale
    jobs[2] = d.claim(ids[2], jobs[2])  # claimed by worker, then its claim runs out
    d.chain.increase_time(WORK_TIME + 1)
    results = [result_tuple(cid(f"out {i}")) for i in ids]
    call = d.market.functions.submitBatch(ids[:3], [job_tuple(j) for j in jobs[:3]], results[:3])
    assert call.call({"from": d.addr("worker")}) == 0b001
    receipt = d.tx("worker", call)
    assert _skipped(d, receipt) == [
        (ids[1], _selector(d, "JobMarketJobMismatch")),
        (ids[2], _selector(d, "JobMarketClaimExpired")),
    ]
    assert d.status(ids[0])[0] == SUBMITTED
    with reverts("JobMarketClaimExpired") as caught:  # the single call's typed error
        d.tx("worker", d.market.functions.submitResult(ids[2], job_tuple(jobs[2]), results[2]))
    assert caught.args == {"jobId": ids[2], "deadline": d.status(ids[2])[1]}
    # Only the caller controls whose job it submits: that still reverts the batch.
    taken = {**jobs[1], "worker": d.addr("worker2")}
    with reverts("JobMarketNotWorker"):
        d.tx("worker", d.market.functions.submitBatch(
            [ids[3], ids[1]], [job_tuple(jobs[3]), job_tuple(taken)], [results[3], results[1]]
        ))  # fmt: skip
    assert d.status(ids[3])[0] != SUBMITTED


def test_finalize_batch_skips_a_job_whose_window_is_open(d: Deployment) -> None:
    ids, jobs = _open_jobs(d, [d.eth_model])
    first = d.submit(ids[0], jobs[0])
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    later, job = d.create()
    ids.append(later)
    second = d.submit(later, job)
    call = d.market.functions.finalizeBatch(ids, [job_tuple(first), job_tuple(second)])
    assert call.call({"from": d.addr("outsider")}) == 0b01
    receipt = d.tx("outsider", call)
    assert _skipped(d, receipt) == [(ids[1], _selector(d, "JobMarketChallengeWindowOpen"))]
    assert [f["jobId"] for f in events(d.market, receipt, "JobFinalized")] == [ids[0]]
    assert (d.status(ids[0])[0], d.status(ids[1])[0]) == (SETTLED, SUBMITTED)
    with reverts("JobMarketChallengeWindowOpen") as caught:
        d.tx("outsider", d.market.functions.finalize(ids[1], job_tuple(second)))
    assert caught.args == {"jobId": ids[1], "deadline": d.status(ids[1])[1]}


def test_batch_claim_skips_what_the_allocation_does_not_cover(d: Deployment) -> None:
    """Each token's collateral is checked against that token's allocation, read once per
    run of one token; an item that does not fit is skipped, the rest claimed. Served models
    are discovery only."""
    d.tx("worker2", d.workers.functions.removeModels([d.token_model]))
    token = d.token.address
    d.tx(
        "worker2",
        d.workers.functions.deallocate(d.market.address, token, TOKEN_STAKE - 150 * 10**18),
    )
    e, t = d.eth_model, d.token_model
    ids, jobs = _open_jobs(d, [e, t, t, e])
    call = d.market.functions.claimBatch(ids, [job_tuple(j) for j in jobs])
    assert call.call({"from": d.addr("worker2")}) == 0b1011
    receipt = d.tx("worker2", call)
    assert _skipped(d, receipt) == [(ids[2], _selector(d, "JobMarketAllocationExceeded"))]
    assert (d.locked("worker2"), d.locked("worker2", token)) == (2 * ETH_PRICE, TOKEN_PRICE)
    with reverts("JobMarketAllocationExceeded") as caught:
        d.tx("worker2", d.market.functions.claim(ids[2], job_tuple(jobs[2])))
    assert caught.args == {
        "worker": d.addr("worker2"),
        "token": token,
        "locked": TOKEN_PRICE,
        "collateral": TOKEN_PRICE,
        "allocation": 150 * 10**18,
    }


def test_batch_arrays_must_match_and_be_bounded(d: Deployment) -> None:
    ids, jobs = _open_jobs(d, [d.eth_model] * 2)
    tuples = [job_tuple(j) for j in jobs]
    fns = d.market.functions
    with reverts("JobMarketLengthMismatch"):
        d.tx("worker", fns.claimBatch(ids, tuples[:1]))
    result = result_tuple(cid("x"))
    with reverts("JobMarketLengthMismatch"):
        d.tx("worker", fns.submitBatch(ids, tuples, [result]))
    with reverts("JobMarketLengthMismatch"):
        d.tx("worker", fns.submitBatch(ids, tuples[:1], [result] * 2))
    with reverts("JobMarketLengthMismatch"):
        d.tx("outsider", fns.finalizeBatch(ids, tuples[:1]))
    for call in (
        fns.claimBatch([], []),
        fns.submitBatch([], [], []),
        fns.finalizeBatch([], []),
    ):
        with reverts("JobMarketInvalidBatchLength"):
            d.tx("worker", call)
    with reverts("JobMarketInvalidBatchLength"):
        d.tx("worker", fns.claimBatch(ids * 26, tuples * 26))


def test_submit_batch_claims_open_jobs_and_submits_claimed_ones(d: Deployment) -> None:
    """Open jobs in a submitBatch are claimed by the caller in the same call, locking their
    collateral; jobs it had claimed are submitted as before."""
    e, t = d.eth_model, d.token_model
    ids, jobs = _open_jobs(d, [e, e, t, e])
    d.tx("worker", d.market.functions.claim(ids[1], job_tuple(jobs[1])))
    jobs[1] = {**jobs[1], "worker": d.addr("worker")}
    results = [result_tuple(cid(f"out {i}")) for i in ids]
    receipt = d.tx(
        "worker", d.market.functions.submitBatch(ids, [job_tuple(j) for j in jobs], results)
    )
    submitted = events(d.market, receipt, "ResultSubmitted")
    assert [s["jobId"] for s in submitted] == ids
    assert {s["worker"] for s in submitted} == {d.addr("worker")}
    assert events(d.market, receipt, "JobClaimed") == []
    assert all(d.status(i)[0] == SUBMITTED for i in ids)
    assert (d.locked("worker"), d.locked("worker", d.token.address)) == (3 * ETH_PRICE, TOKEN_PRICE)
