"""``/auth``: Sign-In with Ethereum (nonce, verify) and the current session."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fastapi import APIRouter

from inferchain.gateway.api.deps import CurrentSession, ServicesDep, SessionDep
from inferchain.gateway.api.errors import responses
from inferchain.gateway.auth.nonces import issue_nonce
from inferchain.gateway.auth.signin import verify_sign_in
from inferchain.gateway.auth.siwe import Expectations, SiweMessage
from inferchain.gateway.schemas.auth import (
    MeResponse,
    NonceRequest,
    NonceResponse,
    SessionResponse,
    VerifyRequest,
)

router = APIRouter(prefix="/auth", tags=["auth"])

DEFAULT_STATEMENT = "Sign in to the Inferchain gateway."


@router.post(
    "/nonce",
    response_model=NonceResponse,
    responses=responses(422, 429),
)
def create_nonce(body: NonceRequest, services: ServicesDep, db: SessionDep) -> NonceResponse:
    """A single-use nonce for ``address`` and the EIP-4361 message that signs it in."""
    s = services.settings
    now = int(time.time())
    with db.begin():
        nonce = issue_nonce(db, body.address, now, s.nonce_ttl_s)
    uri = str(s.siwe_uri)
    message = SiweMessage(
        domain=s.siwe_domain,
        address=body.address,
        uri=uri,
        chain_id=s.chain_id,
        nonce=nonce.nonce,
        issued_at=datetime.fromtimestamp(now, UTC),
        statement=body.statement or DEFAULT_STATEMENT,
        expiration_time=datetime.fromtimestamp(nonce.expires_at, UTC),
    ).to_text()
    return NonceResponse(
        nonce=nonce.nonce,
        expires_at=nonce.expires_at,
        domain=s.siwe_domain,
        uri=uri,
        chain_id=s.chain_id,
        address=body.address,
        message=message,
    )


@router.post(
    "/verify",
    response_model=SessionResponse,
    responses=responses(400, 401, 422, 429),
)
def verify(body: VerifyRequest, services: ServicesDep, db: SessionDep) -> SessionResponse:
    """Check a signed EIP-4361 message and open a short-lived session."""
    s = services.settings
    uri = str(s.siwe_uri)
    origin = uri.split("://", 1)[0] + "://" + s.siwe_domain
    expect = Expectations(s.siwe_domain, origin, s.chain_id, s.nonce_ttl_s, s.clock_skew_s)
    now = int(time.time())
    with db.begin():
        address = verify_sign_in(db, body.message, body.signature, expect, now)
    token, session = services.tokens.issue(address, now, s.session_ttl_s)
    return SessionResponse(token=token, address=address, expires_at=session.expires_at)


@router.get("/me", response_model=MeResponse, responses=responses(401, 429))
def me(session: CurrentSession) -> MeResponse:
    """The wallet the bearer token belongs to."""
    return MeResponse(address=session.address, expires_at=session.expires_at)
