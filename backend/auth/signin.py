"""The whole sign-in check: parse, domain/URI/chain/time, signature, then burn the nonce."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from inferchain.gateway.auth.nonces import consume_nonce
from inferchain.gateway.auth.siwe import Expectations, check_message, parse_message, recover_signer
from inferchain.gateway.errors import AuthError


def verify_sign_in(
    session: Session, text: str, signature: str, expect: Expectations, now: int
) -> str:
    """The signed-in address; the nonce is consumed only when everything else holds."""
    message = parse_message(text)
    check_message(message, expect, datetime.fromtimestamp(now, UTC))
    signer = recover_signer(text, signature)
    if signer != message.address:
        raise AuthError("auth.bad_signature", "signature is not from the address in the message")
    consume_nonce(session, message.nonce, message.address, now)
    return message.address
