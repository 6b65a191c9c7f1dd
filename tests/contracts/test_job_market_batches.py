"""Batched claim / submit / finalize: same results as one by one, all-or-nothing, bounded."""

from __future__ import annotations

from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    CLAIMED,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    FEE_BPS,
    SETTLED,
    SUBMITTED,
    TOKEN_PRICE,
    TOKEN_ROYALTY_BPS,
    Deployment,
    cid,
    cid_parts,
    events,
    job_tuple,
    result_tuple,
    reverts,
)


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
    assert d.workers.functions.activeJobs(d.addr("worker")).call() == 6
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
    assert d.workers.functions.activeJobs(d.addr("worker")).call() == 0
    assert d.market.functions.settledJobs(d.addr("worker")).call() == 6


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
        assert d.market.functions.settledJobs(d.addr(role)).call() == 2
        assert d.workers.functions.activeJobs(d.addr(role)).call() == 0


def test_one_bad_job_reverts_the_whole_batch(d: Deployment) -> None:
    ids, jobs = _open_jobs(d, [d.eth_model] * 3)
    d.claim(ids[1], jobs[1], "worker2")
    with reverts("JobMarketInvalidStatus"):
        d.tx("worker", d.market.functions.claimBatch(ids, [job_tuple(j) for j in jobs]))
    assert d.status(ids[0])[0] != CLAIMED
    assert d.workers.functions.activeJobs(d.addr("worker")).call() == 0


def test_batch_claim_checks_each_model(d: Deployment) -> None:
    d.tx("worker2", d.workers.functions.removeModels([d.token_model]))
    ids, jobs = _open_jobs(d, [d.eth_model, d.token_model])
    with reverts("WorkerRegistryModelNotServed"):
        d.tx("worker2", d.market.functions.claimBatch(ids, [job_tuple(j) for j in jobs]))


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
    """Open jobs in a submitBatch are claimed by the caller in the same call (one registry
    call per run of one model); jobs it had claimed are submitted as before."""
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
    assert d.workers.functions.activeJobs(d.addr("worker")).call() == 4
