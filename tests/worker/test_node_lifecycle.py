"""Start-up checks, graceful stop, /health and /metrics, and the status / withdraw commands."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from inferchain.chain import Chain
from inferchain.cli.worker import app
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, JobStatus
from inferchain.worker import Phase, Worker, WorkerNotReady
from inferchain.worker.state import load_state
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    FEE_BPS,
    PRICE,
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


def test_unregistered_worker_refuses_to_start(
    anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, tmp_path: Path
) -> None:
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[0]], tmp_path,
                 models=[deployed.sentiment])  # fmt: skip
    with pytest.raises(WorkerNotReady, match="not registered"):
        Worker(s, deployed.market.addresses).start()
    with pytest.raises(WorkerNotReady, match="below the minimum"):
        Worker(s, deployed.market.addresses, register=True, stake=10**18 // 2).start()


def test_stop_leaves_unfinished_claims_saved_for_the_next_start(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, tmp_path: Path
) -> None:
    market = deployed.market
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[1]], tmp_path,
                 models=[deployed.sentiment], shutdown_grace_s=0.5, ipfs_timeout_s=0.2,
                 metrics_port=0)  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        health = httpx.get(f"http://127.0.0.1:{worker.health_port}/health").json()
        assert health["ok"] and health["state"] == "running"
        missing = Cid.for_raw_block(b'{"text": "never added"}')
        job_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, missing)
        wait_until(lambda: worker.in_flight == 1, 30, "claim")
        metrics = httpx.get(f"http://127.0.0.1:{worker.health_port}/metrics").text
        assert "inferchain_worker_jobs_claimed_total 1.0" in metrics
        assert httpx.get(f"http://127.0.0.1:{worker.health_port}/nope").status_code == 404
    finally:
        worker.stop()
    assert worker.failure is None
    state = load_state(next(tmp_path.glob("state-*.json")), chain.chain_id, market.jobs.address)
    assert state is not None and state.held[job_id].phase is Phase.CLAIMED
    assert chain.call(market.jobs.functions.jobStatus(job_id))[0] == JobStatus.CLAIMED


def test_status_and_withdraw_commands(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market, key = deployed.market, WORKER_KEYS[2]
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[key], tmp_path,
                 models=[deployed.sentiment])  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment,
                   ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "result")
        chain.increase_time(CHALLENGE_S + 1)
        wait_until(lambda: len(events_named(market, "JobFinalized")) == 1, 30, "paid")
    finally:
        worker.stop()
    earned = PRICE - PRICE * ROYALTY_BPS // 10_000 - PRICE * FEE_BPS // 10_000
    assert worker.earned == {ETH: earned}
    env = {
        "INFERCHAIN_WORKER_RPC_URL": anvil.rpc_url,
        "INFERCHAIN_WORKER_PRIVATE_KEY": anvil.keys[key],
    }
    addresses = ["--market-addresses", str(deployed.write_addresses(tmp_path))]
    runner = CliRunner()
    shown = runner.invoke(app, ["status", *addresses], env=env)
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)
    assert status["registered"] and status["jobs_held"] == 0
    assert status["models"] == [deployed.sentiment] and status["withdrawable"] == {ETH: earned}
    before = chain.balance(anvil.accounts[key])
    taken = runner.invoke(app, ["withdraw", *addresses], env=env)
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.output)["withdrawn"] == earned
    assert chain.balance(anvil.accounts[key]) > before
    again = runner.invoke(app, ["withdraw", *addresses], env=env)
    assert again.exit_code == 1 and "nothing to withdraw" in again.output
