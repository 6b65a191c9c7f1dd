"""sign-in nonces are bound to the address they were issued for

Revision ID: 0002
Revises: 0001
Create Date: 2026-02-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nonces live minutes and old ones name no address: drop them (a sign-in just retries).
    op.execute(sa.text("DELETE FROM auth_nonces"))
    with op.batch_alter_table("auth_nonces", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=42), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("auth_nonces", schema=None) as batch_op:
        batch_op.drop_column("address")
