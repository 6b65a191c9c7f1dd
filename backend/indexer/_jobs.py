"""The ``jobs`` table: each row projects the shared fold of the job's events.

The job state machine is folded in one place, ``inferchain.market.history`` (the worker and
the CLI rebuild jobs with it too). A job event's row is the fold of the job's stored logs up
to and including that event, so applying logs one by one and ``projector.rebuild`` agree.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session
from web3.types import EventData

from inferchain.gateway.db.models import ChainLog, Job
from inferchain.gateway.indexer.events import DecodedLog, chain_args, json_safe
from inferchain.gateway.schemas.jobs import TERMINAL, status_word
from inferchain.market import ZERO_ADDRESS, JobRecord, fold_events

BalanceKey = tuple[str, str]
Handler = Callable[[Session, DecodedLog, int], Any]


def project_job(session: Session, log: DecodedLog, block_time: int) -> set[BalanceKey]:
    """Fold the job's events up to ``log`` into its row; the balances the event may move.

    An event the fold ignores changes nothing; so does any event of a job whose
    ``JobCreated`` is older than the indexed range (reconcile reports such jobs)."""
    job_id = log.job_id
    assert job_id is not None
    earlier = _logs_before(session, log)
    records = fold_events(_event(r.event, r.contract, r.args, r.block_number) for r in earlier)
    before = records.get(job_id)
    current = _event(log.event, log.contract, log.args, log.block_number)
    record = fold_events([current], records).get(job_id)
    if record is None or record == before:
        return set()
    if log.event == "JobCreated":
        created_tx, created_time = log.tx_hash, block_time
    else:
        created = next(r for r in reversed(earlier) if r.event == "JobCreated")
        created_tx, created_time = created.tx_hash, created.block_time
    job = session.merge(_row(record, created_tx, created_time, log.block_number))
    touched = _job_balances(job)
    if log.event == "CallbackDelivered":  # the callback fee went to its deliverer
        touched.add((log.args["deliverer"], job.token))
    return touched


def _logs_before(session: Session, log: DecodedLog) -> list[ChainLog]:
    """The job's stored logs before ``log``, in chain order."""
    earlier = or_(
        ChainLog.block_number < log.block_number,
        and_(ChainLog.block_number == log.block_number, ChainLog.log_index < log.log_index),
    )
    return list(
        session.scalars(
            select(ChainLog)
            .where(ChainLog.entity == log.entity, earlier)
            .order_by(ChainLog.block_number, ChainLog.log_index)
        )
    )


def _event(event: str, contract: str, args: Mapping[str, Any], block: int) -> EventData:
    """A stored log as the shared fold reads decoded chain events."""
    raw = chain_args(contract, event, args)
    return {"event": event, "args": raw, "blockNumber": block}  # type: ignore[typeddict-item]


def _row(record: JobRecord, created_tx: str, created_time: int, updated_block: int) -> Job:
    job, terms = record.job, record.job.terms
    status = status_word(record)
    return Job(
        job_id=record.job_id,
        requester=job.requester,
        model_id=job.model_id,
        token=terms.token,
        price=terms.price,
        provider=terms.provider,
        royalty_bps=terms.royalty_bps,
        fee_bps=terms.fee_bps,
        verification=terms.verification,
        request_deadline=record.request_deadline,
        work_time=terms.work_time,
        challenge_window=terms.challenge_window,
        callback=terms.callback,
        callback_gas=terms.callback_gas,
        input_cid=json_safe("inputCid", record.input_cid),
        worker=None if int(job.worker, 16) == 0 else job.worker,
        output_cid=json_safe("outputCid", record.output_cid),
        output_codec=job.output_codec,
        output_digest=json_safe("outputDigest", job.output_digest),
        output_hash=json_safe("outputHash", job.output_hash),
        evidence_cid=json_safe("evidenceCid", record.evidence_cid),
        bond=record.dispute_bond,
        collateral=terms.collateral,
        status=status,
        status_deadline=None if status in TERMINAL else record.deadline,
        worker_amount=record.worker_amount,
        slashed=record.slashed,
        created_block=record.created_block,
        created_tx=created_tx,
        created_time=created_time,
        updated_block=updated_block,
    )


def _job_balances(job: Job) -> set[BalanceKey]:
    parties = {job.requester, job.provider} | ({job.worker} if job.worker else set())
    return {(p, t) for p in parties for t in {job.token, ZERO_ADDRESS}}


def account_touch(log: DecodedLog) -> set[BalanceKey]:
    if log.contract == "JobMarket" and "account" in log.args and "token" in log.args:
        return {(log.args["account"], log.args["token"])}
    return set()
