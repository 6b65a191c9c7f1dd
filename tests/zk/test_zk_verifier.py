"""ZkVerifier, the market's ZK mode, on a real Anvil with real EZKL proofs.

The market calls ``onSubmit`` as the submission's hook; here a test account plays the market
and calls it directly with a Job tuple (the market's side of the hooks lands separately).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from web3.contract import Contract
from web3.exceptions import ContractLogicError

from inferchain.chain import Chain, decode_revert
from inferchain.ipfs import Cid
from inferchain.market import ETH, Job
from inferchain.market.jobs import JobTerms
from inferchain.zk import (
    FIELD_MODULUS,
    Circuit,
    Proof,
    ProofRejected,
    Statement,
    compile_verifier,
    deploy_verifier,
    statement,
)
from inferchain.zk.module import REFUSALS, check_with_module, encode_proof
from scripts.demo_models.digits_mlp import PIXEL_MAX
from tests.conftest import AnvilNode
from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    CHALLENGE_WINDOW,
    DAG_PB_CODEC,
    PENDING,
    WORKER_LOSES,
    WORKER_WINS,
    Deployment,
    deploy,
    event,
    reverts,
)

ON_SUBMIT = 2
#: What the provider lets the verifier spend (a valid proof takes ~475k).
VERIFY_GAS = 700_000
#: Enough for the calldata and the binding, not for VERIFY_GAS on top.
STARVED_GAS = 600_000
IZK_SOURCE = Path(__file__).parents[2] / "contracts" / "interfaces" / "IZkVerifier.sol"


@dataclass(frozen=True)
class Setup:
    d: Deployment
    module: Contract
    verifier: Contract
    model: int


@pytest.fixture(scope="module")
def setup(circuit: Circuit, chain: Chain, anvil: AnvilNode) -> Setup:
    d = deploy(chain, anvil.keys, workers=False)
    deployed = deploy_verifier(
        chain,
        chain.sender(d.actors.provider),
        compile_verifier(circuit),
        num_inputs=circuit.num_inputs,
        num_outputs=circuit.num_outputs,
        max_input=PIXEL_MAX,
    )
    module = chain.sender(d.actors.owner).deploy(
        "ZkVerifier", d.models.address, CHALLENGE_WINDOW, ARBITRATION_WINDOW
    )
    d.tx(
        "provider",
        module.functions.setVerifier(
            d.eth_model,
            deployed.verifier.address,
            circuit.num_inputs,
            circuit.num_outputs,
            PIXEL_MAX,
            VERIFY_GAS,
        ),
    )
    return Setup(d, module, deployed.verifier, d.eth_model)


@pytest.fixture
def s(setup: Setup, chain_snapshot: Chain) -> Setup:
    return setup


def _job(s: Setup, claimed: Statement, **changes: object) -> Job:
    """The tuple the market passes to onSubmit for a worker submitting ``claimed``'s output."""
    terms = JobTerms(ETH, 10**16, s.d.addr("provider"), 0, 0, 1, 600, CHALLENGE_WINDOW, ETH, 0)
    job = Job.new(s.d.addr("requester"), s.model, Cid.for_raw_block(claimed.input_file), terms)
    job = job.with_output(
        Cid.for_raw_block(claimed.output_file), claimed.output_digest, worker=s.d.addr("worker")
    )
    return replace(job, **changes)


def _set(s: Setup, model: int):
    return s.module.functions.setVerifier(model, s.verifier.address, 64, 10, 16, VERIFY_GAS)


def _refusal(s: Setup, job: Job, proof: bytes) -> tuple[str, int]:
    refusal, detail = s.d.chain.call(s.module.functions.check(job.as_abi(), proof))
    return REFUSALS[refusal], detail


def _submit(s: Setup, job: Job, proof: bytes, job_id: int = 7) -> tuple[int, dict]:
    """onSubmit as the market (`outsider` plays it): its answer, then the event it emitted."""
    fn = s.module.functions.onSubmit(job_id, job.as_abi(), proof)
    answer = s.d.chain.call(fn, sender=s.d.addr("outsider"))
    receipt = s.d.tx("outsider", fn)
    name = "ProofAccepted" if answer == WORKER_WINS else "ProofRefused"
    return answer, dict(event(s.module, receipt, name))


