"""The ZK tier through the market, on a real Anvil, IPFS node and EZKL: a mode-1 job for the
published digits MLP is proven by a real worker and paid in its submission transaction; cheats
are refused by the market and leave the job Open for an honest worker; a worker that does not
prove never claims it."""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from inferchain.bundle import publish_bundle
from inferchain.chain import Chain, ContractReverted
from inferchain.gateway.errors import BadRequest
from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.market.submission import check_circuit, check_verification
from inferchain.ipfs import Cid, IpfsClient, IpfsError
from inferchain.market import (
    ETH,
    JobRequest,
    JobStatus,
    Market,
    MarketConfig,
    ModelSpec,
    Result,
    deploy_market,
    read_model,
)
from inferchain.market.deploy import ZK_MODE
from inferchain.market.modes import parse_mode
from inferchain.wallet import ActionRefused, MarketClient
from inferchain.worker import Worker
from inferchain.worker.account import ensure_ready
from inferchain.zk import Circuit, Proof, Statement, prove
from inferchain.zk.module import encode_proof
from inferchain.zk.publish import deploy_bundle_verifier, prepare_bundle, register_bundle_verifier
from scripts.demo_models.digits_mlp import PIXEL_MAX
from tests.cli.runner import Cli
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    FEE_BPS,
    OWNER,
    PRICE,
    PROVIDER,
    REQUESTER,
    ROYALTY_BPS,
    events_named,
    records,
    settings,
    wait_until,
)
from tests.zk.conftest import MODEL_DIR

HONEST, IDLE, CHEAT = 4, 5, 6


@dataclass(frozen=True)
class Zk:
    market: Market
    model: int


@pytest.fixture(scope="module")
def zk(chain: Chain, anvil: AnvilNode, ipfs_api_url: str, circuit: Circuit, tmp_path_factory) -> Zk:
    """A market deployed with its ZK mode, and the digits MLP published with its circuit."""
    market = deploy_market(
        chain, anvil.keys[OWNER],
        MarketConfig(fee_bps=FEE_BPS, challenge_window=CHALLENGE_S, disputes="manual"), zk=True,
    )  # fmt: skip
    tmp = tmp_path_factory.mktemp("zk-market")
    root = Path(shutil.copytree(MODEL_DIR, tmp / "digits-mlp"))
    built = prepare_bundle(root, Path(shutil.copytree(circuit.root, tmp / "work")))
    provider = chain.sender(anvil.keys[PROVIDER])
    deploy_bundle_verifier(root, built, chain, provider)
    with IpfsClient(ipfs_api_url, timeout=30) as ipfs:
        published = publish_bundle(ipfs, root)
    spec = ModelSpec(
        Cid.parse(published.cid), bytes.fromhex(published.manifest_sha256),
        "image-classification", PRICE, ROYALTY_BPS,
    )  # fmt: skip
    provider.transact(market.models.functions.registerModel(spec.as_abi()))
    model = int(chain.call(market.models.functions.modelCount()))
    assert market.addresses.zk_verifier is not None
    register_bundle_verifier(root, chain, provider, market.addresses.zk_verifier, model)
    return Zk(market, model)


def _create(chain: Chain, zk: Zk, key: str, input_cid: Cid) -> tuple[int, dict]:
    """A mode-1 job; (its id, the Job tuple as created)."""
    request = JobRequest(zk.model, input_cid, PRICE, chain.block_timestamp() + 3600, 600,
                         verification=ZK_MODE)  # fmt: skip
    sender = chain.sender(key)
    receipt = sender.transact(
        zk.market.jobs.functions.createJob(sender.address, request.as_abi()), value=PRICE
    )
    job_id = zk.market.jobs.events.JobCreated().process_receipt(receipt)[0]["args"]["jobId"]
    return job_id, receipt


def _balance(chain: Chain, zk: Zk, account: str) -> int:
    return int(chain.call(zk.market.jobs.functions.balanceOf(account, ETH)))


def _status(chain: Chain, zk: Zk, job_id: int) -> JobStatus:
    return JobStatus(chain.call(zk.market.jobs.functions.jobStatus(job_id))[0])


