"""Prove and verify in Python: a real EZKL proof, refused for another input or output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from inferchain.ipfs import Cid
from inferchain.zk import (
    FIELD_MODULUS,
    Circuit,
    Proof,
    ProofRejected,
    Statement,
    ZkError,
    build_circuit,
    decode_output,
    encode_output,
    evaluate,
    load_circuit,
    setup_keys,
    statement,
    verify,
    verify_proof,
)
from scripts.demo_models.digits_mlp import PIXEL_MAX


def _verify(circuit: Circuit, proof: Proof, claimed: Statement) -> Statement:
    return verify(
        circuit,
        proof,
        max_input=PIXEL_MAX,
        input_digest=claimed.input_digest,
        output_digest=claimed.output_digest,
    )


def test_prove_then_verify_binds_input_and_output(
    circuit: Circuit, proved: tuple[Proof, Statement], digit_inputs: list[tuple[bytes, int]]
) -> None:
    proof, claimed = proved
    input_file, label = digit_inputs[0]
    assert claimed.input_file == input_file
    # Both files are raw single-block CIDs: the digests the chain holds are the ones checked.
    assert Cid.for_raw_block(input_file).digest32 == claimed.input_digest
    assert Cid.for_raw_block(claimed.output_file).digest32 == claimed.output_digest
    assert claimed == evaluate(circuit, input_file, PIXEL_MAX)
    assert int(np.argmax(decode_output(claimed.output_file))) == label
    assert _verify(circuit, proof, claimed) == claimed


def test_verify_refuses_the_proof_for_another_jobs_input(
    circuit: Circuit, proved: tuple[Proof, Statement], digit_inputs: list[tuple[bytes, int]]
) -> None:
    proof, claimed = proved
    other_job = Statement(digit_inputs[1][0], claimed.output_file)
    with pytest.raises(ProofRejected, match="the job's input CID has"):
        _verify(circuit, proof, other_job)


def test_verify_refuses_a_submitted_output_the_proof_does_not_give(
    circuit: Circuit, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    logits = list(decode_output(claimed.output_file))
    logits[0] += 1
    with pytest.raises(ProofRejected, match="the worker submitted"):
        _verify(circuit, proof, Statement(claimed.input_file, encode_output(logits)))


@pytest.mark.parametrize("index", [0, -1], ids=["input", "output"])
def test_tampered_public_values_fail_the_proof_itself(
    circuit: Circuit, proved: tuple[Proof, Statement], index: int
) -> None:
    """A cheat who edits the proof's instances to match its own files passes the binding only."""
    proof, _ = proved
    instances = list(proof.instances)
    instances[index] = (instances[index] + 1) % FIELD_MODULUS
    forged = proof.with_instances(tuple(instances))
    forged_claim = statement(forged.instances, circuit.num_inputs, PIXEL_MAX)
    assert not verify_proof(circuit, forged)
    with pytest.raises(ProofRejected, match="does not verify"):
        _verify(circuit, forged, forged_claim)


def test_keygen_from_the_same_srs_reproduces_the_verifying_key(
    circuit: Circuit, tmp_path: Path
) -> None:
    """A worker that re-derives the keys from the provider's SRS and circuit gets the same vk."""
    setup_keys(circuit, tmp_path / "vk.key", tmp_path / "pk.key")
    assert (tmp_path / "vk.key").read_bytes() == circuit.vk.read_bytes()


def test_build_circuit_refuses_a_directory_of_another_graph(
    circuit: Circuit, tmp_path: Path
) -> None:
    other = tmp_path / "other.onnx"
    other.write_bytes(b"another model")
    with pytest.raises(ZkError, match="another ONNX graph"):
        build_circuit(other, circuit.root)
    assert load_circuit(circuit.root) == circuit
