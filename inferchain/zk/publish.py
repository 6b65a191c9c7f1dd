"""Publishing a ZK-tier bundle: build its circuit into it, check it against the weights, deploy
its verifier, and set that verifier in the market's ZkVerifier once the model is registered.

A bundle with a ``zk`` section carries, after :func:`prepare_bundle`, the circuit files a
worker needs (settings, compiled circuit, SRS, verifying key; not the 24 MB proving key, which
keygen derives from them deterministically). :func:`deploy_bundle_verifier` records the
verifier's address and gas in the manifest, so the bundle CID pins the whole check; the
model id exists only after registration, hence :func:`register_bundle_verifier` last.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file
from web3.contract import Contract

from inferchain.artifacts import load_artifact
from inferchain.bundle import load_bundle
from inferchain.bundle.builder import rewrite_manifest
from inferchain.bundle.manifest import (
    MANIFEST_NAME,
    Manifest,
    ZkCircuit,
    ZkSection,
    ZkVerifierRecord,
    parse_manifest,
)
from inferchain.chain import Chain, TransactionSender
from inferchain.zk.binding import decode_output
from inferchain.zk.circuit import Circuit, build_circuit
from inferchain.zk.errors import ZkError
from inferchain.zk.evm import compile_verifier, deploy_verifier
from inferchain.zk.module import MODULE_CONTRACT, set_verifier, verify_gas_for
from inferchain.zk.prover import evaluate, prove

CIRCUIT_DIR = "zk"
#: Largest gap allowed between the circuit's logits and the float weights' (logit units).
LOGIT_TOLERANCE = 0.25


def _manifest(root: Path) -> tuple[Manifest, ZkSection]:
    manifest = parse_manifest((root / MANIFEST_NAME).read_bytes())
    if manifest.zk is None:
        raise ZkError(f"{root / MANIFEST_NAME} has no zk section: not a ZK-tier bundle")
    return manifest, manifest.zk


def prepare_bundle(root: Path, work: Path) -> Circuit:
    """Build (or reuse) the circuit in ``work``, check it against the bundle's weights, copy
    the files a worker needs into ``root/zk`` and record them in the manifest."""
    manifest, zk = _manifest(root)
    existing = root / CIRCUIT_DIR / "kzg.srs"
    circuit = build_circuit(root / zk.onnx, work, srs=existing if existing.is_file() else None)
    shipped_vk = root / zk.circuit.vk if zk.circuit is not None else None
    shipped = shipped_vk.read_bytes() if shipped_vk and shipped_vk.is_file() else None
    if shipped is not None and shipped != circuit.vk.read_bytes():
        raise ZkError(
            f"{shipped_vk} is not the verifying key of {zk.onnx} with the bundle's "
            "SRS: the circuit does not match the graph; remove the zk/ files to rebuild"
        )
    check_circuit_matches_weights(root, manifest, circuit)
    target = root / CIRCUIT_DIR
    target.mkdir(exist_ok=True)
    for source in (circuit.settings, circuit.compiled, circuit.srs, circuit.vk):
        shutil.copyfile(source, target / source.name)
    record = {
        "settings": f"{CIRCUIT_DIR}/{circuit.settings.name}",
        "compiled": f"{CIRCUIT_DIR}/{circuit.compiled.name}",
        "vk": f"{CIRCUIT_DIR}/{circuit.vk.name}",
        "srs": f"{CIRCUIT_DIR}/{circuit.srs.name}",
        "srs_sha256": hashlib.sha256(circuit.srs.read_bytes()).hexdigest(),
        "num_inputs": circuit.num_inputs,
        "num_outputs": circuit.num_outputs,
        "input_scale": circuit.input_scale,
        "output_scale": circuit.output_scale,
    }
    verifier = zk.verifier if zk.circuit is not None and zk.circuit.vk == record["vk"] else None
    section = zk.model_dump(mode="json") | {"circuit": record}
    if verifier is None:
        section["verifier"] = None
    rewrite_manifest(root, zk=section)
    return circuit


def check_circuit_matches_weights(root: Path, manifest: Manifest, circuit: Circuit) -> None:
    """The circuit's logits on probe inputs against the float MLP in the weights file (the
    ``inferchain-mlp`` layout: ``hidden`` then ``out``); ZkError if they disagree."""
    zk = manifest.zk
    assert zk is not None
    weights = load_file(str(root / manifest.weights))
    try:
        layers = [(weights[f"{n}.weight"], weights[f"{n}.bias"]) for n in ("hidden", "out")]
    except KeyError as exc:
        raise ZkError(f"{manifest.weights} has no {exc.args[0]}: not an inferchain-mlp") from exc
    probes = [
        bytes(i % (zk.max_input + 1) for i in range(circuit.num_inputs)),
        bytes(zk.max_input * ((i // 3) % 2) for i in range(circuit.num_inputs)),
    ]
    for probe in probes:
        x = np.frombuffer(probe, dtype=np.uint8).astype(np.float32) / 2**circuit.input_scale
        for index, (weight, bias) in enumerate(layers):
            x = x @ weight.T + bias
            if index < len(layers) - 1:
                x = np.maximum(x, 0)
        got = evaluate(circuit, probe, zk.max_input).output_file
        logits = np.array(decode_output(got), dtype=np.float64) / 2**circuit.output_scale
        gap = float(np.abs(logits - x).max()) if logits.shape == x.shape else float("inf")
        if gap > LOGIT_TOLERANCE:
            raise ZkError(
                f"the circuit of {zk.onnx} does not match {manifest.weights}: logits differ by "
                f"{gap:.3f} (> {LOGIT_TOLERANCE}) on a probe input; re-export the ONNX graph"
            )


def deploy_bundle_verifier(
    root: Path, circuit: Circuit, chain: Chain, sender: TransactionSender
) -> str:
    """Deploy the circuit's verifier, prove a probe input to measure its gas, and record
    address, chain and gas in the manifest. Returns the verifier's address."""
    _, zk = _manifest(root)
    deployed = deploy_verifier(
        chain,
        sender,
        compile_verifier(circuit),
        num_inputs=circuit.num_inputs,
        num_outputs=circuit.num_outputs,
        max_input=zk.max_input,
    )
    proof, _ = prove(circuit, bytes(circuit.num_inputs), zk.max_input)
    gas = verify_gas_for(chain, deployed.verifier, proof)
    address = deployed.verifier.address
    record = {"chain_id": chain.w3.eth.chain_id, "address": address, "verify_gas": gas}
    rewrite_manifest(root, zk=zk.model_dump(mode="json") | {"verifier": record})
    return str(address)


