"""Decodes revert data into the custom error it encodes, using the shipped ABIs."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector

from inferchain.artifacts import artifact_names, load_artifact
from inferchain.chain.errors import ContractReverted

_ErrorAbi = tuple[str, list[dict[str, Any]]]

_BUILTIN: dict[bytes, _ErrorAbi] = {
    bytes.fromhex("08c379a0"): ("Error", [{"name": "reason", "type": "string"}]),
    bytes.fromhex("4e487b71"): ("Panic", [{"name": "code", "type": "uint256"}]),
}


def _canonical_type(param: dict[str, Any]) -> str:
    kind = param["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_canonical_type(c) for c in param["components"])
        return f"({inner}){kind[len('tuple') :]}"
    return kind


def error_selectors(abis: Iterable[list[dict[str, Any]]]) -> dict[bytes, _ErrorAbi]:
    table = dict(_BUILTIN)
    for abi in abis:
        for item in abi:
            if item.get("type") != "error":
                continue
            inputs = item.get("inputs", [])
            signature = f"{item['name']}({','.join(_canonical_type(p) for p in inputs)})"
            table[function_signature_to_4byte_selector(signature)] = (item["name"], inputs)
    return table


@cache
def _known_errors() -> dict[bytes, _ErrorAbi]:
    return error_selectors(load_artifact(name).abi for name in artifact_names())


def decode_revert(data: str | bytes | None) -> ContractReverted:
    """Turn raw revert data into a ContractReverted naming the error and its arguments."""
    raw = (
        bytes.fromhex(data[2:] if data.startswith("0x") else data)
        if isinstance(data, str)
        else (data or b"")
    )
    hex_data = "0x" + raw.hex()
    if len(raw) < 4:
        return ContractReverted("unknown", {}, hex_data)
    known = _known_errors().get(raw[:4])
    if known is None:
        return ContractReverted("unknown", {"selector": "0x" + raw[:4].hex()}, hex_data)
    name, inputs = known
    try:
        values = abi_decode([_canonical_type(p) for p in inputs], raw[4:])
    except Exception:  # malformed payload behind a known selector
        return ContractReverted(name, {}, hex_data)
    args = {
        p.get("name") or f"arg{i}": v for i, (p, v) in enumerate(zip(inputs, values, strict=True))
    }
    return ContractReverted(name, args, hex_data)
