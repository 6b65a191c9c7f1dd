"""`inferchain worker [run | status | top-up | withdraw]`: run a worker node, keep its stake
up and take its earnings.

The worker owns its commands: ``inferchain.cli`` mounts this app and ``python -m
inferchain.worker`` runs it alone, so the worker never imports the CLI. Imports of the
node stay inside the commands, keeping ``inferchain --help`` free of torch.
Settings come from INFERCHAIN_WORKER_* variables (see docs/worker.md); flags override.
"""

from __future__ import annotations

import json
import logging
import signal
from pathlib import Path
from typing import Any

import typer

from inferchain.settings import load_settings

app = typer.Typer(help="A compute provider's node: claim jobs, run models, get paid.")

Addresses = typer.Option(
    None,
    "--market-addresses",
    help="JSON file of MarketAddresses [deployments/<chain-id>.json]",
)
Rpc = typer.Option(None, "--rpc-url", help="[http://127.0.0.1:8545]")


def _settings(**overrides: Any):  # type: ignore[no-untyped-def]
    from inferchain.worker import WorkerSettings

    return load_settings(WorkerSettings, **overrides)


@app.command()
def run(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    ipfs_api_url: str | None = typer.Option(None, "--ipfs-api-url"),
    model: list[int] | None = typer.Option(None, "--model", help="model id to serve (repeat)"),
    inference_batch_size: int | None = typer.Option(
        None, "--inference-batch-size", help="most jobs of one model run together [16]"
    ),
    max_wait_s: float | None = typer.Option(None, "--max-wait-s"),
    max_in_flight: int | None = typer.Option(None, "--max-in-flight"),
    device: str | None = typer.Option(None, "--device", help="auto | cpu | cuda[:N]"),
    state_dir: Path | None = typer.Option(None, "--state-dir"),
    metrics_port: int | None = typer.Option(None, "--metrics-port", help="0: any free port"),
    stream_host: str | None = typer.Option(None, "--stream-host", help="[127.0.0.1]"),
    stream_port: int | None = typer.Option(
        None, "--stream-port", help="token streams' port [0: any free port]"
    ),
    stream_public_url: str | None = typer.Option(
        None, "--stream-public-url", help="URL readers use, if not http://host:port"
    ),
    keystore: Path | None = typer.Option(
        None, "--keystore", help="encrypted key; password from INFERCHAIN_KEYSTORE_PASSWORD"
    ),
    register: bool = typer.Option(False, "--register", help="register if not yet"),
    stake: int | None = typer.Option(None, "--stake", help="stake in wei (register/top up)"),
    verify: bool | None = typer.Option(
        None, "--verify", help="also do verifier duties (reexec; `inferchain verifier join`)"
    ),
    json_logs: bool = typer.Option(True, "--json-logs/--text-logs"),
) -> None:
    """Run the worker until SIGTERM/SIGINT; then stop claiming and finish in-flight work."""
    from inferchain.worker import Worker
    from inferchain.worker.logs import use_json_logs

    if json_logs:
        use_json_logs(logging.getLogger().level or logging.INFO)
    settings = _settings(
        market_addresses_file=market_addresses, rpc_url=rpc_url, ipfs_api_url=ipfs_api_url,
        models=model or None, inference_batch_size=inference_batch_size, max_wait_s=max_wait_s,
        max_in_flight=max_in_flight, device=device, state_dir=state_dir,
        metrics_port=metrics_port, keystore=keystore, stream_host=stream_host,
        stream_port=stream_port, stream_public_url=stream_public_url, verify=verify,
    )  # fmt: skip
    worker = Worker(settings, register=register, stake=stake)
    worker.start()
    if worker.health_port is not None:
        logging.getLogger(__name__).info("metrics", extra={"port": worker.health_port})

    def _stop(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info("signal; draining", extra={"signal": signum})
        worker.stop(wait=False)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while worker.state.value != "stopped":
        worker.join(0.5)
    if worker.failure is not None:
        raise typer.Exit(1)


def _connect(market_addresses: Path | None, rpc_url: str | None):  # type: ignore[no-untyped-def]
    from inferchain.chain import Chain
    from inferchain.market import Market

    settings = _settings(market_addresses_file=market_addresses, rpc_url=rpc_url)
    chain = Chain(settings.rpc_url, expected_chain_id=settings.chain_id)
    market = Market.connect(chain, settings.market_addresses(chain.chain_id))
    return chain, market, chain.sender(settings.signing_key())


@app.command()
def status(market_addresses: Path | None = Addresses, rpc_url: str | None = Rpc) -> None:
    """Stake, jobs held (in flight) and withdrawable earnings, as JSON."""
    from inferchain.worker.account import account_status

    chain, market, sender = _connect(market_addresses, rpc_url)
    typer.echo(json.dumps(account_status(chain, market, sender.address).to_dict(), indent=2))


@app.command("top-up")
def top_up(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    amount: int | None = typer.Option(None, "--amount", help="wei; default what is missing"),
) -> None:
    """Add stake (ETH) so the worker may claim again, e.g. after a slash left it short."""
    from inferchain.worker.account import top_up as do_top_up

    chain, market, sender = _connect(market_addresses, rpc_url)
    added = do_top_up(chain, market, sender, amount)
    typer.echo(json.dumps({"added_wei": added, "worker": sender.address}))


@app.command()
def withdraw(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    amount: int | None = typer.Option(None, "--amount", help="wei; default everything"),
    token: str = typer.Option("0x0000000000000000000000000000000000000000", "--token"),
) -> None:
    """Take earnings out of the market to the worker's own address."""
    from inferchain.worker.settlement import withdraw as do_withdraw

    chain, market, sender = _connect(market_addresses, rpc_url)
    balance = int(chain.call(market.jobs.functions.balanceOf(sender.address, token)))
    amount = balance if amount is None else amount
    if amount <= 0 or amount > balance:
        typer.secho(f"nothing to withdraw (balance {balance})", err=True)
        raise typer.Exit(1)
    do_withdraw(market, sender, token, amount)
    typer.echo(json.dumps({"withdrawn": amount, "token": token, "to": sender.address}))
