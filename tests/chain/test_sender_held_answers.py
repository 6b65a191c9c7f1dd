"""A call is sent once even when the node's answer to the send is lost on the way back.

Through a real proxy (tests/chain/rpc_proxy.py) in front of the session's Anvil: the send
reaches the node and is mined, but the client sees a timeout, a 504, "nonce too low" or a
node that forgot the transaction. Each case must end with exactly one mined transaction
from the key and the caller holding its receipt.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from web3.contract import Contract

from inferchain.chain import Chain, TransactionDropped, TransactionSender
from inferchain.chain.tracked import TrackedCall
from tests.chain.rpc_proxy import Fault, RpcProxy, rpc_proxy
from tests.conftest import AnvilNode

KEY = 6  # used by no other test


@pytest.fixture
def probe(chain_snapshot: Chain, anvil: AnvilNode) -> Contract:
    return chain_snapshot.sender(anvil.keys[0]).deploy("ChainProbe")


@pytest.fixture
def proxy(anvil: AnvilNode) -> Iterator[RpcProxy]:
    with rpc_proxy(anvil.rpc_url, hold_s=3.0) as proxy:
        yield proxy


def proxied_sender(proxy: RpcProxy, anvil: AnvilNode, receipt_timeout: float = 30.0):  # type: ignore[no-untyped-def]
    """A sender whose requests time out after 1 s, behind the proxy."""
    chain = Chain(proxy.url, request_timeout=1.0, receipt_timeout=receipt_timeout)
    return chain.sender(anvil.keys[KEY])


@pytest.mark.parametrize("fault", [Fault.HOLD, Fault.GATEWAY_TIMEOUT, Fault.REPLAY])
def test_transact_sends_once_when_the_send_answer_is_lost(
    fault: Fault, proxy: RpcProxy, anvil: AnvilNode, chain: Chain, probe: Contract
) -> None:
    sender = proxied_sender(proxy, anvil)
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    proxy.fail_next_sends(fault)
    started = time.monotonic()

    receipt = sender.transact(probe.functions.poke())

    assert time.monotonic() - started < 5  # found by hash, not after some long timeout
    assert proxy.sends_seen == 1  # looked up, not sent again (by us or by web3's retries)
    assert chain.w3.eth.get_transaction_count(sender.address) == nonce + 1
    assert probe.functions.pokes(sender.address).call() == 1
    mined = chain.w3.eth.get_transaction(receipt["transactionHash"])
    assert mined["nonce"] == nonce and mined["from"] == sender.address
    assert receipt["status"] == 1
    sender.transact(probe.functions.poke())  # the local nonce moved on by exactly one
    assert chain.w3.eth.get_transaction_count(sender.address) == nonce + 2


def test_transaction_the_node_forgot_is_resent_as_the_same_bytes(
    proxy: RpcProxy, anvil: AnvilNode, chain: Chain, probe: Contract
) -> None:
    sender = proxied_sender(proxy, anvil, receipt_timeout=1.0)
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    proxy.fail_next_sends(Fault.LOSE)

    receipt = sender.transact(probe.functions.poke())

    assert proxy.sends_seen == 2  # the lost one, then the same bytes after the receipt wait
    assert chain.w3.eth.get_transaction_count(sender.address) == nonce + 1
    assert probe.functions.pokes(sender.address).call() == 1
    assert chain.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == nonce


def test_forgotten_transaction_whose_nonce_was_taken_is_reported_dropped(
    proxy: RpcProxy, anvil: AnvilNode, chain: Chain, probe: Contract
) -> None:
    """Another process used the nonce meanwhile: the call did not happen, and says so."""
    sender = proxied_sender(proxy, anvil, receipt_timeout=3.0)
    proxy.fail_next_sends(Fault.LOSE)
    outcome: list[BaseException] = []

    def lost_call() -> None:
        try:
            sender.transact(probe.functions.poke())
        except BaseException as exc:  # handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=lost_call)
    thread.start()
    deadline = time.monotonic() + 5
    while proxy.sends_seen < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    outsider = TransactionSender(chain.w3, sender._account, chain_id=chain.chain_id)
    outsider.send_value(anvil.accounts[7], 1)  # takes the nonce the lost poke was signed with
    thread.join(timeout=10)

    assert len(outcome) == 1 and isinstance(outcome[0], TransactionDropped)
    assert "will never be mined" in str(outcome[0])
    assert probe.functions.pokes(sender.address).call() == 0
    assert proxy.sends_seen == 1  # nothing was sent again
    sender.transact(probe.functions.poke())  # and the sender still works
    assert probe.functions.pokes(sender.address).call() == 1


def test_receipt_of_any_signed_copy_is_found(chain_snapshot: Chain, anvil: AnvilNode) -> None:
    """Fee bumps sign the same nonce again: whichever copy is mined is the call's receipt."""
    sender = chain_snapshot.sender(anvil.keys[KEY])
    nonce = chain_snapshot.w3.eth.get_transaction_count(sender.address)
    call = TrackedCall()
    base = chain_snapshot.w3.eth.get_block("latest")["baseFeePerGas"]
    for tip in (10**9, 2 * 10**9):
        signed = sender._account.sign_transaction(
            {
                "to": anvil.accounts[7], "value": 1, "gas": 21_000, "nonce": nonce,
                "chainId": chain_snapshot.chain_id, "maxFeePerGas": 3 * base + tip,
                "maxPriorityFeePerGas": tip,
            }
        )  # fmt: skip
        call.add(nonce, signed.hash, signed.raw_transaction)
    assert call.receipt(chain_snapshot.w3) is None
    chain_snapshot.w3.eth.send_raw_transaction(call.signed[0].raw)  # the older copy wins

    receipt = call.receipt(chain_snapshot.w3)

    assert receipt is not None and receipt["transactionHash"] == call.signed[0].hash
    assert call.known(chain_snapshot.w3)
