"""EIP-712 signed job requests (`createJobFor`): what a wallet signs so a relayer can submit.

The gateway hands the typed data to the wallet and relays the signature; the CLI signs
with a local key. Both build the typed data here, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data

from inferchain.market.jobs import JobRequest

DOMAIN_NAME = "Inferchain JobMarket"
DOMAIN_VERSION = "1"

_REQUEST_TYPE = [
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


@dataclass(frozen=True)
class SignedJobRequest:
    request: JobRequest
    requester: str
    nonce: int
    expiry: int
    signature: bytes

    def as_abi(self) -> tuple[Any, ...]:
        return (self.request.as_abi(), self.requester, self.nonce, self.expiry, self.signature)


def job_request_typed_data(
    request: JobRequest,
    *,
    requester: str,
    nonce: int,
    expiry: int,
    chain_id: int,
    market_address: str,
) -> dict[str, Any]:
    """The full EIP-712 typed data (`eth_signTypedData_v4` input) for a job request."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "JobRequest": _REQUEST_TYPE,
        },
        "primaryType": "JobRequest",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": market_address,
        },
        "message": {
            **request.typed_message(),
            "requester": requester,
            "nonce": nonce,
            "expiry": expiry,
        },
    }


def sign_job_request(
    private_key: str,
    request: JobRequest,
    *,
    nonce: int,
    expiry: int,
    chain_id: int,
    market_address: str,
) -> SignedJobRequest:
    requester = Account.from_key(private_key).address
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
