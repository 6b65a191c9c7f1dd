"""Projection handlers of JobMarket events: the ``jobs`` table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from inferchain.gateway.db.models import Job
from inferchain.gateway.indexer.events import DecodedLog
from inferchain.gateway.schemas.jobs import TERMINAL
from inferchain.ipfs import Cid
from inferchain.market import ZERO_ADDRESS

ZERO_HASH = "0x" + "00" * 32
BalanceKey = tuple[str, str]
Handler = Callable[[Session, DecodedLog, int], Any]


class Arg:
    """A column value taken from the log argument ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name


def _job_created(session: Session, log: DecodedLog, block_time: int) -> set[BalanceKey]:
    a, t = log.args, log.args["terms"]
    job = Job(
        job_id=a["jobId"],
        requester=a["requester"],
        model_id=a["modelId"],
        token=t["token"],
        price=t["price"],
        provider=t["provider"],
        royalty_bps=t["royaltyBps"],
        fee_bps=t["feeBps"],
        verification=t["verification"],
        request_deadline=a["requestDeadline"],
        work_time=t["workTime"],
        challenge_window=t["challengeWindow"],
        callback=t["callback"],
        callback_gas=t["callbackGas"],
        input_cid=a["inputCid"],
        worker=None,
        output_cid=None,
        output_codec=0,
        output_digest=ZERO_HASH,
        output_hash=ZERO_HASH,
        bond=0,
        status="open",
        status_deadline=a["requestDeadline"],
        created_block=log.block_number,
        created_tx=log.tx_hash,
        created_time=block_time,
        updated_block=log.block_number,
    )
    session.merge(job)
    return _job_balances(job)


def _job_update(**changes: Any) -> Callable[[Session, DecodedLog, int], set[BalanceKey]]:
    """A handler setting fixed columns plus those named ``col=argName`` from the log."""

    def handler(session: Session, log: DecodedLog, block_time: int) -> set[BalanceKey]:
        job = session.get(Job, log.args["jobId"])
        if job is None:  # its JobCreated is older than the indexed range: reconcile reports it
            return set()
        for column, value in changes.items():
            if isinstance(value, Arg):
                value = log.args[value.name]
            setattr(job, column, value)
        job.updated_block = log.block_number
        if job.status in TERMINAL:
            job.status_deadline = None
        return _job_balances(job)

    return handler


def _result_submitted(session: Session, log: DecodedLog, block_time: int) -> set[BalanceKey]:
    # On an Open job the submission is also the claim: it names the worker.
    touched = _job_update(
        status="submitted",
        worker=Arg("worker"),
        output_cid=Arg("outputCid"),
        output_hash=Arg("outputHash"),
        status_deadline=Arg("challengeDeadline"),
    )(session, log, block_time)
    job = session.get(Job, log.args["jobId"])
    if job is not None and job.output_cid:
        cid = Cid.parse(job.output_cid)
        job.output_codec, job.output_digest = cid.codec, "0x" + cid.digest32.hex()
    return touched


def _dispute_resolved(session: Session, log: DecodedLog, block_time: int) -> set[BalanceKey]:
    status = "disputed" if log.args["workerWins"] else "refunded"  # JobFinalized follows a win
    return _job_update(status=status, slashed=Arg("slashed"))(session, log, block_time)


def _callback_settled(session: Session, log: DecodedLog, block_time: int) -> set[BalanceKey]:
    """A paid callback job left the chain's books: its callback fee went to the deliverer
    (`CallbackDelivered`) or back to the requester (`DeliveryExpired`); the job stays
    finalized."""
    touched = _job_update()(session, log, block_time)
    job = session.get(Job, log.args["jobId"])
    if job is not None and "deliverer" in log.args:
        touched.add((log.args["deliverer"], job.token))
    return touched


def _job_balances(job: Job) -> set[BalanceKey]:
    parties = {job.requester, job.provider} | ({job.worker} if job.worker else set())
    return {(p, t) for p in parties for t in {job.token, ZERO_ADDRESS}}


def account_touch(log: DecodedLog) -> set[BalanceKey]:
    if log.contract == "JobMarket" and "account" in log.args and "token" in log.args:
        return {(log.args["account"], log.args["token"])}
    return set()


HANDLERS: dict[str, Handler] = {
    "JobCreated": _job_created,
    "JobCancelled": _job_update(status="cancelled"),
    "JobExpired": _job_update(status="expired"),
    "JobClaimed": _job_update(
        status="claimed", worker=Arg("worker"), status_deadline=Arg("deadline")
    ),
    "ResultSubmitted": _result_submitted,
    "JobFailed": _job_update(status="failed", evidence_cid=Arg("evidenceCid")),
    "JobTimedOut": _job_update(status="timed_out", slashed=Arg("slashed")),
    "JobDisputed": _job_update(
        status="disputed", bond=Arg("bond"), status_deadline=Arg("arbitrationDeadline")
    ),
    "DisputeResolved": _dispute_resolved,
    "DisputeExpired": _job_update(status="dispute_expired"),
    "JobFinalized": _job_update(status="finalized", worker_amount=Arg("workerAmount")),
    "CallbackDelivered": _callback_settled,
    "DeliveryExpired": _callback_settled,
}
