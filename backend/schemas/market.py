"""Models, workers, balances and market statistics."""

from __future__ import annotations

from pydantic import BaseModel, Field

from inferchain.gateway.schemas.common import Wei


class ModelPublic(BaseModel):
    model_id: int
    provider: str
    token: str
    price: Wei
    royalty_bps: int
    task_kind: str
    bundle_cid: str
    manifest_hash: str
    active: bool
    workers: list[str] = Field(description="registered workers serving it")


class TierPublic(BaseModel):
    """What a verification tier adds to a job of one model (`verification` in POST /jobs)."""

    mode: int = Field(description="the job's `verification`")
    name: str = Field(description="manual, zk, or `mode N`")
    module: str
    available: bool = Field(description="enabled; a proof tier also needs the model's circuit")
    verify_fee: Wei = Field(description="escrowed on top of the price")
    settles_after_s: int = Field(description="submission to payment; 0: paid at submission")
    note: str


class WorkerPublic(BaseModel):
    address: str
    stake: Wei
    registered: bool
    unbonding_ends: int | None
    metadata_cid: str | None
    models: list[int]
    slashed_total: Wei
    jobs_claimed: int
    jobs_finalized: int
    jobs_failed: int = Field(description="timed out or lost a dispute")
    success_rate: float | None = Field(description="finalized / settled jobs; None before any")


class BalancePublic(BaseModel):
    token: str
    amount: Wei
    block_number: int


class MarketStats(BaseModel):
    indexed_block: int | None
    jobs_total: int
    jobs_by_status: dict[str, int]
    volume_by_token: dict[str, Wei] = Field(description="sum of prices of finalized jobs")
    models_active: int
    workers_registered: int
    total_stake: Wei
