"""/health says when the worker cannot work, and why: IPFS down, RPC frozen, no allocation."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from typer.testing import CliRunner

from inferchain.chain import Chain
from inferchain.devstack import free_port
from inferchain.ipfs import IpfsClient
from inferchain.market import ETH
from inferchain.worker import Worker
from inferchain.worker.account import no_allocation
from inferchain.worker.cli import app
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

ETHER = 10**18


def _health(worker: Worker) -> tuple[int, dict]:
    reply = httpx.get(f"http://127.0.0.1:{worker.health_port}/health", timeout=5)
    return reply.status_code, reply.json()


def test_worker_starts_without_ipfs_and_health_says_ipfs_is_not_answering(
    anvil: AnvilNode, deployed: Deployed, tmp_path: Path
) -> None:
    refusing = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    s = settings(anvil.rpc_url, refusing, anvil.keys[WORKER_KEYS[0]], tmp_path,
                 models=[deployed.sentiment], metrics_port=0)  # fmt: skip
    worker = Worker(s, deployed.market.addresses, register=True)
    worker.start()
    try:
        wait_until(lambda: _health(worker)[0] == 503, 10, "/health to notice IPFS")
        _, doc = _health(worker)
    finally:
        worker.stop()
    assert doc["ok"] is False and doc["status"] == "unhealthy" and doc["state"] == "running"
    (reason,) = doc["reasons"]
    assert reason.startswith("IPFS not answering: ") and "cannot reach the IPFS API" in reason


def test_health_is_unhealthy_once_a_frozen_rpc_stalls_the_loop(
    anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, tmp_path: Path
) -> None:
    proxy = TcpProxy(urlparse(anvil.rpc_url).port or 0)
    proxy.restore()
    s = settings(f"http://127.0.0.1:{proxy.port}", ipfs_api_url, anvil.keys[WORKER_KEYS[1]],
                 tmp_path, models=[deployed.sentiment], metrics_port=0,
                 health_max_tick_age_s=1.0)  # fmt: skip
    worker = Worker(s, deployed.market.addresses, register=True)
    worker.start()
    try:
        wait_until(lambda: _health(worker)[1]["status"] == "ok", 10, "a healthy start")
        proxy.freeze()  # connections are accepted and never answered
        frozen_at = time.monotonic()
        wait_until(lambda: _health(worker)[0] == 503, 10, "/health to notice the stall")
        noticed = time.monotonic() - frozen_at
        _, doc = _health(worker)
    finally:
        proxy.cut()  # the hung call fails at once, so the worker can stop
        worker.stop()
    assert doc["status"] == "unhealthy" and doc["last_tick_age_s"] > 1.0
    (reason,) = doc["reasons"]
    assert reason.startswith("no good tick for ") and "limit 1 s" in reason
    assert noticed < 5


def test_no_allocation_stops_claims_with_one_warning_until_allocated(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Registered with nothing allocated to the market, every claim would fail: the worker
    says so once, in /health too, until `inferchain worker allocate` gives it collateral."""
    caplog.set_level(logging.INFO, logger="inferchain.worker")
    market, key = deployed.market, WORKER_KEYS[2]
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[key], tmp_path, stake={},
                 models=[deployed.sentiment], metrics_port=0, reconcile_every_s=0.3)  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        job_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment,
                               ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
        wait_until(lambda: _health(worker)[1]["status"] == "cannot_claim", 10, "cannot_claim")
        time.sleep(1.5)  # ~30 ticks and 5 standing checks: still one warning
        code, doc = _health(worker)
        warnings = [r for r in caplog.records if r.getMessage().startswith("cannot claim")]
        assert not events_named(market, "JobClaimed")
        assert not events_named(market, "ResultSubmitted")
        env = {"INFERCHAIN_WORKER_RPC_URL": anvil.rpc_url,
               "INFERCHAIN_WORKER_PRIVATE_KEY": anvil.keys[key]}  # fmt: skip
        addresses = ["--market-addresses", str(deployed.write_addresses(tmp_path))]
        allocate = ["allocate", *addresses, "--amount", str(ETHER)]
        refused = CliRunner().invoke(app, allocate, env=env)  # nothing staked yet
        allocated = CliRunner().invoke(app, [*allocate, "--stake-missing"], env=env)
        assert allocated.exit_code == 0, allocated.output
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "result")
        assert _health(worker)[1]["status"] == "ok"
    finally:
        worker.stop()
    assert refused.exit_code == 1 and "free stake is 0 wei" in refused.output
    shown = json.loads(allocated.output)
    assert shown["allocated_wei"] == ETHER and shown["allocation_wei"] == ETHER
    assert shown["stake_wei"] == ETHER and shown["locked_wei"] == 0
    assert code == 503 and doc["ok"] is False
    (reason,) = doc["reasons"]
    assert reason == "cannot claim: " + no_allocation(anvil.accounts[key], [ETH])
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
    assert "inferchain worker allocate" in warnings[0].getMessage()
    assert events_named(market, "ResultSubmitted")[0]["jobId"] == job_id
    assert worker.failure is None
