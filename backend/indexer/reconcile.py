"""Compare projections with contract state at the indexed block, and correct them.

Events alone can be missed (a node that dropped logs, a bug, a manual DB edit); the
contract's views cannot. Each corrected row is counted per kind in the report and in
``inferchain_indexer_reconcile_mismatches_total``.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from inferchain.gateway.db.models import (
    Balance,
    IndexerCursor,
    Job,
    Model,
    Worker,
    WorkerAllocation,
    WorkerStake,
)
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.metrics import GatewayMetrics
from inferchain.gateway.schemas.jobs import STATUS_WORDS, TERMINAL
from inferchain.market import JobStatus, read_job_state, read_model

log = logging.getLogger(__name__)

#: Chain statuses whose deadline the projection does not keep.
UNTIMED = frozenset({JobStatus.PAID, JobStatus.SETTLED})


@dataclass
class ReconcileReport:
    block: int
    checked: int = 0
    corrected: Counter[str] = field(default_factory=Counter)


def reconcile(
    contracts: MarketContracts,
    sessions: sessionmaker[Session],
    metrics: GatewayMetrics | None = None,
) -> ReconcileReport | None:
    """Check every live job, model, worker, stake, allocation and balance at the cursor block
    (None: not indexed)."""
    with sessions() as session, session.begin():
        cursor = session.get(IndexerCursor, contracts.market.address)
        if cursor is None:
            return None
        report = ReconcileReport(cursor.block_number)
        _jobs(session, contracts, report)
        _models(session, contracts, report)
        _workers(session, contracts, report)
        _balances(session, contracts, report)
    for kind, count in report.corrected.items():
        if metrics is not None:
            metrics.reconcile_mismatches.labels(kind).inc(count)
        log.warning("reconcile corrected %d %s row(s) at block %d", count, kind, report.block)
    return report


def _jobs(session: Session, c: MarketContracts, report: ReconcileReport) -> None:
    live = session.scalars(select(Job).where(Job.status.not_in(TERMINAL)))
    for job in live:
        report.checked += 1
        state = read_job_state(c.chain, c.market, job.job_id, block=report.block)
        status, deadline = state.status, state.deadline
        chain_status = STATUS_WORDS[status]
        timed = status not in UNTIMED
        if chain_status != job.status or (timed and deadline != job.status_deadline):
            job.status = chain_status
            job.status_deadline = deadline if timed else None
            report.corrected["job"] += 1


def _models(session: Session, c: MarketContracts, report: ReconcileReport) -> None:
    for model in session.scalars(select(Model)):
        report.checked += 1
        chain_model = read_model(c.chain, c.models, model.model_id, block=report.block)
        actual = (model.provider, model.price, model.token, model.royalty_bps, model.active)
        registered = (
            chain_model.provider,
            chain_model.price,
            chain_model.token,
            chain_model.royalty_bps,
            chain_model.active,
        )
        if actual != registered:
            model.provider, model.price, model.token = registered[:3]
            model.royalty_bps, model.active = registered[3:]
            report.corrected["model"] += 1


def _workers(session: Session, c: MarketContracts, report: ReconcileReport) -> None:
    reg, block = c.workers.functions, report.block
    for worker in session.scalars(select(Worker)):
        report.checked += 1
        registered = bool(c.chain.call(reg.worker(worker.address), block=block)[0])
        if worker.registered != registered:
            worker.registered = registered
            report.corrected["worker"] += 1
    for stake in session.scalars(select(WorkerStake)):
        report.checked += 1
        staked, allocated = c.chain.call(reg.stakeOf(stake.worker, stake.token), block=block)
        if (stake.stake, stake.allocated) != (staked, allocated):
            stake.stake, stake.allocated = staked, allocated
            report.corrected["stake"] += 1
    for allocation in session.scalars(select(WorkerAllocation)):
        report.checked += 1
        key = (allocation.worker, allocation.token, allocation.venue)
        amount, force_at = c.chain.call(reg.allocationState(*key), block=block)
        force_at = force_at or None
        if (allocation.amount, allocation.force_at) != (amount, force_at):
            allocation.amount, allocation.force_at = amount, force_at
            report.corrected["allocation"] += 1


def _balances(session: Session, c: MarketContracts, report: ReconcileReport) -> None:
    for balance in session.scalars(select(Balance)):
        report.checked += 1
        amount = c.chain.call(
            c.market.functions.balanceOf(balance.account, balance.token), block=report.block
        )
        if amount != balance.amount:
            balance.amount, balance.block_number = amount, report.block
            report.corrected["balance"] += 1
