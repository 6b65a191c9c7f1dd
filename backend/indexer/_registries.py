"""Projection handlers of registry events: ``models``, ``workers``, ``worker_models``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from inferchain.gateway.db.models import Model, Worker, WorkerModel
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


def _worker_registered(session: Session, log: DecodedLog, block_time: int) -> None:
    address = log.args["worker"]
    session.execute(delete(WorkerModel).where(WorkerModel.worker == address))
    session.merge(
        Worker(
            address=address,
            stake=log.args["stake"],
            metadata_cid=log.args["metadataCid"],
            registered=True,
            unbonding_ends=None,
            slashed_total=0,
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


def _worker_slashed(session: Session, log: DecodedLog, block_time: int) -> None:
    worker = session.get(Worker, log.args["worker"])
    if worker is not None:
        worker.stake = log.args["stake"]
        worker.slashed_total = worker.slashed_total + log.args["amount"]
        worker.updated_block = log.block_number


def _stake_withdrawn(session: Session, log: DecodedLog, block_time: int) -> None:
    _worker_update(stake=0, registered=False, unbonding_ends=None)(session, log, block_time)
    session.execute(delete(WorkerModel).where(WorkerModel.worker == log.args["worker"]))


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
    "StakeAdded": _worker_update(stake=Arg("stake")),
    "WorkerMetadataUpdated": _worker_update(metadata_cid=Arg("metadataCid")),
    "ExitRequested": _worker_update(unbonding_ends=Arg("unbondingEnds")),
    "ExitCancelled": _worker_update(unbonding_ends=None),
    "WorkerSlashed": _worker_slashed,
    "StakeWithdrawn": _stake_withdrawn,
    "ModelServed": _served(True),
    "ModelUnserved": _served(False),
}
