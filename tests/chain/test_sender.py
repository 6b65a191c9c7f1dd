"""The transaction sender against a real Anvil: nonces, reverts, retries."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from web3.contract import Contract

from inferchain.chain import Chain, ContractReverted, TransactionSender
from tests.conftest import AnvilNode


@pytest.fixture
def probe(chain_snapshot: Chain, anvil: AnvilNode) -> Contract:
    return chain_snapshot.sender(anvil.keys[0]).deploy("ChainProbe")


def test_sender_is_one_per_key(chain: Chain, anvil: AnvilNode) -> None:
    assert chain.sender(anvil.keys[1]) is chain.sender(anvil.keys[1])
    assert chain.sender(anvil.keys[1]) is not chain.sender(anvil.keys[2])


def test_transact_survives_50_concurrent_requests_on_one_key(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    sender = chain.sender(anvil.keys[0])
    with ThreadPoolExecutor(max_workers=50) as pool:
        receipts = list(pool.map(lambda _: sender.transact(probe.functions.poke()), range(50)))
    assert all(r["status"] == 1 for r in receipts)
    assert len({r["transactionHash"] for r in receipts}) == 50
    assert probe.functions.pokes(sender.address).call() == 50


def test_transact_decodes_custom_error_by_name(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    sender = chain.sender(anvil.keys[0])
    with pytest.raises(ContractReverted) as info:
        sender.transact(probe.functions.failWith(7))
    assert info.value.error_name == "ChainProbeRejected"
    assert info.value.error_args == {"caller": sender.address.lower(), "code": 7}


def test_transact_decodes_string_reason(chain: Chain, anvil: AnvilNode, probe: Contract) -> None:
    with pytest.raises(ContractReverted) as info:
        chain.sender(anvil.keys[0]).transact(probe.functions.failWithReason())
    assert info.value.error_name == "Error"
    assert info.value.error_args == {"reason": "probe: plain reason"}


def test_failed_simulation_consumes_no_nonce(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    sender = chain.sender(anvil.keys[0])
    before = chain.w3.eth.get_transaction_count(sender.address)
    with pytest.raises(ContractReverted):
        sender.transact(probe.functions.failWith(1))
    sender.transact(probe.functions.poke())
    assert chain.w3.eth.get_transaction_count(sender.address) == before + 1


def test_call_raises_decoded_revert(chain: Chain, probe: Contract) -> None:
    with pytest.raises(ContractReverted, match="ChainProbeRejected"):
        chain.call(probe.functions.failWith(3))


def test_sender_recovers_when_the_key_was_used_elsewhere(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    """Another process sent with the same key: the stale local nonce is re-read, not lost."""
    sender = chain.sender(anvil.keys[0])
    sender.transact(probe.functions.poke())  # local nonce is now cached
    outsider = TransactionSender(chain.w3, sender._account, chain_id=chain.chain_id)
    outsider.transact(probe.functions.poke())
    sender.transact(probe.functions.poke())
    assert probe.functions.pokes(sender.address).call() == 3


def test_nonces_follow_a_chain_revert(chain: Chain, anvil: AnvilNode) -> None:
    sender = chain.sender(anvil.keys[3])
    snapshot = chain.snapshot()
    sender.send_value(anvil.accounts[4], 1)
    chain.revert(snapshot)
    receipt = sender.send_value(anvil.accounts[4], 1)
    assert receipt["status"] == 1


def test_send_value_to_a_reverting_receiver_is_decoded(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    """ChainProbe has no receive(): the transfer reverts in simulation and nothing is sent."""
    sender = chain.sender(anvil.keys[0])
    before = chain.w3.eth.get_transaction_count(sender.address)
    with pytest.raises(ContractReverted) as info:
        sender.send_value(probe.address, 1)
    assert info.value.error_name == "unknown"
    assert chain.w3.eth.get_transaction_count(sender.address) == before


def test_explicit_gas_limit_still_simulates_first(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    """A caller's gas limit skips the estimate, not the simulation: nothing is mined."""
    sender = chain.sender(anvil.keys[0])
    before = chain.w3.eth.get_transaction_count(sender.address)
    with pytest.raises(ContractReverted, match="ChainProbeRejected"):
        sender.transact(probe.functions.failWith(5), gas=100_000)
    assert chain.w3.eth.get_transaction_count(sender.address) == before
    receipt = sender.transact(probe.functions.poke(), gas=100_000)
    assert receipt["gasUsed"] < 100_000 and receipt["status"] == 1


def test_nonce_taken_by_another_process_is_re_read_and_the_call_sent_once(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    """A genuinely stale nonce: the node knows none of our hashes, so signing anew is safe."""
    sender = chain.sender(anvil.keys[0])
    sender.transact(probe.functions.poke())  # the local nonce is now cached
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    outsider = TransactionSender(chain.w3, sender._account, chain_id=chain.chain_id)
    outsider.send_value(anvil.accounts[5], 1)  # takes `nonce` with a different transaction

    receipt = sender.transact(probe.functions.poke())

    assert chain.w3.eth.get_transaction(receipt["transactionHash"])["nonce"] == nonce + 1
    assert probe.functions.pokes(sender.address).call() == 2
    assert chain.w3.eth.get_transaction_count(sender.address) == nonce + 2


def test_underpriced_send_replaces_the_pending_nonce_with_higher_fees(
    chain: Chain, anvil: AnvilNode, probe: Contract
) -> None:
    """Another process's transaction waits at our nonce with higher fees: bump, same nonce."""
    sender = chain.sender(anvil.keys[0])
    nonce = chain.w3.eth.get_transaction_count(sender.address)
    recipient_balance = chain.balance(anvil.accounts[5])
    fees = {k: int(v * 1.3) for k, v in sender._fees().items()}
    chain._rpc("evm_setAutomine", False)
    try:
        blocker = sender._account.sign_transaction(
            {"to": anvil.accounts[5], "value": 1, "gas": 21_000, "nonce": nonce,
             "chainId": chain.chain_id, **fees}
        )  # fmt: skip
        chain.w3.eth.send_raw_transaction(blocker.raw_transaction)
        receipts: list = []
        thread = threading.Thread(
            target=lambda: receipts.append(sender.transact(probe.functions.poke(), gas=100_000))
        )
        thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not _pending_to(chain, sender.address, probe):
            time.sleep(0.02)
        chain.mine()
        thread.join(timeout=10)
    finally:
        chain._rpc("evm_setAutomine", True)
    assert len(receipts) == 1
    assert chain.w3.eth.get_transaction(receipts[0]["transactionHash"])["nonce"] == nonce
    assert probe.functions.pokes(sender.address).call() == 1
    assert chain.balance(anvil.accounts[5]) == recipient_balance  # the blocker was replaced


def _pending_to(chain: Chain, address: str, contract: Contract) -> bool:
    pending = chain._rpc("txpool_content")["pending"].get(address.lower(), {})
    return any(tx["to"].lower() == contract.address.lower() for tx in pending.values())
