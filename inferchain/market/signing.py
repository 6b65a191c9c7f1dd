"""EIP-712 messages of the shared JobRouter: what a wallet signs so a relayer can submit.

Three types share one domain (`Inferchain JobRouter`, version 2, the router's address): a
`JobRequest` (`createJobFor`), a `Dispute` (`disputeFor`) and a `Deposit` (`depositWithSig`).
Each names its market, so a relayer can neither change it nor replay the signature on
another market. The gateway hands the typed data to the wallet and relays the signature; the
CLI and the tests sign with a local key. All build, sign and check the typed data here, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypedDict, Unpack

from eth_account import Account
from eth_account.messages import encode_typed_data
from web3 import Web3
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.errors import InferchainError
from inferchain.market.jobs import Job, JobRequest

DOMAIN_NAME = "Inferchain JobRouter"
DOMAIN_VERSION = "2"

DOMAIN_TYPES = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
JOB_REQUEST_TYPES = [
    {"name": "market", "type": "address"},
    {"name": "requester", "type": "address"},
    {"name": "modelId", "type": "uint32"},
    {"name": "inputCid", "type": "bytes"},
    {"name": "maxPrice", "type": "uint96"},
    {"name": "requestDeadline", "type": "uint40"},
    {"name": "workTime", "type": "uint32"},
    {"name": "verification", "type": "uint8"},
    {"name": "pricing", "type": "uint8"},
    {"name": "pricingData", "type": "bytes32"},
    {"name": "callback", "type": "address"},
    {"name": "callbackGas", "type": "uint32"},
    {"name": "callbackFee", "type": "uint96"},
    {"name": "nonce", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
]
DISPUTE_TYPES = [
    {"name": "market", "type": "address"},
    {"name": "jobId", "type": "uint256"},
    {"name": "job", "type": "bytes32"},
    {"name": "nonce", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
]
DEPOSIT_TYPES = [
    {"name": "market", "type": "address"},
    {"name": "owner", "type": "address"},
    {"name": "token", "type": "address"},
    {"name": "amount", "type": "uint256"},
    {"name": "nonce", "type": "uint256"},
    {"name": "expiry", "type": "uint256"},
]
TYPES = {"EIP712Domain": DOMAIN_TYPES, "JobRequest": JOB_REQUEST_TYPES}
#: A permit argument that tries nothing (the router skips a zero deadline).
NO_PERMIT = (0, 0, b"\0" * 32, b"\0" * 32)
#: JSON numbers above this many bits lose precision in JavaScript; sent as strings instead.
_JSON_SAFE_BITS = 53


class SignedRequestError(InferchainError, ValueError):
    """A signed job request document that cannot be relayed as it is."""


class ForeignRequest(SignedRequestError):
    """The typed data is not a JobRequest for the expected router and market."""


class MalformedRequest(SignedRequestError):
    """The message fields, their values or the signature cannot be decoded."""


@dataclass(frozen=True)
class SignedJobRequest:
    market: str
    request: JobRequest
    requester: str
    nonce: int
    expiry: int
    signature: bytes

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.market,
            self.request.as_abi(),
            self.requester,
            self.nonce,
            self.expiry,
            self.signature,
        )


@dataclass(frozen=True)
class SignedDispute:
    market: str
    job_id: int
    job: Job
    nonce: int
    expiry: int
    signature: bytes

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.market,
            self.job_id,
            self.job.as_abi(),
            self.nonce,
            self.expiry,
            self.signature,
        )


@dataclass(frozen=True)
class SignedDeposit:
    market: str
    owner: str
    token: str
    amount: int
    nonce: int
    expiry: int
    signature: bytes

    def as_abi(self) -> tuple[Any, ...]:
        return (
            self.market,
            self.owner,
            self.token,
            self.amount,
            self.nonce,
            self.expiry,
            self.signature,
        )


def router_domain(chain_id: int, router_address: str) -> dict[str, Any]:
    """The EIP-712 domain JobRouter checks every signature under."""
    return {
        "name": DOMAIN_NAME,
        "version": DOMAIN_VERSION,
        "chainId": chain_id,
        "verifyingContract": router_address,
    }


def read_router_domain(chain: Chain, router: Contract) -> dict[str, Any]:
    """The domain the deployed router reports itself (ERC-5267 `eip712Domain`)."""
    _, name, version, chain_id, verifying, _, _ = chain.call(router.functions.eip712Domain())
    return {
        "name": name,
        "version": version,
        "chainId": int(chain_id),
        "verifyingContract": verifying,
    }


class _Envelope(TypedDict):
    """What every router message carries besides its body: its market, the signer's nonce
    and the signature's expiry (the router checks all three)."""

    market: str
    nonce: int
    expiry: int


class TypedEnvelope(_Envelope, total=False):
    """The envelope of a typed data builder: the domain either given whole (as read from
    the router) or built from `chain_id` and `router_address`."""

    chain_id: int | None
    router_address: str | None
    domain: Mapping[str, Any] | None


class SigningEnvelope(_Envelope):
    """The envelope of a local signer, which always builds the domain itself."""

    chain_id: int
    router_address: str


