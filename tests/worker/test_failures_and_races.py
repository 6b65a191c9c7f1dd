"""Invalid inputs are refunded with evidence; inputs no node has are never claimed; racing
workers never double-work a job."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from inferchain.chain import Chain, ContractReverted
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, JobStatus, ModelSpec
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    PRICE,
    PROVIDER,
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
    stake_of,
    wait_until,
)


def _worker(anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, key: int, tmp: Path, **kw):  # type: ignore[no-untyped-def]
    models = [deployed.digits, deployed.sentiment]
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[key], tmp / f"w{key}", models=models, **kw)
    return Worker(s, deployed.market.addresses, register=True)


def test_invalid_inputs_are_refunded_with_evidence(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market, requester = deployed.market, anvil.accounts[REQUESTER]
    worker = _worker(anvil, ipfs_api_url, deployed, WORKER_KEYS[0], tmp_path, max_input_bytes=4096)
    worker.start()
    bad = {
        "not json": ipfs.add_bytes(b"\xff not json"),
        "unknown field": ipfs.add_bytes(json.dumps({"text": "ok", "bogus": 1}).encode()),
        "oversize": ipfs.add_bytes(b" " * 5000),
    }
    try:
        good_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment,
                                ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
        bad_ids = {
            create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, cid)[0]: name
            for name, cid in bad.items()
        }
        wait_until(lambda: len(events_named(market, "JobFailed")) == len(bad), 30, "failures")
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "good result")
    finally:
        worker.stop()
    failed = {e["jobId"]: e for e in events_named(market, "JobFailed")}
    assert set(failed) == set(bad_ids)
    reasons = {}
    for job_id, event in failed.items():
        assert event["worker"] == anvil.accounts[WORKER_KEYS[0]]
        evidence = json.loads(ipfs.cat(Cid.parse(bytes(event["evidenceCid"]))))
        assert evidence["error"] == "invalid_input" and evidence["job_id"] == job_id
        reasons[bad_ids[job_id]] = evidence["reason"]
    assert reasons == {"not json": "undecodable", "unknown field": "invalid_param",
                       "oversize": "oversize"}  # fmt: skip
    assert events_named(market, "ResultSubmitted")[0]["jobId"] == good_id
    # refunded to the requester's market balance with the failure fees, taken from the stake:
    # an early report costs 1 % of the collateral (the price), and these came early
    fees = [event["fee"] for event in failed.values()]
    assert all(PRICE // 100 <= fee < PRICE // 10 for fee in fees), fees
    paid_back = len(bad) * PRICE + sum(fees)
    assert chain.call(market.jobs.functions.balanceOf(requester, ETH)) == paid_back
    assert stake_of(chain, market, anvil.accounts[WORKER_KEYS[0]]) == STAKE - sum(fees)
    assert worker.metrics.failed._value.get() == len(bad)


def test_unfetchable_inputs_never_get_the_worker_slashed_nor_stall_good_jobs(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market, requester = deployed.market, anvil.accounts[REQUESTER]
    me = anvil.accounts[WORKER_KEYS[0]]
    worker = _worker(anvil, ipfs_api_url, deployed, WORKER_KEYS[0], tmp_path)
    worker.start()
    directory = ipfs.add_tree({"input.json": SENTIMENT_INPUT})
    missing = Cid.for_raw_block(b'{"text": "on no node"} ' + os.urandom(8))
    good = ipfs.add_bytes(SENTIMENT_INPUT)
    key = anvil.keys[REQUESTER]
    try:
        dir_id, _ = create_job(chain, market, key, deployed.sentiment, directory)
        missing_id, _ = create_job(chain, market, key, deployed.sentiment, missing)
        created = time.monotonic()
        good_id, _ = create_job(chain, market, key, deployed.sentiment, good)
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "good result")
        took = time.monotonic() - created
        wait_until(lambda: len(events_named(market, "JobFailed")) == 1, 30, "directory refused")
        # the missing input was tried (and is retried later, unclaimed); the good job went on
        wait_until(lambda: worker.metrics.retries.labels("prefetch")._value.get() >= 1, 30,
                   "the missing input tried")  # fmt: skip
    finally:
        worker.stop()
    assert took < 5, f"the good job took {took:.1f} s from creation to its result"
    assert events_named(market, "ResultSubmitted")[0]["jobId"] == good_id
    (failed,) = events_named(market, "JobFailed")
    evidence = json.loads(ipfs.cat(Cid.parse(bytes(failed["evidenceCid"]))))
    assert failed["jobId"] == dir_id and evidence["reason"] == "wrong_type"
    assert "directory" in evidence["message"]
    assert {e["jobId"] for e in events_named(market, "JobClaimed")} == {dir_id, good_id}
    status, _ = chain.call(market.jobs.functions.jobStatus(missing_id))
    assert status == JobStatus.OPEN  # never claimed: nothing to time out, nobody slashed
    job = records(market)[missing_id].job
    with pytest.raises(ContractReverted, match="JobMarketInvalidStatus"):
        chain.call(market.jobs.functions.timeout(missing_id, job.as_abi()))
    # the directory job refunded with its failure fee, which is all the stake lost
    refunded = chain.call(market.jobs.functions.balanceOf(requester, ETH))
    assert refunded == PRICE + failed["fee"] and PRICE // 100 <= failed["fee"] < PRICE // 10
    assert stake_of(chain, market, me) == STAKE - failed["fee"]
    assert worker.failure is None


def test_racing_workers_do_each_job_once(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market = deployed.market
    cid = ipfs.add_bytes(SENTIMENT_INPUT)
    workers = [
        _worker(anvil, ipfs_api_url, deployed, k, tmp_path, inference_batch_size=4)
        for k in WORKER_KEYS[:3]
    ]
    for worker in workers:
        worker.start()
    try:  # all three see the same 20 open jobs in the same block
        requester = anvil.accounts[REQUESTER]
        job_ids = create_jobs_in_one_block(chain, market, requester, deployed.sentiment, cid, 20)
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 20, 60, "results")
    finally:
        for worker in workers:
            worker.stop()
    submitted = [e["jobId"] for e in events_named(market, "ResultSubmitted")]
    assert sorted(submitted) == sorted(job_ids)
    claims = events_named(market, "JobClaimed")
    assert sorted(e["jobId"] for e in claims) == sorted(job_ids)
    assert not events_named(market, "JobFailed") and not events_named(market, "JobTimedOut")
    assert sum(w.metrics.completed._value.get() for w in workers) == 20
    assert all(w.failure is None for w in workers)


def test_jobs_of_a_model_whose_bundle_cannot_load_are_never_claimed(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    """A bundle no node serves: claiming its jobs would only end in a timeout and a slash."""
    market, key = deployed.market, anvil.keys[REQUESTER]
    me = anvil.accounts[WORKER_KEYS[0]]
    nowhere = Cid.for_raw_block(b"a bundle no node has " + os.urandom(8))
    spec = ModelSpec(nowhere, os.urandom(32), "text-classification", PRICE, 0)
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    broken = int(chain.call(market.models.functions.modelCount()))
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[0]], tmp_path,
                 models=[deployed.sentiment, broken], ipfs_timeout_s=0.5)  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        broken_id, _ = create_job(chain, market, key, broken, ipfs.add_bytes(SENTIMENT_INPUT))
        good_id, _ = create_job(chain, market, key, deployed.sentiment,
                                ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "good result")
        time.sleep(0.5)  # more ticks: the broken model's job stays unclaimed
    finally:
        worker.stop()
    assert [e["jobId"] for e in events_named(market, "JobClaimed")] == [good_id]
    status, _ = chain.call(market.jobs.functions.jobStatus(broken_id))
    assert status == JobStatus.OPEN  # the requester can cancel; no one can be slashed
    assert stake_of(chain, market, me) == STAKE
    assert worker.failure is None
