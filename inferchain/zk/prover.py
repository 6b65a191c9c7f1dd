"""Prove that a circuit maps one input file to its output file, and check such proofs in Python."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inferchain.zk._ezkl import call, ezkl
from inferchain.zk.binding import (
    Statement,
    check_binding,
    encode_output,
    felt_to_signed,
    parse_input,
    statement,
)
from inferchain.zk.circuit import Circuit
from inferchain.zk.errors import ProofRejected, ZkError


@dataclass(frozen=True)
class Proof:
    """An EZKL proof: ``document`` is ezkl's proof JSON (what ``ezkl.verify`` reads)."""

    document: dict[str, Any]

    @property
    def proof_bytes(self) -> bytes:
        """The proof as the Solidity verifier takes it."""
        return bytes.fromhex(str(self.document["hex_proof"]).removeprefix("0x"))

    @property
    def instances(self) -> tuple[int, ...]:
        """Public inputs then outputs, as field elements (ezkl stores them little-endian hex)."""
        (column,) = self.document["instances"]
        return tuple(int.from_bytes(bytes.fromhex(h), "little") for h in column)

    def with_instances(self, instances: tuple[int, ...]) -> Proof:
        """The same proof claimed for other public values (how a cheat would try it)."""
        column = [v.to_bytes(32, "little").hex() for v in instances]
        return Proof({**self.document, "instances": [column]})


def evaluate(circuit: Circuit, input_file: bytes, max_input: int) -> Statement:
    """Run the model inside the circuit without proving: the output file a proof would give."""
    with tempfile.TemporaryDirectory(prefix="inferchain-zk-") as tmp:
        witness = _witness(circuit, input_file, max_input, Path(tmp))
        document = json.loads(witness.read_text(encoding="utf-8"))
    values = [int.from_bytes(bytes.fromhex(h), "little") for h in document["outputs"][0]]
    return Statement(input_file, encode_output([felt_to_signed(v) for v in values]))


def prove(circuit: Circuit, input_file: bytes, max_input: int) -> tuple[Proof, Statement]:
    """Run the model on ``input_file`` inside the circuit and prove it; returns the statement."""
    with tempfile.TemporaryDirectory(prefix="inferchain-zk-") as tmp:
        witness = _witness(circuit, input_file, max_input, Path(tmp))
        out = Path(tmp) / "proof.json"
        call(
            "prove",
            ezkl().prove,
            str(witness),
            str(circuit.compiled),
            str(circuit.pk),
            str(out),
            str(circuit.srs),
        )
        proof = Proof(json.loads(out.read_text(encoding="utf-8")))
    claimed = statement(proof.instances, circuit.num_inputs, max_input)
    if claimed.input_file != input_file:
        raise ZkError("the circuit did not quantize the input file exactly: check input_scale")
    return proof, claimed


def verify(
    circuit: Circuit,
    proof: Proof,
    *,
    max_input: int,
    input_digest: bytes,
    output_digest: bytes,
) -> Statement:
    """Check the binding to this job, then the proof; ProofRejected if either fails."""
    claimed = check_binding(
        proof.instances, circuit.num_inputs, max_input, input_digest, output_digest
    )
    if not verify_proof(circuit, proof):
        raise ProofRejected("the proof does not verify against the circuit's verifying key")
    return claimed


def verify_proof(circuit: Circuit, proof: Proof) -> bool:
    """The proof alone against the verifying key (no binding): EZKL's native verifier."""
    with tempfile.TemporaryDirectory(prefix="inferchain-zk-") as tmp:
        path = Path(tmp) / "proof.json"
        path.write_text(json.dumps(proof.document))
        try:
            return bool(
                ezkl().verify(
                    str(path), str(circuit.settings), str(circuit.vk), str(circuit.srs), False
                )
            )
        except (RuntimeError, ValueError):
            return False  # ezkl raises on a failed check rather than returning False


def _witness(circuit: Circuit, input_file: bytes, max_input: int, tmp: Path) -> Path:
    """EZKL's witness (the circuit's forward pass) for one input file."""
    pixels = parse_input(input_file, circuit.num_inputs, max_input)
    scale = 2**circuit.input_scale
    data, witness = tmp / "input.json", tmp / "witness.json"
    data.write_text(json.dumps({"input_data": [[v / scale for v in pixels]]}))
    call(
        "gen_witness",
        ezkl().gen_witness,
        str(data),
        str(circuit.compiled),
        str(witness),
        None,
        None,
    )
    return witness
