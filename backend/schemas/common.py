"""Types shared by the schemas: amounts as decimal strings, checksummed addresses."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer, WithJsonSchema
from web3 import Web3


def _to_int(value: Any) -> Any:
    if isinstance(value, str) and value.isdigit() and len(value) <= 78:
        return int(value)
    return value


def _uint256(value: int) -> int:
    if not 0 <= value < 2**256:
        raise ValueError("must be a uint256")
    return value


def _address(value: str) -> str:
    if not Web3.is_address(value):
        raise ValueError("not an Ethereum address")
    return Web3.to_checksum_address(value)


#: An amount in a token's smallest unit; JSON strings, since JavaScript numbers lose wei.
Wei = Annotated[
    int,
    BeforeValidator(_to_int),
    AfterValidator(_uint256),
    PlainSerializer(str, return_type=str),
    WithJsonSchema(
        {"type": "string", "pattern": "^[0-9]{1,78}$", "examples": ["10000000000000000"]}
    ),
]

Address = Annotated[
    str,
    Field(min_length=40, max_length=42),
    AfterValidator(_address),
    WithJsonSchema({"type": "string", "pattern": "^0x[0-9a-fA-F]{40}$"}),
]
