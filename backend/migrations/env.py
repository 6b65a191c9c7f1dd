"""Alembic environment: always online, on the engine handed in by ``db.migrate``."""

from __future__ import annotations

from alembic import context

from inferchain.gateway.db.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # pragma: no cover - the alembic CLI is not how the gateway migrates
    raise RuntimeError("run migrations through inferchain.gateway.db.migrate.upgrade")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
