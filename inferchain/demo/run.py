"""`inferchain demo up`: the whole local marketplace in one command, and `demo down`."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

import httpx

from inferchain.chain import Chain
from inferchain.demo import processes, report
from inferchain.demo.deployment import DEMO_MODELS, deploy, register_models, register_zk_model
from inferchain.demo.errors import StepFailed
from inferchain.demo.steps import Say, Steps
from inferchain.demo.user import UserContext, UserReport, run_user_path
from inferchain.demo.wallet import fresh_wallet
from inferchain.deploy import deployments_dir, load_network
from inferchain.devstack import DevStack, dev_private_keys
from inferchain.ipfs import IpfsClient
from inferchain.settings import DevStackSettings

#: Anvil dev accounts and their roles in the demo.
DEPLOYER, PROVIDER, WORKER_KEY, RELAYER, FAUCET = 0, 1, 2, 3, 9
USER_FUNDS = 10**18
#: What the demo worker stakes and allocates to the market (ETH): each claim locks its job's
#: collateral (the price, by default) from it, far more than the demo's jobs need at once.
WORKER_STAKE = 10**18


@dataclass(frozen=True)
class DemoResult:
    report: UserReport
    gateway_url: str
    seconds: float


def demo_up(settings: DevStackSettings, say: Say = print) -> DemoResult:
    """Stack, contracts, models, worker, gateway, then the user path; fails naming the step."""
    steps, stack = Steps(say), DevStack(settings)
    logs = stack.state_dir / "logs"
    keys = dev_private_keys()
    with steps.step("start Anvil and IPFS (reused when running)", log=logs):
        for status in stack.up(on_progress=lambda m: say(f"    {m}")):
            if not status.healthy:
                raise RuntimeError(f"{status.name} is not healthy")
    network = load_network("local")
    chain = Chain(settings.rpc_url, expected_chain_id=network.chain_id)
    ends = processes.Endpoints(settings.rpc_url, settings.ipfs_api_url, chain.chain_id)
    directory = deployments_dir(None)
    with steps.step("deploy the contracts (networks.toml `local`)", log=logs / "anvil.log"):
        market, sent = deploy(chain, keys[DEPLOYER], network, directory)
        say(f"    {'deployed' if sent else 'reused'}: JobMarket {market.addresses.job_market}")
    ipfs = IpfsClient(settings.ipfs_api_url, timeout=120)
    publish = (f"publish the {len(DEMO_MODELS) + 1} demo models to IPFS and register them "
               "(the ZK one with its circuit and verifier)")  # fmt: skip
    with steps.step(publish, log=logs / "ipfs.log"):
        registered = register_models(market, ipfs, keys[PROVIDER])
        zk_work, identity = stack.state_dir / "demo" / "zk", processes.market_identity(market)
        registered.append(register_zk_model(market, ipfs, keys[PROVIDER], zk_work, identity))
        for r in registered:
            say(f"    model {r.model_id}: {r.model.bundle:14} {r.model.task:21} "
                f"{report.eth(r.model.price)}, royalty {r.model.royalty_bps / 100:g}% "
                f"({'reused' if r.reused else 'registered'}; bundle {r.bundle_cid})")  # fmt: skip
    model_ids = {r.model.key: r.model_id for r in registered}
    worker_log = processes.log_path(stack, processes.WORKER)
    serves = f"stakes and allocates {report.eth(WORKER_STAKE)}, serves the {len(model_ids)} models"
    with steps.step(f"start a worker ({serves})", log=worker_log):
        worker = processes.reusable(stack, processes.WORKER, market)
        if worker is None:
            worker = processes.start_worker(
                stack, market, ends, keys[WORKER_KEY], sorted(model_ids.values()), WORKER_STAKE
            )
        say(f"    worker pid {worker.pid}, metrics {worker.url}/metrics")
    gateway_log = processes.log_path(stack, processes.GATEWAY)
    with steps.step("start the gateway (API + indexer)", log=gateway_log):
        gateway = processes.reusable(stack, processes.GATEWAY, market)
        if gateway is None:
            gateway = processes.start_gateway(stack, market, ends, keys[RELAYER])
        say(f"    gateway pid {gateway.pid}, {gateway.url}/docs")
    work = stack.state_dir / "demo"
    with steps.step("user: a fresh wallet, funded with 1 ETH"):
        wallet = fresh_wallet(chain, keys[FAUCET], work / "wallet.json", USER_FUNDS)
        say(f"    {wallet.address} (keystore {wallet.keystore})")
    with httpx.Client(base_url=gateway.url, timeout=60) as http:
        ctx = UserContext(market, settings.ipfs_api_url, settings.rpc_url, directory, http,
                          model_ids, work)  # fmt: skip
        try:
            user = run_user_path(ctx, wallet, steps)
        except StepFailed as exc:
            raise StepFailed(exc.step, exc.reason, f"{worker_log} and {gateway_log}") from exc
    for line in [*report.results(user.jobs), "", *report.money(user.money, wallet.address)]:
        say(line)
    if not user.money.exact:
        raise StepFailed("money flow", "balances differ from the jobs' terms (see above)")
    say("")
    say(next_steps(stack, gateway.url, wallet.keystore, wallet.password, model_ids))
    say(f"\nDemo finished in {steps.elapsed():.0f}s.")
    return DemoResult(user, gateway.url, steps.elapsed())


def demo_down(settings: DevStackSettings) -> list[str]:
    """Stop the worker, the gateway, Anvil and IPFS (exactly the recorded processes)."""
    return DevStack(settings).down()


def next_steps(
    stack: DevStack, gateway: str, keystore: Path, password: str, models: dict[str, int]
) -> str:
    status = {s.name: s.service for s in stack.status()}
    rpc = status["anvil"].url if status.get("anvil") else "?"
    ipfs = status["ipfs"].url if status.get("ipfs") else "?"
    env = (
        f"INFERCHAIN_KEYSTORE={shlex.quote(str(keystore))} INFERCHAIN_KEYSTORE_PASSWORD={password}"
    )
    names = ("text-generation", "image-classification", "text-classification", "chat", "zk")
    gen, img, cls, chat, zk = (models[k] for k in names)
    digit = stack.state_dir / "demo" / "digit-3.bin"
    messages = '{"messages": [{"role": "user", "content": "Who wrote The Raven?"}]}'
    return f"""The marketplace keeps running:
  chain (Anvil)   {rpc}   chain id 31337
  IPFS API        {ipfs}
  gateway         {gateway}   (API docs {gateway}/docs, OpenAPI {gateway}/openapi.json)
  models          {gen} text-generation, {img} image-classification, {cls} text-classification,
                  {chat} chat (tiny-llama, a transformers Llama),
                  {zk} image-classification, ZK tier (digits-mlp: `--verify zk`, proven)

Keep using it with the demo wallet:
  export {env}
  .venv/bin/inferchain job submit --model {gen} --input "Once upon a time" --wait
  .venv/bin/inferchain job submit --model {cls} --input "what a great film" --wait
  .venv/bin/inferchain job submit --model {chat} --input '{messages}' --wait
  .venv/bin/inferchain job submit --model {zk} --input {digit} --verify zk --wait --out /tmp/logits
  .venv/bin/inferchain wallet balance
  .venv/bin/inferchain dev status          # Anvil and IPFS health, PIDs, logs
Quickstarts: docs/quickstart-user.md, docs/quickstart-worker.md, docs/quickstart-deploy.md
Logs: {stack.state_dir / "logs"}

Stop everything (worker, gateway, Anvil, IPFS):
  .venv/bin/inferchain dev down"""
