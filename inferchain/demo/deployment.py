"""The demo market: contracts deployed from the `local` network entry, four demo models.

Both steps are idempotent: `deploy_network` sends nothing when the record matches the
chain, and a model whose provider and manifest hash are already registered is reused.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

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
    provider = Account.from_key(provider_key).address
    out = []
    for model in models:
        published = publish_bundle(ipfs, demo_bundle_path(model.bundle))
        manifest = bytes.fromhex(published.manifest_sha256)
        existing = _find(market, provider, manifest)
        if existing is not None:
            out.append(Registered(model, existing, published.cid, reused=True))
            continue
        spec = ModelSpec(Cid.parse(published.cid), manifest, model.task, model.price,
                         model.royalty_bps)  # fmt: skip
        model_id, _tx = client.register_model(spec)
        out.append(Registered(model, model_id, published.cid, reused=False))
    return out


def _find(market: Market, provider: str, manifest: bytes) -> int | None:
    """The newest active model of `provider` with this manifest hash."""
    chain = market.chain
    for model_id in range(int(chain.call(market.models.functions.modelCount())), 0, -1):
        model = read_model(chain, market.models, model_id)
        if model.active and model.provider == provider and model.manifest_sha256 == manifest.hex():
            return model_id
    return None
