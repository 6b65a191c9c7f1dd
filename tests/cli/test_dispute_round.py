"""`job dispute` on the `none` tier (issue 14): the market's dispute and the committee's
dispute round in one command, against a `deploy_market(..., reexec=True)` market (mode 0 a
CommitteeArbiter judged by the ReexecVerifier pool); `--round-only` for a job already
disputed; each refusal (pool too small, too late, already open, not disputed, too little
ETH) says why and sends nothing. The quotes (`model show`, `job submit --verify none`) and
`job status` show the round."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from eth_account import Account
from web3 import Web3

from inferchain.bundle import publish_bundle
from inferchain.bundle.demos import demo_bundle_path
from inferchain.chain import Chain
from inferchain.deploy.records import ContractRecord, DeploymentRecord, write_record
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import (
    ETH,
    JobRequest,
    JobStatus,
    Market,
    MarketConfig,
    ModelSpec,
    created_job_id,
    deploy_market,
    read_job_state,
)
from inferchain.market.court import court_of
from inferchain.market.jobs import Result
from inferchain.market.modes import MANUAL_MODE, read_mode
from inferchain.market.reexec import Stage, read_params, read_round
from inferchain.paths import project_root
from inferchain.wallet import PRIVATE_KEY_ENV, MarketClient
from inferchain.worker.account import ensure_ready
from tests.cli.runner import Cli
from tests.conftest import AnvilNode

PRICE = 10**15
OWNER, PROVIDER = 0, 1
BOND_BPS = MarketConfig().dispute_bond_bps
FUNDS = 10**21


def _key(label: str) -> str:
    """A fresh account, funded: no other test sends from it."""
    return "0x" + Web3.keccak(text=f"cli dispute round {label}").hex().removeprefix("0x")


def _fund(chain: Chain, key: str, wei: int = FUNDS) -> str:
    address = Account.from_key(key).address
    chain.w3.provider.make_request("anvil_setBalance", [address, hex(wei)])  # type: ignore[arg-type]
    return address


def _record(
    market: Market, chain_id: int, directory: Path, arbiter: str = "CommitteeArbiter"
) -> None:
    """A deployment record naming `market`'s contracts, so the CLI connects to it."""
    a = market.addresses
    names = {
        "ModelRegistry": a.model_registry,
        "WorkerRegistry": a.worker_registry,
        "JobMarket": a.job_market,
        "JobRouter": a.router,
        "MarketGovernor": a.governor,
        "InferchainTimelock": a.timelock,
        arbiter: a.arbiter,
        "ReexecVerifier": a.reexec_verifier,
    }
    contracts = {
        name: ContractRecord(str(address), "0x", a.deployed_block, "", "", "", "")
        for name, address in names.items()
    }
    record = DeploymentRecord(chain_id, "local", "", {}, contracts)
    write_record(directory, record)


