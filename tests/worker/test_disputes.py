"""A worker collects what a disputed job leaves it (issue 14): it keeps the job (across
restarts too, with or without its state file), expires a dispute nobody judged once its
arbitration deadline passes, resolves one the court ruled for it, and records a loss when
ruled against.

The market is the worker tests' (`disputes="manual"`): ``ManualArbiter.rule`` rules and
applies the ruling in one transaction, so a verdict that is in but not applied (what a
committee's majority leaves until someone calls ``resolveDispute``) is written straight
into the arbiter's storage.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from web3 import Web3

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, Job, JobStatus, Market
from inferchain.worker import Worker
from inferchain.worker.account import ensure_ready
from inferchain.worker.claimer import Claimer
from inferchain.worker.disputes import Disputes, JobEnd
from inferchain.worker.settlement import Settler
from inferchain.worker.submitter import Submitter
from inferchain.worker.tracked import Phase
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    FEE_BPS,
    OWNER,
    PRICE,
    REQUESTER,
    ROYALTY_BPS,
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

KEY = WORKER_KEYS[0]
SHARE = PRICE - PRICE * ROYALTY_BPS // 10_000 - PRICE * FEE_BPS // 10_000
#: ManualArbiter's storage: Ownable's owner, Ownable2Step's pending owner, then `_rulings`.
RULINGS_SLOT = 2


def _worker(anvil: AnvilNode, ipfs_api_url: str, deployed: Deployed, state: Path) -> Worker:
    s = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[KEY], state,
                 models=[deployed.sentiment])  # fmt: skip
    worker = Worker(s, deployed.market.addresses, register=True)
    worker.start()
    return worker


def _phase(worker: Worker, job_id: int) -> Phase | None:
    job = worker.held.get(job_id)
    return job.phase if job else None


def _disputed_job(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    deployed: Deployed,
    worker: Worker,
    *,
    seen: bool = True,
) -> tuple[int, Job]:
    """A job the worker ran, its result disputed by the requester (who opens no round);
    returned once the worker, trying to finalize it, has seen the dispute (or, not
    ``seen``, at once: the challenge window still open)."""
    market = deployed.market
    job_id, _ = create_job(chain, market, anvil.keys[REQUESTER], deployed.sentiment,
                           ipfs.add_bytes(SENTIMENT_INPUT))  # fmt: skip
    wait_until(lambda: len(events_named(market, "ResultSubmitted")) == 1, 30, "the result")
    job = records(market)[job_id].job
    requester = chain.sender(anvil.keys[REQUESTER])
    requester.transact(market.jobs.functions.dispute(job_id, job.as_abi()), value=job.bond)
    if not seen:
        return job_id, job
    chain.increase_time(CHALLENGE_S + 1)
    wait_until(lambda: _phase(worker, job_id) is Phase.DISPUTED, 30, "the dispute to be seen")
    return job_id, job


def _balance(chain: Chain, market: Market, account: str) -> int:
    return int(chain.call(market.jobs.functions.balanceOf(account, ETH)))


def _status(chain: Chain, market: Market, job_id: int) -> JobStatus:
    return JobStatus(chain.call(market.jobs.functions.jobStatus(job_id))[0])


def _rule_unapplied(chain: Chain, market: Market, job_id: int, job: Job, wins: bool) -> None:
    """Write the arbiter's verdict on ``job_id`` without resolving the market's dispute."""
    inner = Web3.keccak(abi_encode(["address", "uint256"], [market.jobs.address, RULINGS_SLOT]))
    slot = Web3.keccak(abi_encode(["uint256", "bytes32"], [job_id, inner]))
    verdict = 1 if wins else 2  # IVerifier.Verdict: Pending, WorkerWins, WorkerLoses
    chain._rpc("anvil_setStorageAt", market.arbiter.address, slot.to_0x_hex(),
               "0x" + verdict.to_bytes(32, "big").hex())  # fmt: skip
    seen = chain.call(market.arbiter.functions.verdict(job_id, job.as_abi()),
                      sender=market.jobs.address)  # fmt: skip
    assert seen == verdict  # the slot is the ruling's
    chain.mine()  # a new block: the worker asks again


def test_a_dispute_nobody_judges_survives_restarts_and_is_expired_by_the_worker(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market, me = deployed.market, anvil.accounts[KEY]
    worker = _worker(anvil, ipfs_api_url, deployed, tmp_path)
    try:
        job_id, job = _disputed_job(chain, anvil, ipfs, deployed, worker)
        deadline = worker.held[job_id].arbitration_deadline
        assert deadline is not None and deadline > chain.block_timestamp()
        chain.mine(3)  # a few blocks: asked each time, no verdict, nothing sent
    finally:
        worker.stop()
    assert worker.failure is None
    assert _status(chain, market, job_id) is JobStatus.DISPUTED
    (saved,) = json.loads(next(tmp_path.glob("state-*.json")).read_text())["held"]
    assert (saved["phase"], saved["arbitration_deadline"]) == ("disputed", deadline)

    worker = _worker(anvil, ipfs_api_url, deployed, tmp_path)
    worker.stop()
    assert worker.failure is None
    assert _phase(worker, job_id) is Phase.DISPUTED
    assert worker.held[job_id].arbitration_deadline == deadline
    # The state file lost: the disputed job is found again in the market's events.
    next(tmp_path.glob("state-*.json")).unlink()
    worker = _worker(anvil, ipfs_api_url, deployed, tmp_path)
    try:
        assert _phase(worker, job_id) is Phase.DISPUTED
        assert worker.held[job_id].arbitration_deadline == deadline
        chain.increase_time(deadline - chain.block_timestamp() + 1)
        wait_until(lambda: job_id not in worker.held, 30, "the dispute to be expired")
    finally:
        worker.stop()
    assert worker.failure is None
    (expired,) = events_named(market, "DisputeExpired")
    assert expired["jobId"] == job_id
    assert _status(chain, market, job_id) is JobStatus.SETTLED
    assert _balance(chain, market, me) == SHARE == worker.earned[ETH]
    assert _balance(chain, market, anvil.accounts[REQUESTER]) == job.bond  # the bond back
    assert worker.metrics.disputes_ended.labels("expired")._value.get() == 1
    assert worker.metrics.finalized._value.get() == 1


def test_a_ruling_for_the_worker_is_resolved_by_the_worker_and_paid(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
) -> None:
    market, me = deployed.market, anvil.accounts[KEY]
    worker = _worker(anvil, ipfs_api_url, deployed, tmp_path)
    try:
        job_id, job = _disputed_job(chain, anvil, ipfs, deployed, worker)
        assert worker.metrics.disputed._value.get() == 1
        _rule_unapplied(chain, market, job_id, job, wins=True)
        wait_until(lambda: job_id not in worker.held, 30, "the dispute to be resolved")
    finally:
        worker.stop()
    assert worker.failure is None
    (resolved,) = events_named(market, "DisputeResolved")
    assert (resolved["jobId"], resolved["workerWins"]) == (job_id, True)
    (paid,) = events_named(market, "JobFinalized")
    assert paid["workerAmount"] == SHARE + job.bond  # the bond goes to the winner
    tx = chain.w3.eth.get_transaction(_tx_of(market, job_id))
    assert tx["from"] == me  # the worker sent resolveDispute itself
    assert _balance(chain, market, me) == SHARE + job.bond == worker.earned[ETH]
    assert worker.metrics.disputes_ended.labels("won")._value.get() == 1


def _tx_of(market: Market, job_id: int) -> bytes:
    logs = market.jobs.events.DisputeResolved().get_logs(
        from_block=market.addresses.deployed_block, argument_filters={"jobId": job_id}
    )
    return bytes(logs[0]["transactionHash"])


@pytest.mark.parametrize("seen", [True, False], ids=["ruled-while-held-disputed", "ruled-early"])
def test_a_ruling_against_the_worker_is_recorded_as_lost_and_the_job_dropped(
    chain: Chain,
    anvil: AnvilNode,
    ipfs: IpfsClient,
    ipfs_api_url: str,
    deployed: Deployed,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    seen: bool,
) -> None:
    """Ruled (and applied) by someone else: after the worker saw the dispute, or before its
    challenge window closed, so that finalization finds the job settled and reads how."""
    caplog.set_level(logging.INFO, logger="inferchain.worker")
    market, me = deployed.market, anvil.accounts[KEY]
    worker = _worker(anvil, ipfs_api_url, deployed, tmp_path)
    try:
        job_id, job = _disputed_job(chain, anvil, ipfs, deployed, worker, seen=seen)
        stake_before = stake_of(chain, market, me)
        arbiter = chain.sender(anvil.keys[OWNER])  # the deployer rules the manual arbiter
        arbiter.transact(market.arbiter.functions.rule(market.jobs.address, job_id,
                                                       job.as_abi(), False))  # fmt: skip
        if not seen:
            assert _phase(worker, job_id) is Phase.SUBMITTED
            chain.increase_time(CHALLENGE_S + 1)
        wait_until(lambda: job_id not in worker.held, 30, "the loss to be seen")
    finally:
        worker.stop()
    assert worker.failure is None
    (resolved,) = events_named(market, "DisputeResolved")
    assert (resolved["jobId"], resolved["workerWins"]) == (job_id, False)
    assert stake_of(chain, market, me) == stake_before - resolved["slashed"]
    (lost,) = [r for r in caplog.records if r.getMessage().startswith("dispute lost")]
    assert lost.levelno == logging.WARNING
    assert (lost.job_id, lost.slashed) == (job_id, resolved["slashed"])  # type: ignore[attr-defined]
    assert _balance(chain, market, me) == 0 and worker.earned == {}
    assert worker.metrics.disputes_ended.labels("lost")._value.get() == 1
    assert worker.metrics.slashed.labels(ETH)._value.get() == resolved["slashed"]
    (saved,) = [json.loads(p.read_text()) for p in tmp_path.glob("state-*.json")]
    assert saved["held"] == []


def test_one_refused_dispute_transaction_does_not_hold_up_the_others(
    chain: Chain, anvil: AnvilNode, deployed: Deployed, caplog: pytest.LogCaptureFixture
) -> None:
    """Two disputed jobs past their deadline, one held with a tuple the market refuses: the
    other is expired and paid, the refused one logged and kept, and expired next block once
    its tuple is right again."""
    caplog.set_level(logging.INFO, logger="inferchain.worker")
    market, key = deployed.market, anvil.keys[WORKER_KEYS[1]]
    sender = chain.sender(key)
    ensure_ready(chain, market, sender, [deployed.sentiment], register=True,
                 stake={ETH: STAKE})  # fmt: skip
    cid = Cid.for_raw_block(SENTIMENT_INPUT)
    ids = create_jobs_in_one_block(chain, market, anvil.accounts[REQUESTER], deployed.sentiment,
                                   cid, 2)  # fmt: skip
    known = records(market)
    claimer = Claimer(chain, market, sender, margin_s=0, estimate_s=lambda _: 0.0)
    held, _ = claimer.claim([known[i] for i in ids])
    output = b'{"label": "positive"}'
    for job in held:
        job.fetched(SENTIMENT_INPUT)
        job.ran(output, None, 0.01)
        job.pinned(Cid.for_raw_block(output), b"\x11" * 32)
    assert Submitter(chain, market, sender).submit(held, chain.block_timestamp()) == []
    requester = chain.sender(anvil.keys[REQUESTER])
    for job in held:
        requester.transact(market.jobs.functions.dispute(job.job_id, job.job.as_abi()),
                           value=job.job.bond)  # fmt: skip
    chain.increase_time(CHALLENGE_S + 1)
    assert Settler(chain, market, sender).finalize(held, chain.block_timestamp()) == {}
    assert {j.phase for j in held} == {Phase.DISPUTED}

    bad, good = held
    right = bad.job
    bad.job = replace(right, usage=b"\x01" * 32)  # not the tuple the market committed to
    deadline = max(j.arbitration_deadline or 0 for j in held)
    chain.increase_time(deadline - chain.block_timestamp() + 1)
    disputes = Disputes(chain, market, sender, chunk=1_000)
    head = chain.w3.eth.block_number
    ended = disputes.settle(held, head, chain.block_timestamp())
    assert ended == [(good, JobEnd("expired", SHARE))]
    assert (bad.phase, good.phase) == (Phase.DISPUTED, Phase.FINALIZED)
    (refused,) = [r for r in caplog.records if r.getMessage().startswith("dispute not settled")]
    assert "JobMarketJobMismatch" in refused.error  # type: ignore[attr-defined]
    assert disputes.settle(held, head, chain.block_timestamp()) == []  # same block: not asked

    bad.job = right
    chain.mine()
    ended = disputes.settle(held, head + 1, chain.block_timestamp())
    assert ended == [(bad, JobEnd("expired", SHARE))] and bad.phase is Phase.FINALIZED
    assert _balance(chain, market, sender.address) == 2 * SHARE
