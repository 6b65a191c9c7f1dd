"""The market's ZK mode (``ZkVerifier``) from Python: the proof encoding, checks, registration.

``Result.proof`` for the ZK mode is ``abi.encode(bytes proof, uint256[] instances)``: EZKL's
proof bytes and its public instances (inputs, then outputs). ``ZkVerifier.check`` (an eth_call)
answers with a :data:`REFUSALS` entry, so a worker learns why a proof would be refused before
it spends gas on a submission the market would revert.
"""

from __future__ import annotations

from dataclasses import dataclass

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_abi.exceptions import DecodingError
from web3 import Web3
from web3.contract import Contract

from inferchain.chain import Chain, TransactionSender
from inferchain.zk.errors import ProofRejected, ZkError
from inferchain.zk.prover import Proof

MODULE_CONTRACT = "ZkVerifier"
PROOF_TYPES = ("bytes", "uint256[]")
#: IZkVerifier.Refusal, in declaration order (a test pins it against the contract's docs).
REFUSALS = (
    "None",
    "NoVerifier",
    "CodecNotRaw",
    "OutputHashMismatch",
    "MalformedProof",
    "InstanceCount",
    "InputOutOfRange",
    "OutputOutOfField",
    "InputMismatch",
    "OutputMismatch",
    "ProofInvalid",
)


def encode_proof(proof: Proof) -> bytes:
    """The bytes a worker submits as ``Result.proof`` in the ZK mode."""
    return abi_encode(PROOF_TYPES, [proof.proof_bytes, list(proof.instances)])


def decode_proof(data: bytes) -> tuple[bytes, tuple[int, ...]]:
    """The proof bytes and instances of a ``Result.proof``; ProofRejected if malformed."""
    try:
        proof, instances = abi_decode(PROOF_TYPES, data)
    except (DecodingError, ValueError, OverflowError) as exc:
        raise ProofRejected(
            "the proof is not abi.encode(bytes, uint256[])", "MalformedProof"
        ) from exc
    return bytes(proof), tuple(int(v) for v in instances)


@dataclass(frozen=True)
class ModuleCircuit:
    """What ZkVerifier holds for a model (IZkVerifier.Circuit); a zero verifier means none."""

    verifier: str
    num_inputs: int
    num_outputs: int
    max_input: int
    verify_gas: int

    @property
    def is_set(self) -> bool:
        return int(self.verifier, 16) != 0


def circuit_of(chain: Chain, module: Contract, model_id: int) -> ModuleCircuit:
    verifier, num_inputs, num_outputs, max_input, verify_gas = chain.call(
        module.functions.circuitOf(model_id)
    )
    return ModuleCircuit(
        Web3.to_checksum_address(verifier), num_inputs, num_outputs, max_input, verify_gas
    )


def check_with_module(chain: Chain, module: Contract, job: tuple, proof: bytes) -> None:
    """Ask ZkVerifier whether it would accept ``proof`` for the result in ``job`` (an ABI Job
    tuple, output fields set); ProofRejected names the refusal and its detail."""
    refusal, detail = chain.call(module.functions.check(job, proof))
    if refusal:
        name = REFUSALS[refusal] if refusal < len(REFUSALS) else f"Refusal({refusal})"
        shown = f"0x{detail:064x}" if name.endswith("Mismatch") else str(detail)
        raise ProofRejected(f"ZkVerifier refuses the proof: {name} ({shown})", name)


def set_verifier(
    sender: TransactionSender,
    module: Contract,
    model_id: int,
    verifier: str,
    *,
    num_inputs: int,
    num_outputs: int,
    max_input: int,
    verify_gas: int,
) -> None:
    """Register ``verifier`` for ``model_id`` (the sender must be the model's provider; once).

    ``verify_gas`` is what the verifier gets for every proof: measure a valid proof's cost
    (:func:`verify_gas_for`) and keep a margin, since the setting is final.
    """
    if not (0 < num_inputs < 2**16 and 0 < num_outputs < 2**16 and 0 <= max_input < 2**8):
        raise ZkError(
            f"ZkVerifier takes 1..65535 inputs and outputs and inputs of at most 255; "
            f"the circuit has {num_inputs} inputs, {num_outputs} outputs, max input {max_input}"
        )
    if not 0 < verify_gas < 2**32:
        raise ZkError(f"verify gas must be 1..{2**32 - 1}, got {verify_gas}")
    sender.transact(
        module.functions.setVerifier(
            model_id, verifier, num_inputs, num_outputs, max_input, verify_gas
        )
    )


def verify_gas_for(chain: Chain, verifier: Contract, proof: Proof) -> int:
    """The gas a provider registers: twice what the verifier took for ``proof`` (a valid one),
    which covers the calldata-dependent spread (~1k) with a wide margin."""
    fn = verifier.functions.verifyProof(proof.proof_bytes, list(proof.instances))
    if chain.call(fn) is not True:
        raise ProofRejected("the verifier refuses a fresh proof: it is not this circuit's")
    return 2 * int(fn.estimate_gas())
