"""Read queries over the projections, returning public schemas."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from inferchain.gateway.db.models import (
    Balance,
    ChainLog,
    IndexerCursor,
    Job,
    Model,
    Worker,
    WorkerAllocation,
    WorkerModel,
    WorkerStake,
)
from inferchain.gateway.schemas.jobs import JobDetail, JobEventPublic, JobPage, JobPublic
from inferchain.gateway.schemas.market import (
    AllocationPublic,
    BalancePublic,
    MarketStats,
    ModelPublic,
    StakePublic,
    WorkerPublic,
)

_FAILED = ("timed_out", "refunded")
_SETTLED_BY_WORKER = ("finalized", *_FAILED)


def job_public(job: Job) -> JobPublic:
    return JobPublic.model_validate(job, from_attributes=True)


def list_jobs(
    db: Session,
    requester: str,
    *,
    status: str | None,
    model_id: int | None,
    before: int | None,
    limit: int,
) -> JobPage:
    query = select(Job).where(Job.requester == requester)
    if status is not None:
        query = query.where(Job.status == status)
    if model_id is not None:
        query = query.where(Job.model_id == model_id)
    if before is not None:
        query = query.where(Job.job_id < before)
    rows = list(db.scalars(query.order_by(Job.job_id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    items = [job_public(j) for j in rows[:limit]]
    return JobPage(items=items, next_cursor=items[-1].job_id if more and items else None)


def visible_job(db: Session, job_id: int, wallet: str) -> Job | None:
    """The job if ``wallet`` is its requester or worker (others get None, like a 404)."""
    job = db.get(Job, job_id)
    if job is None or wallet not in (job.requester, job.worker):
        return None
    return job


def job_detail(db: Session, job: Job) -> JobDetail:
    logs = db.scalars(
        select(ChainLog)
        .where(ChainLog.job_id == job.job_id)
        .order_by(ChainLog.block_number, ChainLog.log_index)
    )
    timeline = [
        JobEventPublic(
            event=log.event,
            block_number=log.block_number,
            block_time=log.block_time,
            tx_hash=log.tx_hash,
            log_index=log.log_index,
            args=_json_safe(log.args),
        )
        for log in logs
    ]
    return JobDetail(**job_public(job).model_dump(), timeline=timeline)


def _json_safe(value: object) -> object:
    """Integers beyond 2**53 as strings: JavaScript clients would round them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and abs(value) > 2**53:
        return str(value)
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    return value


def list_models(db: Session, *, task_kind: str | None, active: bool | None) -> list[ModelPublic]:
    query = select(Model).order_by(Model.model_id)
    if task_kind is not None:
        query = query.where(Model.task_kind == task_kind)
    if active is not None:
        query = query.where(Model.active == active)
    return [model_public(db, m) for m in db.scalars(query)]


def model_public(db: Session, model: Model) -> ModelPublic:
    workers = db.scalars(
        select(WorkerModel.worker)
        .join(Worker, Worker.address == WorkerModel.worker)
        .where(WorkerModel.model_id == model.model_id, Worker.registered.is_(True))
        .order_by(WorkerModel.worker)
    )
    return ModelPublic(
        model_id=model.model_id,
        provider=model.provider,
        token=model.token,
        price=model.price,
        royalty_bps=model.royalty_bps,
        task_kind=model.task_kind,
        bundle_cid=model.bundle_cid,
        manifest_hash=model.manifest_hash,
        active=model.active,
        workers=list(workers),
    )


def list_workers(db: Session, *, model_id: int | None) -> list[WorkerPublic]:
    query = select(Worker).order_by(Worker.address)
    if model_id is not None:
        query = query.join(WorkerModel, WorkerModel.worker == Worker.address).where(
            WorkerModel.model_id == model_id
        )
    return [worker_public(db, w) for w in db.scalars(query)]


def worker_public(db: Session, worker: Worker) -> WorkerPublic:
    counts = Counter(
        dict(
            db.execute(
                select(Job.status, func.count())
                .where(Job.worker == worker.address)
                .group_by(Job.status)
            ).all()
        )
    )
    finalized = counts["finalized"]
    failed = sum(counts[s] for s in _FAILED)
    settled = finalized + failed
    models = db.scalars(
        select(WorkerModel.model_id)
        .where(WorkerModel.worker == worker.address)
        .order_by(WorkerModel.model_id)
    )
    stakes = db.scalars(
        select(WorkerStake).where(WorkerStake.worker == worker.address).order_by(WorkerStake.token)
    )
    allocations = db.scalars(
        select(WorkerAllocation)
        .where(WorkerAllocation.worker == worker.address, WorkerAllocation.amount != 0)
        .order_by(WorkerAllocation.token, WorkerAllocation.venue)
    )
    return WorkerPublic(
        address=worker.address,
        registered=worker.registered,
        metadata_cid=worker.metadata_cid,
        models=list(models),
        stakes=[
            StakePublic(
                token=s.token, stake=s.stake, allocated=s.allocated, slashed_total=s.slashed_total
            )
            for s in stakes
        ],
        allocations=[
            AllocationPublic(token=a.token, venue=a.venue, amount=a.amount, force_at=a.force_at)
            for a in allocations
        ],
        jobs_claimed=sum(counts.values()),
        jobs_finalized=finalized,
        jobs_failed=failed,
        jobs_reported_failed=counts["failed"],
        jobs_timed_out=counts["timed_out"],
        success_rate=finalized / settled if settled else None,
    )


def balances(db: Session, account: str) -> list[BalancePublic]:
    rows = db.scalars(select(Balance).where(Balance.account == account).order_by(Balance.token))
    return [
        BalancePublic(token=b.token, amount=b.amount, block_number=b.block_number) for b in rows
    ]


def market_stats(db: Session) -> MarketStats:
    by_status = dict(db.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    volume: Counter[str] = Counter()
    for token, price in db.execute(select(Job.token, Job.price).where(Job.status == "finalized")):
        volume[token] += price
    registered = db.scalar(
        select(func.count()).select_from(Worker).where(Worker.registered.is_(True))
    )
    stakes: Counter[str] = Counter()
    for token, stake in db.execute(
        select(WorkerStake.token, WorkerStake.stake)
        .join(Worker, Worker.address == WorkerStake.worker)
        .where(Worker.registered.is_(True))
    ):
        stakes[token] += stake
    return MarketStats(
        indexed_block=db.scalar(select(IndexerCursor.block_number).limit(1)),
        jobs_total=sum(by_status.values()),
        jobs_by_status=by_status,
        volume_by_token=dict(volume),
        models_active=db.scalar(select(func.count()).select_from(Model).where(Model.active)) or 0,
        workers_registered=registered or 0,
        stake_by_token=dict(stakes),
    )
