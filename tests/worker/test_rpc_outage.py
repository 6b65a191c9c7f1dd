"""With its RPC endpoint unreachable for a while, a worker backs off instead of dying."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

from inferchain.chain import Chain
from inferchain.ipfs import IpfsClient
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    REQUESTER,
    SENTIMENT_INPUT,
    WORKER_KEYS,
    Deployed,
    TcpProxy,
    create_job,
    events_named,
    settings,
    wait_until,
)


def test_worker_survives_an_rpc_outage_and_finishes_the_jobs(
    chain: Chain,
    anvil: AnvilNode,
    deployed: Deployed,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    tmp_path: Path,
) -> None:
    proxy = TcpProxy(urlparse(anvil.rpc_url).port or 0)
    proxy.restore()
    market = deployed.market
    s = settings(f"http://127.0.0.1:{proxy.port}", ipfs_api_url, anvil.keys[WORKER_KEYS[0]],
                 tmp_path / "w", models=[deployed.sentiment])  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        proxy.cut()
        cid = ipfs.add_bytes(SENTIMENT_INPUT)
        job_ids = [
            create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, cid)[0]
            for _ in range(2)
        ]
        time.sleep(2.0)  # several failed ticks: the worker must back off, not die
        assert worker.failure is None and worker.state.value == "running"
        proxy.restore()
        wait_until(
            lambda: {e["jobId"] for e in events_named(market, "ResultSubmitted")}
            >= set(job_ids),
            60, "results after the RPC came back",
        )  # fmt: skip
    finally:
        worker.stop()
        proxy.cut()
    assert worker.failure is None
