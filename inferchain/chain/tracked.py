"""Every transaction signed for one call, tracked by hash until one is mined or all are dropped.

Why: after a timeout (or a "nonce too low" / "already known" answer) the node may well have
mined the first copy. Only asking the node about each hash tells "sent" from "lost"; taking
the answer for a stale nonce and re-signing sends the call twice. The signed copies of one
call share a nonce (a fee bump replaces, it does not add), except after the node proved that
nonce used by another transaction, so at most one of them is ever mined.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxReceipt


@dataclass(frozen=True)
class SignedTx:
    nonce: int
    hash: HexBytes
    raw: HexBytes


class Fate(enum.Enum):
    """What the node says about a call's signed transactions."""

    #: One of them is pending or mined: wait for it, never sign the call again.
    KNOWN = "known"
    #: None is known and the nonce is still free: the same raw bytes can go again.
    FORGOTTEN = "forgotten"
    #: None is known and another transaction used the nonce: none of them can be mined.
    DROPPED = "dropped"


@dataclass
class TrackedCall:
    """The signed transactions of one `transact` call, oldest first."""

    signed: list[SignedTx] = field(default_factory=list)

    def add(self, nonce: int, tx_hash: bytes, raw: bytes) -> SignedTx:
        tx = SignedTx(nonce, HexBytes(tx_hash), HexBytes(raw))
        self.signed.append(tx)
        return tx

    @property
    def latest(self) -> SignedTx:
        return self.signed[-1]

    def hashes(self) -> str:
        return ", ".join(tx.hash.to_0x_hex() for tx in self.signed)

    def receipt(self, w3: Web3) -> TxReceipt | None:
        """The receipt of whichever signed copy was mined, if one was."""
        for tx in reversed(self.signed):
            try:
                return w3.eth.get_transaction_receipt(tx.hash)
            except TransactionNotFound:
                continue
        return None

    def known(self, w3: Web3) -> bool:
        """True when the node has any signed copy, pending or mined."""
        for tx in reversed(self.signed):
            try:
                w3.eth.get_transaction(tx.hash)
            except TransactionNotFound:
                continue
            return True
        return False

    def fate(self, w3: Web3, address: str) -> Fate:
        """Ask the node; raises RpcUnavailable when it does not answer (then nothing is proven).

        The mined nonce is read before the hashes: a copy mined in between is then seen as
        known, never mistaken for another transaction taking the nonce.
        """
        mined_nonce = w3.eth.get_transaction_count(address, "latest")  # type: ignore[arg-type]
        if self.known(w3):
            return Fate.KNOWN
        return Fate.DROPPED if mined_nonce > self.latest.nonce else Fate.FORGOTTEN
