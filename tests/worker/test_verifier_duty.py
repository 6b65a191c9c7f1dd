"""The verifier duty (`worker run --verify`) end to end on Anvil and IPFS: three pool members
(one a worker node run with `verify`, its duty in its own thread; two duties ticked here)
re-run a `reexec` job from its input CID and the model's bundle, commit, reveal, finalize and
settle. A wrong output loses (the worker is slashed, the verifiers paid); a right one is
confirmed (the worker paid, the verifiers too). A node whose key is not in the pool joins
it by itself at start."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from pathlib import Path

import pytest

from inferchain.bundle import BundleCache, ipfs_fetcher
from inferchain.chain import Chain
from inferchain.ipfs import IpfsClient
from inferchain.market import (
    ETH,
    JobRequest,
    JobStatus,
    Market,
    MarketConfig,
    ModelSpec,
    deploy_market,
)
from inferchain.market.jobs import Result
from inferchain.market.modes import MANUAL_MODE, REEXEC_MODE
from inferchain.market.reexec import Stage, read_member, read_params, read_round
from inferchain.worker import Worker
from inferchain.worker.account import ensure_ready
from inferchain.worker.errors import WorkerNotReady
from inferchain.worker.runner import ModelRunner
from inferchain.worker.runtimes import RuntimePool
from inferchain.worker.verifying import VerifierDuty, ensure_member
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    DIGITS_INPUT,
    FEE_BPS,
    OWNER,
    PRICE,
    PROVIDER,
    REQUESTER,
    ROYALTY_BPS,
    STAKE,
    events_named,
    records,
    settings,
    stake_of,
    wait_until,
)

VERIFIERS = (4, 5, 6)
WORKER = 7


def _market(
    chain: Chain, anvil: AnvilNode, bundles: dict,
    members: tuple[int, ...] = (*VERIFIERS, WORKER, REQUESTER),
) -> tuple[Market, int, int]:  # fmt: skip
    """A market with ReexecVerifier as mode 2 (the local defaults: k = 3), the digits model,
    a registered worker, and a pool of `members` (by default five: the three verifiers, the
    worker and the requester, whom the draw must skip)."""
    market = deploy_market(
        chain, anvil.keys[OWNER], MarketConfig(fee_bps=FEE_BPS, challenge_window=CHALLENGE_S),
        reexec=True,
    )  # fmt: skip
    assert market.reexec is not None
    cid, manifest = bundles["digits-cnn"]
    spec = ModelSpec(cid, manifest, "image-classification", PRICE, ROYALTY_BPS)
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    model = int(chain.call(market.models.functions.modelCount()))
    cid, manifest = bundles["sentiment-bow"]  # what the verifier node serves: not the job's
    spec = ModelSpec(cid, manifest, "text-classification", PRICE, ROYALTY_BPS)
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    worker = chain.sender(anvil.keys[WORKER])
    ensure_ready(chain, market, worker, [model], register=True, stake={ETH: STAKE})
    bond = read_params(chain, market.reexec).min_bond
    for index in members:
        chain.sender(anvil.keys[index]).transact(market.reexec.functions.join(), value=bond)
    return market, model, model + 1


def _duties(chain: Chain, anvil: AnvilNode, market: Market, ipfs: IpfsClient, tmp: Path,
            verifiers: tuple[int, ...] = VERIFIERS[1:]) -> list[VerifierDuty]:  # fmt: skip
    """Duties of `verifiers` (by default all but the first, which a node runs), ticked by the
    test."""
    duties = []
    for index in verifiers:
        cache = BundleCache(tmp / f"bundles-{index}", 1 << 30, ipfs_fetcher(ipfs))
        runner = ModelRunner(chain, market, RuntimePool(cache, 1 << 30, "cpu"))
        key = anvil.keys[index]
        duty = VerifierDuty(market, chain.sender(key), key, runner, ipfs, mine_seed=True)
        duties.append(duty)
    return duties


def _submit(chain: Chain, anvil: AnvilNode, market: Market, ipfs: IpfsClient, model: int,
            output: bytes, mode: int = REEXEC_MODE) -> int:  # fmt: skip
    """A job of `mode` (by default reexec) created by the requester, then claimed and
    answered with `output` by the worker in one call."""
    assert market.reexec is not None
    fee = read_params(chain, market.reexec).fee_per_verifier * 3 if mode == REEXEC_MODE else 0
    input_cid = ipfs.add_bytes(DIGITS_INPUT)
    request = JobRequest(model, input_cid.to_bytes(), PRICE + fee, chain.block_timestamp() + 3600,
                         600, verification=mode)  # fmt: skip
    requester = chain.sender(anvil.keys[REQUESTER])
    receipt = requester.transact(
        market.jobs.functions.createJob(requester.address, request.as_abi()), value=PRICE + fee
    )
    job_id = int(market.jobs.events.JobCreated().process_receipt(receipt)[0]["args"]["jobId"])
    job = records(market)[job_id].job
    result = Result(ipfs.add_bytes(output), hashlib.sha256(output).digest())
    chain.sender(anvil.keys[WORKER]).transact(
        market.jobs.functions.submitResult(job_id, job.as_abi(), result.as_abi())
    )
    return job_id


def _run_until_settled(chain: Chain, market: Market, duties: list, job_id: int) -> None:
    """Tick the test's duties while the node's duty runs in its thread, until the round is
    settled. Nothing else mines on this automining chain: the duties mine the seed block."""
    assert market.reexec is not None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        for duty in duties:
            duty.tick()
        if read_round(chain, market.reexec, job_id).stage is Stage.SETTLED:
            return
        time.sleep(0.2)
    raise AssertionError(f"job {job_id}'s round never settled")


def _honest_output(runner: ModelRunner, model: int) -> bytes:
    from inferchain.worker.runtimes import infer

    (out,) = infer(runner.runtime(model), [DIGITS_INPUT])
    return out.to_bytes()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("honest", "fresh"), [(False, False), (True, True)],
    ids=["wrong-output-member-node", "right-output-fresh-node-joins"],
)  # fmt: skip
def test_verifier_workers_catch_a_wrong_output_and_confirm_a_right_one(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, ipfs_api_url: str, demo_bundles: dict,
    tmp_path: Path, request: pytest.FixtureRequest, honest: bool, fresh: bool,
) -> None:  # fmt: skip
    """`fresh`: the node's key is not in the pool; `--verify` joins it with the configured
    bond, and it is drawn and votes. Otherwise it is a member, left alone (no second bond)."""
    members = (*VERIFIERS[1:], WORKER, REQUESTER) if fresh else (*VERIFIERS, WORKER, REQUESTER)
    market, model, other_model = _market(chain, anvil, demo_bundles, members)
    assert market.reexec is not None
    min_bond = read_params(chain, market.reexec).min_bond
    node_address = anvil.accounts[VERIFIERS[0]]
    assert read_member(chain, market.reexec, node_address).member is not fresh
    duties = _duties(chain, anvil, market, ipfs, tmp_path)
    bond = 2 * min_bond if fresh else None
    node_settings = settings(anvil.rpc_url, ipfs_api_url, anvil.keys[VERIFIERS[0]],
                             tmp_path / "node", models=[other_model], verify=True,
                             verify_bond=bond)  # fmt: skip
    node = Worker(node_settings, market.addresses, register=True)
    node.start()
    request.addfinalizer(node.stop)
    wait_until(lambda: node.verifier is not None, 60, "the node's verifier duty")
    member = read_member(chain, market.reexec, node_address)
    assert member.member and member.bond == (bond or min_bond)
    output = _honest_output(duties[0].runner, model)
    if not honest:  # the same document, another label on top
        doc = json.loads(output)
        top = doc["result"]["predictions"]
        top[0]["index"] = (top[0]["index"] + 1) % 10
        output = json.dumps(doc).encode()
    stake_before = stake_of(chain, market, anvil.accounts[WORKER])
    job_id = _submit(chain, anvil, market, ipfs, model, output)
    _run_until_settled(chain, market, duties, job_id)

    committee = chain.call(market.reexec.functions.committeeOf(job_id))
    assert sorted(committee) == sorted(anvil.accounts[i] for i in VERIFIERS)
    round_ = read_round(chain, market.reexec, job_id)
    assert (round_.agrees, round_.disagrees) == ((3, 0) if honest else (0, 3))
    fee_share = read_params(chain, market.reexec).fee_per_verifier
    for member in committee:  # each paid its share; nobody slashed
        assert int(chain.call(market.reexec.functions.balanceOf(member))) == fee_share
    assert JobStatus(chain.call(market.jobs.functions.jobStatus(job_id))[0]) == JobStatus.SETTLED
    stake_after = stake_of(chain, market, anvil.accounts[WORKER])
    if honest:
        paid = events_named(market, "JobFinalized")
        assert [e["jobId"] for e in paid] == [job_id] and paid[0]["workerAmount"] > 0
        assert stake_after == stake_before
    else:
        (resolved,) = events_named(market, "DisputeResolved")
        assert resolved["jobId"] == job_id and resolved["workerWins"] is False
        assert resolved["slashed"] > 0 and stake_after == stake_before - resolved["slashed"]


def _with_float_noise(output: bytes) -> bytes:
    """The same answer as another machine's floats could give it: every probability off by
    a few ulps-worth of 1e-6, the order kept (well inside the 1e-4 tolerance)."""
    doc = json.loads(output)
    for i, p in enumerate(doc["result"]["predictions"]):
        p["probability"] = p["probability"] + (1e-6 if i % 2 else -1e-6)
    noisy = json.dumps(doc).encode()
    assert noisy != output
    return noisy


@pytest.mark.parametrize(
    "answer", ["wrong", "right", "right-with-float-noise"],
)  # fmt: skip
def test_verifiers_judge_a_disputed_optimistic_job(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, demo_bundles: dict, tmp_path: Path,
    answer: str,
) -> None:  # fmt: skip
    """The `none` tier's court: the requester disputes a mode-0 job and opens its dispute
    round; the pool's duties re-run it, vote, resolve the market's dispute by their majority
    (a wrong output: the worker slashed, the requester refunded; a right one, also one off by
    float noise only: the worker paid, never slashed, the dispute bond lost) and settle the
    round, which pays them its fee."""
    honest = answer != "wrong"
    market, model, _other = _market(chain, anvil, demo_bundles)
    assert market.reexec is not None
    duties = _duties(chain, anvil, market, ipfs, tmp_path, VERIFIERS)
    output = _honest_output(duties[0].runner, model)
    if answer == "wrong":
        doc = json.loads(output)
        top = doc["result"]["predictions"]
        top[0]["index"] = (top[0]["index"] + 1) % 10
        output = json.dumps(doc).encode()
    elif answer == "right-with-float-noise":
        output = _with_float_noise(output)
    stake_before = stake_of(chain, market, anvil.accounts[WORKER])
    job_id = _submit(chain, anvil, market, ipfs, model, output, mode=MANUAL_MODE)
    job = records(market)[job_id].job
    requester = chain.sender(anvil.keys[REQUESTER])
    requester.transact(market.jobs.functions.dispute(job_id, job.as_abi()),
                       value=job.terms.dispute_bond)  # fmt: skip
    fee = int(chain.call(market.reexec.functions.disputeFee()))
    requester.transact(market.reexec.functions.openDispute(job_id, job.as_abi()), value=fee)
    _run_until_settled(chain, market, duties, job_id)

    round_ = read_round(chain, market.reexec, job_id)
    assert round_.dispute and (round_.agrees, round_.disagrees) == ((3, 0) if honest else (0, 3))
    fee_share = read_params(chain, market.reexec).fee_per_verifier
    for member in chain.call(market.reexec.functions.committeeOf(job_id)):
        assert int(chain.call(market.reexec.functions.balanceOf(member))) == fee_share
    assert JobStatus(chain.call(market.jobs.functions.jobStatus(job_id))[0]) == JobStatus.SETTLED
    (resolved,) = events_named(market, "DisputeResolved")
    assert resolved["jobId"] == job_id and resolved["workerWins"] is honest
    stake_after = stake_of(chain, market, anvil.accounts[WORKER])
    assert stake_after == stake_before - resolved["slashed"]
    assert (resolved["slashed"] > 0) is not honest


def test_verify_refuses_clearly_a_bond_the_wallet_cannot_pay_or_below_the_minimum(
    chain: Chain, anvil: AnvilNode, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    market = deploy_market(chain, anvil.keys[OWNER], MarketConfig(), reexec=True)
    assert market.reexec is not None
    sender = chain.sender(anvil.keys[VERIFIERS[0]])
    balance = chain.balance(sender.address)
    with pytest.raises(WorkerNotReady, match=f"cannot pay its bond: it holds {balance} wei"):
        ensure_member(chain, market.reexec, sender, balance)
    min_bond = read_params(chain, market.reexec).min_bond
    with pytest.raises(WorkerNotReady, match=f"minimum bond {min_bond} wei"):
        ensure_member(chain, market.reexec, sender, min_bond - 1)
    assert not read_member(chain, market.reexec, sender.address).member
    assert ensure_member(chain, market.reexec, sender) == min_bond  # default: the minimum
    joined = [r for r in caplog.records if r.getMessage() == "joined the verifier pool"]
    assert [r.bond for r in joined] == [min_bond]  # type: ignore[attr-defined]
    assert ensure_member(chain, market.reexec, sender) == 0  # a member is left alone
    assert read_member(chain, market.reexec, sender.address).bond == min_bond


def test_a_round_nobody_drew_in_time_is_settled_by_a_verifier_and_the_fee_refunded(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, demo_bundles: dict, tmp_path: Path
) -> None:
    """Anyone enforces every deadline: past the draw window a duty stops drawing; once the
    market paid the (unverified) worker, it settles the round and the requester gets the fee."""
    market, model, _ = _market(chain, anvil, demo_bundles)
    assert market.reexec is not None
    duties = _duties(chain, anvil, market, ipfs, tmp_path)
    params = read_params(chain, market.reexec)
    job_id = _submit(chain, anvil, market, ipfs, model, _honest_output(duties[0].runner, model))
    chain.increase_time(params.draw_window + 1)
    for duty in duties:
        duty.tick()
    assert read_round(chain, market.reexec, job_id).stage is Stage.SUBMITTED  # not drawn
    chain.increase_time(CHALLENGE_S)  # the market's window too: the result stands
    job = records(market)[job_id].job
    chain.sender(anvil.keys[OWNER]).transact(market.jobs.functions.finalize(job_id, job.as_abi()))
    duties[0].tick()
    assert read_round(chain, market.reexec, job_id).stage is Stage.SETTLED
    refund = int(chain.call(market.reexec.functions.balanceOf(anvil.accounts[REQUESTER])))
    assert refund == 3 * params.fee_per_verifier


def test_a_verifier_restarted_after_committing_still_reveals(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, demo_bundles: dict, tmp_path: Path
) -> None:
    """The salt is derived from the key and the job, and the vote read back from the chain:
    a duty started afresh between commit and reveal reveals what its predecessor committed."""
    market, model, _ = _market(chain, anvil, demo_bundles)
    assert market.reexec is not None
    duties = _duties(chain, anvil, market, ipfs, tmp_path, VERIFIERS)
    job_id = _submit(chain, anvil, market, ipfs, model, b"not the digits model's output")

    def commits() -> int:
        return read_round(chain, market.reexec, job_id).commits

    for _ in range(10):  # mine the seed block, draw, commit "disagree": stop before reveals
        for duty in duties:
            if commits() < 3:
                duty.tick()
    assert commits() == 3 and not any(s.revealed for d in duties for s in d._seats.values())
    restarted = _duties(chain, anvil, market, ipfs, tmp_path / "again", VERIFIERS[:1])[0]
    _run_until_settled(chain, market, [restarted, *duties[1:]], job_id)
    round_ = read_round(chain, market.reexec, job_id)
    assert (round_.agrees, round_.disagrees) == (0, 3)  # every member revealed "disagree"


def test_a_round_whose_re_execution_crashes_does_not_stall_the_rounds_after_it(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, demo_bundles: dict, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """A worker's output that makes every verifier's re-execution raise (hostile bytes a
    runtime chokes on) poisons its own round only: the round after it, processed later in
    the same tick, is still voted on and settled in time."""
    market, model, _ = _market(chain, anvil, demo_bundles)
    duties = _duties(chain, anvil, market, ipfs, tmp_path, VERIFIERS)
    honest = _honest_output(duties[0].runner, model)
    poisoned = _submit(chain, anvil, market, ipfs, model, b"chokes the verifiers")
    job_id = _submit(chain, anvil, market, ipfs, model, honest)
    assert poisoned < job_id  # ticks go in job order: the poisoned round comes first
    for duty in duties:
        rerun = duty._rerun

        def crashing(record, data, rerun=rerun):  # type: ignore[no-untyped-def]
            if record.job_id == poisoned:
                raise RuntimeError("the runtime crashed on this job")
            return rerun(record, data)

        monkeypatch.setattr(duty, "_rerun", crashing)
    _run_until_settled(chain, market, duties, job_id)
    round_ = read_round(chain, market.reexec, job_id)  # type: ignore[arg-type]
    assert (round_.agrees, round_.disagrees) == (3, 0)
    assert read_round(chain, market.reexec, poisoned).commits == 0  # type: ignore[arg-type]


def test_a_dispute_round_without_a_majority_is_expired_then_settled_by_the_duties(
    chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, demo_bundles: dict, tmp_path: Path
) -> None:
    """The committee is drawn but stays silent (its members come back after the commit
    deadline): no majority, so the duties leave the dispute alone until its arbitration
    deadline (no job read, no transaction), then expire it (the result stands, the worker is
    paid) and settle the round (fee and slashes to the requester)."""
    market, model, _other = _market(chain, anvil, demo_bundles)
    assert market.reexec is not None
    duties = _duties(chain, anvil, market, ipfs, tmp_path, VERIFIERS)
    job_id = _submit(chain, anvil, market, ipfs, model, b"{}", mode=MANUAL_MODE)
    job = records(market)[job_id].job
    requester = chain.sender(anvil.keys[REQUESTER])
    requester.transact(market.jobs.functions.dispute(job_id, job.as_abi()),
                       value=job.terms.dispute_bond)  # fmt: skip
    fee = int(chain.call(market.reexec.functions.disputeFee()))
    requester.transact(market.reexec.functions.openDispute(job_id, job.as_abi()), value=fee)
    for _ in range(3):  # mine the seed block, then draw
        duties[0].tick()
    assert read_round(chain, market.reexec, job_id).stage is Stage.DRAWN
    params = read_params(chain, market.reexec)
    chain.increase_time(params.draw_window + params.commit_window + params.reveal_window + 1)
    chain.mine()
    reads = []
    for duty in duties:
        real = duty._jobs.job
        duty._jobs.job = lambda i, real=real: reads.append(i) or real(i)  # type: ignore[method-assign]
    for _ in range(3):
        for duty in duties:
            duty.tick()
    assert reads == [] and events_named(market, "DisputeExpired") == []
    _status, deadline = chain.call(market.jobs.functions.jobStatus(job_id))
    chain.increase_time(deadline - chain.block_timestamp() + 1)
    chain.mine()
    _run_until_settled(chain, market, duties, job_id)
    (expired,) = events_named(market, "DisputeExpired")
    assert expired["jobId"] == job_id
    assert JobStatus(chain.call(market.jobs.functions.jobStatus(job_id))[0]) == JobStatus.SETTLED
    slash = params.min_bond * params.slash_bps // 10_000
    assert int(chain.call(market.reexec.functions.balanceOf(anvil.accounts[REQUESTER]))) == (
        fee + params.committee_size * slash
    )
