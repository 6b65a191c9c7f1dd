"""SIGKILL the worker process after a claim and after a pin; restarts finish each job once.

Batches of two with a long wait hold a lone claimed job before inference, which lets the
test kill at a known point without hooks in the worker. Turning Anvil's automine off holds
each transaction in the mempool until the test mines it: the kill then lands between pin
and receipt, and the test chooses whether that transaction is lost or mined.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_utils import function_abi_to_4byte_selector

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import JobRequest, JobStatus, Market
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    PRICE,
    REQUESTER,
    WORKER_KEYS,
    Deployed,
    WorkerProcess,
    events_named,
    wait_until,
)
from tests.worker.helpers import worker_env as process_env

KEY = WORKER_KEYS[3]


@pytest.fixture
def worker_env(
    anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, tmp_path: Path
) -> dict[str, str]:
    return process_env(
        anvil.rpc_url, ipfs_api_url, anvil.keys[KEY], deployed, tmp_path,
        models=json.dumps([deployed.sentiment]), ipfs_timeout_s="0.5",
        inference_batch_size="2", max_wait_s="600",
        fast_path_max_s="0",  # the crash points below are those of claim-first work
    )  # fmt: skip


def _status(chain: Chain, deployed: Deployed, job_id: int) -> JobStatus:
    return JobStatus(chain.call(deployed.market.jobs.functions.jobStatus(job_id))[0])


def _tx_in_flight(chain: Chain, address: str) -> bool:
    eth = chain.w3.eth
    return eth.get_transaction_count(address, "pending") > eth.get_transaction_count(address)


def _mine_next_tx(chain: Chain, address: str, what: str) -> None:
    """Automine is off: wait for ``address`` to send a transaction, then mine it."""
    wait_until(lambda: _tx_in_flight(chain, address), 60, what)
    chain.mine()


def _create(chain: Chain, market: Market, requester: str, model_id: int, cid: Cid) -> int:
    """createJob without waiting for it to be mined (works with automine off)."""
    job_id = int(chain.call(market.jobs.functions.nextJobId()))
    deadline = chain.block_timestamp() + 3600
    request = JobRequest(model_id, cid.to_bytes(), PRICE, deadline, 600).as_abi()
    market.jobs.functions.createJob(requester, request).transact(  # dev accounts are unlocked
        {"from": requester, "value": PRICE, "gas": 400_000}
    )
    return job_id


def test_sigkill_after_claim_and_after_pin_each_job_completes_once(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    deployed: Deployed,
    worker_env: dict[str, str],
    tmp_path: Path,
) -> None:
    market, log = deployed.market, tmp_path / "worker.log"
    me, requester = anvil.accounts[KEY], anvil.accounts[REQUESTER]
    inputs = {name: json.dumps({"text": f"job {name}"}).encode() for name in "ABC"}
    cids = {name: ipfs.add_bytes(data) for name, data in inputs.items()}

    def claimed(job_id: int) -> bool:
        return _status(chain, deployed, job_id) is JobStatus.CLAIMED

    def submitted(job_id: int) -> bool:
        return _status(chain, deployed, job_id) is JobStatus.SUBMITTED

    try:
        # 1. killed right after claiming A (alone, it waits for a second job to batch with)
        first = WorkerProcess(worker_env, log)
        a = _create(chain, market, requester, deployed.sentiment, cids["A"])
        wait_until(lambda: claimed(a), 60, "A claimed")
        first.kill()

        # 2. restart: resumes A, claims B, runs both; killed after pinning them, with the
        #    submit transaction still pending
        second = WorkerProcess(worker_env, log)
        chain._rpc("evm_setAutomine", False)
        try:
            b = _create(chain, market, requester, deployed.sentiment, cids["B"])
            chain.mine()
            _mine_next_tx(chain, me, "claim of B sent")
            wait_until(lambda: _tx_in_flight(chain, me), 60, "submit sent")
            second.kill()
            chain._rpc("anvil_dropAllTransactions")  # the submission is lost with the process
        finally:
            chain._rpc("evm_setAutomine", True)
        assert claimed(a) and claimed(b)

        # 3. restart: submits A and B from the saved pins; killed after C's submit was sent
        third = WorkerProcess(worker_env, log, max_wait_s="0.05")
        wait_until(lambda: submitted(a) and submitted(b), 60, "A and B submitted")
        chain._rpc("evm_setAutomine", False)
        try:
            c = _create(chain, market, requester, deployed.sentiment, cids["C"])
            chain.mine()
            _mine_next_tx(chain, me, "claim of C sent")
            wait_until(lambda: _tx_in_flight(chain, me), 60, "submit of C sent")
            third.kill()
        finally:
            chain._rpc("evm_setAutomine", True)  # ...and this time the transaction lands
        wait_until(lambda: submitted(c), 10, "C mined")
    finally:
        for sender in chain._senders.values():  # raw transactions moved the requester's nonce
            sender.reset_nonce()

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
