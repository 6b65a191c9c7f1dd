"""Storage: SQLAlchemy 2 models, engine/session helpers, Alembic migrations."""

from inferchain.gateway.db.migrate import upgrade
from inferchain.gateway.db.session import make_engine, make_sessionmaker, transaction

__all__ = ["make_engine", "make_sessionmaker", "transaction", "upgrade"]
