"""Job requests as the wallet must sign or send them: unsigned transactions, EIP-712 data.

The gateway never holds a user's key: it prepares ``createJob`` for the wallet to send, or
an EIP-712 ``JobRequest`` the wallet signs and the gateway's relayer submits through
``createJobFor`` (paid from the wallet's deposit in the market).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3

from inferchain.artifacts import load_artifact
from inferchain.gateway.errors import BadRequest
from inferchain.gateway.market.contracts import ZERO_ADDRESS, MarketContracts
from inferchain.ipfs import Cid

JOB_REQUEST_TYPES = [
    {"name": "requester", "type": "address"},
    {"name": "modelId", "type": "uint32"},
    {"name": "inputCid", "type": "bytes"},
    {"name": "maxPrice", "type": "uint96"},
    {"name": "requestDeadline", "type": "uint40"},
    {"name": "workTime", "type": "uint32"},
    {"name": "verification", "type": "uint8"},
    {"name": "callback", "type": "address"},
    {"name": "callbackGas", "type": "uint32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
]
DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_REQUEST_FIELDS = (
    "modelId",
    "inputCid",
    "maxPrice",
    "requestDeadline",
    "workTime",
    "verification",
    "callback",
    "callbackGas",
)


@dataclass(frozen=True)
class JobRequest:
    model_id: int
    input_cid: Cid
    max_price: int
    request_deadline: int
    work_time: int
    verification: int = 0

    def as_tuple(self) -> tuple[Any, ...]:
        return (
            self.model_id,
            self.input_cid.to_bytes(),
            self.max_price,
            self.request_deadline,
            self.work_time,
            self.verification,
            ZERO_ADDRESS,
            0,
        )


def create_job_calls(
    c: MarketContracts, request: JobRequest, token: str, price: int, wallet: str
) -> list[tuple[str, str, int, str]]:
    """(to, data, value, description) the wallet sends in order: approve if needed, createJob."""
    calls: list[tuple[str, str, int, str]] = []
    if token != ZERO_ADDRESS:
        erc20 = c.chain.w3.eth.contract(
            address=Web3.to_checksum_address(token), abi=load_artifact("MockERC20Permit").abi
        )
        allowance = c.chain.call(erc20.functions.allowance(wallet, c.market.address))
        if allowance < request.max_price:
            data = erc20.encode_abi("approve", args=[c.market.address, request.max_price])
            calls.append((erc20.address, data, 0, "approve the market to take the price"))
    data = c.market.encode_abi("createJob", args=[request.as_tuple()])
    value = price if token == ZERO_ADDRESS else 0
    calls.append((c.market.address, data, value, "create the job, escrowing the price"))
    return calls


def typed_job_request(
    c: MarketContracts, request: JobRequest, requester: str, expiry: int
) -> dict[str, Any]:
    """The EIP-712 document a wallet signs (eth_signTypedData_v4); big numbers as strings."""
    return {
        "types": {"EIP712Domain": DOMAIN_TYPES, "JobRequest": JOB_REQUEST_TYPES},
        "primaryType": "JobRequest",
        "domain": dict(c.eip712_domain),
        "message": {
            "requester": requester,
            "modelId": request.model_id,
            "inputCid": "0x" + request.input_cid.to_bytes().hex(),
            "maxPrice": str(request.max_price),
            "requestDeadline": request.request_deadline,
            "workTime": request.work_time,
            "verification": request.verification,
            "callback": ZERO_ADDRESS,
            "callbackGas": 0,
            "nonce": str(secrets.randbits(128)),
            "expiry": str(expiry),
        },
    }


def signed_request_tuple(
    c: MarketContracts, typed: dict[str, Any], signature: str, wallet: str
) -> tuple[Any, ...]:
    """Check a signed typed_data document came from ``wallet`` for this market; the
    SignedJobRequest tuple for ``createJobFor``. The contract checks it all again."""
    if (
        typed.get("primaryType") != "JobRequest"
        or typed.get("types") != {"EIP712Domain": DOMAIN_TYPES, "JobRequest": JOB_REQUEST_TYPES}
        or typed.get("domain") != c.eip712_domain
    ):
        raise BadRequest("relay.foreign_request", "typed_data is not a job request for this market")
    message = typed.get("message")
    names = [t["name"] for t in JOB_REQUEST_TYPES]
    if not isinstance(message, dict) or sorted(message) != sorted(names):
        raise BadRequest(
            "relay.malformed", "typed_data.message must hold exactly the JobRequest fields"
        )
    try:
        signer = Account.recover_message(encode_typed_data(full_message=typed), signature=signature)
        values = {
            n: _coerce(t["type"], message[n]) for n, t in zip(names, JOB_REQUEST_TYPES, strict=True)
        }
    except Exception as exc:  # eth-account raises many types for malformed documents
        raise BadRequest("relay.malformed", "typed_data or signature cannot be decoded") from exc
    if signer != wallet or values["requester"] != wallet:
        raise BadRequest(
            "relay.not_signer",
            "the request must be signed by, and for, the signed-in wallet",
            status=403,
        )
    request = tuple(values[f] for f in _REQUEST_FIELDS)
    return (
        request,
        values["requester"],
        values["nonce"],
        values["expiry"],
        bytes.fromhex(signature[2:]),
    )


def _coerce(kind: str, value: Any) -> Any:
    if kind == "address":
        return Web3.to_checksum_address(value)
    if kind == "bytes":
        return bytes.fromhex(str(value).removeprefix("0x"))
    number = int(value)
    bits = int(kind.removeprefix("uint"))
    if not 0 <= number < 2**bits:
        raise ValueError(f"{number} does not fit {kind}")
    return number
