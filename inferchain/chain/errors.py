"""Errors of the chain layer; web3 and RPC errors are translated into these at the boundary.

ChainError
├── RpcUnavailable        node unreachable (also ConnectionError)
├── WrongChain            the node's chain id differs from the configured one
├── ContractReverted      simulation or call reverted; carries the decoded custom error
├── TransactionFailed     mined with status 0
├── TransactionDropped    never mined: the node forgot it and its nonce went to another
└── TransactionTimeout    no receipt in time (also TimeoutError)
"""

from __future__ import annotations

from typing import Any

from inferchain.errors import InferchainError


class ChainError(InferchainError):
    """Root of chain-layer errors."""


class RpcUnavailable(ChainError, ConnectionError):
    """The JSON-RPC endpoint did not answer."""


class WrongChain(ChainError, ValueError):
    """The RPC endpoint serves another chain than the one configured."""


class ContractReverted(ChainError):
    """A call or transaction simulation reverted.

    ``error_name`` is the custom error's name decoded from the ABI (``Error`` for a string
    reason, ``Panic`` for a panic code, ``unknown`` when no known ABI declares the selector);
    ``error_args`` maps its parameter names to decoded values.
    """

    def __init__(self, error_name: str, error_args: dict[str, Any], data: str) -> None:
        self.error_name = error_name
        self.error_args = error_args
        self.data = data
        rendered = ", ".join(f"{k}={v!r}" for k, v in error_args.items())
        super().__init__(f"reverted with {error_name}({rendered})")


class TransactionFailed(ChainError):
    """The transaction was mined but reverted (status 0)."""

    def __init__(self, tx_hash: str, reason: ContractReverted | None = None) -> None:
        self.tx_hash = tx_hash
        self.reason = reason
        detail = f": {reason}" if reason else ""
        super().__init__(f"transaction {tx_hash} reverted on-chain{detail}")


class TransactionDropped(ChainError):
    """No signed copy of the call can be mined any more: the call did not happen.

    The node knows none of its hashes and another transaction used their nonce (e.g. one
    sent with the same key by another process), so sending the call again is safe.
    """


class TransactionTimeout(ChainError, TimeoutError):
    """No receipt arrived within the timeout; the transaction may still be mined later."""
