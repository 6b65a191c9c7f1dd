"""Column types: uint256 amounts as decimal text, so SQLite and PostgreSQL keep every wei."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class Uint256(TypeDecorator[int]):
    """A non-negative integer below 2**256 stored as text (SQLite integers stop at 2**63)."""

    impl = String(78)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        number = int(value)
        if not 0 <= number < 2**256:
            raise ValueError(f"{number} is not a uint256")
        return str(number)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)
