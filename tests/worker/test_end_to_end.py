"""Two workers, two demo models, real Anvil, IPFS and torch: every job paid exactly."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, JobStatus
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    DIGITS_INPUT,
    FEE_BPS,
    PRICE,
    PROVIDER,
    REQUESTER,
    ROYALTY_BPS,
    SENTIMENT_INPUT,
    WORKER_KEYS,
    Deployed,
    create_job,
    events_named,
    settings,
    wait_until,
)


def _balance(chain: Chain, deployed: Deployed, account: str) -> int:
    return int(chain.call(deployed.market.jobs.functions.balanceOf(account, ETH)))


def test_two_workers_two_models_every_job_paid_exactly(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market = deployed.market
    models = [deployed.digits, deployed.sentiment]
    workers = []
    for k in WORKER_KEYS[:2]:
        # the second also proves jobs of a ZK mode (none here): its mode-0 jobs pass the gate
        zk_modes = [1] if workers else []
        s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[k], tmp_path / f"w{k}",
                     models=models, max_wait_s=0.02, zk_modes=zk_modes)  # fmt: skip
        workers.append(Worker(s, market.addresses, register=True))
    for worker in workers:
        worker.start()
    assert workers[0].proving is None and workers[1].proving is not None
    requester = anvil.accounts[REQUESTER]
    eth_before = chain.balance(requester)
    digits_cid, sentiment_cid = ipfs.add_bytes(DIGITS_INPUT), ipfs.add_bytes(SENTIMENT_INPUT)
    job_ids, gas = [], 0
    try:
        for i in range(12):
            model, cid = (
                (deployed.digits, digits_cid) if i % 2 else (deployed.sentiment, sentiment_cid)
            )
            job_id, paid = create_job(chain, market, anvil.keys[REQUESTER], model, cid)
            job_ids.append(job_id)
            gas += paid
        wait_until(
            lambda: len(events_named(market, "ResultSubmitted")) == len(job_ids), 60, "results"
        )
        chain.increase_time(CHALLENGE_S + 1)
        wait_until(lambda: len(events_named(market, "JobFinalized")) == len(job_ids), 30, "paid")
    finally:
        for worker in workers:
            worker.stop()
    assert all(w.failure is None for w in workers)

    submitted = events_named(market, "ResultSubmitted")
    assert sorted(e["jobId"] for e in submitted) == sorted(job_ids)  # each exactly once
    for event in submitted:
        output = ipfs.cat(Cid.parse(bytes(event["outputCid"])))
        assert hashlib.sha256(output).digest() == bytes(event["outputHash"])
        assert json.loads(output)["task"] in ("image-classification", "text-classification")
    for job_id in job_ids:
        assert chain.call(market.jobs.functions.jobStatus(job_id))[0] == JobStatus.SETTLED

    n = len(job_ids)
    royalty, fee = PRICE * ROYALTY_BPS // 10_000, PRICE * FEE_BPS // 10_000
    per_job = PRICE - royalty - fee
    by_worker: dict[str, int] = {}
    for event in events_named(market, "JobFinalized"):
        by_worker[event["worker"]] = by_worker.get(event["worker"], 0) + 1
    for k in WORKER_KEYS[:2]:
        account = anvil.accounts[k]
        assert _balance(chain, deployed, account) == by_worker.get(account, 0) * per_job
    assert sum(by_worker.values()) == n
    assert _balance(chain, deployed, anvil.accounts[PROVIDER]) == n * royalty
    assert _balance(chain, deployed, market.governor.address) == n * fee  # the fee account
    assert _balance(chain, deployed, requester) == 0
    assert chain.balance(requester) == eth_before - n * PRICE - gas
    metrics_done = sum(w.metrics.completed._value.get() for w in workers)
    assert metrics_done == n
