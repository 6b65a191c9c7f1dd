from __future__ import annotations

import pytest

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from tests.conftest import AnvilNode
from tests.worker.helpers import Deployed, deploy, publish_demos


@pytest.fixture(scope="session")
def ipfs(ipfs_api_url: str) -> IpfsClient:
    return IpfsClient(ipfs_api_url, timeout=10)


@pytest.fixture(scope="session")
def demo_bundles(ipfs: IpfsClient) -> dict[str, tuple[Cid, bytes]]:
    return publish_demos(ipfs)


@pytest.fixture
def deployed(chain: Chain, anvil: AnvilNode, demo_bundles: dict) -> Deployed:
    """A fresh market per test: worker registrations and balances start from zero."""
    return deploy(chain, anvil.keys, anvil.accounts, demo_bundles)
