"""Sign-in nonces in the database: shared by every gateway process, single use, expiring,
and bound to the address they were issued for (a nonce of wallet A signs nobody else in)."""

from __future__ import annotations

import secrets

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from inferchain.gateway.db.models import AuthNonce
from inferchain.gateway.errors import AuthError


def issue_nonce(session: Session, address: str, now: int, ttl_s: int) -> AuthNonce:
    """A fresh random nonce (96 bits, alphanumeric as EIP-4361 requires) for ``address``
    (EIP-55); prunes dead ones."""
    session.execute(delete(AuthNonce).where(AuthNonce.expires_at < now - ttl_s))
    nonce = AuthNonce(
        nonce=secrets.token_hex(12), address=address, expires_at=now + ttl_s, used_at=None
    )
    session.add(nonce)
    return nonce


def consume_nonce(session: Session, nonce: str, address: str, now: int) -> None:
    """Mark ``nonce`` used by ``address``, atomically: of two concurrent sign-ins, one wins."""
    result = session.execute(
        update(AuthNonce)
        .where(
            AuthNonce.nonce == nonce,
            AuthNonce.address == address,
            AuthNonce.used_at.is_(None),
            AuthNonce.expires_at > now,
        )
        .values(used_at=now)
    )
    if result.rowcount == 1:  # type: ignore[attr-defined]
        return
    row = session.get(AuthNonce, nonce)
    if row is None:
        raise AuthError("auth.nonce_unknown", "nonce was not issued by this gateway")
    if row.address != address:
        raise AuthError(
            "auth.nonce_address_mismatch",
            "nonce was issued for another address; request one for this address",
        )
    if row.used_at is not None:
        raise AuthError("auth.nonce_used", "nonce was already used; request a new one")
    raise AuthError("auth.nonce_expired", "nonce has expired; request a new one")
