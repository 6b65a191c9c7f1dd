#!/usr/bin/env python3
"""Cost of the verification tiers (ZK and reexec) on this machine and a local Anvil.

    python scripts/bench_verification.py            # key value lines
    python scripts/bench_verification.py --json --proofs 10
    python scripts/bench_verification.py --tiers reexec

ZK: the committed digits MLP (inferchain/bundle/demos/bundles/digits-mlp), its EZKL circuit
built in a temporary directory with a fresh local SRS, proofs of held-out digits (one input
each; the median is ``zk_prove_s``), then the generated verifier and ZkJobCheck compiled with
the pinned solcjs and deployed to an Anvil the script starts. ``zk_verify_gas`` is the gas of
a transaction calling the verifier (21,000 base and calldata included); ``zk_check_gas`` adds
the binding to the job's input and output (ZkJobCheck.check); ``zk_onsubmit_gas`` is the
market's mode doing the same from a Job tuple and recording the verdict (ZkVerifier.onSubmit,
called directly: what the market's submission adds on top of its own work);
``zk_market_submit_gas`` is the whole ZK submission through the market: ``submitResult`` on an
Open mode-1 job (claimed and submitted at once, as a worker's fast path does), the proof
checked by ZkVerifier and the job paid in the same transaction.

Reexec: Anvil (1 s blocks, as a live chain would mine) and an IPFS node started here, a
market deployed with ReexecVerifier (mode 2, the local defaults: k = 3), the digits CNN demo
model, and three verifier duties (`workers/verifying.py`, each in its own thread, polling
every 0.2 s) in a pool of five. ``reexec_settle_s`` is the median wall time, over
``--reexec-jobs`` jobs, from the honest submission's receipt to the round settled: draw,
three re-executions, commits, reveals, the market's finalize and the round's settle.

Gas (``--tiers gas``, a private Anvil, the contract tests' deployment and steps):
``gas_per_job_<tier>`` is what one job of each tier costs on-chain, all parties together:
``none`` the steady-state lifecycle (create, submit on Open, finalize), ``reexec`` create,
submit, draw, k = 3 commits and reveals, finalize and the round's settle (a pool of 7), and
``zk`` (with the ZK tier) create plus ``zk_market_submit_gas``; ``gas_committee_dispute`` is
what a disputed ``none`` job adds when the committee court judges it (dispute, openDispute,
draw, votes, resolveDispute, settle).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the digits MLP's builder lives in scripts/demo_models

from inferchain.bundle.demos import BUNDLES_DIR  # noqa: E402
from inferchain.chain import Chain  # noqa: E402
from inferchain.chain.sender import TransactionSender  # noqa: E402
from inferchain.devstack import dev_private_keys, free_port, start_anvil  # noqa: E402
from inferchain.ipfs import Cid  # noqa: E402
from inferchain.market import (  # noqa: E402
    ETH,
    Job,
    JobRequest,
    Market,
    MarketConfig,
    ModelSpec,
    Result,
    created_job_id,
    deploy_market,
    fetch_market_events,
    fold_events,
)
from inferchain.worker.account import ensure_ready  # noqa: E402
from inferchain.zk import (  # noqa: E402
    build_circuit,
    compile_verifier,
    deploy_verifier,
    generate_srs,
    prove,
    setup_keys,
    verify_proof,
)
from scripts.demo_models.digits_mlp import (  # noqa: E402
    NAME,
    ONNX_NAME,
    PIXEL_MAX,
    held_out_pixels,
)


def _timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def bench_zk(proofs: int, work: Path) -> dict[str, float | int]:
    onnx = BUNDLES_DIR / NAME / ONNX_NAME
    results: dict[str, float | int] = {}
    # The whole publish-time setup, then its two heavy steps again, timed apart.
    circuit, results["zk_setup_total_s"] = _timed(build_circuit, onnx, work / "circuit")
    _, results["zk_srs_gen_s"] = _timed(generate_srs, work / "srs2", circuit.logrows)
    _, results["zk_keygen_s"] = _timed(setup_keys, circuit, work / "vk2", work / "pk2")
    results |= {
        "zk_logrows": circuit.logrows,
        "zk_rows": circuit.num_rows,
        "zk_srs_bytes": circuit.srs.stat().st_size,
        "zk_pk_bytes": circuit.pk.stat().st_size,
        "zk_vk_bytes": circuit.vk.stat().st_size,
        "zk_compiled_circuit_bytes": circuit.compiled.stat().st_size,
    }
    pixels, _ = held_out_pixels()
    times, proof, claimed = [], None, None
    for row in pixels[:proofs]:
        (proof, claimed), seconds = _timed(prove, circuit, bytes(row), PIXEL_MAX)
        times.append(seconds)
    assert proof is not None and claimed is not None
    results["zk_prove_s"] = round(statistics.median(times), 3)
    results["zk_prove_max_s"] = round(max(times), 3)
    results["zk_proof_bytes"] = len(proof.proof_bytes)
    ok, results["zk_verify_python_s"] = _timed(verify_proof, circuit, proof)
    if not ok:
        raise SystemExit("the proof did not verify in Python")
    compiled, results["zk_verifier_compile_s"] = _timed(compile_verifier, circuit)
    results["zk_verifier_bytes"] = compiled.verifier.runtime_size
    results["zk_check_bytes"] = compiled.check.runtime_size
    results |= _bench_gas(circuit, compiled, proof, claimed, work)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}


def _bench_gas(circuit: Any, compiled: Any, proof: Any, claimed: Any, work: Path) -> dict[str, int]:
    anvil = start_anvil(free_port(), work / "anvil.log")
    try:
        chain = Chain(anvil.url)
        sender = chain.sender(next(iter(dev_private_keys())))
        deployed = deploy_verifier(
            chain,
            sender,
            compiled,
            num_inputs=circuit.num_inputs,
            num_outputs=circuit.num_outputs,
            max_input=PIXEL_MAX,
        )
        args = (proof.proof_bytes, list(proof.instances))
        verify = sender.transact(deployed.verifier.functions.verifyProof(*args))
        check = sender.transact(
            deployed.check.functions.check(claimed.input_digest, claimed.output_digest, *args)
        )
        create_gas, submit_gas = _market_submit_gas(chain, deployed.verifier.address, proof)
        return {
            "zk_verify_gas": verify["gasUsed"],
            "zk_check_gas": check["gasUsed"],
            "zk_onsubmit_gas": _onsubmit_gas(chain, sender, deployed.verifier.address, proof),
            "zk_market_submit_gas": submit_gas,
            "gas_per_job_zk": create_gas + submit_gas,
        }
    finally:
        anvil.stop()


def _onsubmit_gas(chain: Chain, sender: Any, verifier: str, proof: Any) -> int:
    """ZkVerifier.onSubmit for one proven digits job, the model in a fresh ModelRegistry."""
    from inferchain.market.jobs import JobTerms
    from inferchain.zk.binding import statement
    from inferchain.zk.module import encode_proof

    registry = sender.deploy("ModelRegistry")
    bundle = Cid.from_digest32(bytes(32), 0x70)
    spec = ModelSpec(bundle, bytes(32), "image-classification", 10**16, 0, ETH)
    sender.transact(registry.functions.registerModel(spec.as_abi()))
    module = sender.deploy("ZkVerifier", registry.address, 3_600, 86_400)
    sender.transact(module.functions.setVerifier(1, verifier, 64, 10, PIXEL_MAX, 1_000_000))
    claimed = statement(proof.instances, 64, PIXEL_MAX)
    terms = JobTerms(ETH, 10**16, sender.address, 0, 0, 1, 600, 3_600, ETH, 0)
    job = Job.new(sender.address, 1, Cid.for_raw_block(claimed.input_file), terms)
    job = job.with_output(Cid.for_raw_block(claimed.output_file), claimed.output_digest)
    call = module.functions.onSubmit(1, job.as_abi(), encode_proof(proof))
    if chain.call(call, sender=sender.address) != 1:
        raise SystemExit("ZkVerifier did not accept the proof")
    return int(sender.transact(call)["gasUsed"])


def _market_submit_gas(chain: Chain, verifier: str, proof: Any) -> tuple[int, int]:
    """Gas of createJob, then of submitResult with a proof on that Open mode-1 job, in a market
    deployed with its ZK mode."""
    from web3.logs import DISCARD

    from inferchain.market.deploy import ZK_MODE
    from inferchain.zk.binding import statement
    from inferchain.zk.module import encode_proof

    keys = list(dev_private_keys())
    provider, requester, worker = (chain.sender(k) for k in keys[1:4])
    market = deploy_market(chain, keys[0], MarketConfig(disputes="manual"), zk=True)
    model = _register_model(chain, market, provider, Cid.from_digest32(bytes(32), 0x70), bytes(32))
    assert market.zk is not None
    provider.transact(
        market.zk.functions.setVerifier(model, verifier, 64, 10, PIXEL_MAX, 1_000_000)
    )
    ensure_ready(chain, market, worker, [model], register=True, stake={ETH: 10**18})
    claimed = statement(proof.instances, 64, PIXEL_MAX)
    request = JobRequest(model, Cid.for_raw_block(claimed.input_file), 10**16,
                         chain.block_timestamp() + 3_600, 600, verification=ZK_MODE)  # fmt: skip
    result = Result(Cid.for_raw_block(claimed.output_file), claimed.output_digest,
                    proof=encode_proof(proof))  # fmt: skip
    _, created, sent = _create_and_submit(market, requester, worker, request, 10**16, result)
    if not market.jobs.events.JobFinalized().process_receipt(sent, errors=DISCARD):
        raise SystemExit("the ZK job was not paid at submission")
    return int(created["gasUsed"]), int(sent["gasUsed"])


def bench_reexec(jobs: int, work: Path) -> dict[str, float | int]:
    """Submit → settled for `jobs` honest reexec jobs, one after another (see the docstring)."""
    import hashlib

    from inferchain.bundle import BundleCache, ipfs_fetcher, publish_bundle
    from inferchain.bundle.demos import demo_bundle_path
    from inferchain.devstack import scratch_stack
    from inferchain.ipfs import IpfsClient
    from inferchain.market.modes import REEXEC_MODE
    from inferchain.market.reexec import Stage, read_params, read_round
    from inferchain.worker.runner import ModelRunner
    from inferchain.worker.runtimes import RuntimePool, infer
    from inferchain.worker.verifying import VerifierDuty

    duties: list[VerifierDuty] = []
    with scratch_stack(work, anvil_log="anvil-reexec.log", block_time=1) as (anvil, ipfs_node):
        try:
            chain, ipfs = Chain(anvil.url), IpfsClient(ipfs_node.url, timeout=30)
            keys = list(dev_private_keys())
            provider, requester, worker = (chain.sender(k) for k in keys[1:4])
            market = deploy_market(chain, keys[0], MarketConfig(challenge_window=600), reexec=True)
            assert market.reexec is not None
            published = publish_bundle(ipfs, demo_bundle_path("digits-cnn"))
            bundle = Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256)
            model = _register_model(chain, market, provider, *bundle)
            ensure_ready(chain, market, worker, [model], register=True, stake={ETH: 10**18})
            params = read_params(chain, market.reexec)
            fee = params.committee_size * params.fee_per_verifier
            for key in (*keys[4:7], keys[2], keys[3]):  # verifiers, then requester and worker
                chain.sender(key).transact(market.reexec.functions.join(), value=params.min_bond)
            for i, key in enumerate(keys[4:7]):  # each its own connection, as a node's duty
                own = Market.connect(Chain(anvil.url), market.addresses)
                cache = BundleCache(work / f"bundles-{i}", 1 << 30, ipfs_fetcher(ipfs))
                runner = ModelRunner(own.chain, own, RuntimePool(cache, 1 << 30, "cpu"))
                duty = VerifierDuty(own, own.chain.sender(key), key, runner, ipfs, poll_s=0.2)
                duties.append(duty)
            for duty in duties:
                duty.start()
            runner = duties[0].runner
            times = []
            for n in range(jobs):
                data = json.dumps({"array": [[((n + i) % 9) / 8] * 8 for i in range(8)]}).encode()
                (out,) = infer(runner.runtime(model), [data])
                output = out.to_bytes()  # type: ignore[union-attr]
                request = JobRequest(model, ipfs.add_bytes(data).to_bytes(), 10**16 + fee,
                                     chain.block_timestamp() + 3_600, 600,
                                     verification=REEXEC_MODE)  # fmt: skip
                result = Result(ipfs.add_bytes(output), hashlib.sha256(output).digest())
                job_id, _, _ = _create_and_submit(
                    market, requester, worker, request, 10**16 + fee, result
                )
                started = time.perf_counter()
                while read_round(chain, market.reexec, job_id).stage is not Stage.SETTLED:
                    if time.perf_counter() - started > 300:
                        raise SystemExit(f"reexec job {job_id} did not settle in 300 s")
                    time.sleep(0.05)
                times.append(time.perf_counter() - started)
            return {
                "reexec_settle_s": round(statistics.median(times), 3),
                "reexec_settle_max_s": round(max(times), 3),
                "reexec_jobs": jobs,
            }
        finally:
            for duty in duties:
                duty.stop()


def bench_gas() -> dict[str, int]:
    """gas_per_job_none, gas_per_job_reexec and gas_committee_dispute on a private Anvil."""
    from tests.contracts import gas
    from tests.contracts.helpers import deploy
    from tests.contracts.test_committee_arbiter import committee_dispute_gas, court
    from tests.contracts.test_reexec_verifier import bonded_pool, reexec_job_gas

    with tempfile.TemporaryDirectory(prefix="bench-verification-gas-") as tmp:
        anvil = start_anvil(free_port(), Path(tmp) / "anvil.log")
        try:
            d = deploy(Chain(anvil.url), list(dev_private_keys()))
            gas.lifecycle(d)  # pays the one-time zero-to-nonzero writes
            none = gas.lifecycle(d)["total"]
            pool = bonded_pool(d)
            reexec_job_gas(pool)  # the first round pays the module's first writes
            reexec = reexec_job_gas(pool)["total"]
            dispute = committee_dispute_gas(court(pool))["total"]
        finally:
            anvil.stop()
    return {"gas_per_job_none": none, "gas_per_job_reexec": reexec,
            "gas_committee_dispute": dispute}  # fmt: skip


def _register_model(
    chain: Chain, market: Market, provider: TransactionSender, bundle: Cid, manifest: bytes
) -> int:
    """Register an image-classification model (price 10**16, 1,000 work units); its id."""
    spec = ModelSpec(bundle, manifest, "image-classification", 10**16, 1_000)
    provider.transact(market.models.functions.registerModel(spec.as_abi()))
    return int(chain.call(market.models.functions.modelCount()))


def _create_and_submit(
    market: Market,
    requester: TransactionSender,
    worker: TransactionSender,
    request: JobRequest,
    value: int,
    result: Result,
) -> tuple[int, Any, Any]:
    """Create a job for ``request`` paying ``value`` and submit ``result`` for it at once:
    (its id, the creation's receipt, the submission's receipt)."""
    receipt = requester.transact(
        market.jobs.functions.createJob(requester.address, request.as_abi()), value=value
    )
    job_id = created_job_id(market.jobs, receipt)
    job = fold_events(fetch_market_events(market.jobs, receipt["blockNumber"]))[job_id].job
    sent = worker.transact(
        market.jobs.functions.submitResult(job_id, job.as_abi(), result.as_abi())
    )
    return job_id, receipt, sent


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--proofs", type=int, default=5, help="proofs to time (median)")
    parser.add_argument("--reexec-jobs", type=int, default=3, help="reexec jobs to time")
    parser.add_argument("--tiers", default="zk,reexec,gas", help="comma-separated: zk, reexec, gas")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tiers = set(args.tiers.split(","))
    with tempfile.TemporaryDirectory(prefix="bench-verification-") as tmp:
        results: dict[str, float | int] = {"cpu_cores": os.cpu_count() or 0}
        if "zk" in tiers:
            results |= bench_zk(args.proofs, Path(tmp))
        if "reexec" in tiers:
            results |= bench_reexec(args.reexec_jobs, Path(tmp))
        if "gas" in tiers:
            results |= bench_gas()
    results["load_avg_1m"] = round(os.getloadavg()[0], 2)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for key, value in results.items():
            print(f"{key} {value}")


if __name__ == "__main__":
    main()
