"""The shared market bindings against the real contracts on Anvil."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account
from web3.contract import Contract

from inferchain.artifacts import load_artifact
from inferchain.chain import Chain, ContractReverted
from inferchain.ipfs import Cid
from inferchain.market import (
    ETH,
    Job,
    JobOutcome,
    JobRequest,
    JobStatus,
    Market,
    MarketConfig,
    ModelSpec,
    Result,
    deploy_market,
    fetch_market_events,
    fold_events,
    sign_job_request,
)
from inferchain.worker.account import ensure_ready
from tests.conftest import AnvilNode

PRICE = 10**16
OWNER, TREASURY, PROVIDER, WORKER, REQUESTER, RELAYER = range(6)


def raw_cid(data: bytes) -> Cid:
    return Cid(version=1, codec=0x55, digest=hashlib.sha256(data).digest())


@pytest.fixture(scope="module")
def market(chain: Chain, anvil: AnvilNode) -> Market:
    config = MarketConfig(disputes="manual")
    market = deploy_market(chain, anvil.keys[OWNER], config)
    spec = ModelSpec(raw_cid(b"bundle"), b"\x42" * 32, "text-generation", PRICE, 1_000)
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    worker = chain.sender(anvil.keys[WORKER])
    ensure_ready(chain, market, worker, [1], register=True, stake={ETH: 10**18})
    return market


def _abi_component_names(contract: str, function: str, arg: str) -> list[str]:
    item = next(i for i in load_artifact(contract).abi if i.get("name") == function)
    param = next(p for p in item["inputs"] if p["name"] == arg)
    return [c["name"] for c in param["components"]]


def test_python_tuples_follow_the_abi_order() -> None:
    assert _abi_component_names("JobMarket", "claim", "job") == [
        "requester", "modelId", "inputCodec", "inputDigest", "terms", "worker", "outputCodec",
        "outputDigest", "outputHash", "usage",
    ]  # fmt: skip
    item = next(i for i in load_artifact("JobMarket").abi if i.get("name") == "claim")
    terms = next(c for c in item["inputs"][1]["components"] if c["name"] == "terms")
    assert [c["name"] for c in terms["components"]] == [
        "token", "price", "provider", "royaltyBps", "feeBps", "verification", "pricing",
        "workTime", "challengeWindow", "collateral", "disputeBond", "verifyFee", "callback",
        "callbackGas", "callbackFee", "pricingTerms",
    ]  # fmt: skip
    assert _abi_component_names("JobMarket", "createJob", "request") == [
        "modelId", "inputCid", "maxPrice", "requestDeadline", "workTime", "verification",
        "pricing", "pricingData", "callback", "callbackGas", "callbackFee",
    ]  # fmt: skip
    assert _abi_component_names("JobMarket", "submitResult", "result") == [
        "outputCid", "outputHash", "usage", "proof",
    ]  # fmt: skip


def _create(chain: Chain, market: Market, key: str) -> int:
    request = JobRequest(
        model_id=1,
        input_cid=raw_cid(b"prompt").to_bytes(),
        max_price=PRICE,
        request_deadline=chain.block_timestamp() + 3600,
        work_time=600,
    )
    requester = Account.from_key(key).address
    receipt = chain.sender(key).transact(
        market.jobs.functions.createJob(requester, request.as_abi()), value=PRICE
    )
    return market.jobs.events.JobCreated().process_receipt(receipt)[0]["args"]["jobId"]


def _record(market: Market, job_id: int):  # type: ignore[no-untyped-def]
    events = fetch_market_events(market.jobs, market.addresses.deployed_block)
    return fold_events(events)[job_id]


def test_rebuilt_job_drives_the_whole_lifecycle(
    chain_snapshot: Chain, market: Market, anvil: AnvilNode
) -> None:
    chain = chain_snapshot
    worker = chain.sender(anvil.keys[WORKER])
    job_id = _create(chain, market, anvil.keys[REQUESTER])
    record = _record(market, job_id)
    assert record.status is JobStatus.OPEN and record.input_cid == raw_cid(b"prompt").to_bytes()
    assert record.job.terms.price == PRICE and record.job.terms.token == ETH

    worker.transact(market.jobs.functions.claim(job_id, record.job.as_abi()))
    record = _record(market, job_id)
    assert record.status is JobStatus.CLAIMED and record.job.worker == worker.address

    output = raw_cid(b"result").to_bytes()
    digest = hashlib.sha256(b"result").digest()
    result = Result(output, digest)
    worker.transact(
        market.jobs.functions.submitResult(job_id, record.job.as_abi(), result.as_abi())
    )
    record = _record(market, job_id)
    assert record.status is JobStatus.SUBMITTED and record.output_cid == output
    assert record.job == Job(
        requester=record.job.requester,
        model_id=1,
        terms=record.job.terms,
        worker=worker.address,
        output_codec=0x55,
        output_digest=digest,
        output_hash=digest,
        input_codec=0x55,
        input_digest=hashlib.sha256(b"prompt").digest(),
    )

    chain.increase_time(3601)
    chain.sender(anvil.keys[RELAYER]).transact(
        market.jobs.functions.finalize(job_id, record.job.as_abi())
    )
    record = _record(market, job_id)
    assert record.status is JobStatus.SETTLED and record.outcome is JobOutcome.PAID
    assert market.jobs.functions.jobStatus(job_id).call()[0] == JobStatus.SETTLED


def test_submission_on_open_folds_into_a_claimed_job(
    chain_snapshot: Chain, market: Market, anvil: AnvilNode
) -> None:
    """`ResultSubmitted` on an Open job stands for the claim: the fold names the worker, and
    the rebuilt tuple finalizes."""
    chain = chain_snapshot
    worker = chain.sender(anvil.keys[WORKER])
    job_id = _create(chain, market, anvil.keys[REQUESTER])
    record = _record(market, job_id)
    result = Result(raw_cid(b"fast").to_bytes(), b"\x01" * 32, b"\x02" * 32)
    worker.transact(
        market.jobs.functions.submitResult(job_id, record.job.as_abi(), result.as_abi())
    )
    record = _record(market, job_id)
    assert record.status is JobStatus.SUBMITTED and record.claim_deadline is None
    assert (record.job.worker, record.job.usage) == (worker.address, b"\x02" * 32)
    chain.increase_time(3601)
    chain.sender(anvil.keys[RELAYER]).transact(
        market.jobs.functions.finalize(job_id, record.job.as_abi())
    )
    assert _record(market, job_id).outcome is JobOutcome.PAID


def test_wrong_tuple_is_rejected_by_name(
    chain_snapshot: Chain, market: Market, anvil: AnvilNode
) -> None:
    job_id = _create(chain_snapshot, market, anvil.keys[REQUESTER])
    forged = _record(market, job_id).job.claimed_by(anvil.accounts[OWNER])
    with pytest.raises(ContractReverted) as info:
        chain_snapshot.sender(anvil.keys[WORKER]).transact(
            market.jobs.functions.claim(job_id, forged.as_abi())
        )
    assert info.value.error_name == "JobMarketJobMismatch"


def test_signed_request_is_relayed_from_a_deposit(
    chain_snapshot: Chain, market: Market, anvil: AnvilNode
) -> None:
    chain = chain_snapshot
    wallet = Account.create()
    chain.sender(anvil.keys[REQUESTER]).send_value(wallet.address, 10**18)
    chain.sender(wallet.key.to_0x_hex()).transact(
        market.jobs.functions.deposit(ETH, PRICE), value=PRICE
    )
    request = JobRequest(
        model_id=1,
        input_cid=raw_cid(b"signed prompt").to_bytes(),
        max_price=PRICE,
        request_deadline=chain.block_timestamp() + 3600,
        work_time=600,
    )
    signed = sign_job_request(
        wallet.key.to_0x_hex(),
        request,
        market=market.jobs.address,
        nonce=7,
        expiry=chain.block_timestamp() + 600,
        chain_id=chain.chain_id,
        router_address=market.router.address,
    )
    # The router's digest is the one Python signed: the signature recovers to the wallet.
    digest = chain.call(market.router.functions.requestDigest(signed.as_abi()))
    assert Account._recover_hash(digest, signature=signed.signature) == wallet.address
    receipt = chain.sender(anvil.keys[RELAYER]).transact(
        market.router.functions.createJobFor(signed.as_abi())
    )
    created = market.jobs.events.JobCreated().process_receipt(receipt)[0]["args"]
    assert created["requester"] == wallet.address
    assert market.jobs.functions.balanceOf(wallet.address, ETH).call() == 0


def test_connect_binds_the_same_contracts(chain: Chain, market: Market, anvil: AnvilNode) -> None:
    again = Market.connect(chain, market.addresses)
    assert again.jobs.address == market.jobs.address
    assert isinstance(again.models, Contract)
    assert again.workers.address == market.workers.address == market.addresses.worker_registry
    assert again.jobs.functions.workerRegistry().call() == market.workers.address


def test_market_address_alone_finds_every_contract_of_the_deployment(
    chain: Chain, market: Market
) -> None:
    """What the gateway binds from its one setting is what the deployment recorded."""
    found = Market.at(chain, market.jobs.address, deployed_block=market.addresses.deployed_block)
    assert found.addresses == market.addresses
    assert found.max_batch == 50


def test_an_address_that_is_not_a_market_is_refused(chain: Chain, market: Market) -> None:
    with pytest.raises(ContractReverted):
        Market.at(chain, market.models.address)
