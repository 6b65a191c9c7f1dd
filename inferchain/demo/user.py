"""The demo's user path: a fresh wallet submits four jobs through the gateway (the fourth a
chat with the transformers Llama), three through the CLI and, where the ZK demo model is
registered, a `zk`-tier job (paid at submission, its proof checked on-chain); it waits,
verifies every result, lets the challenge window pass, and accounts for every wei.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from web3.logs import DISCARD

from inferchain.demo import inputs
from inferchain.demo.cli_user import WAIT, CliUser
from inferchain.demo.gateway_user import GatewayUser
from inferchain.demo.steps import Steps
from inferchain.demo.wallet import Wallet
from inferchain.ipfs import Cid, IpfsClient, verify_bytes
from inferchain.market import ETH, JobOutcome, Market
from inferchain.market.modes import ZK_MODE
from inferchain.wallet import MarketClient

TASKS = ("text-generation", "image-classification", "text-classification")
#: The gateway jobs: (key in UserContext.models, task), one per task, then a chat.
GATEWAY_JOBS = (*((task, task) for task in TASKS), ("chat", "text-generation"))

#: The key of the ZK demo model in UserContext.models (`deployment.ZK_MODEL.alias`).
ZK_KEY = "zk"

#: How the report names the governor's account, where protocol fees go.
FEE_ACCOUNT_ROLE = "protocol fee account (governor)"


@dataclass(frozen=True)
class JobRun:
    via: str  # "gateway" or "cli"
    task: str
    model_id: int
    job_id: int
    output_cid: str
    output: dict[str, Any]
    tx_hash: str
    verification: int = 0  # the job's mode: 0 manual (challenge window), ZK_MODE proven
    proof: ProofCheck | None = None  # a proven job: where and for how much gas


@dataclass(frozen=True)
class ProofCheck:
    """A proven job's settlement: the worker's submission, which checked the proof and paid."""

    submit_tx: str
    submit_gas: int
    verifier_gas: int  # the verifier's proof check alone (a transaction calling it)
    jobs_in_tx: int = 1  # the worker submitted these many results in that transaction


@dataclass
class MoneyFlow:
    """Expected (from each job's terms) and measured (balance changes) amounts, in wei."""

    prices: int = 0
    gas: int = 0
    expected: dict[str, int] = field(default_factory=dict)  # market balance gains by address
    measured: dict[str, int] = field(default_factory=dict)
    user_wallet_change: int = 0
    roles: dict[str, str] = field(default_factory=dict)  # address → "worker", …

    @property
    def exact(self) -> bool:
        return self.expected == self.measured and self.user_wallet_change == -(
            self.prices + self.gas
        )


@dataclass
class UserReport:
    wallet: Wallet
    jobs: list[JobRun]
    money: MoneyFlow


@dataclass(frozen=True)
class UserContext:
    market: Market
    ipfs_api_url: str
    rpc_url: str
    deployments: Path
    gateway: httpx.Client
    models: dict[str, int]  # DemoModel.key (a task, or "chat") → model id
    work_dir: Path


def run_user_path(
    ctx: UserContext, wallet: Wallet, steps: Steps, timeout: float = 90
) -> UserReport:
    chain, market = ctx.market.chain, ctx.market
    reader = MarketClient(market, None, IpfsClient(ctx.ipfs_api_url, timeout=30))
    start_block = chain.w3.eth.block_number
    user = GatewayUser(ctx.gateway, chain, wallet.key)
    cli = CliUser(wallet.keystore, wallet.password, ctx.rpc_url, ctx.ipfs_api_url, ctx.deployments)
    png = ctx.work_dir / "digit-3.png"
    png.write_bytes(inputs.digit_png())
    sent: list[tuple[str, str, int, str]] = []  # model key, task, job id, tx
    with steps.step(
        f"user: sign in to the gateway (SIWE) and submit {len(GATEWAY_JOBS)} jobs through it"
    ):
        user.sign_in()
        bodies = {
            "text-generation": {"input": inputs.PROMPT},
            "image-classification": {"input_cid": user.upload(inputs.digit_png())},
            "text-classification": {"input": {"text": inputs.REVIEW}},
            "chat": {"input": inputs.CHAT},
        }
        for key, task in GATEWAY_JOBS:
            job_id, receipt = user.submit(ctx.models[key], **bodies[key])
            sent.append((key, task, job_id, receipt["transactionHash"].to_0x_hex()))
            steps.say(f"    {key:21} job {job_id} (model {ctx.models[key]})")
    zk_job: tuple[int, str] | None = None  # job id, tx
    if ZK_KEY in ctx.models:
        with steps.step("user: submit a zk-tier job with `inferchain job submit --verify zk`"):
            zk_job = _submit_zk(ctx, cli, steps)
    cli_runs: list[JobRun] = []
    with steps.step("user: submit 3 jobs with `inferchain job submit --wait`"):
        cli_inputs = {
            "text-generation": inputs.CLI_PROMPT,
            "image-classification": str(png),
            "text-classification": inputs.CLI_REVIEW,
        }
        for task in TASKS:
            steps.say(f"    $ {cli.printable(ctx.models[task], cli_inputs[task], *WAIT)}")
            answer = cli.submit(ctx.models[task], cli_inputs[task], *WAIT)
            run = _verified(reader, "cli", task, ctx.models[task], answer["job_id"], answer["tx"])
            if json.loads(answer["output"]) != run.output or not answer["verified"]:
                raise AssertionError(f"the CLI printed another result than job {run.job_id}'s")
            cli_runs.append(run)
    if zk_job is not None:
        with steps.step("user: the zk-tier job, proven meanwhile, is paid in its submission"):
            cli_runs.append(_zk_paid(ctx, reader, *zk_job, timeout))
    gateway_runs = []
    with steps.step("user: wait for the gateway's indexed results and download them, verified"):
        for key, task, job_id, tx in sent:
            detail = user.wait_indexed_result(job_id, timeout)
            data = user.result(job_id, detail["output_cid"])
            onchain = _verified(reader, "gateway", task, ctx.models[key], job_id, tx)
            if json.loads(data) != onchain.output:
                raise AssertionError(f"job {job_id}: gateway bytes differ from the IPFS result")
            gateway_runs.append(onchain)
    jobs = sorted(gateway_runs + cli_runs, key=lambda run: run.job_id)
    with steps.step("chain: pass the challenge window (local chain time jumps), worker is paid"):
        _settle(reader, [j.job_id for j in jobs], timeout)
    money = _money_flow(reader, wallet, jobs, start_block)
    return UserReport(wallet, jobs, money)


def _verified(
    reader: MarketClient, via: str, task: str, model_id: int, job_id: int, tx: str
) -> JobRun:
    """The job's output fetched from IPFS and checked against the CID on-chain."""
    record = reader.job(job_id)
    if record.output_cid is None:
        raise AssertionError(f"job {job_id} has no result on-chain")
    cid = Cid.parse(record.output_cid)
    data = reader.ipfs.cat(cid)  # type: ignore[union-attr]
    verify_bytes(cid, data)
    output = json.loads(data)
    if output["task"] != task:
        raise AssertionError(f"job {job_id} answered a {output['task']} result, not {task}")
    return JobRun(via, task, model_id, job_id, str(cid), output, tx)


def _submit_zk(ctx: UserContext, cli: CliUser, steps: Steps) -> tuple[int, str]:
    """The digit as a raw input file with ``--verify zk``, not waited for: the worker proves it
    off its job path while the next jobs run. (job id, tx)"""
    digit = ctx.work_dir / "digit-3.bin"
    digit.write_bytes(inputs.digit_file())
    model_id = ctx.models[ZK_KEY]
    steps.say(f"    $ {cli.printable(model_id, str(digit), '--verify', 'zk')}")
    answer = cli.submit(model_id, str(digit), "--verify", "zk")
    if answer["verification"] != ZK_MODE:
        raise AssertionError(f"job {answer['job_id']} was created in mode {answer['verification']}")
    steps.say(f"    job {answer['job_id']} (model {model_id}), verification mode {ZK_MODE}")
    return answer["job_id"], answer["tx"]


def _zk_paid(
    ctx: UserContext, reader: MarketClient, job_id: int, tx: str, timeout: float
) -> JobRun:
    """The zk job's result, verified against its CID, once the worker's submission has checked
    the proof on-chain and paid it at once (no challenge window: before `_settle`)."""
    from inferchain.zk import decode_output

    record = reader.wait(job_id, timeout=timeout)
    if record.job.terms.verification != ZK_MODE or record.outcome is not JobOutcome.PAID:
        raise AssertionError(f"zk job {job_id} is not paid at submission: {record.outcome}")
    cid, data = reader.result(job_id)
    verify_bytes(Cid.parse(cid), data)
    logits = decode_output(data)
    label = max(range(len(logits)), key=logits.__getitem__)
    output = {"task": "image-classification", "result": {"label": str(label), "logits": logits}}
    model_id = ctx.models[ZK_KEY]
    proof = _proof_check(ctx.market, job_id, model_id)
    return JobRun("cli", "image-classification", model_id, job_id, str(cid), output, tx,
                  ZK_MODE, proof)  # fmt: skip


def _proof_check(market: Market, job_id: int, model_id: int) -> ProofCheck:
    """The worker's submission of ``job_id`` (which must also have paid it), and the gas of its
    proof check: the proof it carried, replayed against the model's verifier."""
    from inferchain.artifacts import load_artifact
    from inferchain.zk.module import circuit_of, decode_proof
    from inferchain.zk.publish import module_contract

    chain, jobs = market.chain, market.jobs
    (submitted,) = jobs.events.ResultSubmitted().get_logs(
        from_block=market.addresses.deployed_block, argument_filters={"jobId": job_id}
    )
    receipt = chain.w3.eth.get_transaction_receipt(submitted["transactionHash"])
    finalized = jobs.events.JobFinalized().process_receipt(receipt, errors=DISCARD)
    if not [e for e in finalized if e["args"]["jobId"] == job_id]:
        raise AssertionError(f"zk job {job_id} was not paid in its submission transaction")
    tx = chain.w3.eth.get_transaction(submitted["transactionHash"])
    _fn, args = jobs.decode_function_input(tx["input"])
    # submitResult(jobId, job, result), or submitBatch(jobIds, jobs, results) with other jobs
    ids = [int(i) for i in args.get("jobIds", [job_id])]
    result = args["result"] if "result" in args else args["results"][ids.index(job_id)]
    proof, instances = decode_proof(bytes(result["proof"]))
    assert market.addresses.zk_verifier is not None  # the job's mode is served
    circuit = circuit_of(chain, module_contract(chain, market.addresses.zk_verifier), model_id)
    verifier = chain.w3.eth.contract(
        address=circuit.verifier, abi=load_artifact("IHalo2Verifier").abi
    )
    gas = verifier.functions.verifyProof(proof, list(instances)).estimate_gas()
    tx_hash = submitted["transactionHash"].to_0x_hex()
    return ProofCheck(tx_hash, int(receipt["gasUsed"]), int(gas), len(ids))


def _settle(reader: MarketClient, job_ids: list[int], timeout: float) -> None:
    """Jump local chain time past each challenge window; the worker then finalizes."""
    chain = reader.chain
    window = max(reader.job(j).job.terms.challenge_window for j in job_ids)
    chain.increase_time(window + 1)
    chain.mine()
    deadline = time.monotonic() + timeout
    pending = set(job_ids)
    while pending:
        pending = {j for j in pending if reader.job(j).outcome is None}
        if not pending:
            break
        if time.monotonic() > deadline:
            raise TimeoutError(f"jobs {sorted(pending)} not finalized after {timeout:.0f}s")
        time.sleep(0.25)
    unpaid = [j for j in job_ids if reader.job(j).outcome is not JobOutcome.PAID]
    if unpaid:
        raise AssertionError(f"jobs {unpaid} settled without paying the worker")


def _money_flow(reader: MarketClient, wallet: Wallet, jobs: list[JobRun], start: int) -> MoneyFlow:
    chain, market = reader.chain, reader.market
    # Fees are credited to the governor's account in the market; only the timelock moves them.
    fee_account = chain.call(market.jobs.functions.governor())
    flow = MoneyFlow()
    flow.roles[fee_account] = FEE_ACCOUNT_ROLE
    for run in jobs:
        record = reader.job(run.job_id)
        terms = record.job.terms
        royalty = terms.price * terms.royalty_bps // 10_000
        fee = terms.price * terms.fee_bps // 10_000
        for who, amount, role in (
            (record.job.worker, terms.price - royalty - fee, "worker"),
            (terms.provider, royalty, "model provider (royalty)"),
            (fee_account, fee, FEE_ACCOUNT_ROLE),
        ):
            flow.expected[who] = flow.expected.get(who, 0) + amount
            flow.roles.setdefault(who, role)
        flow.prices += terms.price
        receipt = chain.w3.eth.get_transaction_receipt(run.tx_hash)  # type: ignore[arg-type]
        flow.gas += int(receipt["gasUsed"]) * int(receipt["effectiveGasPrice"])
    balance_of = market.jobs.functions.balanceOf
    for who in flow.expected:
        now = int(chain.call(balance_of(who, ETH)))
        flow.measured[who] = now - int(chain.call(balance_of(who, ETH), block=start))
    flow.user_wallet_change = chain.balance(wallet.address) - int(
        chain.w3.eth.get_balance(wallet.address, block_identifier=start)  # type: ignore[arg-type]
    )
    return flow
