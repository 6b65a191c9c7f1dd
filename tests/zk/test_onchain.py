"""The generated verifier and ZkJobCheck on a real Anvil: a real proof passes, cheats revert."""

from __future__ import annotations

import hashlib

import pytest

from inferchain.chain import Chain, ContractReverted
from inferchain.zk import (
    FIELD_MODULUS,
    Circuit,
    DeployedVerifier,
    Proof,
    ProofRejected,
    Statement,
    check_on_chain,
    compile_verifier,
    deploy_verifier,
    statement,
)
from inferchain.zk.evm import MAX_CODE_SIZE
from scripts.demo_models.digits_mlp import PIXEL_MAX
from tests.conftest import AnvilNode


@pytest.fixture(scope="module")
def deployed(circuit: Circuit, chain: Chain, anvil: AnvilNode) -> DeployedVerifier:
    compiled = compile_verifier(circuit)
    assert compiled.verifier.runtime_size <= MAX_CODE_SIZE
    return deploy_verifier(
        chain,
        chain.sender(anvil.keys[7]),
        compiled,
        num_inputs=circuit.num_inputs,
        num_outputs=circuit.num_outputs,
        max_input=PIXEL_MAX,
    )


def _reason(deployed: DeployedVerifier, proof: Proof, input_digest: bytes, out: bytes) -> str:
    with pytest.raises(ProofRejected) as refused:
        check_on_chain(deployed, proof, input_digest=input_digest, output_digest=out)
    return refused.value.reason


def test_real_proof_verifies_on_chain(
    deployed: DeployedVerifier, proved: tuple[Proof, Statement], chain: Chain, anvil: AnvilNode
) -> None:
    proof, claimed = proved
    check_on_chain(
        deployed, proof, input_digest=claimed.input_digest, output_digest=claimed.output_digest
    )
    receipt = chain.sender(anvil.keys[7]).transact(
        deployed.check.functions.check(
            claimed.input_digest, claimed.output_digest, proof.proof_bytes, list(proof.instances)
        )
    )
    assert receipt["status"] == 1


def test_on_chain_check_refuses_another_input_or_output(
    deployed: DeployedVerifier, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    other = hashlib.sha256(b"not this job").digest()
    assert _reason(deployed, proof, other, claimed.output_digest).startswith(
        "ZkJobCheckInputMismatch("
    )
    assert _reason(deployed, proof, claimed.input_digest, other).startswith(
        "ZkJobCheckOutputMismatch("
    )


@pytest.mark.parametrize("index", [0, -1], ids=["input", "output"])
def test_on_chain_check_refuses_tampered_public_values(
    deployed: DeployedVerifier, proved: tuple[Proof, Statement], circuit: Circuit, index: int
) -> None:
    """Instances edited to a cheat's own files, with digests to match: the verifier refuses."""
    proof, _ = proved
    instances = list(proof.instances)
    instances[index] = (instances[index] + 1) % FIELD_MODULUS
    forged = proof.with_instances(tuple(instances))
    claim = statement(forged.instances, circuit.num_inputs, PIXEL_MAX)
    reason = _reason(deployed, forged, claim.input_digest, claim.output_digest)
    assert reason == "ZkJobCheckProofRejected()"


def test_on_chain_check_refuses_an_input_outside_the_byte_range(
    deployed: DeployedVerifier, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    instances = list(proof.instances)
    instances[5] = PIXEL_MAX + 1
    reason = _reason(
        deployed,
        proof.with_instances(tuple(instances)),
        claimed.input_digest,
        claimed.output_digest,
    )
    assert reason == f"ZkJobCheckInputOutOfRange(5, {PIXEL_MAX + 1})"


def test_generated_verifier_alone_refuses_tampered_instances(
    deployed: DeployedVerifier, proved: tuple[Proof, Statement], chain: Chain
) -> None:
    proof, _ = proved
    fn = deployed.verifier.functions.verifyProof
    assert chain.call(fn(proof.proof_bytes, list(proof.instances))) is True
    tampered = [*proof.instances[:-1], (proof.instances[-1] + 1) % FIELD_MODULUS]
    with pytest.raises(ContractReverted):
        chain.call(fn(proof.proof_bytes, tampered))
