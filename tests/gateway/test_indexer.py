"""The indexer against a real Anvil: lifecycle, resume, confirmations, reorgs, reconcile."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from inferchain.errors import ConfigError
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
from inferchain.gateway.indexer import projector, reconcile
from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    ETH,
    Deployment,
    job_tuple,
)
from tests.gateway.conftest import Market


def finished_job(d: Deployment) -> tuple[int, dict[str, Any]]:
    job_id, job = d.create()
    job = d.claim(job_id, job)
    job = d.submit(job_id, job)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    return job_id, job


def log_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(ChainLog)) or 0


def test_index_job_lifecycle_projects_job_model_worker_and_balances(
    market: Market, make_indexer, sessions
) -> None:
    d = market.d
    job_id, _ = finished_job(d)
    head = make_indexer().sync()
    assert head == d.chain.w3.eth.block_number
    with sessions() as s:
        job = s.get(Job, job_id)
        assert job is not None and job.status == "finalized" and job.status_deadline is None
        assert job.worker == d.addr("worker") and job.requester == d.addr("requester")
        assert job.output_cid is not None and job.output_cid.startswith("b")
        events = s.scalars(
            select(ChainLog.event).where(ChainLog.job_id == job_id).order_by(ChainLog.id)
        )
        assert list(events) == ["JobCreated", "JobClaimed", "ResultSubmitted", "JobFinalized"]
        model = s.get(Model, d.eth_model)
        assert model is not None and model.task_kind == "text-generation" and model.active
        worker = s.get(Worker, d.addr("worker"))
        assert worker is not None and worker.registered
        stake = s.get(WorkerStake, (worker.address, ETH))
        staked, allocated = d.workers.functions.stakeOf(worker.address, ETH).call()
        assert stake is not None and (stake.stake, stake.allocated) == (staked, allocated)
        assert staked > 0 and stake.slashed_total == 0
        allocation = s.get(WorkerAllocation, (worker.address, ETH, d.market.address))
        venue = d.workers.functions.allocationOf(worker.address, ETH, d.market.address).call()
        assert allocation is not None and allocation.amount == venue > 0
        served = set(
            s.scalars(select(WorkerModel.model_id).where(WorkerModel.worker == worker.address))
        )
        assert served == {d.eth_model, d.token_model}
        balance = s.get(Balance, (d.addr("worker"), ETH))
        assert balance is not None and balance.amount == d.balance("worker") > 0


def _columns(job: Job | None) -> dict[str, Any]:
    assert job is not None
    return {c.key: getattr(job, c.key) for c in Job.__table__.columns}


def test_disputes_and_timeouts_project_bond_slash_payout_and_deadlines(
    market: Market, make_indexer, sessions
) -> None:
    d = market.d
    indexer = make_indexer()
    lost, job = d.create()
    lost_job = d.dispute(lost, d.submit(lost, d.claim(lost, job)))
    won, job = d.create()
    won_job = d.dispute(won, d.submit(won, d.claim(won, job)))
    indexer.sync()
    with sessions() as s:
        row = s.get(Job, lost)
        assert row is not None and row.status == "disputed"
        assert row.bond == lost_job["terms"]["disputeBond"] > 0
        assert row.status_deadline == d.status(lost)[1] > d.now()  # the arbitration deadline
    rule = d.arbiter.functions.rule
    d.tx("arbiter", rule(d.market.address, lost, job_tuple(lost_job), False))
    d.tx("arbiter", rule(d.market.address, won, job_tuple(won_job), True))
    late, job = d.create()
    job = d.claim(late, job)
    timeout = d.market.functions.timeout(late, job_tuple(job))
    d.tx_at(d.status(late)[1] + 1, "outsider", timeout)
    indexer.sync()
    slash = lost_job["terms"]["collateral"]  # the whole collateral, to the requester
    assert slash == job["terms"]["collateral"] > 0
    worker = d.addr("worker")
    with sessions() as s:
        rows = {job_id: _columns(s.get(Job, job_id)) for job_id in (lost, won, late)}
        stake = s.get(WorkerStake, (worker, ETH))
        allocation = s.get(WorkerAllocation, (worker, ETH, d.market.address))
        assert stake is not None and allocation is not None
        projected = (stake.stake, stake.allocated, stake.slashed_total, allocation.amount)
    assert (rows[lost]["status"], rows[lost]["slashed"]) == ("refunded", slash)
    assert rows[won]["status"] == "finalized" and rows[won]["worker_amount"] > 0
    assert (rows[late]["status"], rows[late]["slashed"]) == ("timed_out", slash)
    assert rows[lost]["collateral"] == rows[late]["collateral"] == slash
    assert all(r["status_deadline"] is None for r in rows.values())
    # Both slashes came out of the allocation to this market, and so out of the stake.
    staked, allocated = d.workers.functions.stakeOf(worker, ETH).call()
    on_market = d.workers.functions.allocationOf(worker, ETH, d.market.address).call()
    assert projected == (staked, allocated, 2 * slash, on_market)
    # A reorg's rebuild replays the stored logs into the same rows.
    with sessions() as s, s.begin():
        for job_id in rows:
            projector.rebuild(s, f"job:{job_id}")
        projector.rebuild(s, f"worker:{worker}")
    with sessions() as s:
        assert {job_id: _columns(s.get(Job, job_id)) for job_id in rows} == rows
        stake = s.get(WorkerStake, (worker, ETH))
        allocation = s.get(WorkerAllocation, (worker, ETH, d.market.address))
        assert stake is not None and allocation is not None
        again = (stake.stake, stake.allocated, stake.slashed_total, allocation.amount)
        assert again == projected


def test_restart_resumes_without_duplicates(market: Market, make_indexer, sessions) -> None:
    d = market.d
    finished_job(d)
    first = make_indexer(batch_blocks=3)
    first.step()
    first.step()
    partial = log_count(sessions)
    head = make_indexer(batch_blocks=3).sync()  # a new process, same database
    total = log_count(sessions)
    assert partial < total and head == d.chain.w3.eth.block_number
    # Replaying already-indexed blocks (cursor moved back by hand) stores nothing twice.
    with sessions() as s, s.begin():
        s.execute(
            update(IndexerCursor).values(block_number=market.deployment_block - 1, block_hash=None)
        )
    make_indexer().sync()
    assert log_count(sessions) == total


def test_confirmation_depth_holds_back_recent_blocks(
    market: Market, make_indexer, sessions
) -> None:
    d = market.d
    indexer = make_indexer(confirmations=2)
    job_id, _ = d.create()
    indexer.sync()
    with sessions() as s:
        assert s.get(Job, job_id) is None
    d.chain.mine(2)
    indexer.sync()
    with sessions() as s:
        assert s.get(Job, job_id) is not None


def test_reorg_rolls_back_to_the_fork_and_reindexes(market: Market, make_indexer, sessions) -> None:
    d = market.d
    indexer = make_indexer()
    indexer.sync()
    fork = d.chain.snapshot()
    job_a, _ = d.create("requester")
    d.chain.mine(2)
    indexer.sync()
    with sessions() as s:
        assert s.get(Job, job_a) is not None
    d.chain.revert(fork)
    d.chain.mine(1)  # a different block at the fork height, then a longer branch
    job_b, _ = d.create("requester2")
    d.chain.mine(3)
    result = indexer.step()
    assert result.reorg_to is not None and result.reorg_to < result.to_block
    indexer.sync()
    with sessions() as s:
        job = s.get(Job, job_b)
        assert job_a == job_b and job is not None and job.requester == d.addr("requester2")
        created = s.scalars(select(ChainLog).where(ChainLog.event == "JobCreated")).all()
        assert [log.args["requester"] for log in created] == [d.addr("requester2")]
    assert indexer.metrics.reorgs._value.get() == 1


def test_reorg_to_a_shorter_chain_is_detected(market: Market, make_indexer, sessions) -> None:
    d = market.d
    indexer = make_indexer()
    fork = d.chain.snapshot()
    d.create()
    indexer.sync()
    d.chain.revert(fork)
    result = indexer.step()
    assert result.reorg_to is not None
    indexer.sync()
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0


def test_reconcile_corrects_rows_that_disagree_with_contract_state(
    market: Market, make_indexer, sessions
) -> None:
    d = market.d
    job_id, _ = d.create()
    indexer = make_indexer()
    indexer.sync()
    with sessions() as s, s.begin():  # as if events had been missed
        stakes = s.scalar(select(func.count()).select_from(WorkerStake))
        allocations = s.scalar(select(func.count()).select_from(WorkerAllocation))
        s.execute(update(Model).where(Model.model_id == d.eth_model).values(price=1, active=False))
        s.execute(update(Job).where(Job.job_id == job_id).values(status="claimed"))
        s.execute(update(Worker).values(registered=False))
        s.execute(update(WorkerStake).values(stake=5))
        s.execute(update(WorkerAllocation).values(amount=3))
        s.execute(update(Balance).values(amount=7))
    report = reconcile(market.contracts, sessions, indexer.metrics)
    assert report is not None
    assert report.corrected["model"] == 1 and report.corrected["job"] == 1
    assert report.corrected["worker"] == 2 and report.corrected["balance"] >= 1
    assert stakes and allocations  # every worker's, in every token it staked
    assert report.corrected["stake"] == stakes and report.corrected["allocation"] == allocations
    with sessions() as s:
        assert s.get(Job, job_id).status == "open"  # type: ignore[union-attr]
        assert s.get(Model, d.eth_model).active  # type: ignore[union-attr]
    again = reconcile(market.contracts, sessions)
    assert again is not None and not again.corrected


def test_reconcile_before_any_index_reports_nothing(market: Market, sessions) -> None:
    assert reconcile(market.contracts, sessions) is None


def test_database_of_another_market_is_refused(market: Market, make_indexer, sessions) -> None:
    make_indexer().sync()
    with sessions() as s, s.begin():
        s.execute(update(IndexerCursor).values(market="0x" + "12" * 20))
    with pytest.raises(ConfigError, match="fresh database"):
        make_indexer().step()
