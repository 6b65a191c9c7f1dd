"""The claim stage's race logic on its seams, without a chain: small fakes stand in for the
key's sender (``inferchain.worker.seams.Sender``), and the market's real ABI decodes the
receipts they return. tests/worker/test_batch_skips.py runs the same races on Anvil."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from eth_abi import encode
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from inferchain.artifacts import load_artifact
from inferchain.chain import ContractReverted
from inferchain.market import Job, JobRecord, JobStatus
from inferchain.worker._tx import BASE_GAS, GAS_PER_JOB
from inferchain.worker.claimer import Claimer
from tests.worker.test_units import CID, JOB

MARKET_ADDRESS = "0x" + "44" * 20
ME = Web3.to_checksum_address("0x" + "55" * 20)
RIVAL_TOOK_IT = bytes.fromhex("deadbeef")  # a BatchItemSkipped reason; the claimer ignores it


def _jobs_contract() -> Contract:
    """The JobMarket binding with no node behind it: it builds calls and decodes logs."""
    return Web3().eth.contract(address=MARKET_ADDRESS, abi=load_artifact("JobMarket").abi)


@dataclass
class FakeMarket:
    """What the claimer reads of ``Market``: the batch limit and the JobMarket binding."""

    jobs: Contract
    max_batch: int = 50


class FakeSender:
    """A sender whose chain is a script: each transaction gets the next scripted answer, a
    list of job outcomes (id -> claim deadline, or None when a rival took it) or a revert."""

    address = ME

    def __init__(self, *answers: dict[int, int | None] | ContractReverted) -> None:
        self._answers = list(answers)
        self.sent: list[tuple[str, int | None]] = []

    def transact(self, call: Any, *, gas: int | None = None) -> TxReceipt:
        """The next scripted answer, recording what was sent and its gas limit."""
        self.sent.append((call.fn_name, gas))
        answer = self._answers.pop(0)
        if isinstance(answer, ContractReverted):
            raise answer
        logs = [_log(job_id, deadline) for job_id, deadline in answer.items()]
        return TxReceipt({"status": 1, "logs": logs})  # type: ignore[typeddict-item]


def _log(job_id: int, deadline: int | None) -> dict[str, Any]:
    """``JobClaimed(jobId, worker, deadline)``, or ``BatchItemSkipped(jobId, reason)`` when a
    rival won the job, encoded as the node would return it."""
    if deadline is None:
        topics = [Web3.keccak(text="BatchItemSkipped(uint256,bytes4)"), _word(job_id)]
        data = encode(["bytes4"], [RIVAL_TOOK_IT])
    else:
        topics = [
            Web3.keccak(text="JobClaimed(uint256,address,uint40)"),
            _word(job_id),
            bytes(12) + bytes.fromhex(ME[2:]),
        ]
        data = encode(["uint40"], [deadline])
    return {
        "address": MARKET_ADDRESS,
        "topics": topics,
        "data": data,
        "logIndex": 0,
        "transactionIndex": 0,
        "transactionHash": b"\x01" * 32,
        "blockHash": b"\x02" * 32,
        "blockNumber": 7,
    }


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _open(job_id: int) -> JobRecord:
    job = Job(JOB.requester, JOB.model_id, JOB.terms)
    return JobRecord(job_id, job, JobStatus.OPEN, CID.to_bytes(), 10_000, 3)


def _claimer(sender: FakeSender, batch: int | None = None) -> Claimer:
    market = FakeMarket(_jobs_contract())
    return Claimer(
        None,  # type: ignore[arg-type]  # the claim stage reads nothing from the chain itself
        market,  # type: ignore[arg-type]
        sender,
        margin_s=0,
        estimate_s=lambda _model: 1.0,
        batch=batch,
    )


def test_claim_batch_holds_the_claimed_jobs_and_drops_the_one_a_rival_took() -> None:
    sender = FakeSender({1: 500, 2: None, 3: 700})
    won, refusal = _claimer(sender).claim([_open(1), _open(2), _open(3)])
    assert refusal is None
    assert sender.sent == [("claimBatch", BASE_GAS + 3 * GAS_PER_JOB["claim"])]
    assert [(j.job_id, j.claim_deadline) for j in won] == [(1, 500), (3, 700)]
    assert all(j.job.worker == ME and j.checked for j in won)


def test_single_claim_lost_to_a_rival_is_dropped_and_the_next_batch_still_claims() -> None:
    lost = ContractReverted("JobMarketInvalidStatus", {}, "0x")
    sender = FakeSender(lost, {2: 900})
    won, refusal = _claimer(sender, batch=1).claim([_open(1), _open(2)])
    assert refusal is None
    one = BASE_GAS + GAS_PER_JOB["claim"]
    assert sender.sent == [("claim", one), ("claim", one)]
    assert [(j.job_id, j.claim_deadline) for j in won] == [(2, 900)]


def test_a_paused_market_stops_claiming_but_keeps_the_jobs_already_won() -> None:
    refused = ContractReverted("JobMarketPaused", {}, "0x")
    sender = FakeSender({1: 500}, refused, {3: 700})
    won, refusal = _claimer(sender, batch=1).claim([_open(1), _open(2), _open(3)])
    assert refusal is not None and refusal.startswith("JobMarketPaused")
    assert len(sender.sent) == 2  # job 3 was never sent
    assert [j.job_id for j in won] == [1]


def test_a_single_claim_beyond_the_allocation_is_skipped_quietly_and_claiming_goes_on() -> None:
    exceeded = ContractReverted("JobMarketAllocationExceeded", {}, "0x")
    sender = FakeSender(exceeded, {2: 900})
    won, refusal = _claimer(sender, batch=1).claim([_open(1), _open(2)])
    assert refusal is None and [j.job_id for j in won] == [2]


def test_within_takes_jobs_oldest_first_while_their_token_has_free_allocation() -> None:
    """Each job takes its collateral from its own token's free allocation; a job that does
    not fit is passed over (a smaller later one may still fit); a token with none, none."""
    token = "0x" + "ab" * 20

    def record(job_id: int, collateral: int, in_token: str = JOB.terms.token) -> JobRecord:
        terms = replace(JOB.terms, token=in_token, collateral=collateral)
        return replace(_open(job_id), job=Job(JOB.requester, JOB.model_id, terms))

    other = "0x" + "cd" * 20
    jobs = [record(1, 60), record(2, 50), record(3, 40), record(4, 5, token), record(5, 1, other)]
    chosen = Claimer.within(jobs, {JOB.terms.token: 100, token: 5})
    assert [r.job_id for r in chosen] == [1, 3, 4]
    assert Claimer.within(jobs, {}) == []
