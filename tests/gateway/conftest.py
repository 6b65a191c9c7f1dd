"""Gateway fixtures: one contracts deployment per module, a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inferchain.chain import Chain
from inferchain.gateway.db import make_engine, make_sessionmaker, upgrade
from inferchain.gateway.indexer import Indexer
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.metrics import GatewayMetrics
from tests.conftest import AnvilNode
from tests.contracts.helpers import Deployment, deploy


@dataclass
class Market:
    """A deployment plus the block it starts at."""

    d: Deployment
    deployment_block: int

    @property
    def contracts(self) -> MarketContracts:
        return MarketContracts.connect(self.d.chain, self.d.market.address)


@pytest.fixture(scope="module")
def market_module(chain: Chain, anvil: AnvilNode) -> Market:
    d = deploy(chain, anvil.keys)
    return Market(d, d.deployed_block)


@pytest.fixture
def market(market_module: Market, chain_snapshot: Chain) -> Iterator[Market]:
    """The module's deployment; the chain is rolled back after the test."""
    yield market_module


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'gateway.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_sessionmaker(engine)


@pytest.fixture
def make_indexer(market: Market, sessions: sessionmaker[Session]):  # type: ignore[no-untyped-def]
    def build(**kwargs: object) -> Indexer:
        options: dict[str, object] = {"deployment_block": market.deployment_block}
        options.update(kwargs)
        return Indexer(market.contracts, sessions, metrics=GatewayMetrics(), **options)  # type: ignore[arg-type]

    return build


# --- the HTTP app ---------------------------------------------------------------------------

SIWE_URI = "http://gateway.test:8000"


def gateway_settings(tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    from inferchain.gateway import GatewaySettings

    values: dict[str, object] = {
        "database_url": f"sqlite:///{tmp_path / 'api.db'}",
        "siwe_uri": SIWE_URI,
        "run_indexer": False,
        "rate_per_minute": 6000,
        "rate_burst": 1000,
    }
    values.update(overrides)
    return GatewaySettings(**values)  # type: ignore[arg-type]


@pytest.fixture
def make_client(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build a TestClient (lifespan run) for settings overrides; closed after the test."""
    from fastapi.testclient import TestClient

    from inferchain.gateway import create_app

    clients: list[TestClient] = []

    def build(**overrides: object) -> TestClient:
        app = create_app(gateway_settings(tmp_path, **overrides))
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def sign_in(client, key: str) -> str:  # type: ignore[no-untyped-def]
    """A session token for ``key``'s address, through the real nonce/verify endpoints."""
    from eth_account import Account
    from eth_account.messages import encode_defunct

    address = Account.from_key(key).address
    message = client.post("/auth/nonce", json={"address": address}).json()["message"]
    signature = Account.sign_message(encode_defunct(text=message), key).signature.to_0x_hex()
    response = client.post("/auth/verify", json={"message": message, "signature": signature})
    assert response.status_code == 200, response.text
    return response.json()["token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def api(market: Market, make_client, ipfs_api_url: str, anvil: AnvilNode):  # type: ignore[no-untyped-def]
    """Build a TestClient wired to the module's deployment, the real IPFS node and Anvil."""

    def build(**overrides: object):  # type: ignore[no-untyped-def]
        values: dict[str, object] = {
            "rpc_url": anvil.rpc_url,
            "market_address": market.d.market.address,
            "deployment_block": market.deployment_block,
            "relayer_key": market.d.actors.relayer,
            "ipfs_api_url": ipfs_api_url,
            "ipfs_timeout_s": 5,
        }
        values.update(overrides)
        return make_client(**values)

    return build


def index(client) -> int:  # type: ignore[no-untyped-def]
    """Index the chain into the client's database now; the last block indexed."""
    services = client.app.state.services
    s = services.settings
    indexer = Indexer(services.contracts(), services.sessions, deployment_block=s.deployment_block)
    return indexer.sync()


def send_prepared(chain: Chain, key: str, tx: dict[str, object]):  # type: ignore[no-untyped-def]
    """Sign and send an unsigned transaction from the gateway with the wallet's own key."""
    from eth_account import Account

    w3 = chain.w3
    sender = Account.from_key(key).address
    params = {
        "from": sender,
        "to": tx["to"],
        "data": tx["data"],
        "value": int(tx["value"]),  # type: ignore[call-overload]
        "chainId": tx["chain_id"],
    }
    params["gas"] = w3.eth.estimate_gas(params)  # type: ignore[arg-type]
    params["nonce"] = w3.eth.get_transaction_count(sender, "pending")
    params["gasPrice"] = w3.eth.gas_price
    signed = Account.sign_transaction(params, key)
    receipt = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_raw_transaction(signed.raw_transaction)
    )
    assert receipt["status"] == 1
    return receipt
