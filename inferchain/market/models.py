"""Model registry values (IModelRegistry.ModelSpec)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from inferchain.ipfs import Cid
from inferchain.market.jobs import ETH


def task_kind_bytes(task: str) -> bytes:
    """A task kind ("text-generation") as the registry's right-padded bytes32."""
    raw = task.encode()
    if not raw or len(raw) > 32:
        raise ValueError(f"task kind must be 1..32 bytes, got {task!r}")
    return raw.ljust(32, b"\0")


@dataclass(frozen=True)
class ModelSpec:
    bundle_cid: Cid
    manifest_sha256: bytes
    task: str
    price: int
    royalty_bps: int
    token: str = ETH

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.bundle_cid.to_bytes(),
            self.manifest_sha256,
            task_kind_bytes(self.task),
            self.token,
            self.price,
            self.royalty_bps,
        )