def test_onSubmit_correct_proof_wins_and_is_recorded(
    s: Setup, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    job = _job(s, claimed)
    answer, accepted = _submit(s, job, encode_proof(proof))
    assert answer == WORKER_WINS
    assert accepted == {"market": s.d.addr("outsider"), "jobId": 7, "modelId": s.model}
    verdict = s.module.functions.verdict
    assert s.d.chain.call(verdict(7, job.as_abi()), sender=s.d.addr("outsider")) == WORKER_WINS
    # Recorded for that market, that job and that very tuple only.
    assert s.d.chain.call(verdict(7, job.as_abi()), sender=s.d.addr("requester")) == PENDING
    assert s.d.chain.call(verdict(8, job.as_abi()), sender=s.d.addr("outsider")) == PENDING
    other = replace(job, usage=b"\x01" * 32)
    assert s.d.chain.call(verdict(7, other.as_abi()), sender=s.d.addr("outsider")) == PENDING
    check_with_module(s.d.chain, s.module, job.as_abi(), encode_proof(proof))


def test_onSubmit_refuses_a_proof_for_another_input(
    s: Setup, proved: tuple[Proof, Statement], digit_inputs: list[tuple[bytes, int]]
) -> None:
    proof, claimed = proved
    other_input = digit_inputs[1][0]
    assert other_input != claimed.input_file
    job = _job(s, claimed, input_digest=hashlib.sha256(other_input).digest())
    answer, refused = _submit(s, job, encode_proof(proof))
    assert answer == WORKER_LOSES
    assert REFUSALS[refused["refusal"]] == "InputMismatch"
    assert refused["detail"] == int.from_bytes(claimed.input_digest, "big")


def test_onSubmit_refuses_a_proof_for_another_output(
    s: Setup, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    cheat = bytearray(claimed.output_file)
    cheat[31] ^= 1  # one logit off by one: another label may win
    digest = hashlib.sha256(bytes(cheat)).digest()
    job = _job(s, claimed, output_digest=digest, output_hash=digest)
    answer, refused = _submit(s, job, encode_proof(proof))
    assert answer == WORKER_LOSES
    assert (REFUSALS[refused["refusal"]], refused["detail"]) == (
        "OutputMismatch",
        int.from_bytes(claimed.output_digest, "big"),
    )
    with pytest.raises(ProofRejected) as rejected:
        check_with_module(s.d.chain, s.module, job.as_abi(), encode_proof(proof))
    assert rejected.value.reason == "OutputMismatch"


def test_onSubmit_refuses_a_tampered_proof(s: Setup, proved: tuple[Proof, Statement]) -> None:
    proof, claimed = proved
    raw = bytearray(proof.proof_bytes)
    raw[100] ^= 0xFF
    tampered = encode_proof(Proof({**proof.document, "hex_proof": "0x" + raw.hex()}))
    answer, refused = _submit(s, _job(s, claimed), tampered)
    assert (answer, REFUSALS[refused["refusal"]]) == (WORKER_LOSES, "ProofInvalid")


def test_onSubmit_refuses_instances_forged_to_match_a_cheats_files(
    s: Setup, proved: tuple[Proof, Statement], circuit: Circuit
) -> None:
    """The binding passes (the tuple matches the forged files); the verifier refuses."""
    proof, _ = proved
    instances = list(proof.instances)
    instances[-1] = (instances[-1] + 1) % FIELD_MODULUS
    forged = proof.with_instances(tuple(instances))
    cheat = statement(forged.instances, circuit.num_inputs, PIXEL_MAX)
    answer, refused = _submit(s, _job(s, cheat), encode_proof(forged))
    assert (answer, REFUSALS[refused["refusal"]]) == (WORKER_LOSES, "ProofInvalid")


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not a proof",
        bytes(range(256)) * 3,
        (2**255).to_bytes(32, "big") + (64).to_bytes(32, "big") + bytes(64),
        (64).to_bytes(32, "big") + (96).to_bytes(32, "big") + (2**200).to_bytes(32, "big"),
    ],
    ids=["empty", "text", "noise", "offset-out", "length-out"],
)
def test_onSubmit_refuses_garbage_without_reverting(
    s: Setup, proved: tuple[Proof, Statement], garbage: bytes
) -> None:
    _, claimed = proved
    answer, refused = _submit(s, _job(s, claimed), garbage)
    assert answer == WORKER_LOSES
    assert (REFUSALS[refused["refusal"]], refused["detail"]) == ("MalformedProof", len(garbage))


