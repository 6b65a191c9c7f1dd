"""Fold decoded logs into the projection tables (jobs, models, workers, served models,
stakes and allocations).

``apply`` handles one log; ``rebuild`` replays every stored log of one entity from scratch,
which is how a reorg rollback repairs a projection. Both return the (account, token)
balances the log may have moved, for the indexer to re-read from contract state.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from inferchain.gateway.db.models import (
    ChainLog,
    Job,
    Model,
    Worker,
    WorkerAllocation,
    WorkerModel,
    WorkerStake,
)
from inferchain.gateway.indexer._jobs import BalanceKey, Handler, account_touch, project_job
from inferchain.gateway.indexer._registries import MODEL_HANDLERS, WORKER_HANDLERS
from inferchain.gateway.indexer.events import DecodedLog

__all__ = ["apply", "rebuild"]

_HANDLERS: dict[tuple[str, str], Handler] = {
    **{("ModelRegistry", e): h for e, h in MODEL_HANDLERS.items()},
    **{("WorkerRegistry", e): h for e, h in WORKER_HANDLERS.items()},
}


def apply(session: Session, log: DecodedLog, block_time: int) -> set[BalanceKey]:
    if log.job_id is not None:
        return project_job(session, log, block_time)
    handler = _HANDLERS.get((log.contract, log.event))
    if handler is None:
        return account_touch(log)
    return handler(session, log, block_time) or set()


def rebuild(session: Session, entity: str) -> set[BalanceKey]:
    """Drop the entity's projection rows and replay its stored logs in chain order."""
    kind, _, key = entity.partition(":")
    if kind == "job":
        session.execute(delete(Job).where(Job.job_id == int(key)))
    elif kind == "model":
        session.execute(delete(Model).where(Model.model_id == int(key)))
    elif kind == "worker":
        session.execute(delete(Worker).where(Worker.address == key))
        session.execute(delete(WorkerModel).where(WorkerModel.worker == key))
        session.execute(delete(WorkerStake).where(WorkerStake.worker == key))
        session.execute(delete(WorkerAllocation).where(WorkerAllocation.worker == key))
    session.flush()
    touched: set[BalanceKey] = set()
    rows = session.scalars(
        select(ChainLog)
        .where(ChainLog.entity == entity)
        .order_by(ChainLog.block_number, ChainLog.log_index)
    )
    for row in rows:
        log = DecodedLog(
            row.block_number,
            row.block_hash,
            row.tx_hash,
            row.log_index,
            row.contract,
            row.event,
            row.args,
        )
        touched |= apply(session, log, row.block_time)
        session.flush()
    return touched
