"""Errors a wallet user meets, each with a message that says what to do.

WalletError
├── KeystoreError        missing, unreadable or already existing keystore file
│   └── WrongPassword    the password does not decrypt the keystore (also ValueError)
├── KeyUnavailable       no key configured, or a plain key on a non-local chain
└── ActionRefused        the chain (or a pre-check) refused what the user asked
    ├── InsufficientFunds
    ├── InactiveModel
    ├── UnknownModel     (also LookupError)
    ├── PriceAboveMax
    ├── UnknownJob       (also LookupError)
    ├── NotOwner         (also PermissionError)
    ├── JobStateError    the job is not in a status that allows the action
    └── RoundNotOpened   a job was disputed but its committee's round could not be opened
"""

from __future__ import annotations

from inferchain.errors import InferchainError


class WalletError(InferchainError):
    """Root of wallet errors."""


class KeystoreError(WalletError):
    """A keystore file is missing, unreadable, or would be overwritten."""


class WrongPassword(KeystoreError, ValueError):
    """The password does not decrypt this keystore."""


class KeyUnavailable(WalletError):
    """No signing key is configured for this command, or the one given is not allowed."""


class ActionRefused(WalletError):
    """The action cannot succeed; the message says why in the user's terms."""


class InsufficientFunds(ActionRefused):
    pass


class InactiveModel(ActionRefused):
    pass


class UnknownModel(ActionRefused, LookupError):
    pass


class PriceAboveMax(ActionRefused):
    pass


class UnknownJob(ActionRefused, LookupError):
    pass


class NotOwner(ActionRefused, PermissionError):
    pass


class JobStateError(ActionRefused):
    pass


class RoundNotOpened(ActionRefused):
    """The market took the dispute (and its bond) but the committee's round failed to open.

    Only a failure after the pre-checks reaches this (a race, a node error): the message
    says how to open the round alone (`inferchain job dispute ID --round-only`) and by when.
    """

    def __init__(self, message: str, *, job_id: int, bond: int, tx_hash: str) -> None:
        super().__init__(message)
        self.job_id, self.bond, self.tx_hash = job_id, bond, tx_hash
