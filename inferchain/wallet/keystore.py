"""Encrypted keystores (Web3 Secret Storage, the format geth and MetaMask export).

The private key only ever touches the disk encrypted (scrypt + AES-128-CTR via
eth-account); the file is created with mode 0600 and never overwritten silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3

from inferchain import untrusted_json
from inferchain.wallet.errors import KeystoreError, WrongPassword

KEYSTORE_ENV = "INFERCHAIN_KEYSTORE"
#: eth-account's default scrypt cost (n = 2**18, ~0.8 s here); lower only for tests.
DEFAULT_SCRYPT_N = 2**18


def default_keystore() -> Path:
    """$INFERCHAIN_KEYSTORE, else ~/.inferchain/keystore.json."""
    env = os.environ.get(KEYSTORE_ENV)
    return Path(env) if env else Path.home() / ".inferchain" / "keystore.json"


@dataclass(frozen=True)
class KeystoreInfo:
    path: Path
    address: str


def write_keystore(
    path: Path,
    private_key: str | bytes,
    password: str,
    *,
    overwrite: bool = False,
    scrypt_n: int = DEFAULT_SCRYPT_N,
) -> KeystoreInfo:
    """Encrypt `private_key` with `password` into `path` (refuses to replace a file)."""
    if not password:
        raise KeystoreError("refusing an empty keystore password")
    if path.exists() and not overwrite:
        raise KeystoreError(f"{path} already exists; pass --force to replace it")
    try:
        account = Account.from_key(private_key)
    except (ValueError, TypeError) as exc:
        raise KeystoreError("that is not a valid private key (32 bytes, hex)") from exc
    document = Account.encrypt(account.key, password, iterations=scrypt_n)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle)
    return KeystoreInfo(path, account.address)


def new_keystore(
    path: Path, password: str, *, overwrite: bool = False, scrypt_n: int = DEFAULT_SCRYPT_N
) -> KeystoreInfo:
    """A fresh random key, encrypted into `path`."""
    return write_keystore(
        path, Account.create().key, password, overwrite=overwrite, scrypt_n=scrypt_n
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        document = untrusted_json.loads(path.read_bytes(), source=f"keystore {path}")
    except FileNotFoundError as exc:
        raise KeystoreError(
            f"no keystore at {path}; create one with `inferchain wallet new`"
        ) from exc
    except untrusted_json.UntrustedJsonError as exc:
        raise KeystoreError(
            f"{path} is not a keystore file: not valid JSON ({exc.reason}): {exc.detail}"
        ) from exc
    except OSError as exc:
        raise KeystoreError(f"{path} is not a keystore file: {exc}") from exc
    if not isinstance(document, dict) or "crypto" not in document:
        raise KeystoreError(f"{path} is not a keystore file (no 'crypto' section)")
    return document


def keystore_address(path: Path) -> KeystoreInfo:
    """The address a keystore holds, without decrypting it."""
    document = _read(path)
    address = document.get("address")
    if not isinstance(address, str) or not Web3.is_address("0x" + address.removeprefix("0x")):
        raise KeystoreError(f"{path} does not record its address; decrypt it to see it")
    return KeystoreInfo(path, Web3.to_checksum_address("0x" + address.removeprefix("0x")))


def decrypt_keystore(path: Path, password: str) -> str:
    """The private key (0x-hex) in `path`; WrongPassword when the MAC does not match."""
    document = _read(path)
    try:
        key = Account.decrypt(document, password)
    except ValueError as exc:  # eth-keyfile: "MAC mismatch"
        raise WrongPassword(f"wrong password for keystore {path}") from exc
    return "0x" + bytes(key).hex()
