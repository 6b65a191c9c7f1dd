"""Chain access: shipped artifacts bound to addresses, and one transaction sender per key."""

from inferchain.chain.client import Chain
from inferchain.chain.errors import (
    ChainError,
    ContractReverted,
    RpcUnavailable,
    TransactionDropped,
    TransactionFailed,
    TransactionTimeout,
    WrongChain,
)
from inferchain.chain.revert import decode_revert
from inferchain.chain.sender import TransactionSender

__all__ = [
    "Chain",
    "ChainError",
    "ContractReverted",
    "RpcUnavailable",
    "TransactionDropped",
    "TransactionFailed",
    "TransactionSender",
    "TransactionTimeout",
    "WrongChain",
    "decode_revert",
]
