"""The worker side of the ZK tier: the inferchain-mlp runtime and the proving stage.

Real EZKL (witness and proofs in a spawned process pool), real torch (the digits CNN as the
other, non-ZK job), the proof checked by the deployed verifier on a real Anvil.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from pathlib import Path

import pytest

from inferchain.bundle import Bundle, InvalidInput, load_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.ipfs import Cid
from inferchain.market import ETH, Job
from inferchain.market.jobs import JobTerms
from inferchain.worker.proving import ProvingStage
from inferchain.worker.runtimes import Output, infer, load_runtime
from inferchain.worker.runtimes.zk_mlp import MlpRuntime
from inferchain.worker.tracked import TrackedJob
from inferchain.zk import Circuit, check_binding, compile_verifier, deploy_verifier, evaluate
from inferchain.zk.module import decode_proof
from scripts.demo_models.digits_mlp import PIXEL_MAX
from tests.conftest import AnvilNode
from tests.zk.conftest import MODEL_DIR

ZK_MODE = 2
DIGITS_INPUT = (
    b'{"array": [[0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5]'
    + b", [0, 0, 0, 0, 0, 0, 0, 0]" * 7
    + b"]}"
)
PROOF_WAIT_S = 180


@pytest.fixture(scope="module")
def zk_bundle(tmp_path_factory: pytest.TempPathFactory, circuit: Circuit) -> Bundle:
    """digits-mlp as `inferchain model publish` leaves it (circuit files in zk/)."""
    from inferchain.zk.publish import prepare_bundle

    tmp = tmp_path_factory.mktemp("zk-bundle")
    root = Path(shutil.copytree(MODEL_DIR, tmp / "digits-mlp"))
    prepare_bundle(root, Path(shutil.copytree(circuit.root, tmp / "work")))
    return load_bundle(root)


@pytest.fixture(scope="module")
def mlp(zk_bundle: Bundle) -> MlpRuntime:
    runtime = load_runtime(zk_bundle, "cpu")
    assert isinstance(runtime, MlpRuntime)
    return runtime


def _tracked(job_id: int, model_id: int, verification: int, data: bytes) -> TrackedJob:
    terms = JobTerms(ETH, 10**16, ETH, 0, 0, verification, 600, 3_600, ETH, 0)
    job = Job.new(ETH, model_id, Cid.for_raw_block(data), terms)
    tracked = TrackedJob(job_id, job, Cid.for_raw_block(data).to_bytes(), 2**40)
    tracked.fetched(data)
    return tracked


def _run_and_pin(job: TrackedJob, output: Output) -> None:
    """What runner and pinner do: the output's bytes pinned, their sha256 as outputHash."""
    data = output.to_bytes()
    job.ran(data, None, 0.0)
    job.pinned(Cid.for_raw_block(data), hashlib.sha256(data).digest())


def test_mlp_runtime_outputs_the_circuits_output_file(
    mlp: MlpRuntime, circuit: Circuit, digit_inputs: list[tuple[bytes, int]]
) -> None:
    sample = digit_inputs[:40]
    outputs = infer(mlp, [data for data, _ in sample])
    correct = 0
    for (data, label), output in zip(sample, outputs, strict=True):
        assert isinstance(output, Output)
        assert output.to_bytes() == evaluate(circuit, data, PIXEL_MAX).output_file
        assert len(output.to_bytes()) == 32 * 10
        correct += output.result["label"] == str(label)
    assert correct >= 36  # the model is 97.6 % accurate on the whole held-out split


@pytest.mark.parametrize(
    ("raw", "reason"),
    [(bytes(65), "oversize"), (bytes(63), "wrong_type"), (bytes([17] * 64), "wrong_type"),
     ("text", "wrong_type")],
)  # fmt: skip
def test_mlp_runtime_refuses_inputs_that_are_not_input_files(
    mlp: MlpRuntime, raw: object, reason: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        mlp.prepare(raw)
    assert refused.value.reason == reason


def test_a_non_zk_job_completes_while_a_proof_runs_and_the_proof_verifies_on_chain(
    mlp: MlpRuntime,
    circuit: Circuit,
    digit_inputs: list[tuple[bytes, int]],
    tmp_path: Path,
    chain: Chain,
    anvil: AnvilNode,
) -> None:
    stage = ProvingStage(tmp_path / "keys", {ZK_MODE}, workers=1)
    try:
        zk_job = _tracked(1, 7, ZK_MODE, digit_inputs[5][0])
        cheat = _tracked(2, 7, ZK_MODE, digit_inputs[6][0])
        stage.start([zk_job, cheat], lambda _model: mlp)  # before the run, as the node does
        for job in (zk_job, cheat):
            (output,) = infer(mlp, [job.input])
            _run_and_pin(job, output)  # type: ignore[arg-type]
        cheat.output_hash = hashlib.sha256(b"another output").digest()

        other = _tracked(3, 1, 0, DIGITS_INPUT)  # mode 0, the CNN on torch
        (output,) = infer(
            load_runtime(load_bundle(demo_bundle_path("digits-cnn")), "cpu"), [other.input]
        )
        assert isinstance(output, Output)
        _run_and_pin(other, output)
        assert stage.gate([zk_job, cheat, other]) == [other]
        assert sorted(stage.in_flight()) == [1, 2]  # both proofs still under way

        deadline = time.monotonic() + PROOF_WAIT_S
        ready: list[TrackedJob] = []
        while stage.in_flight() and time.monotonic() < deadline:
            ready += stage.gate([j for j in (zk_job, cheat) if j not in ready])
            time.sleep(0.2)
        assert ready == [zk_job]  # the cheat's proof gives another output: never attached
        assert not cheat.proof and stage.refused == {2}
        assert stage.gate([cheat]) == [] and stage.in_flight() == []  # and never retried
    finally:
        stage.close()

    proof_bytes, instances = decode_proof(zk_job.result().proof)
    check_binding(instances, 64, PIXEL_MAX, zk_job.job.input_digest, zk_job.output_hash)
    verifier = deploy_verifier(
        chain, chain.sender(anvil.keys[8]), compile_verifier(circuit),
        num_inputs=64, num_outputs=10, max_input=PIXEL_MAX,
    ).verifier  # fmt: skip
    assert chain.call(verifier.functions.verifyProof(proof_bytes, list(instances))) is True


def test_a_restarted_worker_proves_a_pinned_job_again_from_its_input(
    mlp: MlpRuntime, digit_inputs: list[tuple[bytes, int]], tmp_path: Path
) -> None:
    """Proofs are not saved: a job restored as pinned, without input or proof, is proven from
    its input read again (``input_of``), with the keys derived on first use."""
    data = digit_inputs[9][0]
    job = _tracked(4, 7, ZK_MODE, data)
    (output,) = infer(mlp, [data])
    _run_and_pin(job, output)  # type: ignore[arg-type]
    assert job.input is None
    reads: list[int] = []
    stage = ProvingStage(
        tmp_path / "keys", {ZK_MODE}, input_of=lambda j: reads.append(j.job_id) or data
    )
    try:
        deadline = time.monotonic() + PROOF_WAIT_S
        ready: list[TrackedJob] = []
        while not ready and time.monotonic() < deadline:
            ready = stage.gate([job], lambda _model: mlp)
            time.sleep(0.2)
    finally:
        stage.close()
    assert ready == [job] and reads == [4]
    _, instances = decode_proof(job.proof)
    check_binding(instances, 64, PIXEL_MAX, job.job.input_digest, job.output_hash)
    assert len(list((tmp_path / "keys").glob("*/pk.key"))) == 1
