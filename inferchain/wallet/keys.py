"""Which key signs: an encrypted keystore, or a plain env key on local chains only.

Order: an explicit keystore path; else $INFERCHAIN_PRIVATE_KEY (refused unless the network
is local, so a real key never sits in a shell profile for a public chain); else the
default keystore. The keystore password comes from $INFERCHAIN_KEYSTORE_PASSWORD or,
when unset, from `prompt`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from eth_account import Account

from inferchain.wallet.errors import KeyUnavailable
from inferchain.wallet.keystore import decrypt_keystore, default_keystore

PRIVATE_KEY_ENV = "INFERCHAIN_PRIVATE_KEY"
PASSWORD_ENV = "INFERCHAIN_KEYSTORE_PASSWORD"

Prompt = Callable[[str], str]


def keystore_password(prompt: Prompt | None, what: str = "keystore password") -> str:
    env = os.environ.get(PASSWORD_ENV)
    if env is not None:
        return env
    if prompt is None:
        raise KeyUnavailable(f"set {PASSWORD_ENV} or run interactively to enter the {what}")
    return prompt(what)


def resolve_key(
    *,
    keystore: Path | None,
    allow_plain_key: bool,
    network: str,
    prompt: Prompt | None = None,
) -> str:
    """The signing key (0x-hex) for a command on `network`."""
    if keystore is not None:
        return decrypt_keystore(keystore, keystore_password(prompt))
    plain = os.environ.get(PRIVATE_KEY_ENV)
    if plain:
        if not allow_plain_key:
            raise KeyUnavailable(
                f"{PRIVATE_KEY_ENV} is only accepted on local chains; {network!r} needs an "
                f"encrypted keystore (`inferchain wallet import`, then --keystore or "
                f"INFERCHAIN_KEYSTORE)"
            )
        try:
            return Account.from_key(plain).key.to_0x_hex()
        except ValueError as exc:
            raise KeyUnavailable(f"{PRIVATE_KEY_ENV} is not a valid private key") from exc
    path = default_keystore()
    if path.is_file():
        return decrypt_keystore(path, keystore_password(prompt))
    hint = f" (or set {PRIVATE_KEY_ENV} on a local chain)" if allow_plain_key else ""
    raise KeyUnavailable(
        f"no key: create a keystore with `inferchain wallet new` or pass --keystore{hint}"
    )