def _cheat(chain: Chain, zk: Zk, key: str, job_id: int, output: bytes, proof: bytes) -> str:
    """Submit on the Open job (claim and submit at once); the revert's error name."""
    job = records(zk.market)[job_id].job
    result = Result(Cid.for_raw_block(output), hashlib.sha256(output).digest(), proof=proof)
    call = zk.market.jobs.functions.submitResult(job_id, job.as_abi(), result.as_abi())
    with pytest.raises(ContractReverted) as refused:
        chain.sender(key).transact(call)
    return refused.value.error_name


def test_zk_job_cheats_refused_idle_worker_skips_honest_worker_paid_at_submission(
    zk: Zk,
    chain: Chain,
    anvil: AnvilNode,
    ipfs_api_url: str,
    circuit: Circuit,
    proved: tuple[Proof, Statement],
    digit_inputs: list[tuple[bytes, int]],
    tmp_path: Path,
) -> None:
    market, accounts = zk.market, anvil.accounts
    proof, claimed = proved
    assert claimed.input_file == digit_inputs[0][0]
    with IpfsClient(ipfs_api_url, timeout=10) as ipfs:
        input_cid = ipfs.add_bytes(claimed.input_file)
    assert input_cid.codec == 0x55  # a raw block: its digest is the file's sha256
    requester_eth = chain.balance(accounts[REQUESTER])
    job_id, created = _create(chain, zk, anvil.keys[REQUESTER], input_cid)
    paid_gas = created["gasUsed"] * created["effectiveGasPrice"]

    # A staked worker cheating through the market: every submission reverts, job stays Open.
    cheat = chain.sender(anvil.keys[CHEAT])
    ensure_ready(chain, market, cheat, [zk.model], register=True, stake={ETH: 10**18})
    other_proof, other = prove(circuit, digit_inputs[1][0], PIXEL_MAX)
    tampered = bytearray(claimed.output_file)
    tampered[31] ^= 1  # the first logit, one unit off
    attempts = {
        "proof for another input": (other.output_file, encode_proof(other_proof)),
        "tampered output": (bytes(tampered), encode_proof(proof)),
        "empty proof": (claimed.output_file, b""),
    }
    for what, (output, proof_bytes) in attempts.items():
        name = _cheat(chain, zk, anvil.keys[CHEAT], job_id, output, proof_bytes)
        assert name == "JobMarketProofRejected", what
        assert _status(chain, zk, job_id) is JobStatus.OPEN, what
    assert events_named(market, "JobClaimed") == []

    # A worker that proves nothing never claims the mode-1 job.
    idle = Worker(
        settings(anvil.rpc_url, ipfs_api_url, anvil.keys[IDLE], tmp_path / "idle",
                 models=[zk.model], zk_modes=[]),
        market.addresses, register=True,
    )  # fmt: skip
    idle.start()
    try:
        head = chain.w3.eth.block_number
        wait_until(lambda: idle.saved.last_block >= head, 30, "the idle worker's scan")
        time.sleep(1.0)
        assert job_id not in idle.saved.open_jobs and job_id not in idle.held
        assert idle.discovery.servable_mode(0) and not idle.discovery.servable_mode(ZK_MODE)
        assert _status(chain, zk, job_id) is JobStatus.OPEN
    finally:
        idle.stop()
    assert idle.failure is None

    # The honest worker proves and is paid in its submission: no challenge window.
    honest = Worker(
        settings(anvil.rpc_url, ipfs_api_url, anvil.keys[HONEST], tmp_path / "honest",
                 models=[zk.model], zk_modes=[ZK_MODE], max_wait_s=0.02),
        market.addresses, register=True,
    )  # fmt: skip
    honest.start()
    try:
        wait_until(lambda: events_named(market, "JobFinalized"), 120, "the ZK job paid")
    finally:
        honest.stop()
    assert honest.failure is None
    (submitted,) = [e for e in events_named(market, "ResultSubmitted") if e["jobId"] == job_id]
    assert submitted["worker"] == accounts[HONEST]
    assert bytes(submitted["outputHash"]) == claimed.output_digest
    finalized_in = [
        log["transactionHash"]
        for log in market.jobs.events.JobFinalized().get_logs(from_block=created["blockNumber"])
    ]
    submitted_in = [
        log["transactionHash"]
        for log in market.jobs.events.ResultSubmitted().get_logs(from_block=created["blockNumber"])
    ]
    assert finalized_in == submitted_in  # paid in the very transaction that submitted
    receipt = chain.w3.eth.get_transaction_receipt(submitted_in[0])
    print(f"\nzk_market_submit_gas (worker's transaction) {receipt['gasUsed']}")
    assert _status(chain, zk, job_id) is JobStatus.SETTLED

    royalty, fee = PRICE * ROYALTY_BPS // 10_000, PRICE * FEE_BPS // 10_000
    assert _balance(chain, zk, accounts[HONEST]) == PRICE - royalty - fee
    assert _balance(chain, zk, accounts[PROVIDER]) == royalty
    assert _balance(chain, zk, market.governor.address) == fee
    assert _balance(chain, zk, accounts[REQUESTER]) == 0
    assert _balance(chain, zk, accounts[CHEAT]) == 0 and _balance(chain, zk, accounts[IDLE]) == 0
    assert chain.balance(accounts[REQUESTER]) == requester_eth - PRICE - paid_gas


