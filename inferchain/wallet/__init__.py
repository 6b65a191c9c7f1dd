"""A user's wallet: encrypted keystores, key resolution, and the market actions it signs."""

from inferchain.wallet.client import (
    Disputed,
    DisputeRoundOpened,
    MarketClient,
    Submitted,
    encode_input,
)
from inferchain.wallet.errors import (
    ActionRefused,
    InactiveModel,
    InsufficientFunds,
    JobStateError,
    KeystoreError,
    KeyUnavailable,
    NotOwner,
    PriceAboveMax,
    RoundNotOpened,
    UnknownJob,
    UnknownModel,
    WalletError,
    WrongPassword,
)
from inferchain.wallet.keys import PASSWORD_ENV, PRIVATE_KEY_ENV, resolve_key
from inferchain.wallet.keystore import (
    KeystoreInfo,
    decrypt_keystore,
    default_keystore,
    keystore_address,
    new_keystore,
    write_keystore,
)
from inferchain.wallet.reverts import explain, explained_reverts

__all__ = [
    "PASSWORD_ENV",
    "PRIVATE_KEY_ENV",
    "ActionRefused",
    "DisputeRoundOpened",
    "Disputed",
    "InactiveModel",
    "InsufficientFunds",
    "JobStateError",
    "KeyUnavailable",
    "KeystoreError",
    "KeystoreInfo",
    "MarketClient",
    "NotOwner",
    "PriceAboveMax",
    "RoundNotOpened",
    "Submitted",
    "UnknownJob",
    "UnknownModel",
    "WalletError",
    "WrongPassword",
    "decrypt_keystore",
    "default_keystore",
    "encode_input",
    "explain",
    "explained_reverts",
    "keystore_address",
    "new_keystore",
    "resolve_key",
    "write_keystore",
]
