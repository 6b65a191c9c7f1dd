"""The fast path: short jobs are run before they are claimed and submitted on Open (claim and
submit in one transaction); rivals that lose the race drop the job quietly."""

from __future__ import annotations

from pathlib import Path

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH
from inferchain.worker import Phase, TrackedJob, Worker
from inferchain.worker.account import ensure_ready
from inferchain.worker.reconcile import own_records, reconcile_held
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    REQUESTER,
    SENTIMENT_INPUT,
    STAKE,
    WORKER_KEYS,
    Deployed,
    create_job,
    create_jobs_in_one_block,
    events_named,
    records,
    settings,
    wait_until,
)


def _worker(
    anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, key: int, tmp: Path, fast_s: float
) -> Worker:
    s = settings(
        anvil.rpc_url, ipfs_api_url, anvil.keys[key], tmp / f"w{key}",
        models=[deployed.sentiment], max_wait_s=0.02, fast_path_max_s=fast_s,
    )  # fmt: skip
    return Worker(s, deployed.market.addresses, register=True)


def test_short_jobs_are_submitted_on_open_without_a_claim(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market = deployed.market
    # Any expected time is short under a 60 s limit: every job takes the fast path.
    worker = _worker(anvil, ipfs_api_url, deployed, WORKER_KEYS[0], tmp_path, fast_s=60.0)
    worker.start()
    good = ipfs.add_bytes(SENTIMENT_INPUT)
    bad = ipfs.add_bytes(b"\xff not json")
    try:
        ids = [create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, good)[0]
               for _ in range(3)]  # fmt: skip
        bad_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, bad)
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 3, 60, "results")
        # A refused input is claimed only to be reported (refunded at once).
        wait_until(lambda: len(events_named(market, "JobFailed")) == 1, 60, "failure report")
        chain.increase_time(CHALLENGE_S + 1)
        wait_until(lambda: len(events_named(market, "JobFinalized")) == 3, 30, "paid")
    finally:
        worker.stop()
    assert worker.failure is None
    me = anvil.accounts[WORKER_KEYS[0]]
    assert [e["jobId"] for e in events_named(market, "JobClaimed")] == [bad_id]
    submitted = events_named(market, "ResultSubmitted")
    assert sorted(e["jobId"] for e in submitted) == ids
    assert {e["worker"] for e in submitted} == {me}
    assert {e["worker"] for e in events_named(market, "JobFinalized")} == {me}
    assert events_named(market, "JobFailed")[0]["jobId"] == bad_id
    assert worker.metrics.fast_path._value.get() == 3


def test_fast_path_off_claims_first(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market = deployed.market
    worker = _worker(anvil, ipfs_api_url, deployed, WORKER_KEYS[0], tmp_path, fast_s=0.0)
    worker.start()
    try:
        job_id, _ = create_job(
            chain,
            market,
            anvil.keys[REQUESTER],
            deployed.sentiment,
            ipfs.add_bytes(SENTIMENT_INPUT),
        )
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 60, "result")
    finally:
        worker.stop()
    assert [e["jobId"] for e in events_named(market, "JobClaimed")] == [job_id]


def test_racing_fast_workers_submit_each_job_once(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    """Both workers run every job; one submission per job lands, the loser drops its copy
    and keeps going (no failure, no retry storm)."""
    market = deployed.market
    workers = [
        _worker(anvil, ipfs_api_url, deployed, k, tmp_path, fast_s=60.0) for k in WORKER_KEYS[:2]
    ]
    for worker in workers:
        worker.start()
    try:
        ids = create_jobs_in_one_block(
            chain, market, anvil.accounts[REQUESTER], deployed.sentiment,
            ipfs.add_bytes(SENTIMENT_INPUT), 6,
        )  # fmt: skip
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 6, 60, "results")
        wait_until(lambda: all(w.in_flight == 0 for w in workers), 30, "races settled")
    finally:
        for worker in workers:
            worker.stop()
    assert all(w.failure is None for w in workers)
    assert sorted(e["jobId"] for e in events_named(market, "ResultSubmitted")) == ids
    assert events_named(market, "JobClaimed") == []
    # Each job's one submission on Open is counted once, by the worker whose copy landed.
    assert sum(w.metrics.fast_path._value.get() for w in workers) == 6


def test_restart_adopts_its_own_submission_on_open_and_drops_a_rivals(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, deployed: Deployed
) -> None:
    """Two fast-path jobs were pinned before a crash: this worker's submission of one landed,
    a rival submitted the other. Reconciliation adopts the first (its tuple names this
    worker) and drops the second: nothing was owed on it."""
    market = deployed.market
    me, rival = (chain.sender(anvil.keys[k]) for k in WORKER_KEYS[:2])
    for worker in (me, rival):  # submitting on Open locks collateral from the allocation
        ensure_ready(chain, market, worker, [deployed.sentiment], register=True, stake={ETH: STAKE})
    cid = ipfs.add_bytes(SENTIMENT_INPUT)
    first = chain.w3.eth.block_number
    ids = [create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, cid)[0]
           for _ in range(2)]  # fmt: skip
    opened = records(market)
    output = Cid.for_raw_block(b"answer")
    held = {}
    for job_id, sender in zip(ids, (me, rival), strict=True):
        job = TrackedJob(
            job_id, opened[job_id].job, cid.to_bytes(), opened[job_id].request_deadline,
            phase=Phase.OPEN, speculative=True,
        )  # fmt: skip
        job.fetched(b"in")
        job.ran(b"out", None, 0.1)
        job.pinned(output, b"\x01" * 32)
        sender.transact(market.jobs.functions.submitResult(job_id, job.job.as_abi(),
                                                           job.result().as_abi()))  # fmt: skip
        held[job_id] = job
    own = own_records(market, me.address, first, chain.w3.eth.block_number, 1_000)
    kept = reconcile_held(chain, market, held, own, chain.block_timestamp())
    assert list(kept) == [ids[0]]
    assert kept[ids[0]].phase is Phase.SUBMITTED and kept[ids[0]].job.worker == me.address
