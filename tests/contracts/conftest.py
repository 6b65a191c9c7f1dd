"""One deployment per test module; every test runs inside an evm snapshot of it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from inferchain.chain import Chain
from tests.conftest import AnvilNode
from tests.contracts.helpers import Deployment, deploy


@pytest.fixture(scope="module")
def deployed(chain: Chain, anvil: AnvilNode) -> Deployment:
    return deploy(chain, anvil.keys)


@pytest.fixture
def d(deployed: Deployment, chain_snapshot: Chain) -> Iterator[Deployment]:
    """The module's deployment, rolled back after the test."""
    yield deployed
