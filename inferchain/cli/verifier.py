"""`inferchain verifier join | leave | withdraw | show`: membership of the `reexec` tier's
pool of staked verifiers (ReexecVerifier, mode 2). A member may be drawn onto a job's
committee; `inferchain worker run --verify` then does its duty."""

from __future__ import annotations

from dataclasses import asdict

import typer
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.cli._network import Target, format_eth, market_options, parse_amount
from inferchain.cli.output import JsonOption, emit
from inferchain.market.reexec import read_member, read_params
from inferchain.wallet.client import MarketClient
from inferchain.wallet.errors import ActionRefused
from inferchain.wallet.reverts import explained_reverts

app = typer.Typer(
    help="The reexec tier's verifier pool: bond, leave, withdraw fees.", no_args_is_help=True
)


def _module(client: MarketClient) -> Contract:
    module = client.market.reexec
    if module is None:
        raise ActionRefused("this market has no reexec mode (ReexecVerifier is not deployed)")
    return module


def _send(client: MarketClient, call: object, value: int = 0) -> str:
    with explained_reverts():
        receipt = client.sender.transact(call, value=value)
    return receipt["transactionHash"].to_0x_hex()


@app.command()
@market_options()
def join(
    bond: str | None = typer.Argument(
        None, help="Bond to add, e.g. 1eth (default: the pool's minimum bond)."
    ),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Join the pool with a bond in ETH, or add to your bond."""
    _conn, client = target.client(signs=True)
    module = _module(client)
    value = parse_amount(bond) if bond is not None else read_params(client.chain, module).min_bond
    tx = _send(client, module.functions.join(), value)
    emit({"bond_added": value, "tx": tx}, f"bonded {format_eth(value)} (tx {tx})", as_json)


@app.command()
@market_options()
def leave(target: Target = Target(), as_json: bool = JsonOption) -> None:
    """Ask to leave (you are no longer drawn), or, once the delay passed and your committees
    are settled, leave: your bond is credited to your balance here (`verifier withdraw`)."""
    _conn, client = target.client(signs=True)
    module = _module(client)
    member = read_member(client.chain, module, client.sender.address)
    if not member.member:
        raise ActionRefused(f"{member.address} is not in the verifier pool")
    asked = member.leave_at != 0
    tx = _send(client, module.functions.leave() if asked else module.functions.requestLeave())
    human = (
        f"left the pool; {format_eth(member.bond)} credited (tx {tx})"
        if asked
        else f"asked to leave; run `verifier leave` again after {_leave_at(client, module)} "
        f"(tx {tx})"
    )
    emit({"left": asked, "tx": tx}, human, as_json)


def _leave_at(client: MarketClient, module: Contract) -> int:
    return read_member(client.chain, module, client.sender.address).leave_at


@app.command()
@market_options()
def withdraw(target: Target = Target(), as_json: bool = JsonOption) -> None:
    """Send your whole balance here to your wallet (fees, slashes won, a bond once left)."""
    _conn, client = target.client(signs=True)
    module = _module(client)
    amount = read_member(client.chain, module, client.sender.address).balance
    if amount == 0:
        raise ActionRefused(f"{client.sender.address} has nothing to withdraw from the pool")
    tx = _send(client, module.functions.withdraw())
    emit({"amount": amount, "tx": tx}, f"withdrew {format_eth(amount)} (tx {tx})", as_json)


@app.command()
@market_options()
def show(
    address: str | None = typer.Argument(None, help="Default: your own address."),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """The pool's parameters and size, and one account's bond and balance in it."""
    _conn, client = target.client(signs=address is None)
    module = _module(client)
    chain: Chain = client.chain
    who = address or client.sender.address
    member, params = read_member(chain, module, who), read_params(chain, module)
    size = len(chain.call(module.functions.pool()))
    data = {"module": module.address, "pool_size": size, "params": asdict(params),
            "account": asdict(member)}  # fmt: skip
    state = (
        f"bond {format_eth(member.bond)}, on {member.open_committees} open committees"
        + (f", leaving at {member.leave_at}" if member.leave_at else "")
        if member.member
        else "not a member"
    )
    lines = [
        f"reexec pool {module.address}: {size} members, committees of "
        f"{params.committee_size}, fee {format_eth(params.fee_per_verifier)} per verifier, "
        f"min bond {format_eth(params.min_bond)}",
        f"{who}: {state}; balance {format_eth(member.balance)}",
    ]
    emit(data, "\n".join(lines), as_json)
