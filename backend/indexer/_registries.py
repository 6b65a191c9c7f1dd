"""Projection handlers of registry events: ``models``, ``workers``, ``worker_models``,
``worker_stakes``, ``worker_allocations``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from inferchain.gateway.db.models import (
    Model,
    Worker,
    WorkerAllocation,
    WorkerModel,
    WorkerStake,
)
from inferchain.gateway.indexer._jobs import Handler
from inferchain.gateway.indexer.events import DecodedLog


class Arg:
    """A column value taken from the log argument ``name``."""

    def __init__(self, name: str) -> None:
        self.name = name


def _model_registered(session: Session, log: DecodedLog, block_time: int) -> None:
    a = log.args
    session.merge(
        Model(
            model_id=a["modelId"],
            provider=a["provider"],
            token=a["token"],
            price=a["price"],
            royalty_bps=a["royaltyBps"],
            task_kind=_ascii32(a["taskKind"]),
            manifest_hash=a["manifestHash"],
            bundle_cid=a["bundleCid"],
            active=True,
            registered_block=log.block_number,
            updated_block=log.block_number,
        )
    )


def _model_update(**columns: str) -> Callable[[Session, DecodedLog, int], None]:
    def handler(session: Session, log: DecodedLog, block_time: int) -> None:
        model = session.get(Model, log.args["modelId"])
        if model is None:
            return
        for column, arg in columns.items():
            setattr(model, column, log.args[arg])
        model.updated_block = log.block_number

    return handler


def _ascii32(value: str) -> str:
    raw = bytes.fromhex(value.removeprefix("0x")).rstrip(b"\0")
    return raw.decode("ascii", errors="replace")


# --- workers ------------------------------------------------------------------------------
#
# WorkerRegistry v2 is shared by every market: workers register for discovery, stake per
# token and allocate to venues; the projection keeps every venue's allocation (this
# gateway's market picks its own when it shows a worker).


def _worker_registered(session: Session, log: DecodedLog, block_time: int) -> None:
    address = log.args["worker"]
    session.execute(delete(WorkerModel).where(WorkerModel.worker == address))
    session.merge(
        Worker(
            address=address,
            metadata_cid=log.args["metadataCid"],
            registered=True,
            registered_block=log.block_number,
            updated_block=log.block_number,
        )
    )


def _worker_update(**columns: Any) -> Callable[[Session, DecodedLog, int], None]:
    def handler(session: Session, log: DecodedLog, block_time: int) -> None:
        worker = session.get(Worker, log.args["worker"])
        if worker is None:
            return
        for column, value in columns.items():
            setattr(worker, column, log.args[value.name] if isinstance(value, Arg) else value)
        worker.updated_block = log.block_number

    return handler


def _worker_left(session: Session, log: DecodedLog, block_time: int) -> None:
    _worker_update(registered=False)(session, log, block_time)
    session.execute(delete(WorkerModel).where(WorkerModel.worker == log.args["worker"]))


def _stake_row(session: Session, log: DecodedLog) -> WorkerStake:
    a = log.args
    row = session.get(WorkerStake, (a["worker"], a["token"]))
    if row is None:
        row = WorkerStake(
            worker=a["worker"], token=a["token"], stake=0, allocated=0, slashed_total=0
        )
        session.add(row)
    row.updated_block = log.block_number
    return row


def _allocation_row(session: Session, log: DecodedLog) -> WorkerAllocation:
    a = log.args
    row = session.get(WorkerAllocation, (a["worker"], a["token"], a["venue"]))
    if row is None:
        row = WorkerAllocation(
            worker=a["worker"], token=a["token"], venue=a["venue"], amount=0, force_at=None
        )
        session.add(row)
    row.updated_block = log.block_number
    return row


def _staked(session: Session, log: DecodedLog, block_time: int) -> None:
    """``Staked`` and ``Unstaked`` carry the stake after them."""
    _stake_row(session, log).stake = log.args["stake"]


def _allocation_moved(sign: int) -> Callable[[Session, DecodedLog, int], None]:
    """``Allocated`` (+1) and ``Deallocated`` (-1) carry the venue's allocation after them;
    the token's allocated total moves by the amount."""

    def handler(session: Session, log: DecodedLog, block_time: int) -> None:
        allocation = _allocation_row(session, log)
        allocation.amount = log.args["allocation"]
        if allocation.amount == 0:
            allocation.force_at = None
        stake = _stake_row(session, log)
        stake.allocated = max(0, stake.allocated + sign * log.args["amount"])

    return handler


def _force_requested(session: Session, log: DecodedLog, block_time: int) -> None:
    _allocation_row(session, log).force_at = log.args["forceAt"]


def _slashed(session: Session, log: DecodedLog, block_time: int) -> None:
    """A venue took ``amount`` from its allocation (and so from the stake) for itself."""
    amount = log.args["amount"]
    stake = _stake_row(session, log)
    stake.stake = log.args["stake"]
    stake.allocated = max(0, stake.allocated - amount)
    stake.slashed_total = stake.slashed_total + amount
    allocation = _allocation_row(session, log)
    allocation.amount = max(0, allocation.amount - amount)


def _served(serving: bool) -> Callable[[Session, DecodedLog, int], None]:
    def handler(session: Session, log: DecodedLog, block_time: int) -> None:
        key = {"worker": log.args["worker"], "model_id": log.args["modelId"]}
        if serving:
            session.merge(WorkerModel(**key))
        else:
            session.execute(
                delete(WorkerModel).where(
                    WorkerModel.worker == key["worker"], WorkerModel.model_id == key["model_id"]
                )
            )

    return handler


MODEL_HANDLERS: dict[str, Handler] = {
    "ModelRegistered": _model_registered,
    "ModelTermsUpdated": _model_update(price="price", royalty_bps="royaltyBps"),
    "ModelActiveSet": _model_update(active="active"),
    "ModelTransferred": _model_update(provider="to"),
}
WORKER_HANDLERS: dict[str, Handler] = {
    "WorkerRegistered": _worker_registered,
    "WorkerLeft": _worker_left,
    "WorkerMetadataUpdated": _worker_update(metadata_cid=Arg("metadataCid")),
    "ModelServed": _served(True),
    "ModelUnserved": _served(False),
    "Staked": _staked,
    "Unstaked": _staked,
    "Allocated": _allocation_moved(+1),
    "Deallocated": _allocation_moved(-1),
    "ForcedDeallocationRequested": _force_requested,
    "Slashed": _slashed,
}
