"""A fresh user wallet: a new key in an encrypted keystore, funded from a dev account."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from inferchain.chain import Chain
from inferchain.wallet import write_keystore

#: The demo keystore's password and scrypt cost: a throw-away wallet on a local chain.
DEMO_PASSWORD = "inferchain-demo"
DEMO_SCRYPT_N = 2**12


@dataclass(frozen=True)
class Wallet:
    key: str
    address: str
    keystore: Path
    password: str


def fresh_wallet(chain: Chain, funder_key: str, keystore: Path, amount: int) -> Wallet:
    """Create a new key (replacing any earlier demo wallet) and send it `amount` wei."""
    key = Account.create().key.to_0x_hex()
    info = write_keystore(keystore, key, DEMO_PASSWORD, overwrite=True, scrypt_n=DEMO_SCRYPT_N)
    chain.sender(funder_key).send_value(info.address, amount)
    return Wallet(key, info.address, info.path, DEMO_PASSWORD)
