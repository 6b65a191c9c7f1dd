"""Publishing the digits-mlp bundle for the ZK tier: circuit built into the bundle, checked
against the weights, verifier deployed and recorded, then set for the model in ZkVerifier, and
a real proof wins through it. Real EZKL, a real Anvil."""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from inferchain.bundle import load_bundle
from inferchain.bundle.builder import rewrite_manifest
from inferchain.chain import Chain
from inferchain.errors import ConfigError
from inferchain.ipfs import Cid
from inferchain.market import ETH, Job
from inferchain.market.jobs import JobTerms
from inferchain.zk import Circuit, ZkError, prove
from inferchain.zk.module import circuit_of, encode_proof
from inferchain.zk.publish import (
    deploy_bundle_verifier,
    module_contract,
    prepare_bundle,
    register_bundle_verifier,
)
from tests.conftest import AnvilNode
from tests.contracts.helpers import ARBITRATION_WINDOW, CHALLENGE_WINDOW, WORKER_WINS, deploy
from tests.zk.conftest import MODEL_DIR


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    root = tmp_path / "digits-mlp"
    shutil.copytree(MODEL_DIR, root)
    return root


@pytest.fixture
def work(tmp_path: Path, circuit: Circuit) -> Path:
    """The session's circuit directory (same graph), so keys are not built again."""
    return Path(shutil.copytree(circuit.root, tmp_path / "work"))


def test_publish_builds_records_deploys_and_registers_then_a_proof_wins(
    bundle: Path,
    work: Path,
    chain: Chain,
    anvil: AnvilNode,
    digit_inputs: list[tuple[bytes, int]],
    chain_snapshot: Chain,
) -> None:
    circuit = prepare_bundle(bundle, work)
    zk = load_bundle(bundle).manifest.zk
    assert zk is not None and zk.circuit is not None and zk.verifier is None
    assert (
        zk.circuit.srs_sha256 == hashlib.sha256((bundle / zk.circuit.srs).read_bytes()).hexdigest()
    )
    assert (bundle / zk.circuit.vk).read_bytes() == circuit.vk.read_bytes()
    assert not (bundle / "zk" / "pk.key").exists()  # workers derive it; 24 MB stays out

    d = deploy(chain, anvil.keys, workers=False)
    provider = chain.sender(d.actors.provider)
    address = deploy_bundle_verifier(bundle, circuit, chain, provider)
    record = load_bundle(bundle).manifest.zk.verifier  # type: ignore[union-attr]
    assert record is not None and record.address == address
    assert record.chain_id == chain.w3.eth.chain_id
    assert 400_000 < record.verify_gas < 2_000_000

    module = chain.sender(d.actors.owner).deploy(
        "ZkVerifier", d.models.address, CHALLENGE_WINDOW, ARBITRATION_WINDOW
    )
    register_bundle_verifier(bundle, chain, provider, module.address, d.eth_model)
    registered = circuit_of(chain, module_contract(chain, module.address), d.eth_model)
    assert (registered.verifier, registered.num_inputs, registered.num_outputs) == (address, 64, 10)
    assert (registered.max_input, registered.verify_gas) == (16, record.verify_gas)

    proof, claimed = prove(circuit, digit_inputs[3][0], 16)
    terms = JobTerms(ETH, 10**16, d.addr("provider"), 0, 0, 1, 600, CHALLENGE_WINDOW, ETH, 0)
    job = Job.new(d.addr("requester"), d.eth_model, Cid.for_raw_block(claimed.input_file), terms)
    job = job.with_output(
        Cid.for_raw_block(claimed.output_file), claimed.output_digest, worker=d.addr("worker")
    )
    answer = chain.call(module.functions.onSubmit(1, job.as_abi(), encode_proof(proof)))
    assert answer == WORKER_WINS


def test_publish_refuses_a_circuit_that_does_not_match_the_weights(
    bundle: Path, work: Path
) -> None:
    weights = load_file(str(bundle / "model.safetensors"))
    weights["out.bias"] = (weights["out.bias"] + np.arange(10) % 2).astype(np.float32)
    save_file(weights, str(bundle / "model.safetensors"))
    rewrite_manifest(bundle)
    with pytest.raises(ZkError, match=r"does not match model\.safetensors: logits differ by"):
        prepare_bundle(bundle, work)


def test_publish_without_ezkl_says_how_to_install_it(
    bundle: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ezkl", None)  # what an install without the extra sees
    with pytest.raises(ConfigError, match=r"pip install 'inferchain\[zk\]'"):
        prepare_bundle(bundle, tmp_path / "fresh")
