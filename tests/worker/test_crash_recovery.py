"""SIGKILL the worker process after a claim and after a pin; restarts finish each job once.

Inputs whose bytes are not on IPFS yet hold a claimed job still (the worker retries the
fetch), which lets the test kill at a known point without hooks in the worker. Turning
Anvil's automine off holds the submit transaction in the mempool: the kill then lands
between pin and receipt, and the test chooses whether that transaction is lost or mined.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from eth_utils import function_abi_to_4byte_selector

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import JobStatus
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    REQUESTER,
    WORKER_KEYS,
    Deployed,
    create_job,
    events_named,
    wait_until,
)

KEY = WORKER_KEYS[3]


class WorkerProcess:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inferchain.worker", "run", "--register", "--text-logs"],
            env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(30)
        self._log.close()
        return code


@pytest.fixture
def worker_env(
    anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, tmp_path: Path
) -> dict[str, str]:
    prefix = "INFERCHAIN_WORKER_"
    return {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        prefix + "RPC_URL": anvil.rpc_url,
        prefix + "IPFS_API_URL": ipfs_api_url,
        prefix + "PRIVATE_KEY": anvil.keys[KEY],
        prefix + "STATE_DIR": str(tmp_path / "state"),
        prefix + "MARKET_ADDRESSES_FILE": str(deployed.write_addresses(tmp_path)),
        prefix + "MODELS": json.dumps([deployed.sentiment]),
        prefix + "DEVICE": "cpu",
        prefix + "IPFS_TIMEOUT_S": "0.5",
        prefix + "POLL_INTERVAL_S": "0.05",
    }


def _status(chain: Chain, deployed: Deployed, job_id: int) -> JobStatus:
    return JobStatus(chain.call(deployed.market.jobs.functions.jobStatus(job_id))[0])


def _tx_in_flight(chain: Chain, address: str) -> bool:
    eth = chain.w3.eth
    return eth.get_transaction_count(address, "pending") > eth.get_transaction_count(address)


def test_sigkill_after_claim_and_after_pin_each_job_completes_once(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    deployed: Deployed,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    market, log = deployed.market, tmp_path / "worker.log"
    me, requester = anvil.accounts[KEY], anvil.keys[REQUESTER]
    inputs = {name: json.dumps({"text": f"job {name}"}).encode() for name in "ABC"}
    cids = {name: Cid.for_raw_block(data) for name, data in inputs.items()}  # not on IPFS yet

    def claimed(job_id: int) -> bool:
        return _status(chain, deployed, job_id) is JobStatus.CLAIMED

    def submitted(job_id: int) -> bool:
        return _status(chain, deployed, job_id) is JobStatus.SUBMITTED

    # 1. killed right after claiming A (its input cannot be fetched yet)
    first = WorkerProcess(worker_env, log)
    a, _ = create_job(chain, market, requester, deployed.sentiment, cids["A"])
    wait_until(lambda: claimed(a), 60, "A claimed")
    first.kill()

    # 2. restart: resumes A, claims B; killed after pinning both, submit tx still pending
    second = WorkerProcess(worker_env, log)
    b, _ = create_job(chain, market, requester, deployed.sentiment, cids["B"])
    wait_until(lambda: claimed(b), 60, "B claimed")
    chain._rpc("evm_setAutomine", False)
    try:
        ipfs.add_bytes(inputs["A"]), ipfs.add_bytes(inputs["B"])
        wait_until(lambda: _tx_in_flight(chain, me), 30, "submit sent")
        second.kill()
        chain._rpc("anvil_dropAllTransactions")  # the submission is lost with the process
    finally:
        chain._rpc("evm_setAutomine", True)
    assert claimed(a) and claimed(b)

    # 3. restart: submits A and B from the saved pins; killed after C's submit was sent
    third = WorkerProcess(worker_env, log)
    wait_until(lambda: submitted(a) and submitted(b), 60, "A and B submitted")
    c, _ = create_job(chain, market, requester, deployed.sentiment, cids["C"])
    wait_until(lambda: claimed(c), 60, "C claimed")
    chain._rpc("evm_setAutomine", False)
    try:
        ipfs.add_bytes(inputs["C"])
        wait_until(lambda: _tx_in_flight(chain, me), 30, "submit of C sent")
        third.kill()
    finally:
        chain._rpc("evm_setAutomine", True)  # ...and this time the transaction lands
    wait_until(lambda: submitted(c), 10, "C mined")

    # 4. restart: adopts C as submitted (no second submission), finalizes all three
    from_block = chain.w3.eth.block_number + 1
    fourth = WorkerProcess(worker_env, log)
    chain.increase_time(CHALLENGE_S + 1)
    wait_until(lambda: len(events_named(market, "JobFinalized")) == 3, 60, "all paid")
    assert fourth.terminate() == 0

    per_job = [e["jobId"] for e in events_named(market, "ResultSubmitted")]
    assert sorted(per_job) == [a, b, c]  # each exactly once
    assert not events_named(market, "JobTimedOut") and not events_named(market, "JobFailed")
    submit_selectors = {
        function_abi_to_4byte_selector(item)
        for item in market.jobs.abi
        if item.get("name") in ("submitResult", "submitBatch")
    }
    for number in range(from_block, chain.w3.eth.block_number + 1):
        for tx in chain.w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["from"] == me:
                assert bytes(tx["input"][:4]) not in submit_selectors
                assert chain.w3.eth.get_transaction_receipt(tx["hash"])["status"] == 1
