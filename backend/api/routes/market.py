"""Public market data from the index: models, workers, statistics; and the wallet's balances."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from inferchain.gateway import crud
from inferchain.gateway.api.deps import ContractsDep, CurrentWallet, SessionDep
from inferchain.gateway.api.errors import responses
from inferchain.gateway.db.models import Model, Worker
from inferchain.gateway.errors import NotFound
from inferchain.gateway.schemas.common import Address
from inferchain.gateway.schemas.market import (
    BalancePublic,
    MarketStats,
    ModelPublic,
    TierPublic,
    WorkerPublic,
)
from inferchain.gateway.translate import chain_errors
from inferchain.market import ZERO_ADDRESS
from inferchain.market.modes import quote_tiers

router = APIRouter(tags=["market"])


@router.get("/models", response_model=list[ModelPublic], responses=responses(422))
def list_models(
    db: SessionDep,
    task_kind: Annotated[str | None, Query(max_length=32)] = None,
    active: bool | None = None,
) -> list[ModelPublic]:
    """Registered models with their terms and the workers serving them."""
    return crud.list_models(db, task_kind=task_kind, active=active)


@router.get("/models/{model_id}", response_model=ModelPublic, responses=responses(404, 422))
def get_model(model_id: Annotated[int, Path(ge=1, lt=2**32)], db: SessionDep) -> ModelPublic:
    model = db.get(Model, model_id)
    if model is None:
        raise NotFound("model.not_found", f"model {model_id} is not indexed")
    return crud.model_public(db, model)


@router.get(
    "/models/{model_id}/tiers", response_model=list[TierPublic], responses=responses(404, 422, 503)
)
def get_model_tiers(
    model_id: Annotated[int, Path(ge=1, lt=2**32)], db: SessionDep, c: ContractsDep
) -> list[TierPublic]:
    """The verification tiers a job of this model may choose, quoted from the chain now: each
    one's fee (on top of the price) and how long after submission the worker is paid."""
    model = db.get(Model, model_id)
    if model is None:
        raise NotFound("model.not_found", f"model {model_id} is not indexed")
    with chain_errors("quoting the verification tiers"):
        tiers = quote_tiers(
            c.chain, c.market, model_id=model_id, token=model.token, price=int(model.price),
            requester=ZERO_ADDRESS,
        )  # fmt: skip
    return [TierPublic(**asdict(t)) for t in tiers]


@router.get("/workers", response_model=list[WorkerPublic], responses=responses(422))
def list_workers(
    db: SessionDep, model_id: Annotated[int | None, Query(ge=1, lt=2**32)] = None
) -> list[WorkerPublic]:
    """Workers with stake, served models and their record of settled jobs."""
    return crud.list_workers(db, model_id=model_id)


@router.get("/workers/{address}", response_model=WorkerPublic, responses=responses(404, 422))
def get_worker(address: Annotated[Address, Path()], db: SessionDep) -> WorkerPublic:
    worker = db.get(Worker, address)
    if worker is None:
        raise NotFound("worker.not_found", f"worker {address} is not indexed")
    return crud.worker_public(db, worker)


@router.get("/stats", response_model=MarketStats)
def stats(db: SessionDep) -> MarketStats:
    """Job counts by status, settled volume, active models, registered workers and stake."""
    return crud.market_stats(db)


@router.get("/balances", response_model=list[BalancePublic], responses=responses(401, 429))
def my_balances(wallet: CurrentWallet, db: SessionDep) -> list[BalancePublic]:
    """The wallet's withdrawable market balances (the deposit that pays signed requests)."""
    return crud.balances(db, wallet)
