"""Raw logs to ``DecodedLog``: event name, JSON-safe arguments and the entity it feeds.

Decoding uses the shipped ABIs (topic0 -> event); logs of other events are skipped.
Bytes become ``0x`` hex, except CID arguments, which become CID text. ``chain_args`` turns
stored arguments back into web3's form, for the folds shared with code that reads the chain.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from hexbytes import HexBytes
from web3 import Web3
from web3.contract.contract import ContractEvent

from inferchain.artifacts import load_artifact
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.ipfs import Cid, InvalidCid

_CID_ARGS = {"inputCid", "outputCid", "evidenceCid", "bundleCid", "metadataCid"}
_ENTITY_KEYS = (
    ("JobMarket", "jobId", "job"),
    ("JobMarket", "account", "account"),
    ("ModelRegistry", "modelId", "model"),
    ("WorkerRegistry", "worker", "worker"),
)


@dataclass(frozen=True)
class DecodedLog:
    block_number: int
    block_hash: str
    tx_hash: str
    log_index: int
    contract: str
    event: str
    args: dict[str, Any]

    @property
    def entity(self) -> str:
        """The projection row this log feeds; ``market`` for admin events."""
        for contract, key, kind in _ENTITY_KEYS:
            if self.contract == contract and key in self.args:
                return f"{kind}:{self.args[key]}"
        return "market"

    @property
    def job_id(self) -> int | None:
        return self.args["jobId"] if self.contract == "JobMarket" and "jobId" in self.args else None


class LogDecoder:
    def __init__(self, contracts: MarketContracts) -> None:
        self._by_key: dict[tuple[str, bytes], tuple[str, ContractEvent]] = {}
        for name, contract in (
            ("JobMarket", contracts.market),
            ("ModelRegistry", contracts.models),
            ("WorkerRegistry", contracts.workers),
        ):
            for event in contract.all_events():
                self._by_key[(contract.address, bytes(HexBytes(event.topic)))] = (name, event)
        self.addresses = [
            c.address for c in (contracts.market, contracts.models, contracts.workers)
        ]

    def decode(self, logs: Iterable[Any]) -> list[DecodedLog]:
        out = []
        for log in logs:
            if not log["topics"]:
                continue
            key = (Web3.to_checksum_address(log["address"]), bytes(log["topics"][0]))
            found = self._by_key.get(key)
            if found is None:
                continue
            contract, event = found
            data = event.process_log(log)
            out.append(
                DecodedLog(
                    block_number=int(log["blockNumber"]),
                    block_hash=HexBytes(log["blockHash"]).to_0x_hex(),
                    tx_hash=HexBytes(log["transactionHash"]).to_0x_hex(),
                    log_index=int(log["logIndex"]),
                    contract=contract,
                    event=event.event_name,
                    args={k: json_safe(k, v) for k, v in data["args"].items()},
                )
            )
        return out


def json_safe(name: str, value: Any) -> Any:
    """Argument ``name`` as the indexer stores it: bytes as hex, a CID argument as CID text."""
    if isinstance(value, bytes | bytearray):
        if name in _CID_ARGS:
            try:
                return str(Cid.parse(bytes(value)))
            except InvalidCid:
                pass
        return "0x" + bytes(value).hex()
    if isinstance(value, dict) or hasattr(value, "keys"):
        return {k: json_safe(k, value[k]) for k in value}
    if isinstance(value, list | tuple):
        return [json_safe(name, v) for v in value]
    return value


def chain_args(contract: str, event: str, args: Mapping[str, Any]) -> dict[str, Any]:
    """Stored (JSON-safe) arguments back as web3 decodes them: bytes as bytes, by the ABI."""
    return {p["name"]: _raw(p, args[p["name"]]) for p in _event_inputs(contract, event)}


@cache
def _event_inputs(contract: str, event: str) -> tuple[dict[str, Any], ...]:
    abi = load_artifact(contract).abi
    return tuple(next(i for i in abi if i.get("type") == "event" and i["name"] == event)["inputs"])


def _raw(param: Mapping[str, Any], value: Any) -> Any:
    kind: str = param["type"]
    if kind.endswith("]"):
        item = {**param, "type": kind[: kind.rindex("[")]}
        return [_raw(item, v) for v in value]
    if kind == "tuple":
        return {c["name"]: _raw(c, value[c["name"]]) for c in param["components"]}
    if kind.startswith("bytes"):
        return bytes.fromhex(value[2:]) if value.startswith("0x") else Cid.parse(value).to_bytes()
    return value
