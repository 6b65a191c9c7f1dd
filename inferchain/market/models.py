"""Model registry values: what a provider registers (``ModelSpec``) and what the registry
stores (``RegisteredModel``, read by field name rather than by position)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.contract import Contract

from inferchain.chain import Chain
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


@dataclass(frozen=True)
class RegisteredModel:
    """A model as the registry stores it (``IModelRegistry.Model``)."""

    model_id: int
    provider: str
    token: str
    price: int
    royalty_bps: int
    task: str
    active: bool
    bundle_cid: str
    manifest_sha256: str  # hex, as registered

    @classmethod
    def from_abi(cls, model_id: int, value: Any) -> RegisteredModel:
        provider, price, token, royalty, active, codec, digest, manifest, task = value
        return cls(
            model_id=model_id,
            provider=provider,
            token=token,
            price=int(price),
            royalty_bps=int(royalty),
            task=bytes(task).rstrip(b"\0").decode(errors="replace"),
            active=bool(active),
            bundle_cid=str(Cid.from_digest32(bytes(digest), int(codec))),
            manifest_sha256=bytes(manifest).hex(),
        )


def read_model(
    chain: Chain, models: Contract, model_id: int, *, block: int | str = "latest"
) -> RegisteredModel:
    """Model ``model_id`` from the registry (reverts decoded, as ``Chain.call`` does)."""
    value = chain.call(models.functions.model(model_id), block=block)
    return RegisteredModel.from_abi(model_id, value)
