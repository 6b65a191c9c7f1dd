"""With its IPFS node stopped for a while, a worker keeps its claims and resumes afterwards."""

from __future__ import annotations

import time
from pathlib import Path

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
    market = deployed.market
    try:
        own = IpfsClient(node.url, timeout=10)
        publish_demos(own)  # this node must serve the bundles and the inputs
        cid = own.add_bytes(SENTIMENT_INPUT)
        s = settings(anvil.rpc_url, node.url, anvil.keys[WORKER_KEYS[0]], tmp_path / "w",
                     models=[deployed.sentiment], ipfs_timeout_s=0.5)  # fmt: skip
        worker = Worker(s, market.addresses, register=True)
        worker.start()
        try:
            node.stop()
            job_ids = [
                create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, cid)[0]
                for _ in range(3)
            ]
            statuses = market.jobs.functions.jobStatus
            wait_until(
                lambda: all(chain.call(statuses(j))[0] == JobStatus.CLAIMED for j in job_ids),
                30, "claims while IPFS is down",
            )  # fmt: skip
            time.sleep(1.5)  # a few failed fetches, with backoff
            assert not events_named(market, "ResultSubmitted")
            assert worker.metrics.retries.labels("fetch")._value.get() >= 3
            node = start_ipfs(repo, log, **ports)
            wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 3, 60, "results")
        finally:
            worker.stop()
        assert worker.failure is None
        assert not events_named(market, "JobFailed")
    finally:
        node.stop()
