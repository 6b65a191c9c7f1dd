"""Gateway fixtures: one contracts deployment per module, a fresh database per test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.gateway.db import make_engine, make_sessionmaker, upgrade
from inferchain.gateway.indexer import Indexer
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.metrics import GatewayMetrics
from inferchain.ipfs import Cid, IpfsClient
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


@pytest.fixture(scope="session")
def tiny_gpt(ipfs_api_url: str) -> tuple[Cid, bytes]:
    """The tiny-gpt demo bundle on the test IPFS node: (CID, manifest sha-256)."""
    with IpfsClient(ipfs_api_url, timeout=30) as ipfs:
        published = publish_bundle(ipfs, demo_bundle_path("tiny-gpt"))
    return Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256)


@pytest.fixture(scope="module")
def market_module(chain: Chain, anvil: AnvilNode, tiny_gpt: tuple[Cid, bytes]) -> Market:
    """Both models (ETH and token priced) serve tiny-gpt, whose limits the gateway reads."""
    d = deploy(chain, anvil.keys, bundle=tiny_gpt)
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


@contextmanager
def gateway_process(tmp_path: Path, **settings: object) -> Iterator[tuple[str, subprocess.Popen]]:  # type: ignore[type-arg]
    """`inferchain gateway run` as a real process on a free port: (base URL, process).

    ``settings`` become INFERCHAIN_GATEWAY_* variables; the process is terminated after.
    """
    from inferchain.devstack import free_port

    port = free_port()
    env = {
        **os.environ,
        "INFERCHAIN_GATEWAY_DATABASE_URL": f"sqlite:///{tmp_path / 'gateway.db'}",
        "INFERCHAIN_GATEWAY_RUN_INDEXER": "false",
        **{f"INFERCHAIN_GATEWAY_{k.upper()}": str(v) for k, v in settings.items()},
    }
    log = tmp_path / "gateway.log"
    run = "from inferchain.cli.gateway import app; app()"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", run, "run", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=sink,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _health_answers(url):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "gateway did not start in 30 s"
            time.sleep(0.2)
        yield url, process
    finally:
        process.terminate()
        process.wait(10)


def _health_answers(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False
