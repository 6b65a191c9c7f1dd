"""The demo's market on the test stack: deployed through the `local` entry into a tmp
deployments folder, the demo models registered (and, on request, the ZK one with its
circuit and verifier), an in-process worker that proves `zk` jobs, and the gateway as a
TestClient with its indexer running. Shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from inferchain.chain import Chain
from inferchain.demo import DEMO_MODELS, deploy, register_models, register_zk_model
from inferchain.demo.deployment import DemoModel
from inferchain.demo.processes import market_identity
from inferchain.demo.user import ZK_KEY
from inferchain.deploy import load_network
from inferchain.ipfs import IpfsClient
from inferchain.market import Market
from inferchain.market.modes import ZK_MODE
from inferchain.paths import project_root
from inferchain.worker import Worker
from tests.conftest import AnvilNode
from tests.worker.helpers import settings as worker_settings

DEPLOYER, PROVIDER, WORKER, RELAYER, FAUCET = 0, 1, 2, 3, 9
NETWORKS = project_root() / "networks.toml"


@dataclass(frozen=True)
class DemoMarket:
    market: Market
    models: dict[str, int]  # DemoModel.key (a task, or "chat") → model id
    deployments: Path

    def cli_args(self) -> list[str]:
        """What every CLI call needs to find this market (besides the RPC URL env var)."""
        return ["--network", "local", "--networks-file", str(NETWORKS),
                "--deployments-dir", str(self.deployments)]  # fmt: skip


def deploy_demo(
    chain: Chain,
    anvil: AnvilNode,
    ipfs_api_url: str,
    directory: Path,
    models: tuple[DemoModel, ...] = DEMO_MODELS,
    zk_work: Path | None = None,
) -> DemoMarket:
    """A fresh market from the `local` network entry (tmp record), demo models registered;
    with ``zk_work``, the ZK demo model too (its circuit built there, as the demo does)."""
    market, _sent = deploy(chain, anvil.keys[DEPLOYER], load_network("local", NETWORKS), directory)
    with IpfsClient(ipfs_api_url, timeout=30) as ipfs:
        registered = register_models(market, ipfs, anvil.keys[PROVIDER], models)
        if zk_work is not None:
            identity = market_identity(market)
            zk = register_zk_model(market, ipfs, anvil.keys[PROVIDER], zk_work, identity)
            registered.append(zk)
    return DemoMarket(market, {r.model.key: r.model_id for r in registered}, directory)


@contextmanager
def running_worker(
    anvil: AnvilNode, ipfs_api_url: str, demo: DemoMarket, state_dir: Path
) -> Iterator[Worker]:
    """The demo's worker key, registered and serving every demo model (proving `zk` jobs, as
    the demo's worker does, when the ZK model is there), until the block ends."""
    s = worker_settings(anvil.rpc_url, ipfs_api_url, anvil.keys[WORKER], state_dir,
                        models=sorted(demo.models.values()), max_wait_s=0.02,
                        zk_modes=[ZK_MODE] if ZK_KEY in demo.models else [])  # fmt: skip
    worker = Worker(s, demo.market.addresses, register=True)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
    assert worker.failure is None, worker.failure


@contextmanager
def gateway_client(
    tmp_path: Path, anvil: AnvilNode, ipfs_api_url: str, demo: DemoMarket
) -> Iterator[object]:
    """The gateway app in-process (TestClient, an httpx.Client) with its indexer thread."""
    from fastapi.testclient import TestClient

    from inferchain.gateway import create_app
    from tests.gateway.conftest import gateway_settings

    settings = gateway_settings(
        tmp_path,
        rpc_url=anvil.rpc_url,
        market_address=demo.market.addresses.job_market,
        deployment_block=demo.market.addresses.deployed_block,
        relayer_key=anvil.keys[RELAYER],
        ipfs_api_url=ipfs_api_url,
        run_indexer=True,
        index_poll_s=0.1,
    )
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client
