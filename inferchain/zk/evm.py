"""The on-chain check: render EZKL's Solidity verifier, compile it with the pinned solc, deploy it.

The verifier is generated from the verifying key at publish time (it embeds the key, so it
changes with every SRS) and compiled here; ``ZkJobCheck`` (a shipped artifact, from
``contracts/verifiers/``) checks the binding (inferchain.zk.binding) before it calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from inferchain.artifacts import load_artifact
from inferchain.chain import Chain, TransactionSender
from inferchain.chain.revert import error_selectors
from inferchain.solidity import compile_standard_json
from inferchain.solidity.config import compiler_settings
from inferchain.zk._ezkl import call_async, ezkl
from inferchain.zk.circuit import Circuit
from inferchain.zk.errors import ProofRejected, ZkError
from inferchain.zk.prover import Proof

VERIFIER_SOURCE = "Verifier.sol"
VERIFIER_CONTRACT = "Halo2Verifier"
CHECK_CONTRACT = "ZkJobCheck"
#: EIP-170: the most runtime code one contract may have.
MAX_CODE_SIZE = 24_576


@dataclass(frozen=True)
class CompiledContract:
    abi: list[dict[str, Any]]
    bytecode: str
    runtime_size: int


@dataclass(frozen=True)
class CompiledVerifier:
    verifier: CompiledContract
    check: CompiledContract


@dataclass(frozen=True)
class DeployedVerifier:
    verifier: Contract
    check: Contract


def render_verifier(circuit: Circuit) -> Path:
    """Write the circuit's Solidity verifier (``Verifier.sol`` in its directory) and return it.

    ezkl renders the file, then asks svm for a native solc to derive an ABI, which needs the
    internet; that last step's failure is ignored once the source is written (we compile with
    the pinned solcjs instead).
    """
    path = circuit.root / VERIFIER_SOURCE
    path.unlink(missing_ok=True)
    abi_path = circuit.root / "verifier_abi.json"
    try:
        call_async(
            "create_evm_verifier",
            ezkl().create_evm_verifier,
            str(circuit.vk),
            str(circuit.settings),
            str(path),
            str(abi_path),
            str(circuit.srs),
            False,
        )
    except ZkError as exc:
        if "svm" not in str(exc) or not path.is_file():
            raise
    source = path.read_text(encoding="utf-8") if path.is_file() else ""
    if f"contract {VERIFIER_CONTRACT}" not in source:
        raise ZkError(f"ezkl wrote no {VERIFIER_CONTRACT} to {path}")
    return path


def compile_verifier(circuit: Circuit) -> CompiledVerifier:
    """Render (if needed) and compile the verifier, with ZkJobCheck; refuse one over EIP-170."""
    source = circuit.root / VERIFIER_SOURCE
    if not source.is_file():
        render_verifier(circuit)
    output = compile_standard_json(
        {
            "language": "Solidity",
            "sources": {
                VERIFIER_SOURCE: {"content": source.read_text(encoding="utf-8")},
            },
            "settings": compiler_settings(),
        }
    )
    verifier = _contract(output, VERIFIER_SOURCE, VERIFIER_CONTRACT)
    if verifier.runtime_size > MAX_CODE_SIZE:
        raise ZkError(
            f"the verifier is {verifier.runtime_size} bytes, over the {MAX_CODE_SIZE}-byte "
            "limit: render it reusable (create_evm_verifier reusable=True plus create_evm_vka)"
        )
    check = load_artifact(CHECK_CONTRACT)
    runtime_size = len(check.deployed_bytecode.removeprefix("0x")) // 2
    return CompiledVerifier(verifier, CompiledContract(check.abi, check.bytecode, runtime_size))


def deploy_verifier(
    chain: Chain,
    sender: TransactionSender,
    compiled: CompiledVerifier,
    *,
    num_inputs: int,
    num_outputs: int,
    max_input: int,
) -> DeployedVerifier:
    """Deploy the verifier and a ZkJobCheck bound to it for this circuit's instance layout."""
    verifier = _deploy(chain, sender, compiled.verifier)
    check = _deploy(
        chain, sender, compiled.check, verifier.address, num_inputs, num_outputs, max_input
    )
    return DeployedVerifier(verifier, check)


def check_on_chain(
    deployed: DeployedVerifier, proof: Proof, *, input_digest: bytes, output_digest: bytes
) -> None:
    """Ask the deployed ZkJobCheck (eth_call); ProofRejected names the error it reverted with."""
    fn = deployed.check.functions.check(
        input_digest, output_digest, proof.proof_bytes, list(proof.instances)
    )
    try:
        fn.call()
    except ContractLogicError as exc:
        reason = _error_name(deployed.check.abi, exc.data)
        raise ProofRejected(f"the on-chain check refused the proof: {reason}", reason) from exc


def _error_name(abi: list[dict[str, Any]], data: object) -> str:
    """`Name(args)` of the custom error in revert ``data``, decoded with ``abi``."""
    raw = bytes.fromhex(data.removeprefix("0x")) if isinstance(data, str) else b""
    known = error_selectors([abi]).get(raw[:4])
    if known is None:
        return f"revert 0x{raw.hex()}"
    name, inputs = known
    values = abi_decode([p["type"] for p in inputs], raw[4:])
    rendered = ", ".join(v.hex() if isinstance(v, bytes) else str(v) for v in values)
    return f"{name}({rendered})"


def _deploy(
    chain: Chain, sender: TransactionSender, compiled: CompiledContract, *args: Any
) -> Contract:
    factory = chain.w3.eth.contract(abi=compiled.abi, bytecode=compiled.bytecode)
    receipt = sender.transact(factory.constructor(*args))
    return chain.w3.eth.contract(address=receipt["contractAddress"], abi=compiled.abi)


def _contract(output: dict[str, Any], source: str, name: str) -> CompiledContract:
    try:
        data = output["contracts"][source][name]
    except KeyError as exc:
        raise ZkError(f"solc produced no {name} from {source}") from exc
    return CompiledContract(
        abi=data["abi"],
        bytecode="0x" + data["evm"]["bytecode"]["object"],
        runtime_size=len(data["evm"]["deployedBytecode"]["object"]) // 2,
    )
