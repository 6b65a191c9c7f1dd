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
    name: str = Field(description="none (a committee judges disputes), manual, zk, reexec, mode N")
    module: str
    available: bool = Field(description="enabled; a proof tier also needs the model's circuit")
    verify_fee: Wei = Field(description="escrowed on top of the price")
    settles_after_s: int = Field(description="submission to payment; 0: paid at submission")
    note: str
    dispute_bond: Wei = Field(
        description="what disputing a result locks, in the model's token (back if the dispute "
        "is won or never decided); 0 where a proof settles the job at submission"
    )
    dispute_bond_bps: int = Field(description="the bond, in basis points of the price")
    dispute_fee: Wei = Field(
        description="the committee's fee (wei) for opening the dispute round, on top of the "
        "bond; 0 where the mode's module rules disputes itself"
    )
    disputes: str = Field(
        description="who decides a dispute: `committee` (verifiers drawn from the reexec "
        "pool re-run the job), `arbiter` (the mode's module), empty: none reachable"
    )


class StakePublic(BaseModel):
    """A worker's stake in one token in the shared worker registry."""

    token: str
    stake: Wei
    allocated: Wei = Field(description="allocated to venues (markets), this one or others")
    slashed_total: Wei = Field(description="taken by venues' slashes, all time")


class AllocationPublic(BaseModel):
    """Stake a worker allocated to one venue: that market's claims lock collateral from it."""

    token: str
    venue: str = Field(description="the market (or other venue) it is allocated to")
    amount: Wei
    force_at: int | None = Field(description="when a forced deallocation may run; None: none")


class WorkerPublic(BaseModel):
    address: str
    registered: bool
    metadata_cid: str | None
    models: list[int]
    stakes: list[StakePublic]
    allocations: list[AllocationPublic]
    jobs_claimed: int
    jobs_finalized: int
    jobs_failed: int = Field(description="timed out or lost a dispute")
    jobs_reported_failed: int = Field(description="failures the worker reported (a fee each)")
    jobs_timed_out: int = Field(description="claims that timed out (collateral slashed)")
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
    stake_by_token: dict[str, Wei] = Field(description="registered workers' stakes, per token")
