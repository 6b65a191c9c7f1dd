"""One table from a contract's custom error (decoded from the ABI) to a user-facing error."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from inferchain.chain import ContractReverted, TransactionFailed
from inferchain.market import JobStatus
from inferchain.market.reexec import Stage
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


def _stage(value: Any) -> str:
    try:
        return Stage(int(value)).name.lower()
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
    "ReexecWrongFee": (
        InsufficientFunds,
        lambda a: (
            f"a dispute round costs exactly {a['fee']} wei (the committee's fee), not {a['sent']}"
        ),
    ),
    "ReexecJobMismatch": (
        JobStateError,
        lambda a: f"job {a['jobId']}: the job data sent is not the market's (stale or forged)",
    ),
    "ReexecNotDisputed": (
        JobStateError,
        lambda a: (
            f"job {a['jobId']} is not disputed: its requester disputes it first "
            f"(`inferchain job dispute {a['jobId']}`), which opens the round too"
        ),
    ),
    "ReexecNotCourtOf": (
        ActionRefused,
        lambda a: (
            f"job {a['jobId']}'s disputes are not judged by this committee: its mode's module "
            f"{a['module']} is no CommitteeArbiter of this pool, so there is no round to open"
        ),
    ),
    "ReexecDisputeTooLate": (
        JobStateError,
        lambda a: (
            f"too late to open job {a['jobId']}'s dispute round: it had to be opened by "
            f"{a['latest']} to end before the arbitration deadline; the dispute will expire "
            "and the result stand (the bond goes back)"
        ),
    ),
    "ReexecWrongStage": (
        JobStateError,
        lambda a: (
            f"job {a['jobId']} already has a round in the verifier pool ({_stage(a['stage'])}): "
            "nothing to open; follow it with `inferchain job status`"
        ),
    ),
    "JobMarketVerdictPending": (
        JobStateError,
        lambda a: f"job {a['jobId']}'s dispute has no verdict yet: the committee has not decided",
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
