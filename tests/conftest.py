"""Session-wide real services: an Anvil chain and an IPFS node, started on free ports.

Set INFERCHAIN_TEST_RPC_URL / INFERCHAIN_TEST_IPFS_API to reuse running ones instead
(their state is then shared with whatever else uses them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
from eth_account import Account

from inferchain.chain import Chain
from inferchain.devstack import (
    DevStackError,
    dev_private_keys,
    free_port,
    start_anvil,
    start_ipfs,
)

# Tiny models: two threads made a tiny training step 30x slower on these machines.
torch.set_num_threads(1)


@dataclass(frozen=True)
class AnvilNode:
    rpc_url: str
    keys: list[str]

    @property
    def accounts(self) -> list[str]:
        return [Account.from_key(k).address for k in self.keys]


def _retry_on_port_race(start):  # type: ignore[no-untyped-def]
    """free_port() can race another process between probe and bind: try a fresh port once."""
    try:
        return start()
    except DevStackError:
        return start()


@pytest.fixture(scope="session")
def services_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def anvil(services_dir: Path) -> Iterator[AnvilNode]:
    keys = list(dev_private_keys())
    url = os.environ.get("INFERCHAIN_TEST_RPC_URL")
    if url:
        yield AnvilNode(url, keys)
        return
    service = _retry_on_port_race(lambda: start_anvil(free_port(), services_dir / "anvil.log"))
    try:
        yield AnvilNode(service.url, keys)
    finally:
        service.stop()


@pytest.fixture(scope="session")
def ipfs_api_url(services_dir: Path) -> Iterator[str]:
    url = os.environ.get("INFERCHAIN_TEST_IPFS_API")
    if url:
        yield url
        return
    service = _retry_on_port_race(
        lambda: start_ipfs(
            services_dir / "ipfs-repo",
            services_dir / "ipfs.log",
            api_port=free_port(),
            gateway_port=free_port(),
            swarm_port=free_port(),
        )
    )
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture(scope="session")
def chain(anvil: AnvilNode) -> Chain:
    return Chain(anvil.rpc_url)


@pytest.fixture
def chain_snapshot(chain: Chain) -> Iterator[Chain]:
    """Roll the chain back after the test, so tests cannot see each other's transactions."""
    snapshot = chain.snapshot()
    try:
        yield chain
    finally:
        chain.revert(snapshot)
