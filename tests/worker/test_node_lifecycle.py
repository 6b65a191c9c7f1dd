"""Start-up checks, graceful stop, /health and /metrics, and the status / withdraw commands."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from inferchain.chain import Chain
from inferchain.ipfs import IpfsClient
from inferchain.market import ETH, JobStatus
from inferchain.worker import Phase, Worker, WorkerNotReady
from inferchain.worker.cli import app
from inferchain.worker.state import ChainBinding, load_state
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    FEE_BPS,
    PRICE,
    REQUESTER,
    ROYALTY_BPS,
    SENTIMENT_INPUT,
    STAKE,
    WORKER_KEYS,
    Deployed,
    create_job,
    events_named,
    settings,
    wait_until,
    worker_env,
)


def test_unregistered_worker_refuses_to_start(
    anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, tmp_path: Path
) -> None:
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[0]], tmp_path,
                 models=[deployed.sentiment])  # fmt: skip
    with pytest.raises(WorkerNotReady, match="not registered: run with --register"):
        Worker(s, deployed.market.addresses).start()


def test_stop_leaves_unfinished_claims_saved_for_the_next_start(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market = deployed.market
    # A lone job waits max_wait_s for a batch; no grace time: the stop leaves it claimed.
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER_KEYS[1]], tmp_path,
                 models=[deployed.sentiment], shutdown_grace_s=0, max_wait_s=600,
                 metrics_port=0)  # fmt: skip
    worker = Worker(s, market.addresses, register=True)
    worker.start()
    try:
        health = httpx.get(f"http://127.0.0.1:{worker.health_port}/health").json()
        assert health["ok"] and health["status"] == "ok" and health["state"] == "running"
        cid = ipfs.add_bytes(SENTIMENT_INPUT)
        job_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment, cid)
        wait_until(lambda: worker.in_flight == 1, 30, "claim")
        metrics = httpx.get(f"http://127.0.0.1:{worker.health_port}/metrics").text
        assert "inferchain_worker_jobs_claimed_total 1.0" in metrics
        assert httpx.get(f"http://127.0.0.1:{worker.health_port}/nope").status_code == 404
    finally:
        worker.stop()
    assert worker.failure is None
    binding = ChainBinding.of(chain, market.addresses)
    state = load_state(next(tmp_path.glob("state-*.json")), binding, chain.w3.eth.block_number)
    assert state is not None and state.held[job_id].phase is Phase.CLAIMED
    assert chain.call(market.jobs.functions.jobStatus(job_id))[0] == JobStatus.CLAIMED


def test_status_and_withdraw_commands_and_one_log_line_per_settlement(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="inferchain.worker")
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
    (submitted,) = [r for r in caplog.records if r.getMessage() == "results submitted"]
    (finalized,) = [r for r in caplog.records if r.getMessage() == "jobs finalized"]
    (event,) = events_named(market, "ResultSubmitted")
    assert submitted.job_ids == finalized.job_ids == [event["jobId"]]  # type: ignore[attr-defined]
    for record in (submitted, finalized):
        receipt = chain.w3.eth.get_transaction_receipt(record.tx)  # type: ignore[attr-defined]
        assert receipt["status"] == 1 and record.levelno == logging.INFO
    assert finalized.earned == {ETH: earned}  # type: ignore[attr-defined]
    env = {
        "INFERCHAIN_WORKER_RPC_URL": anvil.rpc_url,
        "INFERCHAIN_WORKER_PRIVATE_KEY": anvil.keys[key],
    }
    addresses = ["--market-addresses", str(deployed.write_addresses(tmp_path))]
    runner = CliRunner()
    shown = runner.invoke(app, ["show", *addresses], env=env)
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)
    assert status["registered"]
    record = {"paid": 1, "failed": 0, "timed_out": 0, "disputes_lost": 0, "disputes_won": 0}
    assert status["tokens"][ETH] == {
        "stake_wei": STAKE, "allocated_wei": STAKE, "allocation_wei": STAKE, "locked_wei": 0,
        "free_allocation_wei": STAKE, "record": record,
    }  # fmt: skip
    assert status["models"] == [deployed.sentiment] and status["withdrawable"] == {ETH: earned}
    before = chain.balance(anvil.accounts[key])
    taken = runner.invoke(app, ["withdraw", *addresses], env=env)
    assert taken.exit_code == 0, taken.output
    assert json.loads(taken.output)["withdrawn"] == earned
    assert chain.balance(anvil.accounts[key]) > before
    again = runner.invoke(app, ["withdraw", *addresses], env=env)
    assert again.exit_code == 1 and "nothing to withdraw" in again.output


def test_second_worker_on_the_same_key_is_refused_and_the_first_keeps_working(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market, key = deployed.market, anvil.keys[WORKER_KEYS[3]]
    s = settings(anvil.rpc_url, ipfs_api_url, key, tmp_path / "state",
                 models=[deployed.sentiment])  # fmt: skip
    first = Worker(s, market.addresses, register=True)
    first.start()
    try:
        # its own state directory: the lock is per key and chain, not per directory
        env = worker_env(anvil.rpc_url, ipfs_api_url, key, deployed, tmp_path,
                         state_dir=str(tmp_path / "elsewhere"))  # fmt: skip
        nonce = chain.w3.eth.get_transaction_count(anvil.accounts[WORKER_KEYS[3]])
        second = subprocess.run(
            [sys.executable, "-m", "inferchain.worker", "run", "--text-logs"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode == 1, second.stderr
        assert "another worker is already running with" in second.stderr
        assert f"pid {os.getpid()}" in second.stderr and "Traceback" not in second.stderr
        assert chain.w3.eth.get_transaction_count(anvil.accounts[WORKER_KEYS[3]]) == nonce
        create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment,
                   ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
        wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "result")
    finally:
        first.stop()
    assert first.failure is None
    restarted = Worker(s, market.addresses)  # the lock went with the first worker
    restarted.start()
    restarted.stop()
    assert restarted.failure is None