def test_choosing_zk_for_a_model_without_a_circuit_is_refused_before_anything_is_paid(
    zk: Zk,
    chain: Chain,
    anvil: AnvilNode,
    ipfs_api_url: str,
    digit_inputs: list[tuple[bytes, int]],
) -> None:
    """The wallet (CLI `job submit --verify zk`) and the gateway read ZkVerifier's circuits."""
    market = zk.market
    published = read_model(chain, market.models, zk.model)  # the same bundle, registered again
    provider = chain.sender(anvil.keys[PROVIDER])
    sha = bytes.fromhex(published.manifest_sha256.removeprefix("0x"))
    spec = ModelSpec(Cid.parse(published.bundle_cid), sha, "image-classification", PRICE, 0)
    provider.transact(market.models.functions.registerModel(spec.as_abi()))
    bare = int(chain.call(market.models.functions.modelCount()))  # no circuit in ZkVerifier
    data = digit_inputs[2][0]
    requester = anvil.accounts[REQUESTER]
    next_job, eth = chain.call(market.jobs.functions.nextJobId()), chain.balance(requester)
    with IpfsClient(ipfs_api_url, timeout=10) as ipfs:
        client = MarketClient(market, anvil.keys[REQUESTER], ipfs)
        with pytest.raises(ActionRefused, match=f"model {bare} has no ZK circuit"):
            client.submit(bare, data, verification=ZK_MODE)
        with pytest.raises(ActionRefused, match="mode 7 is not offered"):
            client.submit(zk.model, data, verification=7)
        assert chain.call(market.jobs.functions.nextJobId()) == next_job
        assert chain.balance(requester) == eth
        with pytest.raises(IpfsError):  # never pinned
            ipfs.cat(Cid.for_raw_block(data), timeout=2)

        contracts = MarketContracts.connect(chain, market.jobs.address)
        mode = check_verification(contracts, ZK_MODE)
        with pytest.raises(BadRequest) as refused:
            check_circuit(contracts, mode, ZK_MODE, bare)
        assert refused.value.code == "job.no_circuit" and refused.value.status == 422
        check_circuit(contracts, mode, ZK_MODE, zk.model)  # has one
        check_circuit(contracts, check_verification(contracts, 0), 0, bare)  # mode 0: no proof

        sent = client.submit(zk.model, data, verification=ZK_MODE)  # the model with a circuit
    assert records(market)[sent.job_id].job.terms.verification == ZK_MODE


def test_cli_verify_option_names_the_tier() -> None:
    assert (parse_mode("zk"), parse_mode("manual"), parse_mode("1")) == (ZK_MODE, 0, 1)
    out = Cli()("job", "submit", "--model", "1", "--input", "{}", "--verify", "strict")
    assert out.code == 2 and "unknown verification mode 'strict'" in out.error
