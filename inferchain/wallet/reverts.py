"""One table from a contract's custom error (decoded from the ABI) to a user-facing error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from inferchain.chain import ContractReverted, TransactionFailed
from inferchain.market import JobStatus
from inferchain.wallet.errors import (
    ActionRefused,
    InactiveModel,
    InsufficientFunds,
    JobStateError,
    NotOwner,
    PriceAboveMax,
    UnknownModel,
)


def _status(value: Any) -> str:
    try:
        return JobStatus(int(value)).name.lower()
    except ValueError:
        return str(value)


_Explain = tuple[type[ActionRefused], Callable[[dict[str, Any]], str]]

#: error name → (error class, message built from the error's decoded arguments)
REVERTS: dict[str, _Explain] = {
    "JobMarketInsufficientBalance": (
        InsufficientFunds,
        lambda a: (
            f"insufficient funds: the market balance of {a['account']} is "
            f"{a['balance']}, {a['needed']} needed; deposit first"
        ),
    ),
    "JobMarketValueMismatch": (
        InsufficientFunds,
        lambda a: f"insufficient funds: the call needs {a['expected']} wei, {a['sent']} were sent",
    ),
    "ERC20InsufficientBalance": (
        InsufficientFunds,
        lambda a: f"insufficient funds: token balance {a['balance']}, {a['needed']} needed",
    ),
    "ERC20InsufficientAllowance": (
        InsufficientFunds,
        lambda a: f"insufficient allowance: {a['allowance']} approved, {a['needed']} needed",
    ),
    "ModelRegistryModelInactive": (
        InactiveModel,
        lambda a: f"model {a['modelId']} is inactive: its provider takes no jobs for it",
    ),
    "ModelRegistryUnknownModel": (
        UnknownModel,
        lambda a: f"model {a['modelId']} is not registered",
    ),
    "JobMarketPriceAboveMax": (
        PriceAboveMax,
        lambda a: (
            f"price above the maximum: the model costs {a['price']}, max price is {a['maxPrice']}"
        ),
    ),
    "JobMarketNotRequester": (
        NotOwner,
        lambda a: (
            f"not the owner: job {a['jobId']} was requested by another address than {a['caller']}"
        ),
    ),
    "ModelRegistryNotProvider": (
        NotOwner,
        lambda a: (
            f"not the owner: model {a['modelId']} belongs to another provider than {a['caller']}"
        ),
    ),
    "OwnableUnauthorizedAccount": (
        NotOwner,
        lambda a: f"not the owner: {a['account']} does not own this contract",
    ),
    "JobMarketInvalidStatus": (
        JobStateError,
        lambda a: (
            f"job {a['jobId']} is {_status(a['current'])}; this needs it {_status(a['expected'])}"
        ),
    ),
    "JobMarketChallengeWindowClosed": (
        JobStateError,
        lambda a: f"job {a['jobId']}: the challenge window closed at {a['deadline']}",
    ),
    "JobMarketPaused": (JobStateError, lambda a: "the market is paused: no new jobs for now"),
    "JobMarketTokenNotAllowed": (
        ActionRefused,
        lambda a: f"token {a['token']} is not allowed by this market",
    ),
    "ReexecPoolTooSmall": (
        ActionRefused,
        lambda a: (
            f"the reexec verifier pool is too small: {a['have']} members, {a['needed']} needed"
        ),
    ),
    "ReexecEthOnly": (ActionRefused, lambda a: "the reexec tier takes ETH-priced models only"),
    "ReexecBondTooLow": (
        InsufficientFunds,
        lambda a: f"bond too low: {a['bond']} wei, the pool's minimum is {a['minBond']}",
    ),
    "ReexecLeaveTooEarly": (
        ActionRefused,
        lambda a: f"{a['account']} may leave the verifier pool at {a['leaveAt']}, not before",
    ),
    "ReexecStillAssigned": (
        ActionRefused,
        lambda a: f"{a['account']} sits on {a['open']} unsettled committees; settle them first",
    ),
}


def explain(error: ContractReverted) -> ActionRefused | ContractReverted:
    """The user-facing error for a decoded revert, or the revert itself when not in the table."""
    entry = REVERTS.get(error.error_name)
    if entry is None:
        return error
    cls, message = entry
    try:
        return cls(message(error.error_args))
    except KeyError:  # a payload that decoded without its arguments
        return cls(f"{error.error_name}: {error}")


@contextmanager
def explained_reverts() -> Iterator[None]:
    """Re-raise contract reverts (simulated or mined) as the errors of the table above."""
    try:
        yield
    except ContractReverted as exc:
        translated = explain(exc)
        if translated is exc:
            raise
        raise translated from exc
    except TransactionFailed as exc:
        if exc.reason is None:
            raise
        translated = explain(exc.reason)
        if translated is exc.reason:
            raise
        raise translated from exc
