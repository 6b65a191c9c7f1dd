"""The demo's user path (what `scripts/demo.sh` runs after the stack is up), on the test
stack: a fresh wallet submits four jobs through the gateway (the fourth a chat with the
transformers Llama), three through the CLI and a `zk`-tier one (proven by the worker, paid
in its submission), every job finalizes, every result is verified and every wei is where
the terms say."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from inferchain.chain import Chain
from inferchain.demo import (
    DEMO_MODELS,
    ZK_MODEL,
    StepFailed,
    UserContext,
    fresh_wallet,
    run_user_path,
)
from inferchain.demo.report import results
from inferchain.demo.steps import Steps
from inferchain.demo.user import FEE_ACCOUNT_ROLE
from inferchain.ipfs import IpfsClient
from inferchain.market import JobOutcome
from inferchain.market.modes import ZK_MODE
from inferchain.wallet import MarketClient
from tests.conftest import AnvilNode
from tests.demo.helpers import (
    FAUCET,
    PROVIDER,
    WORKER,
    deploy_demo,
    gateway_client,
    running_worker,
)

FEE_BPS = 250  # networks.toml, [networks.local.market]


def test_demo_user_path_every_job_verified_and_paid_exactly(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> None:
    demo = deploy_demo(
        chain, anvil, ipfs_api_url, tmp_path / "deployments", zk_work=tmp_path / "zk"
    )
    wallet = fresh_wallet(chain, anvil.keys[FAUCET], tmp_path / "wallet.json", 10**18)
    lines: list[str] = []
    with (
        running_worker(anvil, ipfs_api_url, demo, tmp_path / "worker"),
        gateway_client(tmp_path, anvil, ipfs_api_url, demo) as http,
    ):
        ctx = UserContext(demo.market, ipfs_api_url, anvil.rpc_url, demo.deployments, http,
                          demo.models, tmp_path)  # type: ignore[arg-type]  # fmt: skip
        report = run_user_path(ctx, wallet, Steps(lines.append), timeout=60)

    jobs = report.jobs
    (zk,) = [j for j in jobs if j.model_id == demo.models["zk"]]
    client = MarketClient(demo.market)
    zk_record = client.job(zk.job_id)
    assert zk_record.outcome is JobOutcome.PAID
    assert zk.verification == zk_record.job.terms.verification == ZK_MODE == 1
    assert zk.proof is not None and 400_000 < zk.proof.verifier_gas < zk.proof.submit_gas
    assert (zk.via, zk.output["result"]["label"]) == ("cli", "3")
    printed = "\n".join(results(jobs))
    assert f"verification zk (mode 1): paid in the worker's submission {zk.proof.submit_tx}" in (
        printed
    )
    assert f"proof check {zk.proof.verifier_gas:,} gas on-chain" in printed
    runs = {m.bundle: 1 if m.key == "chat" else 2 for m in DEMO_MODELS}  # the chat: gateway only
    assert Counter(j.output["model"]["name"] for j in jobs if j is not zk) == runs
    (chat,) = [j for j in jobs if j.model_id == demo.models["chat"]]
    assert (chat.via, chat.output["runtime"]["name"]) == ("gateway", "hf-transformers")
    assert chat.output["result"]["text"] and chat.output["result"]["prompt_tokens"] > 0
    by = {(j.via, j.task): j.output["result"] for j in jobs if j not in (chat, zk)}
    assert by["gateway", "image-classification"]["label"] == "3"
    assert by["cli", "image-classification"]["label"] == "3"
    assert by["gateway", "text-classification"]["label"] == "positive"
    assert all(by[via, "text-generation"]["text"] for via in ("gateway", "cli"))
    assert all(client.job(j.job_id).outcome is JobOutcome.PAID for j in jobs)
    assert all(j.verification == 0 and j.proof is None for j in jobs if j is not zk)

    # Every wei: computed here from the demo's price list, not from the job terms.
    runs[ZK_MODEL.bundle] = 1
    models = (*DEMO_MODELS, ZK_MODEL)
    worker_gain = provider_gain = fee_gain = 0
    for model in models:
        royalty, fee = model.price * model.royalty_bps // 10_000, model.price * FEE_BPS // 10_000
        worker_gain += runs[model.bundle] * (model.price - royalty - fee)
        provider_gain += runs[model.bundle] * royalty
        fee_gain += runs[model.bundle] * fee
    money = report.money
    assert money.prices == sum(runs[m.bundle] * m.price for m in models)
    fee_account = next(a for a, role in money.roles.items() if role == FEE_ACCOUNT_ROLE)
    assert fee_account not in anvil.accounts  # the governor contract, not a key
    assert money.measured == {
        anvil.accounts[WORKER]: worker_gain,
        anvil.accounts[PROVIDER]: provider_gain,
        fee_account: fee_gain,
    }
    assert money.measured == money.expected and money.exact
    assert money.user_wallet_change == -(money.prices + money.gas) and money.gas > 0
    assert [line for line in lines if line.startswith("[")] == [
        "[1] user: sign in to the gateway (SIWE) and submit 4 jobs through it",
        "[2] user: submit a zk-tier job with `inferchain job submit --verify zk`",
        "[3] user: submit 3 jobs with `inferchain job submit --wait`",
        "[4] user: the zk-tier job, proven meanwhile, is paid in its submission",
        "[5] user: wait for the gateway's indexed results and download them, verified",
        "[6] chain: pass the challenge window (local chain time jumps), worker is paid",
    ]


def test_a_failing_step_names_itself_and_the_log(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> None:
    """No gateway at that URL: the first user step fails and says which one."""
    import httpx

    demo = deploy_demo(chain, anvil, ipfs_api_url, tmp_path / "deployments", DEMO_MODELS[2:3])
    wallet = fresh_wallet(chain, anvil.keys[FAUCET], tmp_path / "wallet.json", 10**17)
    with httpx.Client(base_url="http://127.0.0.1:9", timeout=2) as http:
        ctx = UserContext(demo.market, ipfs_api_url, anvil.rpc_url, demo.deployments, http,
                          demo.models, tmp_path)  # fmt: skip
        with pytest.raises(StepFailed) as failed:
            run_user_path(ctx, wallet, Steps(lambda _m: None))
    assert failed.value.step.startswith("user: sign in to the gateway")
    assert "ConnectError" in str(failed.value)


def test_a_second_registration_reuses_the_models(
    chain: Chain, anvil: AnvilNode, ipfs_api_url: str, tmp_path: Path
) -> None:
    from inferchain.demo import register_models

    demo = deploy_demo(chain, anvil, ipfs_api_url, tmp_path / "deployments", DEMO_MODELS[2:3])
    with IpfsClient(ipfs_api_url) as ipfs:
        (again,) = register_models(demo.market, ipfs, anvil.keys[PROVIDER], DEMO_MODELS[2:3])
    assert again.reused and again.model_id == demo.models["text-classification"]
