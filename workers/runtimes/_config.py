"""Read config.json sections into frozen dataclasses with typed errors."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from inferchain.bundle.errors import ManifestError

T = TypeVar("T")


def from_dict(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from ``data``: every required field, no unknown ones."""
    if not isinstance(data, dict):
        raise ManifestError(f"{where} must be a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ManifestError(f"{where}: unknown keys {unknown}")
    required = {
        n
        for n, f in fields.items()
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    }
    missing = sorted(required - set(data))
    if missing:
        raise ManifestError(f"{where}: missing keys {missing}")
    values = {}
    for name, value in data.items():
        kind = fields[name].type
        kind = kind.__name__ if isinstance(kind, type) else str(kind)
        values[name] = tuple(value) if isinstance(value, list) else value
        expected = {"int": int, "float": (int, float), "str": str, "bool": bool}.get(str(kind))
        if expected is not None and (
            not isinstance(value, expected) or (expected is int and isinstance(value, bool))
        ):
            raise ManifestError(f"{where}.{name} must be {kind}, got {value!r}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ManifestError(f"{where}: {exc}") from exc
