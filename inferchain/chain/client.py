"""A small typed layer over web3.py: connect, bind shipped artifacts, hand out senders."""

from __future__ import annotations

import threading
from typing import Any

from eth_account import Account
from pydantic import SecretStr
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from inferchain.artifacts import load_artifact
from inferchain.chain.errors import WrongChain
from inferchain.chain.revert import decode_revert
from inferchain.chain.rpc import TranslatingHTTPProvider
from inferchain.chain.sender import TransactionSender


class Chain:
    """A connection to one JSON-RPC endpoint, with at most one sender per key."""

    def __init__(
        self,
        rpc_url: str,
        *,
        expected_chain_id: int | None = None,
        request_timeout: float = 30.0,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.rpc_url = rpc_url
        self.w3 = Web3(
            TranslatingHTTPProvider(rpc_url, request_kwargs={"timeout": request_timeout})
        )
        self._receipt_timeout = receipt_timeout
        self._senders: dict[str, TransactionSender] = {}
        self._senders_lock = threading.Lock()
        self.chain_id: int = self.w3.eth.chain_id
        if expected_chain_id is not None and self.chain_id != expected_chain_id:
            raise WrongChain(
                f"{rpc_url} serves chain id {self.chain_id}, expected {expected_chain_id}"
            )

    def sender(self, private_key: str | SecretStr) -> TransactionSender:
        """The one sender for this key on this connection (created on first use)."""
        secret = (
            private_key.get_secret_value() if isinstance(private_key, SecretStr) else private_key
        )
        account = Account.from_key(secret)
        with self._senders_lock:
            sender = self._senders.get(account.address)
            if sender is None:
                sender = TransactionSender(
                    self.w3,
                    account,
                    chain_id=self.chain_id,
                    receipt_timeout=self._receipt_timeout,
                )
                self._senders[account.address] = sender
            return sender

    def contract(self, name: str, address: str) -> Contract:
        """Bind the shipped artifact `name` to a deployed address."""
        return self.w3.eth.contract(
            address=Web3.to_checksum_address(address), abi=load_artifact(name).abi
        )

    def call(self, fn: Any, *, sender: str | None = None, block: int | str = "latest") -> Any:
        """A read-only call whose revert is raised as ContractReverted (decoded)."""
        try:
            return fn.call({"from": sender} if sender else {}, block_identifier=block)
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from exc

    def balance(self, address: str) -> int:
        return self.w3.eth.get_balance(Web3.to_checksum_address(address))

    def block_timestamp(self, block: int | str = "latest") -> int:
        return int(self.w3.eth.get_block(block)["timestamp"])

    # -- development chains (Anvil) --------------------------------------------------

    def snapshot(self) -> str:
        return str(self._rpc("evm_snapshot"))

    def revert(self, snapshot_id: str) -> None:
        """Roll the chain back; every sender forgets its nonce since the chain forgot its txs."""
        if not self._rpc("evm_revert", snapshot_id):
            raise WrongChain(f"snapshot {snapshot_id} is unknown to {self.rpc_url}")
        with self._senders_lock:
            for sender in self._senders.values():
                sender.reset_nonce()

    def increase_time(self, seconds: int) -> None:
        """Move block time forward and mine, so the next call sees the new time."""
        self._rpc("evm_increaseTime", seconds)
        self.mine()

    def set_next_block_timestamp(self, timestamp: int) -> None:
        self._rpc("evm_setNextBlockTimestamp", timestamp)

    def mine(self, blocks: int = 1) -> None:
        self._rpc("anvil_mine", blocks)

    def _rpc(self, method: str, *params: Any) -> Any:
        response = self.w3.provider.make_request(method, list(params))  # type: ignore[arg-type]
        if "error" in response:
            raise WrongChain(f"{method} failed on {self.rpc_url}: {response['error']}")
        return response["result"]
