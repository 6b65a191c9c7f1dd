"""Tables: raw contract logs (the timeline), projections built from them, sign-in nonces.

``chain_logs`` is the source every projection (jobs, models, workers, worker_models) is
rebuilt from after a reorg; ``entity`` names the one projection row a log feeds
(``job:7``, ``model:2``, ``worker:0xAb..``, ``account:0xAb..``, ``market``).
Balances are read from contract state, not summed from logs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from inferchain.gateway.db.types import Uint256

Address = String(42)
Hash = String(66)


class Base(DeclarativeBase):
    pass


class ChainLog(Base):
    __tablename__ = "chain_logs"
    __table_args__ = (
        UniqueConstraint("tx_hash", "log_index", name="uq_chain_logs_tx_log"),
        Index("ix_chain_logs_entity_order", "entity", "block_number", "log_index"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    block_number: Mapped[int] = mapped_column(BigInteger, index=True)
    block_hash: Mapped[str] = mapped_column(Hash)
    block_time: Mapped[int] = mapped_column(BigInteger)
    tx_hash: Mapped[str] = mapped_column(Hash)
    log_index: Mapped[int] = mapped_column(Integer)
    contract: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(80))
    job_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    args: Mapped[dict[str, Any]] = mapped_column(JSON)


class Checkpoint(Base):
    """Hash of the last block of each committed range, for reorg detection."""

    __tablename__ = "checkpoints"

    block_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    block_hash: Mapped[str] = mapped_column(Hash)


class IndexerCursor(Base):
    """Where indexing of one market deployment stands (one row per market address)."""

    __tablename__ = "indexer_cursor"

    market: Mapped[str] = mapped_column(Address, primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str | None] = mapped_column(Hash)
    updated_at: Mapped[int] = mapped_column(BigInteger)


class Job(Base):
    __tablename__ = "jobs"

    job_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    requester: Mapped[str] = mapped_column(Address, index=True)
    model_id: Mapped[int] = mapped_column(BigInteger, index=True)
    token: Mapped[str] = mapped_column(Address)
    price: Mapped[int] = mapped_column(Uint256)
    provider: Mapped[str] = mapped_column(Address)
    royalty_bps: Mapped[int] = mapped_column(Integer)
    fee_bps: Mapped[int] = mapped_column(Integer)
    verification: Mapped[int] = mapped_column(Integer)
    request_deadline: Mapped[int] = mapped_column(BigInteger)
    work_time: Mapped[int] = mapped_column(BigInteger)
    challenge_window: Mapped[int] = mapped_column(BigInteger)
    callback: Mapped[str] = mapped_column(Address)
    callback_gas: Mapped[int] = mapped_column(BigInteger)
    input_cid: Mapped[str] = mapped_column(String(128))
    worker: Mapped[str | None] = mapped_column(Address, index=True)
    output_cid: Mapped[str | None] = mapped_column(String(128))
    output_codec: Mapped[int] = mapped_column(Integer, default=0)
    output_digest: Mapped[str] = mapped_column(Hash)
    output_hash: Mapped[str] = mapped_column(Hash)
    evidence_cid: Mapped[str | None] = mapped_column(String(128))
    bond: Mapped[int] = mapped_column(Uint256, default=0)
    #: What the worker's claim locks from its allocation (the terms' snapshot).
    collateral: Mapped[int] = mapped_column(Uint256, default=0)
    status: Mapped[str] = mapped_column(String(24), index=True)
    status_deadline: Mapped[int | None] = mapped_column(BigInteger)
    worker_amount: Mapped[int | None] = mapped_column(Uint256)
    slashed: Mapped[int | None] = mapped_column(Uint256)
    created_block: Mapped[int] = mapped_column(BigInteger)
    created_tx: Mapped[str] = mapped_column(Hash)
    created_time: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class Model(Base):
    __tablename__ = "models"

    model_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    provider: Mapped[str] = mapped_column(Address, index=True)
    token: Mapped[str] = mapped_column(Address)
    price: Mapped[int] = mapped_column(Uint256)
    royalty_bps: Mapped[int] = mapped_column(Integer)
    task_kind: Mapped[str] = mapped_column(String(32), index=True)
    manifest_hash: Mapped[str] = mapped_column(Hash)
    bundle_cid: Mapped[str] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class Worker(Base):
    """A registered (or once registered) worker: discovery only; its money is in
    ``worker_stakes`` and ``worker_allocations``."""

    __tablename__ = "workers"

    address: Mapped[str] = mapped_column(Address, primary_key=True)
    metadata_cid: Mapped[str | None] = mapped_column(String(128))
    registered: Mapped[bool] = mapped_column(Boolean)
    registered_block: Mapped[int] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class WorkerStake(Base):
    """A worker's stake in one token in the shared registry, and the part allocated to any
    venue (``stakeOf``); slashes by every venue summed."""

    __tablename__ = "worker_stakes"

    worker: Mapped[str] = mapped_column(Address, primary_key=True)
    token: Mapped[str] = mapped_column(Address, primary_key=True)
    stake: Mapped[int] = mapped_column(Uint256, default=0)
    allocated: Mapped[int] = mapped_column(Uint256, default=0)
    slashed_total: Mapped[int] = mapped_column(Uint256, default=0)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class WorkerAllocation(Base):
    """A worker's allocation of one token to one venue (``allocationOf``); ``force_at`` is
    when a requested forced deallocation may run (None: none requested)."""

    __tablename__ = "worker_allocations"

    worker: Mapped[str] = mapped_column(Address, primary_key=True)
    token: Mapped[str] = mapped_column(Address, primary_key=True)
    venue: Mapped[str] = mapped_column(Address, primary_key=True)
    amount: Mapped[int] = mapped_column(Uint256, default=0)
    force_at: Mapped[int | None] = mapped_column(BigInteger)
    updated_block: Mapped[int] = mapped_column(BigInteger)


class WorkerModel(Base):
    __tablename__ = "worker_models"

    worker: Mapped[str] = mapped_column(Address, primary_key=True)
    model_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)


class Balance(Base):
    """A withdrawable market balance, read from ``balanceOf`` at ``block_number``."""

    __tablename__ = "balances"

    account: Mapped[str] = mapped_column(Address, primary_key=True)
    token: Mapped[str] = mapped_column(Address, primary_key=True)
    amount: Mapped[int] = mapped_column(Uint256)
    block_number: Mapped[int] = mapped_column(BigInteger)


class AuthNonce(Base):
    """A sign-in nonce for one address: issued once, consumed once by a message of that
    address, dead after ``expires_at`` (unix s)."""

    __tablename__ = "auth_nonces"

    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(Address)
    expires_at: Mapped[int] = mapped_column(BigInteger, index=True)
    used_at: Mapped[int | None] = mapped_column(BigInteger)
