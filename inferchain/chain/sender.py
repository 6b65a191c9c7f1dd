"""One transaction sender per key: simulate, then sign and send under a lock with local nonces.

Why a lock and a local nonce: two concurrent senders on one key that each ask the node for
the nonce get the same number and one transaction is lost ("multiple transactions in a
single block"). Here the nonce is read once, incremented locally while the lock is held, and
re-read from the node only when the node says it is wrong. Simulation happens before the
lock (it is the slow part) and receipts are awaited after it, so threads pipeline.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError, TimeExhausted, Web3RPCError
from web3.types import TxParams, TxReceipt

from inferchain.artifacts import load_artifact
from inferchain.chain.errors import (
    ChainError,
    ContractReverted,
    TransactionFailed,
    TransactionTimeout,
)
from inferchain.chain.revert import decode_revert

log = logging.getLogger(__name__)

#: Node messages (lower-cased substrings) meaning "our nonce is stale: re-read and resend".
_NONCE_ERRORS = ("nonce too low", "nonce too high", "already known", "invalid nonce")
#: Messages meaning "a transaction with this nonce is pending at a higher fee".
_UNDERPRICED_ERRORS = ("underpriced", "fee too low", "replacement transaction")


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
        tx_hash = self._sign_and_send(lambda p: call.build_transaction(p), params)
        return self._wait(tx_hash, call, params)

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
        tx_hash = self._sign_and_send(lambda p: p, params)
        return self._wait(tx_hash, None, params)

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

    def _sign_and_send(self, build: Any, params: TxParams) -> HexBytes:
        bump = 1.0
        for attempt in range(1, self._max_send_attempts + 1):
            with self._lock:
                if self._next_nonce is None:
                    self._next_nonce = self._w3.eth.get_transaction_count(self.address, "pending")
                fees = {k: int(v * bump) for k, v in self._fees().items()}
                tx = build({**params, **fees, "nonce": self._next_nonce})
                signed = self._account.sign_transaction(tx)
                try:
                    tx_hash = self._w3.eth.send_raw_transaction(signed.raw_transaction)
                except Web3RPCError as exc:
                    message = str(exc).lower()
                    if any(s in message for s in _NONCE_ERRORS):
                        log.info("nonce %s rejected (%s); re-reading", self._next_nonce, exc)
                        self._next_nonce = None
                        continue
                    if any(s in message for s in _UNDERPRICED_ERRORS):
                        bump *= 1.25
                        log.info("fees too low (%s); bumping to x%.2f", exc, bump)
                        continue
                    raise ChainError(f"node rejected transaction: {exc}") from exc
                self._next_nonce += 1
                return tx_hash
            time.sleep(0.05 * attempt)  # pragma: no cover - only between retries
        raise ChainError(
            f"could not send a transaction from {self.address} after "
            f"{self._max_send_attempts} attempts (nonce or fee conflicts)"
        )

    def _wait(self, tx_hash: HexBytes, call: Transactable | None, params: TxParams) -> TxReceipt:
        try:
            receipt = self._w3.eth.wait_for_transaction_receipt(
                tx_hash, timeout=self._receipt_timeout, poll_latency=0.05
            )
        except TimeExhausted as exc:
            raise TransactionTimeout(
                f"no receipt for {tx_hash.to_0x_hex()} after {self._receipt_timeout}s"
            ) from exc
        if receipt["status"] != 1:
            raise TransactionFailed(tx_hash.to_0x_hex(), self._replay(call, params, receipt))
        return receipt

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