def test_onSubmit_refuses_a_proof_with_too_few_instances(
    s: Setup, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    short = proof.with_instances(proof.instances[:-1])
    assert _refusal(s, _job(s, claimed), encode_proof(short)) == ("InstanceCount", 73)


def test_onSubmit_refuses_a_model_without_a_verifier(
    s: Setup, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    job = _job(s, claimed, model_id=s.d.token_model)
    answer, refused = _submit(s, job, encode_proof(proof))
    assert (answer, REFUSALS[refused["refusal"]]) == (WORKER_LOSES, "NoVerifier")


def test_onSubmit_refuses_non_raw_cids_and_a_foreign_output_hash(
    s: Setup, proved: tuple[Proof, Statement]
) -> None:
    proof, claimed = proved
    encoded = encode_proof(proof)
    dag_output = _job(s, claimed, output_codec=DAG_PB_CODEC)
    assert _refusal(s, dag_output, encoded) == ("CodecNotRaw", DAG_PB_CODEC)
    dag_input = _job(s, claimed, input_codec=DAG_PB_CODEC)
    assert _refusal(s, dag_input, encoded) == ("CodecNotRaw", DAG_PB_CODEC)
    foreign = _job(s, claimed, output_hash=b"\x11" * 32)
    assert _refusal(s, foreign, encoded) == ("OutputHashMismatch", 0)


def test_onSubmit_with_too_little_gas_for_the_verifier_reverts(
    s: Setup, proved: tuple[Proof, Statement]
) -> None:
    """Too little gas for the verifier is the caller's gas limit, not a bad proof: a revert,
    never WorkerLoses (a starved pairing precompile would make the verifier say false)."""
    proof, claimed = proved
    fn = s.module.functions.onSubmit(7, _job(s, claimed).as_abi(), encode_proof(proof))
    with pytest.raises(ContractLogicError) as starved:
        fn.call({"gas": STARVED_GAS})
    assert decode_revert(starved.value.data).error_name == "ZkVerifierOutOfGas"


def test_setVerifier_second_time_is_refused(s: Setup) -> None:
    with reverts("ZkVerifierAlreadySet") as refused:
        s.d.tx("provider", _set(s, s.model))
    assert refused.args == {"modelId": s.model, "verifier": s.verifier.address}


def test_setVerifier_by_a_stranger_is_refused(s: Setup) -> None:
    call = _set(s, s.d.token_model)
    with reverts("ZkVerifierNotProvider") as refused:
        s.d.tx("outsider", call)
    assert refused.args == {"modelId": s.d.token_model, "caller": s.d.addr("outsider")}


def test_setVerifier_refuses_no_code_an_empty_circuit_and_an_unknown_model(s: Setup) -> None:
    fn = s.module.functions.setVerifier
    with reverts("ZkVerifierNoCode"):
        s.d.tx("provider", fn(s.d.token_model, s.d.addr("outsider"), 64, 10, 16, VERIFY_GAS))
    with reverts("ZkVerifierBadCircuit"):
        s.d.tx("provider", fn(s.d.token_model, s.verifier.address, 64, 0, 16, VERIFY_GAS))
    with reverts("ZkVerifierBadCircuit"):
        s.d.tx("provider", fn(s.d.token_model, s.verifier.address, 64, 10, 16, 0))
    with reverts("ModelRegistryUnknownModel"):
        s.d.tx("provider", fn(99, s.verifier.address, 64, 10, 16, VERIFY_GAS))
    receipt = s.d.tx("provider", fn(s.d.token_model, s.verifier.address, 64, 10, 16, VERIFY_GAS))
    assert dict(event(s.module, receipt, "VerifierSet")) == {
        "modelId": s.d.token_model,
        "verifier": s.verifier.address,
        "numInputs": 64,
        "numOutputs": 10,
        "maxInput": 16,
        "verifyGas": VERIFY_GAS,
    }
    assert s.d.chain.call(s.module.functions.circuitOf(s.d.token_model)) == (
        s.verifier.address,
        64,
        10,
        16,
        VERIFY_GAS,
    )


def test_module_shape_hooks_fee_and_windows(s: Setup) -> None:
    fns = s.module.functions
    assert s.d.chain.call(fns.hooks()) == ON_SUBMIT
    assert s.d.chain.call(fns.quote(s.d.addr("requester"), s.model, ETH, 10**16)) == 0
    assert s.d.chain.call(fns.challengeWindow()) == CHALLENGE_WINDOW
    assert s.d.chain.call(fns.arbitrationWindow()) == ARBITRATION_WINDOW
    assert s.d.chain.call(fns.registry()) == s.d.models.address


@pytest.mark.parametrize(
    ("challenge", "arbitration"),
    [(599, 86_400), (7 * 86_400 + 1, 86_400), (3_600, 86_399), (3_600, 14 * 86_400 + 1)],
)
def test_constructor_refuses_windows_outside_the_governors_bounds(
    s: Setup, challenge: int, arbitration: int
) -> None:
    with reverts("MarketGovernorParameterOutOfBounds"):
        s.d.chain.sender(s.d.actors.owner).deploy(
            "ZkVerifier", s.d.models.address, challenge, arbitration
        )


def test_refusal_names_follow_the_contracts_enum() -> None:
    source = IZK_SOURCE.read_text(encoding="utf-8")
    body = re.search(r"enum Refusal \{([^}]*)\}", source)
    assert body is not None
    assert tuple(name.strip() for name in body.group(1).split(",")) == REFUSALS