def _router_typed(
    primary: str,
    fields: list[dict[str, str]],
    body: Mapping[str, Any],
    envelope: TypedEnvelope,
) -> dict[str, Any]:
    """Typed data of a router message: every type names its market first and ends with the
    signer's nonce and the signature's expiry (the router checks both)."""
    domain = envelope.get("domain")
    chain_id, router_address = envelope.get("chain_id"), envelope.get("router_address")
    if domain is None:
        if chain_id is None or router_address is None:
            raise TypeError("give either domain or both chain_id and router_address")
        domain = router_domain(chain_id, router_address)
    nonce, expiry = envelope["nonce"], envelope["expiry"]
    message = {"market": envelope["market"], **body, "nonce": nonce, "expiry": expiry}
    return {
        "types": {"EIP712Domain": list(DOMAIN_TYPES), primary: list(fields)},
        "primaryType": primary,
        "domain": dict(domain),
        "message": message,
    }


def _sign(typed: dict[str, Any], private_key: str) -> bytes:
    message = encode_typed_data(full_message=typed)
    return bytes(Account.sign_message(message, private_key).signature)


def job_request_typed_data(
    request: JobRequest, *, requester: str, **envelope: Unpack[TypedEnvelope]
) -> dict[str, Any]:
    """The full EIP-712 typed data (`eth_signTypedData_v4` input) for a job request."""
    body = {"requester": requester, **request.typed_message()}
    return _router_typed("JobRequest", JOB_REQUEST_TYPES, body, envelope)


def json_typed_data(typed: Mapping[str, Any]) -> dict[str, Any]:
    """`typed` safe for JSON wallets: bytes as 0x-hex, integers over 53 bits as strings."""
    kinds = {t["name"]: t["type"] for t in typed["types"][typed["primaryType"]]}
    message = {name: _to_json(kinds[name], value) for name, value in typed["message"].items()}
    return {**typed, "message": message}


def _to_json(kind: str, value: Any) -> Any:
    if kind in ("bytes", "bytes32"):
        return "0x" + bytes(value).hex()
    if kind.startswith("uint") and int(kind.removeprefix("uint")) > _JSON_SAFE_BITS:
        return str(value)
    return value


def sign_job_request(
    private_key: str,
    request: JobRequest,
    *,
    requester: str | None = None,
    **envelope: Unpack[SigningEnvelope],
) -> SignedJobRequest:
    """Sign `request` for the envelope's market with `private_key`; `requester` defaults to
    the key's own address (another requester means the key is that requester's session
    signer)."""
    requester = requester or Account.from_key(private_key).address
    signature = _sign(job_request_typed_data(request, requester=requester, **envelope), private_key)
    market, nonce, expiry = envelope["market"], envelope["nonce"], envelope["expiry"]
    return SignedJobRequest(market, request, requester, nonce, expiry, signature)


def dispute_typed_data(job_id: int, job: Job, **envelope: Unpack[TypedEnvelope]) -> dict[str, Any]:
    """The EIP-712 typed data of a `Dispute` of `job_id` (its job named by hash)."""
    body = {"jobId": job_id, "job": job.abi_hash()}
    return _router_typed("Dispute", DISPUTE_TYPES, body, envelope)


def sign_dispute(
    private_key: str, job_id: int, job: Job, **envelope: Unpack[SigningEnvelope]
) -> SignedDispute:
    """Sign a dispute of `job_id` with the requester's key (or its session signer's)."""
    signature = _sign(dispute_typed_data(job_id, job, **envelope), private_key)
    market, nonce, expiry = envelope["market"], envelope["nonce"], envelope["expiry"]
    return SignedDispute(market, job_id, job, nonce, expiry, signature)


def deposit_typed_data(
    owner: str, token: str, amount: int, **envelope: Unpack[TypedEnvelope]
) -> dict[str, Any]:
    """The EIP-712 typed data of a `Deposit` of exactly `amount` of `token` from `owner`."""
    body = {"owner": owner, "token": token, "amount": amount}
    return _router_typed("Deposit", DEPOSIT_TYPES, body, envelope)


def sign_deposit(
    private_key: str, token: str, amount: int, **envelope: Unpack[SigningEnvelope]
) -> SignedDeposit:
    """Sign a deposit from the key's own address (only the owner may sign a `Deposit`)."""
    owner = Account.from_key(private_key).address
    signature = _sign(deposit_typed_data(owner, token, amount, **envelope), private_key)
    market, nonce, expiry = envelope["market"], envelope["nonce"], envelope["expiry"]
    return SignedDeposit(market, owner, token, amount, nonce, expiry, signature)


def recover_job_request(
    typed: Mapping[str, Any], signature: str, *, domain: Mapping[str, Any], market: str
) -> tuple[str, SignedJobRequest]:
    """(signer, request) of a wallet-signed typed data document for `market` under the
    router's `domain`.

    Checks the document's shape here; the router checks signer, nonce and expiry again.
    """
    if (
        typed.get("primaryType") != "JobRequest"
        or typed.get("types") != TYPES
        or typed.get("domain") != domain
    ):
        raise ForeignRequest("typed_data is not a job request for this router")
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
    if values["market"] != Web3.to_checksum_address(market):
        raise ForeignRequest("typed_data is a job request for another market")
    signed = SignedJobRequest(
        values["market"],
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
    if kind == "bytes32":
        raw = bytes.fromhex(str(value).removeprefix("0x"))
        if len(raw) != 32:
            raise ValueError(f"{len(raw)} bytes do not fit bytes32")
        return raw
    number = int(value)
    bits = int(kind.removeprefix("uint"))
    if not 0 <= number < 2**bits:
        raise ValueError(f"{number} does not fit {kind}")
    return number
