"""The demo market: contracts deployed from the `local` network entry, four demo models and
the ZK-tier one (its circuit, keys and verifier built as `inferchain model publish` does).

All steps are idempotent: `deploy_network` sends nothing when the record matches the
chain, and a model whose provider and manifest hash are already registered is reused.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.deploy import Network, deploy_network, load_record
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import Market, ModelSpec, read_model
from inferchain.wallet import MarketClient

MILLI_ETH = 10**15


@dataclass(frozen=True)
class DemoModel:
    """A demo bundle and the terms its provider asks."""

    bundle: str
    task: str
    price: int
    royalty_bps: int
    alias: str | None = None

    @property
    def key(self) -> str:
        """How the demo's user finds the model: its task, or its alias where two share one."""
        return self.alias or self.task


#: The demo bundles shipped in the package, with their prices and royalties. The
#: transformers Llama is the demo user's chat model.
DEMO_MODELS = (
    DemoModel("tiny-gpt", "text-generation", 2 * MILLI_ETH, 1_000),
    DemoModel("digits-cnn", "image-classification", 1 * MILLI_ETH, 500),
    DemoModel("sentiment-bow", "text-classification", MILLI_ETH // 2, 2_000),
    DemoModel("tiny-llama", "text-generation", 3 * MILLI_ETH, 1_500, alias="chat"),
)
#: The ZK-tier demo model (`--verify zk`): the 1,210-parameter digits MLP, whose bundle gets
#: its circuit and verifier at publish time, so it is published from a working copy.
ZK_MODEL = DemoModel("digits-mlp", "image-classification", MILLI_ETH, 1_000, alias="zk")


@dataclass(frozen=True)
class Registered:
    model: DemoModel
    model_id: int
    bundle_cid: str
    reused: bool


def deploy(
    chain: Chain,
    deployer_key: str,
    network: Network,
    deployments: Path,
    say: Callable[[str], None] = lambda _m: None,
) -> tuple[Market, int]:
    """Deploy what is missing; (market, transactions sent)."""
    report = deploy_network(
        chain, chain.sender(deployer_key), network, deployments, on_progress=say
    )
    record = load_record(deployments, chain.chain_id)
    return Market.connect(chain, record.market_addresses()), len(report.steps)


def register_models(
    market: Market, ipfs: IpfsClient, provider_key: str, models: tuple[DemoModel, ...] = DEMO_MODELS
) -> list[Registered]:
    """Pin each bundle (CID checked locally), then register it unless it already is."""
    client = MarketClient(market, provider_key)
    return [_register(client, ipfs, model, demo_bundle_path(model.bundle)) for model in models]


def register_zk_model(
    market: Market, ipfs: IpfsClient, provider_key: str, work: Path, identity: str
) -> Registered:
    """Publish the ZK demo model from a copy in ``work`` (circuit, keys and verifier as
    `inferchain model publish` builds them), register it and set its verifier in the
    market's ZkVerifier. ``identity`` names the market: the circuit (SRS, keys) is kept
    across markets, the bundle copy and its verifier only within one."""
    from inferchain.zk.module import circuit_of
    from inferchain.zk.publish import module_contract, publish_circuit, register_bundle_verifier

    module = market.addresses.zk_verifier
    if module is None:
        raise RuntimeError("this deployment has no ZkVerifier (mode zk): redeploy the market")
    root, marker = work / ZK_MODEL.bundle, work / "bundle.market"
    if not marker.is_file() or marker.read_text() != identity:
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(demo_bundle_path(ZK_MODEL.bundle), root)
        marker.write_text(identity)
    chain, sender = market.chain, market.chain.sender(provider_key)
    publish_circuit(root, work / "circuit", lambda: (chain, sender))
    registered = _register(MarketClient(market, provider_key), ipfs, ZK_MODEL, root)
    if not circuit_of(chain, module_contract(chain, module), registered.model_id).is_set:
        register_bundle_verifier(root, chain, sender, module, registered.model_id)
    return registered


def _register(client: MarketClient, ipfs: IpfsClient, model: DemoModel, path: Path) -> Registered:
    """Pin the bundle at ``path``; register it unless its provider already has."""
    published = publish_bundle(ipfs, path)
    manifest = bytes.fromhex(published.manifest_sha256)
    assert client.address is not None  # a provider key
    existing = _find(client.market, client.address, manifest)
    if existing is not None:
        return Registered(model, existing, published.cid, reused=True)
    spec = ModelSpec(Cid.parse(published.cid), manifest, model.task, model.price,
                     model.royalty_bps)  # fmt: skip
    model_id, _tx = client.register_model(spec)
    return Registered(model, model_id, published.cid, reused=False)


def _find(market: Market, provider: str, manifest: bytes) -> int | None:
    """The newest active model of `provider` with this manifest hash."""
    chain = market.chain
    for model_id in range(int(chain.call(market.models.functions.modelCount())), 0, -1):
        model = read_model(chain, market.models, model_id)
        if model.active and model.provider == provider and model.manifest_sha256 == manifest.hex():
            return model_id
    return None
