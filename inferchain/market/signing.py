"""EIP-712 signed job requests (`createJobFor`): what a wallet signs so a relayer can submit.

The gateway hands the typed data to the wallet and relays the signature; the CLI and the
tests sign with a local key. All build, sign and check the typed data here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.errors import InferchainError
from inferchain.market.jobs import JobRequest

DOMAIN_NAME = "Inferchain JobMarket"
DOMAIN_VERSION = "1"

DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
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
TYPES = {"EIP712Domain": DOMAIN_TYPES, "JobRequest": JOB_REQUEST_TYPES}
#: JSON numbers above this many bits lose precision in JavaScript; sent as strings instead.
_JSON_SAFE_BITS = 53


class SignedRequestError(InferchainError, ValueError):
    """A signed job request document that cannot be relayed as it is."""


class ForeignRequest(SignedRequestError):
    """The typed data is not a JobRequest for the expected market (types or domain differ)."""


class MalformedRequest(SignedRequestError):
    """The message fields, their values or the signature cannot be decoded."""


@dataclass(frozen=True)
class SignedJobRequest:
    request: JobRequest
    requester: str
    nonce: int
    expiry: int
    signature: bytes

    def as_abi(self) -> tuple[Any, ...]:
        return (self.request.as_abi(), self.requester, self.nonce, self.expiry, self.signature)


def market_domain(chain_id: int, market_address: str) -> dict[str, Any]:
    """The EIP-712 domain JobMarket signs requests under."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": market_address,
    }


def read_market_domain(chain: Chain, market: Contract) -> dict[str, Any]:
    """The domain the deployed market reports itself (ERC-5267 `eip712Domain`)."""
    _, name, version, chain_id, verifying, _, _ = chain.call(market.functions.eip712Domain())
    return {
        "name": name,
        "version": version,
        "chainId": int(chain_id),
        "verifyingContract": verifying,
    }


def job_request_typed_data(
    request: JobRequest,
    *,
    requester: str,
    nonce: int,
    expiry: int,
    chain_id: int | None = None,
    market_address: str | None = None,
    domain: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The full EIP-712 typed data (`eth_signTypedData_v4` input) for a job request.

    The domain is either given whole (as read from the contract) or built from `chain_id`
    and `market_address`.
    """
    if domain is None:
        if chain_id is None or market_address is None:
            raise TypeError("give either domain or both chain_id and market_address")
        domain = market_domain(chain_id, market_address)
    return {
        "types": {"EIP712Domain": list(DOMAIN_TYPES), "JobRequest": list(JOB_REQUEST_TYPES)},
        "primaryType": "JobRequest",
        "domain": dict(domain),
        "message": {
            "requester": requester,
            **request.typed_message(),
            "nonce": nonce,
            "expiry": expiry,
        },
    }


def json_typed_data(typed: Mapping[str, Any]) -> dict[str, Any]:
    """`typed` safe for JSON wallets: bytes as 0x-hex, integers over 53 bits as strings."""
    kinds = {t["name"]: t["type"] for t in typed["types"][typed["primaryType"]]}
    message = {name: _to_json(kinds[name], value) for name, value in typed["message"].items()}
    return {**typed, "message": message}


def _to_json(kind: str, value: Any) -> Any:
    if kind == "bytes":
        return "0x" + bytes(value).hex()
    if kind.startswith("uint") and int(kind.removeprefix("uint")) > _JSON_SAFE_BITS:
        return str(value)
    return value


def sign_job_request(
    private_key: str,
    request: JobRequest,
    *,
    nonce: int,
    expiry: int,
    chain_id: int,
    market_address: str,
    requester: str | None = None,
) -> SignedJobRequest:
    """Sign `request` with `private_key`; `requester` defaults to the key's own address."""
    requester = requester or Account.from_key(private_key).address
    typed = job_request_typed_data(
        request,
        requester=requester,
        nonce=nonce,
        expiry=expiry,
        chain_id=chain_id,
        market_address=market_address,
    )
    signature = Account.sign_message(encode_typed_data(full_message=typed), private_key).signature
    return SignedJobRequest(request, requester, nonce, expiry, bytes(signature))


def recover_job_request(
    typed: Mapping[str, Any], signature: str, *, domain: Mapping[str, Any]
) -> tuple[str, SignedJobRequest]:
    """(signer, request) of a wallet-signed typed data document for the market of `domain`.

    Checks the document's shape here; the contract checks signer, nonce and expiry again.
    """
    if (
        typed.get("primaryType") != "JobRequest"
        or typed.get("types") != TYPES
        or typed.get("domain") != domain
    ):
        raise ForeignRequest("typed_data is not a job request for this market")
    message = typed.get("message")
    names = [t["name"] for t in JOB_REQUEST_TYPES]
    if not isinstance(message, dict) or sorted(message) != sorted(names):
        raise MalformedRequest("typed_data.message must hold exactly the JobRequest fields")
    try:
        signer = Account.recover_message(
            encode_typed_data(full_message=dict(typed)), signature=signature
        )
        values = {t["name"]: _coerce(t["type"], message[t["name"]]) for t in JOB_REQUEST_TYPES}
        raw_signature = bytes.fromhex(signature.removeprefix("0x"))
    except Exception as exc:  # eth-account raises many types for malformed documents
        raise MalformedRequest("typed_data or signature cannot be decoded") from exc
    signed = SignedJobRequest(
        JobRequest.from_typed_message(values),
        values["requester"],
        values["nonce"],
        values["expiry"],
        raw_signature,
    )
    return signer, signed


def _coerce(kind: str, value: Any) -> Any:
    """A JSON message value as the ABI takes it, range-checked against its EIP-712 type."""
    if kind == "address":
        return Web3.to_checksum_address(value)
    if kind == "bytes":
        return bytes.fromhex(str(value).removeprefix("0x"))
    number = int(value)
    bits = int(kind.removeprefix("uint"))
    if not 0 <= number < 2**bits:
        raise ValueError(f"{number} does not fit {kind}")
    return number
