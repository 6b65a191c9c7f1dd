"""``/v1/signers``: the session signer that pays a wallet's OpenAI-compatible requests.

The gateway derives one session signer per wallet (``market.session_keys``). A signed-in
wallet asks for the router's ``increaseSignerCap`` transaction (an amount of a token added to
what the signer has left, and an expiry), sends it itself, and from then on
``/v1/completions`` jobs are signed by that key and paid from its deposit. Lowering
(``decreaseSignerCap``) and revoking are transactions too: the gateway cannot stop the wallet.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from inferchain.gateway.api.deps import ContractsDep, CurrentWallet, ServicesDep
from inferchain.gateway.api.errors import responses
from inferchain.gateway.errors import BadRequest
from inferchain.gateway.market import signers
from inferchain.gateway.schemas.common import Address
from inferchain.gateway.schemas.jobs import UnsignedTransaction
from inferchain.gateway.schemas.signers import (
    ETH,
    SignerCreate,
    SignerDecrease,
    SignerPrepared,
    SignerRevoke,
    SignerStatus,
)
from inferchain.gateway.translate import chain_errors

router = APIRouter(prefix="/signers", tags=["openai"])
_ERRORS = responses(401, 409, 422, 429, 503, 504)


@router.get("", response_model=SignerStatus, responses=_ERRORS)
def signer_status(
    wallet: CurrentWallet,
    services: ServicesDep,
    c: ContractsDep,
    token: Annotated[Address, Query(description="zero address: ETH")] = ETH,
) -> SignerStatus:
    """The wallet's session signer and what it may still spend of ``token``."""
    signer = signers.gateway_signer(services, c, wallet)
    with chain_errors("reading the session signer"):
        session = signers.read_session(c, wallet, signer.address, token)
        now = c.chain.block_timestamp()
    return SignerStatus(
        signer=signer.address,
        token=token,
        remaining=session.remaining,
        expiry=session.expiry,
        active=session.active_at(now),
    )


@router.post("", response_model=SignerPrepared, responses=_ERRORS)
def create_signer(
    body: SignerCreate, wallet: CurrentWallet, services: ServicesDep, c: ContractsDep
) -> SignerPrepared:
    """The ``increaseSignerCap`` transaction for the wallet to send: adds ``cap`` to what the
    signer has left, and sets its expiry."""
    signer = signers.gateway_signer(services, c, wallet)
    if not 0 < body.cap < 2**96:
        raise BadRequest(
            "signer.cap_out_of_range", "cap must be positive and fit uint96", status=422
        )
    with chain_errors("reading the allowed tokens"):
        allowed = c.chain.call(c.market.functions.isTokenAllowed(body.token))
    if not allowed:
        raise BadRequest(
            "signer.token_not_allowed",
            f"the market takes no payment in {body.token}: a signer for it could pay for nothing",
            status=422,
        )
    with chain_errors("reading the chain time"):
        expiry = c.chain.block_timestamp() + body.ttl_s
    data = signers.increase_calldata(c, signer.address, body.token, body.cap, expiry)
    return SignerPrepared(
        signer=signer.address,
        token=body.token,
        cap=body.cap,
        expiry=expiry,
        transaction=_tx(c, data, "authorise the gateway's session signer"),
    )


@router.post("/decrease", response_model=UnsignedTransaction, responses=_ERRORS)
def decrease_signer(
    body: SignerDecrease, wallet: CurrentWallet, services: ServicesDep, c: ContractsDep
) -> UnsignedTransaction:
    """The ``decreaseSignerCap`` transaction for the wallet to send: lowers what the signer has
    left by ``amount`` (stopping at zero), whatever it spends meanwhile."""
    signer = signers.gateway_signer(services, c, wallet)
    if body.amount >= 2**96:
        raise BadRequest("signer.amount_too_large", "amount must fit uint96", status=422)
    data = signers.decrease_calldata(c, signer.address, body.token, body.amount)
    return _tx(c, data, "lower the gateway's session signer's allowance")


@router.post("/revoke", response_model=UnsignedTransaction, responses=_ERRORS)
def revoke_signer(
    body: SignerRevoke, wallet: CurrentWallet, services: ServicesDep, c: ContractsDep
) -> UnsignedTransaction:
    """The ``revokeSigner`` transaction for the wallet to send; effective once mined."""
    signer = signers.gateway_signer(services, c, wallet)
    data = signers.revoke_calldata(c, signer.address, body.token)
    return _tx(c, data, "revoke the gateway's session signer")


def _tx(c: ContractsDep, data: str, description: str) -> UnsignedTransaction:
    return UnsignedTransaction(
        to=c.router.address, data=data, value=0, chain_id=c.chain.chain_id, description=description
    )