@pytest.fixture(scope="module")
def court(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """The market (committee at mode 0), the tiny-gpt model, a serving worker, and the CLI's
    options to reach them; the pool is empty (each test bonds what it needs)."""
    market = deploy_market(chain, anvil.keys[OWNER], MarketConfig(), reexec=True)
    assert market.arbiter.address == read_mode(chain, market.jobs, MANUAL_MODE).module
    with IpfsClient(ipfs_api_url, timeout=30) as ipfs:
        published = publish_bundle(ipfs, demo_bundle_path("tiny-gpt"))
    provider = chain.sender(anvil.keys[PROVIDER])
    manifest = bytes.fromhex(published.manifest_sha256)
    spec = ModelSpec(Cid.parse(published.cid), manifest, "text-generation", PRICE, 0)
    provider.transact(market.models.functions.registerModel(spec.as_abi()))
    model_id = int(chain.call(market.models.functions.modelCount()))
    worker_key = _key("worker")
    _fund(chain, worker_key)
    worker = chain.sender(worker_key)
    ensure_ready(chain, market, worker, [model_id], register=True, stake={ETH: 10**18})
    directory = tmp_path_factory.mktemp("court-deployments")
    _record(market, chain.chain_id, directory)
    base = [
        "--network", "local", "--networks-file", str(project_root() / "networks.toml"),
        "--deployments-dir", str(directory),
    ]  # fmt: skip
    requester = _key("requester")
    return {
        "market": market,
        "model": model_id,
        "worker": worker,
        "requester": requester,
        "base": base,
        "env": {
            "INFERCHAIN_LOCAL_RPC_URL": anvil.rpc_url,
            PRIVATE_KEY_ENV: requester,
            "INFERCHAIN_KEYSTORE": "",
            "INFERCHAIN_IPFS_API": ipfs_api_url,
        },
    }


@pytest.fixture
def c(court: dict, chain_snapshot: Chain) -> dict:
    _fund(chain_snapshot, court["requester"])
    return court


def _bond_pool(chain: Chain, market: Market, members: int) -> None:
    assert market.reexec is not None
    bond = read_params(chain, market.reexec).min_bond
    for i in range(members):
        key = _key(f"member {i}")
        _fund(chain, key)
        chain.sender(key).transact(market.reexec.functions.join(), value=bond)


def _submitted(cli: Cli, chain: Chain, c: dict) -> int:
    """A `none`-tier job created through the CLI, then claimed and answered by the worker."""
    out = cli("job", "submit", "--model", str(c["model"]), "--input", '{"prompt": "hi"}',
              "--verify", "none", *c["base"], "--json", env=c["env"])  # fmt: skip
    assert out.code == 0, out.error
    job_id = out.json()["job_id"]
    market: Market = c["market"]
    job = MarketClient(market).job(job_id).job
    c["worker"].transact(market.jobs.functions.claim(job_id, job.as_abi()))
    job = MarketClient(market).job(job_id).job
    output = b'{"result": {"text": "hello"}}'
    digest = hashlib.sha256(output).digest()
    result = Result(Cid.from_digest32(digest), digest)
    c["worker"].transact(market.jobs.functions.submitResult(job_id, job.as_abi(), result.as_abi()))
    return job_id


def _status(chain: Chain, market: Market, job_id: int) -> JobStatus:
    return read_job_state(chain, market.jobs, job_id).status


def _fee(chain: Chain, market: Market) -> int:
    assert market.reexec is not None
    return int(chain.call(market.reexec.functions.disputeFee()))


def test_dispute_pays_the_bond_and_opens_the_round(cli: Cli, c: dict, chain: Chain) -> None:
    market: Market = c["market"]
    _bond_pool(chain, market, 5)
    shown = cli("model", "show", str(c["model"]), *c["base"], env=c["env"])
    assert shown.code == 0, shown.error
    fee = _fee(chain, market)
    bond = PRICE * BOND_BPS // 10_000
    assert "--verify none: fee 0" in shown.stdout
    assert f"a dispute costs a bond of {bond} ({BOND_BPS} bps" in shown.stdout
    assert f"the committee's fee of {fee} wei" in shown.stdout
    none = cli("model", "show", str(c["model"]), *c["base"], "--json", env=c["env"]).json()
    tier = none["tiers"][0]
    assert (tier["name"], tier["disputes"], tier["dispute_bond"], tier["dispute_fee"]) == (
        "none", "committee", bond, fee,
    )  # fmt: skip

    job_id = _submitted(cli, chain, c)
    requester = Account.from_key(c["requester"]).address
    before = chain.balance(requester)
    out = cli("job", "dispute", str(job_id), *c["base"], env=c["env"])
    assert out.code == 0, out.error
    assert f"job {job_id} disputed with a bond of {bond}" in out.stdout
    assert f"dispute round opened: fee {fee} wei paid" in out.stdout
    assert "3 verifiers drawn from the pool re-run the job" in out.stdout
    assert "the dispute expires: the result stands and the bond comes back" in out.stdout
    assert _status(chain, market, job_id) == JobStatus.DISPUTED
    assert market.reexec is not None
    round_ = read_round(chain, market.reexec, job_id)
    assert (round_.stage, round_.dispute, round_.fee) == (Stage.SUBMITTED, True, fee)
    spent = before - chain.balance(requester)
    assert bond + fee < spent < bond + fee + 10**16  # and gas

    status = cli("job", "status", str(job_id), *c["base"], env=c["env"])
    assert "dispute round: submitted" in status.stdout
    assert "committee: not drawn yet" in status.stdout
    assert "verdict: pending" in status.stdout
    info = cli("job", "status", str(job_id), *c["base"], "--json", env=c["env"]).json()
    assert info["dispute_bond"] == bond and info["dispute_round"]["fee"] == fee

    # Opened already: `--round-only` refuses and sends nothing; so does a second dispute.
    before = chain.balance(requester)
    again = cli("job", "dispute", str(job_id), "--round-only", *c["base"], env=c["env"])
    assert again.code == 1 and "dispute round is already open" in again.error
    twice = cli("job", "dispute", str(job_id), *c["base"], env=c["env"])
    assert twice.code == 1 and "already disputed" in twice.error
    assert chain.balance(requester) == before


def test_submit_quotes_the_dispute_cost(cli: Cli, c: dict, chain: Chain) -> None:
    market: Market = c["market"]
    out = cli("job", "submit", "--model", str(c["model"]), "--input", '{"prompt": "hi"}',
              "--verify", "none", *c["base"], env=c["env"])  # fmt: skip
    assert out.code == 0, out.error
    fee, bond = _fee(chain, market), PRICE * BOND_BPS // 10_000
    assert f"to dispute its result: a bond of {bond}" in out.stdout
    assert f"the committee's fee of {fee} wei" in out.stdout


def test_a_pool_too_small_refuses_before_anything_is_sent(cli: Cli, c: dict, chain: Chain) -> None:
    market: Market = c["market"]
    _bond_pool(chain, market, 4)  # k + 2 = 5 needed
    job_id = _submitted(cli, chain, c)
    requester = Account.from_key(c["requester"]).address
    before = chain.balance(requester)
    out = cli("job", "dispute", str(job_id), *c["base"], env=c["env"])
    assert out.code == 1
    assert "the reexec verifier pool has 4 members, 5 needed" in out.error
    assert "nothing was sent" in out.error
    assert _status(chain, market, job_id) == JobStatus.SUBMITTED
    assert chain.balance(requester) == before
    shown = cli("model", "show", str(c["model"]), *c["base"], env=c["env"])
    assert "no dispute could be judged now: the pool has 4 members, 5 needed" in shown.stdout


def test_too_little_eth_for_bond_and_fee_refuses(cli: Cli, c: dict, chain: Chain) -> None:
    market: Market = c["market"]
    _bond_pool(chain, market, 5)
    job_id = _submitted(cli, chain, c)
    requester = _fund(chain, c["requester"], PRICE // 10 + _fee(chain, market) // 2)
    out = cli("job", "dispute", str(job_id), *c["base"], env=c["env"])
    assert out.code == 1 and "insufficient funds" in out.error and "nothing was sent" in out.error
    assert _status(chain, market, job_id) == JobStatus.SUBMITTED
    assert chain.balance(requester) == PRICE // 10 + _fee(chain, market) // 2


def test_round_only_opens_a_disputed_jobs_round_in_time(cli: Cli, c: dict, chain: Chain) -> None:
    market: Market = c["market"]
    assert market.reexec is not None
    _bond_pool(chain, market, 5)
    job_id = _submitted(cli, chain, c)
    early = cli("job", "dispute", str(job_id), "--round-only", *c["base"], env=c["env"])
    assert early.code == 1 and f"job {job_id} is submitted, not disputed" in early.error

    # Disputed on the market alone (e.g. an older client): the round is still missing.
    requester = chain.sender(c["requester"])
    record = MarketClient(market).job(job_id)
    bond = record.job.terms.dispute_bond
    requester.transact(market.jobs.functions.dispute(job_id, record.job.as_abi()), value=bond)
    status = cli("job", "status", str(job_id), *c["base"], env=c["env"])
    assert "dispute round: not opened" in status.stdout and "--round-only" in status.stdout

    # Anyone may open it, not only the requester.
    outsider = _key("outsider")
    _fund(chain, outsider)
    env = {**c["env"], PRIVATE_KEY_ENV: outsider}
    out = cli("job", "dispute", str(job_id), "--round-only", *c["base"], "--json", env=env)
    assert out.code == 0, out.error
    assert out.json()["round"]["fee"] == _fee(chain, market)
    assert read_round(chain, market.reexec, job_id).stage is Stage.SUBMITTED


def test_round_only_too_late_refuses(cli: Cli, c: dict, chain: Chain) -> None:
    market: Market = c["market"]
    _bond_pool(chain, market, 5)
    job_id = _submitted(cli, chain, c)
    record = MarketClient(market).job(job_id)
    chain.sender(c["requester"]).transact(
        market.jobs.functions.dispute(job_id, record.job.as_abi()),
        value=record.job.terms.dispute_bond,
    )
    mode = read_mode(chain, market.jobs, MANUAL_MODE)
    court = court_of(chain, market.jobs.address, mode.module)
    assert court is not None
    deadline = read_job_state(chain, market.jobs, job_id).deadline
    chain.increase_time(court.latest_opening(deadline) - chain.block_timestamp() + 1)
    requester = Account.from_key(c["requester"]).address
    before = chain.balance(requester)
    out = cli("job", "dispute", str(job_id), "--round-only", *c["base"], env=c["env"])
    assert out.code == 1 and f"too late to open job {job_id}'s dispute round" in out.error
    assert "nothing was sent" in out.error
    assert chain.balance(requester) == before


def test_status_follows_the_round_to_its_verdict(cli: Cli, c: dict, chain: Chain) -> None:
    """The committee draws, commits and reveals (by hand here: the verifier duty is tested
    in tests/worker); `job status` shows the committee, the votes and the verdict, and
    anyone then resolves the dispute."""
    market: Market = c["market"]
    module = market.reexec
    assert module is not None
    _bond_pool(chain, market, 5)
    keys = {Account.from_key(_key(f"member {i}")).address: _key(f"member {i}") for i in range(5)}
    job_id = _submitted(cli, chain, c)
    assert cli("job", "dispute", str(job_id), *c["base"], env=c["env"]).code == 0
    chain.mine(2)  # the seed block, and one after it
    chain.sender(keys[next(iter(keys))]).transact(module.functions.draw(job_id))
    committee = chain.call(module.functions.committeeOf(job_id))
    salt = b"\x07" * 32
    for member in committee:
        commitment = chain.call(module.functions.voteHash(job_id, member, False, salt))
        chain.sender(keys[member]).transact(module.functions.commit(job_id, commitment))
    mid = cli("job", "status", str(job_id), *c["base"], env=c["env"]).stdout
    assert f"committee: {', '.join(committee)}" in mid
    assert "votes: 3 committed, 0 revealed" in mid and "verdict: pending" in mid
    for member in committee:
        chain.sender(keys[member]).transact(module.functions.reveal(job_id, False, salt))
    done = cli("job", "status", str(job_id), *c["base"], env=c["env"]).stdout
    assert "3 revealed (0 for the worker, 3 against)" in done
    assert "verdict: worker loses" in done
    job = MarketClient(market).job(job_id).job
    chain.sender(_key("member 0")).transact(
        market.jobs.functions.resolveDispute(job_id, job.as_abi())
    )
    info = cli("job", "status", str(job_id), *c["base"], "--json", env=c["env"]).json()
    assert info["outcome"] == "refunded" and info["dispute_round"]["verdict"] == "worker_loses"


def test_a_key_ruled_mode_0_disputes_without_a_round(
    cli: Cli, court: dict, chain_snapshot: Chain, anvil: AnvilNode, tmp_path: Path
) -> None:
    """A deployment with `disputes="manual"`: `job dispute` pays the bond only and says the
    arbiter rules; `--round-only` is refused, as there is no committee to open a round for."""
    chain = chain_snapshot
    market = deploy_market(chain, anvil.keys[OWNER], MarketConfig(disputes="manual"), reexec=True)
    spec = ModelSpec(Cid.from_digest32(b"\x02" * 32), b"\x03" * 32, "text-generation", PRICE, 0)
    chain.sender(anvil.keys[PROVIDER]).transact(
        market.models.functions.registerModel(spec.as_abi())
    )
    model_id = int(chain.call(market.models.functions.modelCount()))
    worker = court["worker"]
    ensure_ready(chain, market, worker, [model_id], register=True, stake={ETH: 10**18})
    requester = chain.sender(court["requester"])
    _fund(chain, court["requester"])
    request = JobRequest(model_id, Cid.from_digest32(b"\x04" * 32), PRICE,
                         chain.block_timestamp() + 3600, 600)  # fmt: skip
    receipt = requester.transact(
        market.jobs.functions.createJob(requester.address, request.as_abi()), value=PRICE
    )
    job_id = created_job_id(market.jobs, receipt)
    job = MarketClient(market).job(job_id).job
    worker.transact(market.jobs.functions.claim(job_id, job.as_abi()))
    job = MarketClient(market).job(job_id).job
    result = Result(Cid.from_digest32(b"\x05" * 32), b"\x05" * 32)
    worker.transact(market.jobs.functions.submitResult(job_id, job.as_abi(), result.as_abi()))
    _record(market, chain.chain_id, tmp_path, arbiter="ManualArbiter")
    base = [*court["base"][:-1], str(tmp_path)]

    out = cli("job", "dispute", str(job_id), *base, env=court["env"])
    assert out.code == 0, out.error
    assert "its tier's arbiter rules the dispute by" in out.stdout
    assert "dispute round" not in out.stdout
    assert _status(chain, market, job_id) == JobStatus.DISPUTED
    info = cli("job", "dispute", str(job_id), *base, "--json", env=court["env"])
    assert info.code == 1 and "already disputed" in info.error
    refused = cli("job", "dispute", str(job_id), "--round-only", *base, env=court["env"])
    assert refused.code == 1 and "not judged by a committee" in refused.error
    status = cli("job", "status", str(job_id), *base, env=court["env"])
    assert "dispute_bond" in status.stdout and "dispute round" not in status.stdout


def test_a_round_a_stranger_opens_first_is_reported_as_open(
    cli: Cli, c: dict, chain: Chain, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Attack: a stranger watching the mempool opens the round between the requester's
    dispute and its own opening (anyone may, paying the fee). The requester's opening is
    refused (`ReexecWrongStage`), but the dispute has what it needs: `job dispute` reports
    the round as open, charges no fee and does not tell the requester to retry."""
    market: Market = c["market"]
    assert market.reexec is not None
    _bond_pool(chain, market, 5)
    job_id = _submitted(cli, chain, c)
    stranger = _key("stranger")
    _fund(chain, stranger)
    fee = _fee(chain, market)
    real = MarketClient._open_round

    def front_run(self: MarketClient, record, court, deadline):  # type: ignore[no-untyped-def]
        assert market.reexec is not None
        call = market.reexec.functions.openDispute(record.job_id, record.job.as_abi())
        chain.sender(stranger).transact(call, value=fee)
        return real(self, record, court, deadline)

    monkeypatch.setattr(MarketClient, "_open_round", front_run)
    requester = Account.from_key(c["requester"]).address
    before = chain.balance(requester)
    out = cli("job", "dispute", str(job_id), *c["base"], env=c["env"])
    assert out.code == 0, out.error
    assert "dispute round opened: by another account, which paid its fee" in out.stdout
    round_ = read_round(chain, market.reexec, job_id)
    assert (round_.stage, round_.dispute, round_.fee) == (Stage.SUBMITTED, True, fee)
    bond = PRICE * BOND_BPS // 10_000
    spent = before - chain.balance(requester)
    assert bond < spent < bond + fee  # the bond and gas, no fee
