"""`inferchain worker run | show | stake | allocate | deallocate | unstake | withdraw`: run a
worker node, manage its stake and its allocation to the market, take its earnings.

The worker owns its commands: ``inferchain.cli`` mounts this app and ``python -m
inferchain.worker`` runs it alone, so the worker never imports the CLI. Imports of the
node stay inside the commands, keeping ``inferchain --help`` free of torch.
Settings come from INFERCHAIN_WORKER_* variables (see docs/worker.md); flags override.
Amounts are wei; ``--token`` is an ERC-20 address, ETH (the zero address) by default.
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
ETH_TEXT = "eth"


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
    register: bool = typer.Option(
        False, "--register", help="register, stake and allocate if not yet"
    ),
    stake: list[str] | None = typer.Option(
        None, "--stake", help="stake to hold: [TOKEN=]WEI (repeat; no token: ETH)"
    ),
    allocation: list[str] | None = typer.Option(
        None, "--allocation", help="allocation to this market: [TOKEN=]WEI [the stake]"
    ),
    verify: bool | None = typer.Option(
        None, "--verify", help="also do verifier duties (reexec); joins the pool if not in it"
    ),
    verify_bond: str | None = typer.Option(
        None, "--verify-bond", help="bond to post when --verify joins the pool [its minimum]"
    ),
    json_logs: bool = typer.Option(True, "--json-logs/--text-logs"),
) -> None:
    """Run the worker until SIGTERM/SIGINT; then stop claiming and finish in-flight work."""
    from inferchain.chain.units import parse_amount
    from inferchain.worker import Worker
    from inferchain.worker.logs import use_json_logs

    try:
        bond = parse_amount(verify_bond) if verify_bond is not None else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--verify-bond") from None
    if json_logs:
        use_json_logs(logging.getLogger().level or logging.INFO)
    settings = _settings(
        market_addresses_file=market_addresses, rpc_url=rpc_url, ipfs_api_url=ipfs_api_url,
        models=model or None, inference_batch_size=inference_batch_size, max_wait_s=max_wait_s,
        max_in_flight=max_in_flight, device=device, state_dir=state_dir,
        metrics_port=metrics_port, keystore=keystore, stream_host=stream_host,
        stream_port=stream_port, stream_public_url=stream_public_url, verify=verify,
        verify_bond=bond,
        stake=stake or None, allocation=allocation or None,
    )  # fmt: skip
    worker = Worker(settings, register=register)
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


Token = typer.Option(ETH_TEXT, "--token", help="ERC-20 address, or eth [eth]")
Amount = typer.Option(..., "--amount", help="wei", min=1)


def _token(text: str) -> str:
    from inferchain.worker.settings import parse_token_amounts

    try:
        return next(iter(parse_token_amounts({text: 0})))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--token") from None


def _move(
    action: str, chain: Any, market: Any, sender: Any, token: str, amount: int, send: Any
) -> None:
    """Send one registry transaction, then print the token's standing after it as JSON; a
    revert is printed decoded, as a failed command."""
    from inferchain.chain import ContractReverted
    from inferchain.worker.account import account_status

    try:
        send()
    except ContractReverted as exc:
        typer.secho(f"refused: {exc}", err=True)
        raise typer.Exit(1) from None
    shown = account_status(chain, market, sender.address, [token]).tokens[token].to_dict()
    typer.echo(json.dumps({action: amount, "token": token, "worker": sender.address, **shown}))


@app.command()
def show(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    token: list[str] | None = typer.Option(
        None, "--token", help="also show this ERC-20 (repeat); ETH always"
    ),
) -> None:
    """Registration, stake, allocation to this market, locked collateral, the market's
    record of failures and timeouts, and withdrawable earnings, as JSON."""
    from inferchain.worker.account import account_status

    chain, market, sender = _connect(market_addresses, rpc_url)
    tokens = [_token(t) for t in token or []]
    status = account_status(chain, market, sender.address, tokens)
    typer.echo(json.dumps(status.to_dict(), indent=2))


@app.command()
def stake(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    amount: int = Amount,
    token: str = Token,
) -> None:
    """Add to the stake in the worker registry (ERC-20: approve the registry first)."""
    from inferchain.worker.account import stake_token

    chain, market, sender = _connect(market_addresses, rpc_url)
    address = _token(token)
    _move(
        "staked_wei",
        chain,
        market,
        sender,
        address,
        amount,
        lambda: stake_token(sender, market, address, amount),
    )


@app.command()
def allocate(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    amount: int = Amount,
    token: str = Token,
    stake_missing: bool = typer.Option(
        False, "--stake-missing", help="stake what the free stake lacks in the same call"
    ),
) -> None:
    """Allocate stake to this market: claims lock each job's collateral from it."""
    from inferchain.worker.account import account_status, allocate_token

    chain, market, sender = _connect(market_addresses, rpc_url)
    address = _token(token)
    free = account_status(chain, market, sender.address, [address]).tokens[address].free_stake
    if amount > free and not stake_missing:
        typer.secho(
            f"free stake is {free} wei, less than {amount}: stake first or pass --stake-missing",
            err=True,
        )
        raise typer.Exit(1)
    _move(
        "allocated_wei",
        chain,
        market,
        sender,
        address,
        amount,
        lambda: allocate_token(sender, market, address, amount, free_stake=free),
    )


@app.command()
def deallocate(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    amount: int = Amount,
    token: str = Token,
) -> None:
    """Take allocation back from this market; what held jobs lock stays until they end."""
    from inferchain.worker.account import deallocate_token

    chain, market, sender = _connect(market_addresses, rpc_url)
    address = _token(token)
    _move(
        "deallocated_wei",
        chain,
        market,
        sender,
        address,
        amount,
        lambda: deallocate_token(sender, market, address, amount),
    )


@app.command()
def unstake(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    amount: int = Amount,
    token: str = Token,
    to: str | None = typer.Option(None, "--to", help="recipient [the worker]"),
) -> None:
    """Take unallocated stake out of the registry (deallocate it first)."""
    from inferchain.worker.account import unstake_token

    chain, market, sender = _connect(market_addresses, rpc_url)
    address = _token(token)
    _move(
        "unstaked_wei",
        chain,
        market,
        sender,
        address,
        amount,
        lambda: unstake_token(sender, market, address, amount, to),
    )


@app.command()
def withdraw(
    market_addresses: Path | None = Addresses,
    rpc_url: str | None = Rpc,
    amount: int | None = typer.Option(None, "--amount", help="wei; default everything"),
    token: str = Token,
) -> None:
    """Take earnings out of the market to the worker's own address."""
    from inferchain.worker.settlement import withdraw as do_withdraw

    chain, market, sender = _connect(market_addresses, rpc_url)
    token = _token(token)
    balance = int(chain.call(market.jobs.functions.balanceOf(sender.address, token)))
    amount = balance if amount is None else amount
    if amount <= 0 or amount > balance:
        typer.secho(f"nothing to withdraw (balance {balance})", err=True)
        raise typer.Exit(1)
    do_withdraw(market, sender, token, amount)
    typer.echo(json.dumps({"withdrawn": amount, "token": token, "to": sender.address}))
