"""Governance through the timelock: propose, execute, list what is pending.

Every owner action of the `MarketGovernor` is an operation of the `InferchainTimelock`: a
proposer schedules `(target, value, data, predecessor, salt)` with at least the timelock's
delay, and anyone executes it once the delay passed. An operation's id is the timelock's
`hashOperation` of those five values, so the same call with the same salt is the same
operation: use a salt to schedule a call twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_abi import encode as abi_encode
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract

from inferchain.market.jobs import ZERO32

_OPERATION_TYPES = ["address", "uint256", "bytes", "bytes32", "bytes32"]


class OperationState(IntEnum):
    """TimelockController.OperationState."""

    UNSET = 0
    WAITING = 1
    READY = 2
    DONE = 3


@dataclass(frozen=True)
class Operation:
    """One timelock operation: a call of `target` with `data` (and `value` wei)."""

    target: str
    data: bytes
    salt: bytes = ZERO32
    value: int = 0
    predecessor: bytes = ZERO32

    @classmethod
    def of(cls, call: Any, *, salt: bytes = ZERO32) -> Operation:
        """The operation that makes the timelock send `call` (a bound contract function)."""
        data = bytes(HexBytes(call._encode_transaction_data()))
        return cls(Web3.to_checksum_address(call.address), data, salt)

    @property
    def id(self) -> bytes:
        """The timelock's id of this operation (its `hashOperation`)."""
        encoded = abi_encode(
            _OPERATION_TYPES, [self.target, self.value, self.data, self.predecessor, self.salt]
        )
        return bytes(Web3.keccak(encoded))

    def schedule(self, timelock: Contract, delay: int) -> Any:
        """The proposer's call that schedules this operation `delay` seconds ahead."""
        return timelock.functions.schedule(*self._args(), delay)

    def execute(self, timelock: Contract) -> Any:
        """The call that runs this operation once it is ready (anyone may send it)."""
        return timelock.functions.execute(*self._args())

    def cancel(self, timelock: Contract) -> Any:
        """The proposer's call that drops this operation while it waits."""
        return timelock.functions.cancel(self.id)

    def to_dict(self) -> dict[str, Any]:
        """Its id and fields as JSON text, for reports and `--json`."""
        return {
            "operation_id": "0x" + self.id.hex(),
            "target": self.target,
            "value": self.value,
            "data": "0x" + self.data.hex(),
            "predecessor": "0x" + self.predecessor.hex(),
            "salt": "0x" + self.salt.hex(),
        }

    def _args(self) -> tuple[str, int, bytes, bytes, bytes]:
        return (self.target, self.value, self.data, self.predecessor, self.salt)


@dataclass(frozen=True)
class ScheduledOperation:
    """A scheduled operation as the timelock reports it."""

    operation: Operation
    ready_at: int
    state: OperationState


def state_of(timelock: Contract, operation: Operation) -> tuple[OperationState, int]:
    """(state, the timestamp from which it may run; 0 unset, 1 done) of `operation`."""
    op_id = operation.id
    state = OperationState(timelock.functions.getOperationState(op_id).call())
    return state, int(timelock.functions.getTimestamp(op_id).call())


def pending_operations(timelock: Contract, from_block: int) -> list[ScheduledOperation]:
    """Operations scheduled since `from_block` that are still waiting or ready (not executed
    nor cancelled), in scheduling order. Single-call operations only (`schedule`, which is
    what `inferchain governance propose` sends)."""
    scheduled = timelock.events.CallScheduled().get_logs(from_block=from_block)
    salts = {
        bytes(log["args"]["id"]): bytes(log["args"]["salt"])
        for log in timelock.events.CallSalt().get_logs(from_block=from_block)
    }
    found: list[ScheduledOperation] = []
    seen: set[bytes] = set()
    for log in scheduled:
        args = log["args"]
        op_id = bytes(args["id"])
        if op_id in seen:
            continue
        seen.add(op_id)
        operation = Operation(
            target=Web3.to_checksum_address(args["target"]),
            data=bytes(args["data"]),
            salt=salts.get(op_id, ZERO32),
            value=int(args["value"]),
            predecessor=bytes(args["predecessor"]),
        )
        state, ready_at = state_of(timelock, operation)
        if state in (OperationState.WAITING, OperationState.READY):
            found.append(ScheduledOperation(operation, ready_at, state))
    return found
