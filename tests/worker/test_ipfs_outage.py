"""With its IPFS node stopped for a while, a worker keeps its claims, claims nothing it cannot
fetch, says so on /health, and resumes when the node is back."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from inferchain.chain import Chain
from inferchain.devstack import free_port, start_ipfs
from inferchain.ipfs import IpfsClient
from inferchain.market import JobStatus
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    REQUESTER,
    SENTIMENT_INPUT,
    WORKER_KEYS,
    Deployed,
    create_job,
    events_named,
    publish_demos,
    settings,
    wait_until,
)


def test_work_resumes_when_ipfs_returns(
    chain: Chain, anvil: AnvilNode, deployed: Deployed, demo_bundles: dict, tmp_path: Path
) -> None:
    ports = {"api_port": free_port(), "gateway_port": free_port(), "swarm_port": free_port()}
    repo, log = tmp_path / "ipfs", tmp_path / "ipfs.log"
    node = start_ipfs(repo, log, **ports)
    market, key = deployed.market, anvil.keys[REQUESTER]
    try:
        own = IpfsClient(node.url, timeout=10)
        publish_demos(own)  # this node must serve the bundles and the inputs
        first_cid, second_cid = own.add_bytes(SENTIMENT_INPUT), own.add_bytes(b'{"text": "2"}')
        # A batch of two: the first job, once claimed, waits for the second one.
        s = settings(anvil.rpc_url, node.url, anvil.keys[WORKER_KEYS[0]], tmp_path / "w",
                     models=[deployed.sentiment], ipfs_timeout_s=0.5, inference_batch_size=2,
                     max_wait_s=600, metrics_port=0)  # fmt: skip
        worker = Worker(s, market.addresses, register=True)
        worker.start()
        health = f"http://127.0.0.1:{worker.health_port}/health"
        try:
            first, _ = create_job(chain, market, key, deployed.sentiment, first_cid)
            wait_until(lambda: worker.in_flight == 1, 30, "the first job claimed")
            node.stop()
            second, _ = create_job(chain, market, key, deployed.sentiment, second_cid)
            wait_until(lambda: httpx.get(health).status_code == 503, 10, "/health to notice")
            assert "IPFS not answering" in httpx.get(health).json()["reasons"][0]
            time.sleep(1.0)  # fetch attempts for the second input, with backoff
            assert worker.metrics.retries.labels("prefetch")._value.get() >= 1
            statuses = market.jobs.functions.jobStatus
            assert chain.call(statuses(first))[0] == JobStatus.CLAIMED  # kept
            assert chain.call(statuses(second))[0] == JobStatus.OPEN  # not claimed blind
            assert not events_named(market, "ResultSubmitted")
            node = start_ipfs(repo, log, **ports)
            wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 2, 60, "results")
            wait_until(lambda: httpx.get(health).json()["ok"], 10, "/health ok again")
        finally:
            worker.stop()
        assert worker.failure is None
        assert not events_named(market, "JobFailed")
    finally:
        node.stop()
