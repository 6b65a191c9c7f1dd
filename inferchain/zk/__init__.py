"""The ZK verification tier: EZKL circuits, proofs bound to a job's input and output, on-chain.

Shared by the worker who proves and the provider who publishes. Needs the ``zk`` extra
(``ezkl``). How a proof is bound to a job: :mod:`inferchain.zk.binding`; what the locally
generated SRS means for trust: :mod:`inferchain.zk.srs`; the market's mode ``ZkVerifier``
(proof encoding, refusals, registration): :mod:`inferchain.zk.module`; publishing a bundle
with a ``zk`` section: :mod:`inferchain.zk.publish`; docs/verification.md.
"""

from inferchain.zk.binding import (
    FIELD_MODULUS,
    Statement,
    check_binding,
    decode_output,
    encode_output,
    felt_to_signed,
    parse_input,
    statement,
)
from inferchain.zk.circuit import Circuit, CircuitSpec, build_circuit, load_circuit, setup_keys
from inferchain.zk.errors import ProofRejected, ZkError, ZkInputInvalid
from inferchain.zk.evm import (
    CompiledVerifier,
    DeployedVerifier,
    check_on_chain,
    compile_verifier,
    deploy_verifier,
    render_verifier,
)
from inferchain.zk.prover import Proof, evaluate, prove, verify, verify_proof
from inferchain.zk.srs import generate_srs

__all__ = [
    "FIELD_MODULUS",
    "Circuit",
    "CircuitSpec",
    "CompiledVerifier",
    "DeployedVerifier",
    "Proof",
    "ProofRejected",
    "Statement",
    "ZkError",
    "ZkInputInvalid",
    "build_circuit",
    "check_binding",
    "check_on_chain",
    "compile_verifier",
    "decode_output",
    "deploy_verifier",
    "encode_output",
    "evaluate",
    "felt_to_signed",
    "generate_srs",
    "load_circuit",
    "parse_input",
    "prove",
    "render_verifier",
    "setup_keys",
    "statement",
    "verify",
    "verify_proof",
]
