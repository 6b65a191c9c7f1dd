"""One transaction sender per key: simulate, then sign and send under a lock with local nonces.

Why a lock and a local nonce: two concurrent senders on one key that each ask the node for
the nonce get the same number and one transaction is lost ("multiple transactions in a
single block"). Here the nonce is read once, incremented locally while the lock is held, and
re-read from the node only when the node proves it wrong. Simulation happens before the
lock (it is the slow part) and receipts are awaited after it, so threads pipeline.

A call is sent at most once. Every transaction signed for it is tracked by hash
(`tracked.TrackedCall`) until one is mined or all are provably dropped. After a timeout,
"nonce too low" or "already known" the node is asked about each hash before anything else:
a known copy is awaited, a forgotten one is sent again as the same raw bytes (same hash, so
harmless), and the call is signed anew only for a fee bump on the same nonce (a replacement:
at most one is mined) or once another transaction took its nonce.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.types import TxParams, TxReceipt

from inferchain.artifacts import load_artifact
from inferchain.chain.errors import (
    ChainError,
    ContractReverted,
    RpcUnavailable,
    TransactionDropped,
    TransactionFailed,
    TransactionTimeout,
)
from inferchain.chain.revert import decode_revert
from inferchain.chain.tracked import Fate, TrackedCall

log = logging.getLogger(__name__)

#: Node messages (lower-cased substrings) about the nonce: never proof of anything by
#: themselves, since our own earlier copy may be what the node compares against. Any other
#: refusal ("nonce too high", "insufficient funds") fails the call; the next one re-reads
#: the nonce.
_NONCE_ERRORS = ("nonce too low", "invalid nonce", "already known", "already imported")
#: Messages meaning "a transaction with this nonce is pending at a higher fee".
_UNDERPRICED_ERRORS = ("underpriced", "fee too low", "replacement transaction")
_POLL_S = 0.05


class _Next(enum.Enum):
    """What the send loop does after a failed broadcast."""

    DONE = "done"  # the node holds a copy
    RESEND = "resend"  # the same raw bytes again
    BUMP = "bump"  # same nonce, higher fees
    NEW_NONCE = "new nonce"  # re-read the nonce, sign again


class Transactable(Protocol):
    """What web3 gives for `contract.functions.f(...)` and `contract.constructor(...)`."""

    def estimate_gas(self, transaction: TxParams | None = None) -> int: ...

    def build_transaction(self, transaction: TxParams | None = None) -> TxParams: ...


class TransactionSender:
    """Sends every transaction of one key; get it from `Chain.sender`, never build two."""

    def __init__(
        self,
        w3: Web3,
        account: LocalAccount,
        *,
        chain_id: int,
        receipt_timeout: float = 120.0,
        max_send_attempts: int = 5,
        gas_headroom: float = 1.2,
    ) -> None:
        self._w3 = w3
        self._account = account
        self._chain_id = chain_id
        self._receipt_timeout = receipt_timeout
        self._max_send_attempts = max_send_attempts
        self._gas_headroom = gas_headroom
        self._lock = threading.Lock()
        self._next_nonce: int | None = None

    @property
    def address(self) -> str:
        return self._account.address

    def reset_nonce(self) -> None:
        """Forget the local nonce (after a chain revert or an external send with this key)."""
        with self._lock:
            self._next_nonce = None

    def transact(
        self,
        call: Transactable,
        *,
        value: int = 0,
        gas: int | None = None,
        block: str = "latest",
    ) -> TxReceipt:
        """Simulate `call`, send it, wait for the receipt; raise ContractReverted on a revert.

        Without `gas` the simulation is `eth_estimateGas` (plus headroom); with a caller's
        gas limit it is one `eth_call`, which is cheaper than the estimate's binary search.
        `block="pending"` simulates in the next block, e.g. after `evm_setNextBlockTimestamp`.
        """
        params: TxParams = {"from": self.address, "value": value, "chainId": self._chain_id}
        if gas is None:
            gas = self._estimate(call, params, block)
        else:
            self._simulate(call, params, block)
        params["gas"] = gas
        sent = self._sign_and_send(lambda p: call.build_transaction(p), params)
        return self._wait(sent, call, params)

    def deploy(self, name: str, *args: Any, value: int = 0) -> Contract:
        """Deploy the shipped artifact `name` with constructor `args`; return the bound contract."""
        artifact = load_artifact(name)
        factory = self._w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
        receipt = self.transact(factory.constructor(*args), value=value)
        return self._w3.eth.contract(address=receipt["contractAddress"], abi=artifact.abi)

    def send_value(self, to: str, value: int) -> TxReceipt:
        """A plain ETH transfer."""
        params: TxParams = {
            "from": self.address,
            "to": Web3.to_checksum_address(to),
            "value": value,
            "chainId": self._chain_id,
        }
        params["gas"] = self._estimate_with(lambda: self._w3.eth.estimate_gas(params))
        sent = self._sign_and_send(lambda p: p, params)
        return self._wait(sent, None, params)

    # -- internals -------------------------------------------------------------------

    def _estimate(self, call: Transactable, params: TxParams, block: str) -> int:
        return self._estimate_with(
            lambda: call.estimate_gas(dict(params), block_identifier=block)  # type: ignore[arg-type, call-arg]
        )

    def _simulate(self, call: Transactable, params: TxParams, block: str) -> None:
        self._reverts_decoded(lambda: call.call(dict(params), block_identifier=block))  # type: ignore[attr-defined]

    def _estimate_with(self, estimate_gas: Any) -> int:
        """Gas with headroom; a revert in the simulation surfaces as ContractReverted."""
        return int(self._reverts_decoded(estimate_gas) * self._gas_headroom)

    @staticmethod
    def _reverts_decoded(simulation: Any) -> Any:
        try:
            return simulation()
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from exc

    def _fees(self) -> dict[str, int]:
        block = self._w3.eth.get_block("latest")
        base_fee = block.get("baseFeePerGas")
        if base_fee is None:  # pre-London chain
            return {"gasPrice": self._w3.eth.gas_price}
        tip = self._w3.eth.max_priority_fee
        return {"maxFeePerGas": 2 * base_fee + tip, "maxPriorityFeePerGas": tip}

    def _sign_and_send(self, build: Any, params: TxParams) -> TrackedCall:
        """Sign and broadcast under the lock until the node holds one copy of the call."""
        with self._lock:
            try:
                return self._send_until_held(build, params)
            except BaseException:
                self._next_nonce = None  # whatever happened, the node knows better now
                raise

    def _send_until_held(self, build: Any, params: TxParams) -> TrackedCall:
        call = TrackedCall()
        bump = 1.0
        self._sign(call, build, params, bump)
        failure: Exception | None = None
        for attempt in range(1, self._max_send_attempts + 1):
            try:
                self._w3.eth.send_raw_transaction(call.latest.raw)
                step = _Next.DONE
            except (Web3RPCError, RpcUnavailable) as exc:
                failure = exc
                step = self._after_failed_send(call, exc)
                log.info("sending %s: %s; next: %s", call.latest.hash.to_0x_hex(), exc, step.value)
            if step is _Next.DONE:
                self._next_nonce = call.latest.nonce + 1
                return call
            if step is _Next.BUMP:
                bump *= 1.25
            if step is _Next.NEW_NONCE:
                self._next_nonce = None
            if step is not _Next.RESEND:
                self._sign(call, build, params, bump)
            time.sleep(0.05 * attempt)
        if isinstance(failure, RpcUnavailable):
            raise RpcUnavailable(
                f"no answer while sending {call.hashes()} from {self.address}; it may still be "
                "mined: look these hashes up before sending the call again"
            ) from failure
        raise ChainError(
            f"could not send a transaction from {self.address} after "
            f"{self._max_send_attempts} attempts (nonce or fee conflicts): {failure}"
        ) from failure

    def _sign(self, call: TrackedCall, build: Any, params: TxParams, bump: float) -> None:
        """Sign the call at the local nonce (read from the node when unknown); lock held."""
        if self._next_nonce is None:
            self._next_nonce = self._w3.eth.get_transaction_count(self.address, "pending")
        fees = {k: int(v * bump) for k, v in self._fees().items()}
        signed = self._account.sign_transaction(
            build({**params, **fees, "nonce": self._next_nonce})
        )
        call.add(self._next_nonce, signed.hash, signed.raw_transaction)

    def _after_failed_send(self, call: TrackedCall, exc: Exception) -> _Next:
        """Ask the node about every copy first: any answer may be about our own earlier one."""
        try:
            fate = call.fate(self._w3, self.address)
        except RpcUnavailable:
            return _Next.RESEND  # nothing proven; the same bytes are always safe to resend
        if fate is Fate.KNOWN:
            return _Next.DONE
        if fate is Fate.DROPPED:
            return _Next.NEW_NONCE  # another transaction took the nonce: ours cannot be mined
        if isinstance(exc, RpcUnavailable):
            return _Next.RESEND
        message = str(exc).lower()
        if any(s in message for s in _UNDERPRICED_ERRORS):
            return _Next.BUMP
        if any(s in message for s in _NONCE_ERRORS):
            return _Next.RESEND
        raise ChainError(f"node rejected transaction: {exc}") from exc

    def _wait(self, call: TrackedCall, fn: Transactable | None, params: TxParams) -> TxReceipt:
        """The receipt of whichever copy is mined; once, a copy the node forgot is resent."""
        deadline = time.monotonic() + self._receipt_timeout
        resent = False
        silence: RpcUnavailable | None = None
        while True:
            try:
                receipt = call.receipt(self._w3)
            except RpcUnavailable as exc:  # the node may be restarting: keep asking
                receipt, silence = None, exc
            if receipt is not None:
                break
            if time.monotonic() >= deadline:
                if resent or not self._resend_if_forgotten(call):
                    raise TransactionTimeout(
                        f"no receipt for {call.hashes()} after {self._receipt_timeout}s; "
                        "it may still be mined"
                    ) from silence
                resent = True
                deadline = time.monotonic() + self._receipt_timeout
            time.sleep(_POLL_S)
        if receipt["status"] != 1:
            raise TransactionFailed(
                receipt["transactionHash"].to_0x_hex(), self._replay(fn, params, receipt)
            )
        return receipt

    def _resend_if_forgotten(self, call: TrackedCall) -> bool:
        """True when the node had forgotten every copy and the latest went out again."""
        try:
            fate = call.fate(self._w3, self.address)
            if fate is Fate.FORGOTTEN:
                log.warning("node forgot %s; sending the same bytes again", call.hashes())
                self._w3.eth.send_raw_transaction(call.latest.raw)
                return True
        except (RpcUnavailable, Web3RPCError) as exc:
            log.warning("could not resend %s: %s", call.hashes(), exc)
            return False
        if fate is Fate.DROPPED:
            raise TransactionDropped(
                f"{call.hashes()} from {self.address} will never be mined: the node forgot "
                f"them and nonce {call.latest.nonce} went to another transaction"
            )
        return False

    def _replay(
        self, call: Transactable | None, params: TxParams, receipt: TxReceipt
    ) -> ContractReverted | None:
        """Why a mined transaction reverted: replay it at its block (best effort)."""
        if call is None:
            return None
        try:
            tx = call.build_transaction({**params, "nonce": 0})
            self._w3.eth.call(tx, block_identifier=receipt["blockNumber"] - 1)
        except ContractLogicError as exc:
            return decode_revert(exc.data if isinstance(exc.data, str) else None)
        except Exception:  # the replay is diagnostics only
            return None
        return None
