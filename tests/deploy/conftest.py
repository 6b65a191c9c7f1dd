"""A second Anvil with Sepolia's chain id (and a block time, so confirmations advance)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from inferchain.devstack import dev_private_keys, free_port, start_anvil
from inferchain.wallet import write_keystore
from tests.cli.runner import Cli

SEPOLIA_CHAIN_ID = 11155111
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="session")
def cli() -> Cli:
    return Cli()


@pytest.fixture(scope="module")
def sepolia_rpc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("sepolia") / "anvil.log"
    service = start_anvil(free_port(), log, chain_id=SEPOLIA_CHAIN_ID, block_time=0.3)
    try:
        yield service.url
    finally:
        service.stop()


@pytest.fixture(scope="module")
def deployer_keystore(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "deployer.json"
    write_keystore(path, dev_private_keys()[0], PASSWORD, scrypt_n=2**10)
    return path
