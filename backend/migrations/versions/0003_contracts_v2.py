"""contracts v2 registry: stakes and allocations per token, job collateral, no unbonding

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03

WorkerRegistry v2 keeps a stake per token, allocated to venues, and has no exit: the
worker row keeps discovery only, ``worker_stakes`` and ``worker_allocations`` hold the
money, and ``jobs.collateral`` the lock a claim takes. v1 stakes have no v2 meaning: a
gateway of a v2 market indexes its registry's logs from its deployment block.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "worker_stakes",
        sa.Column("worker", sa.String(length=42), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("stake", sa.String(length=78), nullable=False),
        sa.Column("allocated", sa.String(length=78), nullable=False),
        sa.Column("slashed_total", sa.String(length=78), nullable=False),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("worker", "token"),
    )
    op.create_table(
        "worker_allocations",
        sa.Column("worker", sa.String(length=42), nullable=False),
        sa.Column("token", sa.String(length=42), nullable=False),
        sa.Column("venue", sa.String(length=42), nullable=False),
        sa.Column("amount", sa.String(length=78), nullable=False),
        sa.Column("force_at", sa.BigInteger(), nullable=True),
        sa.Column("updated_block", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("worker", "token", "venue"),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_column("stake")
        batch_op.drop_column("unbonding_ends")
        batch_op.drop_column("slashed_total")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("collateral", sa.String(length=78), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_column("collateral")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("slashed_total", sa.String(length=78), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("unbonding_ends", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("stake", sa.String(length=78), nullable=False, server_default="0")
        )
    op.drop_table("worker_allocations")
    op.drop_table("worker_stakes")
