"""`inferchain model publish` and `model register --bundle --zk-module` for a ZK-tier bundle,
against a market deployed through the `local` entry, a real IPFS node and real EZKL; then a
worker-side fetch of the published bundle by CID runs the circuit from it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from inferchain.bundle import load_bundle
from inferchain.bundle.fetch import fetch_bundle
from inferchain.chain import Chain
from inferchain.deploy import deploy_network, load_network, load_record
from inferchain.ipfs import IpfsClient
from inferchain.market import Market
from inferchain.paths import project_root
from inferchain.wallet import PRIVATE_KEY_ENV
from inferchain.worker.runtimes import infer, load_runtime
from inferchain.zk import Circuit, evaluate
from inferchain.zk.module import circuit_of
from inferchain.zk.publish import module_contract
from tests.cli.runner import Cli
from tests.conftest import AnvilNode
from tests.zk.conftest import MODEL_DIR

OWNER, PROVIDER = 0, 1


@pytest.fixture(scope="module")
def local(anvil: AnvilNode, chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> dict:
    directory = tmp_path_factory.mktemp("deployments")
    network = load_network("local", project_root() / "networks.toml")
    deploy_network(chain, chain.sender(anvil.keys[OWNER]), network, directory)
    market = Market.connect(chain, load_record(directory, chain.chain_id).market_addresses())
    module = chain.sender(anvil.keys[OWNER]).deploy(
        "ZkVerifier", market.models.address, 3_600, 86_400
    )
    networks = str(project_root() / "networks.toml")
    return {
        "module": module.address,
        "models": market.models,
        "base": ["--network", "local", "--networks-file", networks,
                 "--deployments-dir", str(directory)],
        "env": {"INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url, "INFERCHAIN_KEYSTORE": "",
                PRIVATE_KEY_ENV: anvil.keys[PROVIDER]},
    }  # fmt: skip


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return Path(shutil.copytree(MODEL_DIR, tmp_path / "digits-mlp"))


def test_publish_then_register_sets_the_verifier_for_the_model(
    local: dict,
    bundle: Path,
    circuit: Circuit,
    tmp_path: Path,
    ipfs_api_url: str,
    chain: Chain,
    digit_inputs: list[tuple[bytes, int]],
) -> None:
    cli = Cli()
    work = shutil.copytree(circuit.root, tmp_path / "work")
    published = cli(
        "model", "publish", str(bundle), "--ipfs-api", ipfs_api_url, "--zk-work", str(work),
        *local["base"], "--json", env=local["env"],
    )  # fmt: skip
    assert published.code == 0, published.error
    out = published.json()
    verifier = out["zk"]["verifier"]["address"]
    assert load_bundle(bundle).manifest_sha256 == out["manifest_sha256"]
    assert chain.w3.eth.get_code(verifier)
    models_before = chain.call(local["models"].functions.modelCount())

    wrong = cli(
        "model", "register", "--cid", out["cid"], "--manifest-sha256", "00" * 32,
        "--task", "image-classification", "--price", "1000wei", "--royalty-bps", "0",
        "--bundle", str(bundle), "--zk-module", local["module"], *local["base"],
        env=local["env"],
    )  # fmt: skip
    assert wrong.code == 1 and "manifest.json" in wrong.error  # refused before registering
    assert chain.call(local["models"].functions.modelCount()) == models_before

    registered = cli(
        "model", "register", "--cid", out["cid"], "--manifest-sha256", out["manifest_sha256"],
        "--task", "image-classification", "--price", "1000wei", "--royalty-bps", "0",
        "--bundle", str(bundle), "--zk-module", local["module"], *local["base"], "--json",
        env=local["env"],
    )  # fmt: skip
    assert registered.code == 0, registered.error
    model_id = registered.json()["model_id"]
    assert registered.json()["zk_verifier"] == verifier
    set_ = circuit_of(chain, module_contract(chain, local["module"]), model_id)
    assert (set_.verifier, set_.num_inputs, set_.num_outputs, set_.max_input) == (
        verifier, 64, 10, 16
    )  # fmt: skip

    # A worker fetches the published bundle by CID and runs the circuit from it.
    with IpfsClient(ipfs_api_url, timeout=30) as ipfs:
        fetched = fetch_bundle(ipfs, out["cid"], tmp_path / "fetched")
    data, _ = digit_inputs[0]
    (output,) = infer(load_runtime(fetched, "cpu"), [data])
    assert output.to_bytes() == evaluate(circuit, data, 16).output_file  # type: ignore[union-attr]


def test_publish_without_the_zk_extra_is_a_clear_error(
    local: dict, bundle: Path, tmp_path: Path, ipfs_api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ezkl", None)
    out = Cli()(
        "model", "publish", str(bundle), "--ipfs-api", ipfs_api_url,
        "--zk-work", str(tmp_path / "fresh"), *local["base"], env=local["env"],
    )  # fmt: skip
    assert out.code == 1
    assert "pip install 'inferchain[zk]'" in out.error
