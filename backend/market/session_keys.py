"""The gateway's per-wallet session signer keys, derived from the settings secret.

Nothing is stored: a wallet's key is ``HMAC-SHA256(secret_key, domain ‖ chain id ‖ router ‖
wallet)`` reduced to a secp256k1 scalar, so every gateway process with the same secret signs
with the same key, and there is no key table to leak or back up. Whoever holds the secret
holds every session key; what that is worth is bounded on-chain: a session key spends at
most the cap its wallet authorised, of one token, until the expiry, and the wallet revokes
it at any time (the router's ``revokeSigner``). Keyed by the shared router, one session
signer serves every market on it. Rotating the secret orphans every session signer (the
wallets authorise the new ones), as it logs everyone out.
"""

from __future__ import annotations

import hashlib
import hmac

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

_DOMAIN = b"inferchain/gateway/session-signer/v2"
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def session_account(secret: str, chain_id: int, router: str, wallet: str) -> LocalAccount:
    """The session signer the gateway uses for ``wallet`` on this router."""
    message = b"|".join(
        (
            _DOMAIN,
            str(chain_id).encode(),
            bytes.fromhex(Web3.to_checksum_address(router)[2:]),
            bytes.fromhex(Web3.to_checksum_address(wallet)[2:]),
        )
    )
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    scalar = int.from_bytes(digest, "big") % (_SECP256K1_N - 1) + 1
    return Account.from_key(scalar.to_bytes(32, "big"))