def publish_circuit(
    root: Path, work: Path, connect: Callable[[], tuple[Chain, TransactionSender]]
) -> tuple[ZkSection, str | None]:
    """What `inferchain model publish` does to a ZK bundle before pinning it: the circuit
    (:func:`prepare_bundle`), then its verifier unless the manifest records one, deployed
    through ``connect()`` (called only then). Returns the manifest's zk section and the
    address deployed now (None when the recorded one is kept)."""
    circuit = prepare_bundle(root, work)
    _, zk = _manifest(root)
    if zk.verifier is not None:
        return zk, None
    chain, sender = connect()
    address = deploy_bundle_verifier(root, circuit, chain, sender)
    return _manifest(root)[1], address


def recorded_verifier(
    root: Path, chain: Chain, manifest_sha256: str | None = None
) -> tuple[ZkSection, ZkCircuit, ZkVerifierRecord]:
    """The bundle's zk section with its circuit and the verifier recorded for ``chain``;
    ZkError (or BundleHashMismatch against ``manifest_sha256``) says what is missing."""
    manifest = load_bundle(root, expected_manifest_sha256=manifest_sha256).manifest
    zk = manifest.zk
    if zk is None or zk.circuit is None or zk.verifier is None:
        raise ZkError(f"{root}: no verifier recorded; run `inferchain model publish` first")
    if zk.verifier.chain_id != chain.w3.eth.chain_id:
        raise ZkError(
            f"the bundle's verifier is on chain {zk.verifier.chain_id}, not {chain.w3.eth.chain_id}"
        )
    return zk, zk.circuit, zk.verifier


def register_bundle_verifier(
    root: Path, chain: Chain, sender: TransactionSender, module_address: str, model_id: int
) -> str:
    """Set the bundle's recorded verifier for ``model_id`` in ZkVerifier (sender: provider)."""
    zk, circuit, verifier = recorded_verifier(root, chain)
    set_verifier(
        sender,
        module_contract(chain, module_address),
        model_id,
        verifier.address,
        num_inputs=circuit.num_inputs,
        num_outputs=circuit.num_outputs,
        max_input=zk.max_input,
        verify_gas=verifier.verify_gas,
    )
    return verifier.address


def module_contract(chain: Chain, address: str) -> Contract:
    return chain.w3.eth.contract(address=address, abi=load_artifact(MODULE_CONTRACT).abi)


__all__ = [
    "check_circuit_matches_weights",
    "deploy_bundle_verifier",
    "module_contract",
    "prepare_bundle",
    "publish_circuit",
    "recorded_verifier",
    "register_bundle_verifier",
]
