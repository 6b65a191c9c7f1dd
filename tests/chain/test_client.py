"""Chain connection, artifacts binding and dev-chain time control."""

from __future__ import annotations

import pytest

from inferchain import ConfigError
from inferchain.chain import Chain, RpcUnavailable, WrongChain
from inferchain.devstack import free_port
from tests.conftest import AnvilNode


def test_unreachable_rpc_is_a_clear_error() -> None:
    with pytest.raises(RpcUnavailable, match="unreachable"):
        Chain(f"http://127.0.0.1:{free_port()}", request_timeout=2)


def test_wrong_chain_id_is_refused(anvil: AnvilNode) -> None:
    with pytest.raises(WrongChain, match="31337, expected 11155111"):
        Chain(anvil.rpc_url, expected_chain_id=11155111)


def test_unknown_artifact_names_the_known_ones(chain: Chain) -> None:
    with pytest.raises(ConfigError, match="ChainProbe"):
        chain.contract("NoSuchContract", "0x" + "00" * 20)


def test_increase_time_moves_block_time(chain_snapshot: Chain) -> None:
    before = chain_snapshot.block_timestamp()
    chain_snapshot.increase_time(3600)
    assert chain_snapshot.block_timestamp() >= before + 3600


def test_set_next_block_timestamp(chain_snapshot: Chain, anvil: AnvilNode) -> None:
    target = chain_snapshot.block_timestamp() + 1000
    chain_snapshot.set_next_block_timestamp(target)
    chain_snapshot.mine()
    assert chain_snapshot.block_timestamp() == target


def test_revert_to_unknown_snapshot_is_refused(chain: Chain) -> None:
    with pytest.raises(WrongChain):
        chain.revert("0xdead")


def test_raw_web3_calls_raise_rpc_unavailable_when_the_node_goes_away(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Workers call chain.w3 directly; a dead node must be a ChainError they back off on."""
    from inferchain.devstack import start_anvil

    node = start_anvil(free_port(), tmp_path / "anvil.log")
    chain = Chain(node.url, request_timeout=2)
    assert chain.w3.eth.block_number == 0
    node.stop()
    with pytest.raises(RpcUnavailable):
        chain.w3.eth.get_block("latest")
