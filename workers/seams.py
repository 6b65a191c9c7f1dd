"""The narrow seams the worker's stages stand on: what each asks of the chain and of IPFS.

The stages take these ``Protocol``s, not the concrete ``TransactionSender`` and
``IpfsClient``, so their logic (claim races, skipped batch items, pin failures) can be
driven by small fakes in unit tests; the node passes the real ones, and the integration
tests keep the real chain and IPFS node.
"""

from __future__ import annotations

from typing import Protocol

from web3.types import TxReceipt

from inferchain.chain.sender import Transactable
from inferchain.ipfs import DEFAULT_MAX_SIZE, Cid, NodeStat


class Sender(Protocol):
    """The key's single sender, as the claim, submit and settle stages use it."""

    @property
    def address(self) -> str: ...

    def transact(self, call: Transactable, *, gas: int | None = None) -> TxReceipt:
        """Simulate ``call``, send it and wait for its receipt (``ContractReverted`` on a
        revert, ``TransactionFailed`` when it is mined reverted)."""
        ...


class InputSource(Protocol):
    """Where the fetch stage reads a job's input: a cheap stat, then the verified bytes."""

    def stat(self, cid: Cid | str, *, timeout: float | None = None) -> NodeStat: ...

    def cat(
        self, cid: Cid | str, *, timeout: float | None = None, max_size: int = DEFAULT_MAX_SIZE
    ) -> bytes: ...


class OutputStore(Protocol):
    """Where the pin stage stores an output or an input's refusal, pinned."""

    def add_bytes(self, data: bytes, *, pin: bool = True, only_hash: bool = False) -> Cid: ...
