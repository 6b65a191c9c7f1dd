"""What `inferchain governance` checks before it sends, and how it finds and shows operations.

Every refusal the chain would give is given here first, without a transaction: the key's
role (proposer, canceller, executor, guardian), an operation's state (unknown, cancelled,
not ready yet, already executed), a change that changes nothing, and the governor's own
checks (bounds, a taken mode id, a zero address, the fees held), which run by simulating the
call as the governor's owner, the timelock, would make it at execution. The bounds are
therefore the contract's, read from its `MarketGovernorParameterOutOfBounds(value, min,
max)`, never a copy.

GovernanceRefused (an ActionRefused: printed as one `error: ...` line)
├── NotAuthorized        the key lacks the role (also PermissionError)
├── OutOfBounds          a value outside the governor's bounds (also ValueError)
└── OperationStateError  unknown, cancelled, not ready yet, or already done
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from eth_abi.exceptions import DecodingError
from web3 import Web3
from web3.contract import Contract
from web3.types import TxReceipt

from inferchain.chain import Chain, ContractReverted, TransactionFailed, TransactionSender
from inferchain.cli._network import Target
from inferchain.deploy import Connection, Proposal, ProposalState
from inferchain.deploy.governance import Change, plan_proposal
from inferchain.market import ETH, Market, Operation, OperationState, ScheduledOperation
from inferchain.market.governance import pending_operations
from inferchain.market.modes import Mode, read_mode
from inferchain.wallet.errors import ActionRefused
from inferchain.wallet.reverts import explain


class GovernanceRefused(ActionRefused):
    """A governance action that cannot succeed; the message says why."""


class NotAuthorized(GovernanceRefused, PermissionError):
    pass


class OutOfBounds(GovernanceRefused, ValueError):
    pass


class OperationStateError(GovernanceRefused):
    pass


def _addr(value: str) -> str:
    return Web3.to_checksum_address(value)


def _token_name(token: str) -> str:
    return "ETH" if int(token, 16) == 0 else _addr(token)


def _role_name(role: bytes) -> str:
    for name in ("PROPOSER_ROLE", "CANCELLER_ROLE", "EXECUTOR_ROLE", "DEFAULT_ADMIN_ROLE"):
        if role == (b"\0" * 32 if name == "DEFAULT_ADMIN_ROLE" else Web3.keccak(text=name)):
            return name.removesuffix("_ROLE").lower()
    return "0x" + role.hex()


#: Governance reverts (decoded from the ABI) → (error class, message from the arguments).
_REVERTS: dict[str, tuple[type[GovernanceRefused], Any]] = {
    "MarketGovernorParameterOutOfBounds": (
        OutOfBounds,
        lambda a: f"{a['value']} is out of bounds ({a['min']}..{a['max']})",
    ),
    "MarketGovernorNotGuardian": (
        NotAuthorized,
        lambda a: f"not the guardian: {a['caller']} is neither the guardian nor the owner",
    ),
    "MarketGovernorModeTaken": (
        GovernanceRefused,
        lambda a: f"mode {a['id']} is taken by {_addr(a['module'])}, for good",
    ),
    "MarketGovernorZeroAddress": (GovernanceRefused, lambda a: "the address must not be zero"),
    "JobMarketModeUnknown": (GovernanceRefused, lambda a: f"mode {a['id']} is not registered"),
    "JobMarketZeroAddress": (GovernanceRefused, lambda a: "the address must not be zero"),
    "JobMarketInsufficientBalance": (
        GovernanceRefused,
        lambda a: (
            f"the governor holds {a['balance']} of fees in {_token_name(a['token'])}, "
            f"not {a['needed']}"
        ),
    ),
    "OwnableUnauthorizedAccount": (
        NotAuthorized,
        lambda a: f"not the owner: {a['account']} is not the governor's owner (the timelock)",
    ),
    "AccessControlUnauthorizedAccount": (
        NotAuthorized,
        lambda a: f"not a {_role_name(bytes(a['neededRole']))} of the timelock: {a['account']}",
    ),
    "TimelockUnexpectedOperationState": (
        OperationStateError,
        lambda a: f"operation 0x{bytes(a['operationId']).hex()} is not in a state that allows this",
    ),
    "TimelockInsufficientDelay": (
        GovernanceRefused,
        lambda a: f"a delay of {a['delay']} s is under the timelock's minimum {a['minDelay']} s",
    ),
}


@contextmanager
def explained() -> Iterator[None]:
    """Contract reverts (simulated or mined) as one-line governance or wallet errors."""
    try:
        yield
    except (ContractReverted, TransactionFailed) as exc:
        reason = exc if isinstance(exc, ContractReverted) else exc.reason
        if reason is None:
            raise
        entry = _REVERTS.get(reason.error_name)
        if entry is not None:
            cls, message = entry
            raise cls(message(reason.error_args)) from exc
        translated = explain(reason)
        if translated is reason:
            raise
        raise translated from exc


def when(timestamp: int, now: int) -> str:
    """`2025-01-01T00:00:00+00:00 (in 90000 s: 1 d 1 h 0 min)`: chain time, not the local
    clock, which may differ from the block time the timelock compares against."""
    stamp = datetime.fromtimestamp(timestamp, UTC).isoformat()
    left = timestamp - now
    if left <= 0:
        return f"{stamp} (now)"
    days, hours, minutes = left // 86_400, left % 86_400 // 3600, left % 3600 // 60
    return f"{stamp} (in {left} s: {days} d {hours} h {minutes} min)"


def jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, tuple | list):
        return [jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Governance:
    """One deployment's governor, timelock and market, and the key that acts (if any)."""

    conn: Connection
    sender: TransactionSender | None

    @classmethod
    def open(cls, target: Target, *, signs: bool = False) -> Governance:
        conn, client = target.client(signs=signs)
        return cls(conn, client.sender if signs else None)

    @property
    def market(self) -> Market:
        return self.conn.market

    @property
    def chain(self) -> Chain:
        return self.conn.chain

    @property
    def governor(self) -> Contract:
        return self.market.governor

    @property
    def timelock(self) -> Contract:
        return self.market.timelock

    @property
    def jobs(self) -> Contract:
        return self.market.jobs

    @property
    def me(self) -> str:
        assert self.sender is not None, "opened without a key"
        return self.sender.address

    def read(self, fn: Any) -> Any:
        with explained():
            return self.chain.call(fn)

    def mode(self, mode_id: int) -> Mode:
        with explained():
            return read_mode(self.chain, self.jobs, mode_id)

    def now(self) -> int:
        return self.chain.block_timestamp()

    # -- checks ----------------------------------------------------------------------

    def has_role(self, role: str, who: str) -> bool:
        role_id = self.read(getattr(self.timelock.functions, role)())
        return bool(self.read(self.timelock.functions.hasRole(role_id, who)))

    def require_role(self, role: str, action: str) -> None:
        """The key holds `role` in the timelock (for executors, address(0) opens it to all)."""
        if self.has_role(role, self.me):
            return
        if role == "EXECUTOR_ROLE" and self.has_role(role, ETH):
            return
        name = role.removesuffix("_ROLE").lower()
        raise NotAuthorized(
            f"not a {name}: {self.me} cannot {action}; it lacks the {name} role of the "
            f"timelock {self.timelock.address}"
        )

    def require_brake(self) -> None:
        """The key is the governor's guardian (or owner): it may stop new jobs at once."""
        guardian = self.read(self.governor.functions.guardian())
        owner = self.read(self.governor.functions.owner())
        if self.me not in (guardian, owner):
            raise NotAuthorized(
                f"not the guardian: {self.me} may not pull the brakes; the guardian is "
                f"{guardian} (anyone else goes through `inferchain governance propose`)"
            )

    def simulate_as_owner(self, call: Any, what: str) -> None:
        """Run `call` as the governor's owner would at execution; refuse what it would refuse.

        `what` names the value in the message (e.g. `--fee-bps 2000`)."""
        owner = self.read(self.governor.functions.owner())
        try:
            with explained():
                self.chain.call(call, sender=owner)
        except GovernanceRefused as exc:
            raise type(exc)(f"{what}: {exc}; nothing was sent") from exc
        except ContractReverted as exc:
            raise GovernanceRefused(
                f"{what}: the governor would revert at execution ({exc}); nothing was sent"
            ) from exc

    # -- operations ------------------------------------------------------------------

    def pending(self) -> list[ScheduledOperation]:
        return pending_operations(self.timelock, self.market.addresses.deployed_block)

    def propose(self, change: Change) -> Proposal:
        """Schedule `change` with the timelock's minimum delay; refuse one already pending.

        The deploy's planner decides, so `inferchain deploy` and this command find each
        other's pending operations."""
        proposal = plan_proposal(
            self.chain,
            self.timelock.address,
            change,
            self.me,
            self.market.addresses.deployed_block,
        )
        if proposal.state == ProposalState.FOR_PROPOSER:
            self.require_role("PROPOSER_ROLE", "propose")  # raises, naming the key
        if proposal.state in (ProposalState.WAITING, ProposalState.EXECUTE):
            raise OperationStateError(
                f"already proposed: {change.name} -> {change.wanted} is operation "
                f"0x{proposal.operation.id.hex()}, executable from "
                f"{when(proposal.ready_at or 0, self.now())}"
            )
        delay = int(self.read(self.timelock.functions.getMinDelay()))
        self.send(proposal.operation.schedule(self.timelock, delay))
        proposal.state = ProposalState.SCHEDULED
        proposal.ready_at = int(
            self.read(self.timelock.functions.getTimestamp(proposal.operation.id))
        )
        return proposal

    def find(self, text: str) -> ScheduledOperation:
        """The waiting or ready operation whose id is `text` (or starts with it)."""
        wanted = text.lower().removeprefix("0x")
        if len(wanted) < 4 or any(c not in "0123456789abcdef" for c in wanted):
            raise OperationStateError(
                f"{text!r} is not an operation id: give 0x and its 64 hex digits (or its first "
                f"4 or more, when they are unique)"
            )
        found = [s for s in self.pending() if s.operation.id.hex().startswith(wanted)]
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            raise OperationStateError(f"{text!r} matches {len(found)} operations: give more digits")
        if len(wanted) != 64:
            raise OperationStateError(f"unknown operation: no pending operation starts with {text}")
        op_id = bytes.fromhex(wanted)
        state = OperationState(self.read(self.timelock.functions.getOperationState(op_id)))
        if state == OperationState.DONE:
            raise OperationStateError(f"already done: operation 0x{wanted} was executed")
        if state != OperationState.UNSET:
            raise OperationStateError(
                f"operation 0x{wanted} is a batch or was scheduled before this deployment; "
                f"execute it with its own calldata"
            )
        cancelled = self.timelock.events.Cancelled().get_logs(
            from_block=self.market.addresses.deployed_block, argument_filters={"id": op_id}
        )
        if cancelled:
            raise OperationStateError(f"already done: operation 0x{wanted} was cancelled")
        raise OperationStateError(f"unknown operation: 0x{wanted} was never scheduled")

    def describe(self, operation: Operation) -> tuple[str, dict[str, Any]]:
        """(`Contract.function`, its arguments) of what the operation calls, when known."""
        for name, contract in (
            ("MarketGovernor", self.governor),
            ("InferchainTimelock", self.timelock),
        ):
            if operation.target != contract.address:
                continue
            try:
                fn, args = contract.decode_function_input(operation.data)
            except (ValueError, DecodingError):  # another selector, or malformed arguments
                break
            return f"{name}.{fn.fn_name}", jsonable(dict(args))
        return f"{operation.target}:0x{operation.data[:4].hex()}", {}

    def send(self, call: Any) -> TxReceipt:
        assert self.sender is not None, "opened without a key"
        with explained():
            return self.sender.transact(call)
