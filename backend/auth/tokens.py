"""Short-lived session tokens: ``<payload>.<mac>``, HMAC-SHA256 with a key from the settings.

Stateless on purpose: any gateway process with the same secret accepts them, and none is
stored. They expire after ``session_ttl_s``; rotating the secret logs everybody out. A token
is accepted only exactly as issued: one spelling per MAC.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from eth_utils import is_checksum_address

from inferchain import untrusted_json
from inferchain.gateway.errors import AuthError

_VERSION = 1


@dataclass(frozen=True)
class Session:
    address: str
    expires_at: int  # unix seconds


class TokenSigner:
    def __init__(self, secret: str) -> None:
        self._key = hashlib.sha256(b"inferchain-gateway/session/v1|" + secret.encode()).digest()

    def issue(self, address: str, now: int, ttl_s: int) -> tuple[str, Session]:
        session = Session(address, now + ttl_s)
        payload = {
            "v": _VERSION,
            "sub": address,
            "iat": now,
            "exp": session.expires_at,
            "jti": secrets.token_hex(8),
        }
        body = _b64(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        return f"{body}.{_b64(self._mac(body))}", session

    def verify(self, token: str, now: int) -> Session:
        """The session a token carries; ``auth.invalid_token`` or ``auth.expired`` otherwise."""
        body, dot, mac = token.partition(".")
        if not dot or not body or not mac:
            raise AuthError("auth.invalid_token", "malformed session token")
        # Compared as text, so only the encoding ``issue`` wrote is accepted: base64 decoders
        # also take other final characters, padding and stray bytes for the same MAC.
        expected = _b64(self._mac(body)).encode()
        if not hmac.compare_digest(mac.encode("utf-8", "replace"), expected):
            raise AuthError("auth.invalid_token", "session token signature is invalid")
        try:
            payload = untrusted_json.loads(_unb64(body), source="session token")
            address, expires = payload["sub"], payload["exp"]
            valid = payload["v"] == _VERSION and isinstance(expires, int)
        except (ValueError, KeyError, TypeError) as exc:
            raise AuthError("auth.invalid_token", "malformed session token") from exc
        if not valid or not isinstance(address, str) or not is_checksum_address(address):
            raise AuthError("auth.invalid_token", "malformed session token")
        if expires <= now:
            raise AuthError("auth.expired", "session token has expired; sign in again")
        return Session(address, expires)

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, body.encode(), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad base64") from exc
