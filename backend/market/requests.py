"""Job requests as the wallet must sign or send them: unsigned transactions, EIP-712 data.

The gateway never holds a user's key: it prepares ``createJob`` for the wallet to send, or
an EIP-712 ``JobRequest`` (naming this market, under the shared router's domain) the wallet
signs and the gateway's relayer submits through the router's ``createJobFor`` (paid from the
wallet's deposit in the market). The request type, the
typed data and its checks are the shared ones of :mod:`inferchain.market`.
"""

from __future__ import annotations

import secrets
from typing import Any

from web3 import Web3

from inferchain.artifacts import load_artifact
from inferchain.gateway.errors import BadRequest
from inferchain.gateway.market.contracts import ZERO_ADDRESS, MarketContracts
from inferchain.market import (
    ForeignRequest,
    JobRequest,
    MalformedRequest,
    job_request_typed_data,
    json_typed_data,
    recover_job_request,
)

__all__ = ["JobRequest", "create_job_calls", "signed_request_tuple", "typed_job_request"]


def create_job_calls(
    c: MarketContracts, request: JobRequest, token: str, escrow: int, wallet: str
) -> list[tuple[str, str, int, str]]:
    """(to, data, value, description) the wallet sends in order: approve if needed, createJob.
    `escrow` is what creation takes: the price plus the mode's verification fee."""
    calls: list[tuple[str, str, int, str]] = []
    if token != ZERO_ADDRESS:
        erc20 = c.chain.w3.eth.contract(
            address=Web3.to_checksum_address(token), abi=load_artifact("IERC20").abi
        )
        allowance = c.chain.call(erc20.functions.allowance(wallet, c.market.address))
        if allowance < request.max_price:
            data = erc20.encode_abi("approve", args=[c.market.address, request.max_price])
            calls.append((erc20.address, data, 0, "approve the market to take the price"))
    data = c.market.encode_abi("createJob", args=[wallet, request.as_abi()])
    value = escrow if token == ZERO_ADDRESS else 0
    calls.append((c.market.address, data, value, "create the job, escrowing the price"))
    return calls


def typed_job_request(
    c: MarketContracts, request: JobRequest, requester: str, expiry: int
) -> dict[str, Any]:
    """The EIP-712 document a wallet signs (eth_signTypedData_v4); big numbers as strings."""
    typed = job_request_typed_data(
        request,
        market=c.market.address,
        requester=requester,
        nonce=secrets.randbits(128),
        expiry=expiry,
        domain=c.eip712_domain,
    )
    return json_typed_data(typed)


def signed_request_tuple(
    c: MarketContracts, typed: dict[str, Any], signature: str, wallet: str
) -> tuple[Any, ...]:
    """Check a signed typed_data document came from ``wallet`` for this market; the
    SignedJobRequest tuple for the router's ``createJobFor``. The router checks it all again."""
    try:
        signer, signed = recover_job_request(
            typed, signature, domain=c.eip712_domain, market=c.market.address
        )
    except ForeignRequest as exc:
        raise BadRequest("relay.foreign_request", str(exc)) from exc
    except MalformedRequest as exc:
        raise BadRequest("relay.malformed", str(exc)) from exc
    if signer != wallet or signed.requester != wallet:
        raise BadRequest(
            "relay.not_signer",
            "the request must be signed by, and for, the signed-in wallet",
            status=403,
        )
    return signed.as_abi()
