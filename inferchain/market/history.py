"""Rebuild each job's tuple and status from the market's events.

Storage keeps only a commitment per job; events carry the rest. `JobRecord.apply` is a
pure fold over one job's events in chain order, so the worker (reconciliation after a
restart), the gateway's indexer and the CLI all rebuild jobs the same way. Callers that
must be sure check the rebuilt tuple against `jobStatus` / `jobCommitment` on-chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3.contract import Contract
from web3.types import EventData, LogReceipt

from inferchain.market.jobs import Job, JobStatus, JobTerms


class JobOutcome(StrEnum):
    """How a settled job ended (`None` on a record that is still live)."""

    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"  # worker reported invalid input: refunded, no slash
    TIMED_OUT = "timed_out"  # refunded, worker slashed
    PAID = "paid"  # finalized, or dispute won by the worker
    REFUNDED = "refunded"  # dispute lost by the worker
    # v1 only (arbiter silent: price and bond back). Since contracts v2 slice 2 a silent
    # arbiter leaves the result standing: `DisputeExpired` is followed by `JobFinalized`,
    # so such a job ends PAID.
    DISPUTE_EXPIRED = "dispute_expired"


@dataclass(frozen=True)
class JobRecord:
    job_id: int
    job: Job
    status: JobStatus
    input_cid: bytes
    request_deadline: int
    created_block: int
    claim_deadline: int | None = None
    challenge_deadline: int | None = None
    output_cid: bytes | None = None
    evidence_cid: bytes | None = None
    outcome: JobOutcome | None = None
    #: The part of a metered job's price it did not charge, refunded at payment.
    refund: int = 0
    #: A paid callback job's callback: delivered (True), expired (False) or not yet (None).
    delivered: bool | None = None
    #: Set by `JobDisputed`: the bond the disputer posted and when arbitration ends.
    dispute_bond: int = 0
    arbitration_deadline: int | None = None
    #: The worker's stake slashed (`JobTimedOut`, `DisputeResolved`, the fee of `JobFailed`);
    #: None: never slashed.
    slashed: int | None = None
    #: What `JobFinalized` paid the worker.
    worker_amount: int | None = None

    @property
    def deadline(self) -> int | None:
        """When the current status ends, as the events tell (None once paid or settled)."""
        match self.status:
            case JobStatus.OPEN:
                return self.request_deadline
            case JobStatus.CLAIMED:
                return self.claim_deadline
            case JobStatus.SUBMITTED:
                return self.challenge_deadline
            case JobStatus.DISPUTED:
                return self.arbitration_deadline
        return None

    @classmethod
    def created(cls, args: Mapping[str, Any], block: int) -> JobRecord:
        job = Job.new(
            args["requester"],
            args["modelId"],
            bytes(args["inputCid"]),
            JobTerms.from_abi(args["terms"]),
        )
        return cls(
            job_id=args["jobId"],
            job=job,
            status=JobStatus.OPEN,
            input_cid=bytes(args["inputCid"]),
            request_deadline=args["requestDeadline"],
            created_block=block,
        )

    def apply(self, event: str, args: Mapping[str, Any]) -> JobRecord:
        """The record after `event` (a market event about this job); unknown events are no-ops."""
        settled = JobStatus.SETTLED
        match event:
            case "JobClaimed":
                return replace(
                    self,
                    job=self.job.claimed_by(args["worker"]),
                    status=JobStatus.CLAIMED,
                    claim_deadline=args["deadline"],
                )
            case "ResultSubmitted":
                # On an Open job the submission is also the claim: it names the worker.
                output = bytes(args["outputCid"])
                job = self.job.with_output(
                    output, bytes(args["outputHash"]), bytes(args["usage"]), worker=args["worker"]
                )
                return replace(
                    self,
                    job=job,
                    status=JobStatus.SUBMITTED,
                    output_cid=output,
                    challenge_deadline=args["challengeDeadline"],
                )
            case "JobDisputed":
                return replace(
                    self,
                    status=JobStatus.DISPUTED,
                    dispute_bond=int(args["bond"]),
                    arbitration_deadline=args["arbitrationDeadline"],
                )
            case "JobCancelled":
                return replace(self, status=settled, outcome=JobOutcome.CANCELLED)
            case "JobExpired":
                return replace(self, status=settled, outcome=JobOutcome.EXPIRED)
            case "JobFailed":  # the failure fee is slashed from the worker's collateral
                evidence = bytes(args["evidenceCid"])
                return replace(
                    self, status=settled, outcome=JobOutcome.FAILED, evidence_cid=evidence,
                    slashed=int(args["fee"]),
                )  # fmt: skip
            case "JobTimedOut":
                slashed = int(args["slashed"])
                return replace(self, status=settled, outcome=JobOutcome.TIMED_OUT, slashed=slashed)
            case "JobFinalized":
                # A callback job is paid but its slot stays until `deliver` (contracts v2 §2.8).
                status = JobStatus.PAID if self.job.terms.has_callback else settled
                paid = int(args["workerAmount"])
                return replace(self, status=status, outcome=JobOutcome.PAID, worker_amount=paid)
            case "JobCharged":  # a metered job, just before its JobFinalized
                return replace(self, refund=int(args["refund"]))
            case "CallbackDelivered":
                return replace(self, status=settled, delivered=True)
            case "DeliveryExpired":
                return replace(self, status=settled, delivered=False)
            case "DisputeResolved":
                won = JobOutcome.PAID if args["workerWins"] else JobOutcome.REFUNDED
                return replace(self, status=settled, outcome=won, slashed=int(args["slashed"]))
            case "DisputeExpired":
                return replace(self, status=settled, outcome=JobOutcome.DISPUTE_EXPIRED)
        return self


def decode_logs(market: Contract, logs: Iterable[LogReceipt]) -> list[EventData]:
    """Decode raw logs of the market contract; logs of other events or contracts are skipped."""
    by_topic = {
        event_abi_to_log_topic(item): item["name"]
        for item in market.abi
        if item.get("type") == "event"
    }
    decoded = []
    for log in logs:
        topics = log.get("topics") or []
        name = by_topic.get(bytes(topics[0])) if topics else None
        if name is None or log["address"].lower() != market.address.lower():
            continue
        decoded.append(market.events[name]().process_log(log))
    return decoded


def created_job_ids(market: Contract, receipt: Any) -> list[int]:
    """The ids of the jobs a transaction's receipt created in `market`, in order (a
    relayed or batched creation carries other contracts' logs too)."""
    return [
        int(event["args"]["jobId"])
        for event in decode_logs(market, receipt["logs"])
        if event["event"] == "JobCreated"
    ]


def created_job_id(market: Contract, receipt: Any) -> int:
    """The id of the one job a creating transaction's receipt shows."""
    ids = created_job_ids(market, receipt)
    if len(ids) != 1:
        raise ValueError(f"expected one JobCreated in the receipt, found {len(ids)}")
    return ids[0]


def fold_events(
    events: Iterable[EventData], known: Mapping[int, JobRecord] | None = None
) -> dict[int, JobRecord]:
    """Apply decoded market events in order onto `known` records; returns the updated map."""
    records = dict(known or {})
    for event in events:
        args = event["args"]
        if event["event"] == "JobCreated":
            records[args["jobId"]] = JobRecord.created(args, event["blockNumber"])
        elif "jobId" in args and args["jobId"] in records:
            records[args["jobId"]] = records[args["jobId"]].apply(event["event"], args)
    return records


def fetch_market_events(
    market: Contract, from_block: int, to_block: int | str = "latest"
) -> list[EventData]:
    """Every market event in the block range, decoded, in chain order (one RPC call)."""
    logs = market.w3.eth.get_logs(
        {"address": market.address, "fromBlock": from_block, "toBlock": to_block}
    )
    return decode_logs(market, logs)
