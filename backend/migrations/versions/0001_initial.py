"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "auth_nonces",
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("nonce"),
    )
    with op.batch_alter_table("auth_nonces", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_auth_nonces_expires_at"), ["expires_at"], unique=False)

    op.create_table(
        "balances",
        sa.Column("account", sa.String(length=42), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("account", "token"),
    )
    op.create_table(
        "chain_logs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=False),
        sa.Column("log_index", sa.Integer(), nullable=False),
        sa.Column("contract", sa.String(length=32), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("entity", sa.String(length=80), nullable=False),
        sa.Column("job_id", sa.BigInteger(), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("tx_hash", "log_index", name="uq_chain_logs_tx_log"),
    )
    with op.batch_alter_table("chain_logs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chain_logs_block_number"), ["block_number"], unique=False
        )
        batch_op.create_index(
            "ix_chain_logs_entity_order", ["entity", "block_number", "log_index"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chain_logs_job_id"), ["job_id"], unique=False)

    op.create_table(
        "checkpoints",
        sa.Column("block_number", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("block_number"),
    )
    op.create_table(
        "indexer_cursor",
        sa.Column("market", sa.String(length=42), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_hash", sa.String(length=66), nullable=True),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("market"),
    )
    op.create_table(
        "jobs",
        sa.Column("job_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("requester", sa.String(length=42), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("price", sa.String(length=78), nullable=False),
        sa.Column("provider", sa.String(length=42), nullable=False),
        sa.Column("royalty_bps", sa.Integer(), nullable=False),
        sa.Column("fee_bps", sa.Integer(), nullable=False),
        sa.Column("verification", sa.Integer(), nullable=False),
        sa.Column("request_deadline", sa.BigInteger(), nullable=False),
        sa.Column("work_time", sa.BigInteger(), nullable=False),
        sa.Column("challenge_window", sa.BigInteger(), nullable=False),
        sa.Column("callback", sa.String(length=42), nullable=False),
        sa.Column("callback_gas", sa.BigInteger(), nullable=False),
        sa.Column("input_cid", sa.String(length=128), nullable=False),
        sa.Column("worker", sa.String(length=42), nullable=True),
        sa.Column("output_cid", sa.String(length=128), nullable=True),
        sa.Column("output_codec", sa.Integer(), nullable=False),
        sa.Column("output_digest", sa.String(length=66), nullable=False),
        sa.Column("output_hash", sa.String(length=66), nullable=False),
        sa.Column("evidence_cid", sa.String(length=128), nullable=True),
        sa.Column("bond", sa.String(length=78), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("status_deadline", sa.BigInteger(), nullable=True),
        sa.Column("worker_amount", sa.String(length=78), nullable=True),
        sa.Column("slashed", sa.String(length=78), nullable=True),
        sa.Column("created_block", sa.BigInteger(), nullable=False),
        sa.Column("created_tx", sa.String(length=66), nullable=False),
        sa.Column("created_time", sa.BigInteger(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("job_id"),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_model_id"), ["model_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_requester"), ["requester"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_worker"), ["worker"], unique=False)

    op.create_table(
        "models",
        sa.Column("model_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("provider", sa.String(length=42), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("price", sa.String(length=78), nullable=False),
        sa.Column("royalty_bps", sa.Integer(), nullable=False),
        sa.Column("task_kind", sa.String(length=32), nullable=False),
        sa.Column("manifest_hash", sa.String(length=66), nullable=False),
        sa.Column("bundle_cid", sa.String(length=128), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("model_id"),
    )
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_models_provider"), ["provider"], unique=False)
        batch_op.create_index(batch_op.f("ix_models_task_kind"), ["task_kind"], unique=False)

    op.create_table(
        "worker_models",
        sa.Column("worker", sa.String(length=42), nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("worker", "model_id"),
    )
    with op.batch_alter_table("worker_models", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_models_model_id"), ["model_id"], unique=False)

    op.create_table(
        "workers",
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("stake", sa.String(length=78), nullable=False),
        sa.Column("metadata_cid", sa.String(length=128), nullable=True),
        sa.Column("registered", sa.Boolean(), nullable=False),
        sa.Column("unbonding_ends", sa.BigInteger(), nullable=True),
        sa.Column("slashed_total", sa.String(length=78), nullable=False),
        sa.Column("registered_block", sa.BigInteger(), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("address"),
    )


def downgrade() -> None:
    op.drop_table("workers")
    with op.batch_alter_table("worker_models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_models_model_id"))

    op.drop_table("worker_models")
    with op.batch_alter_table("models", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_models_task_kind"))
        batch_op.drop_index(batch_op.f("ix_models_provider"))

    op.drop_table("models")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_worker"))
        batch_op.drop_index(batch_op.f("ix_jobs_status"))
        batch_op.drop_index(batch_op.f("ix_jobs_requester"))
        batch_op.drop_index(batch_op.f("ix_jobs_model_id"))

    op.drop_table("jobs")
    op.drop_table("indexer_cursor")
    op.drop_table("checkpoints")
    with op.batch_alter_table("chain_logs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_logs_job_id"))
        batch_op.drop_index("ix_chain_logs_entity_order")
        batch_op.drop_index(batch_op.f("ix_chain_logs_block_number"))

    op.drop_table("chain_logs")
    op.drop_table("balances")
    with op.batch_alter_table("auth_nonces", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_auth_nonces_expires_at"))

    op.drop_table("auth_nonces")
