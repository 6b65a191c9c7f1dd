"""`inferchain governance propose ...`: owner actions scheduled in the timelock, and the
key checks every governance command starts with."""

from __future__ import annotations

import typer
from web3 import Web3

from inferchain.cli._governance import (
    Governance,
    GovernanceRefused,
    OperationStateError,
    when,
)
from inferchain.cli._network import (
    Target,
    market_options,
    parse_amount,
)
from inferchain.cli.output import JsonOption, emit
from inferchain.deploy.governance import Change
from inferchain.market import ETH

propose_app = typer.Typer(
    help="Schedule an owner action in the timelock (proposer key); execute it once ready.",
    no_args_is_help=True,
)
MODE_ARG = typer.Argument(..., min=0, max=255, help="Verification mode id (0..255).")
TOKEN_ARG = typer.Argument(..., help="ERC-20 address.")


def parse_address(value: str, what: str) -> str:
    if value.lower() in ("eth", "ether"):
        return ETH
    if not Web3.is_address(value):
        raise typer.BadParameter(f"{value!r} is not an address", param_hint=what)
    return Web3.to_checksum_address(value)


def parse_token(value: str) -> str:
    token = parse_address(value, "TOKEN")
    if token == ETH:
        raise GovernanceRefused("ETH is always allowed: name an ERC-20 address")
    return token


def _propose(gov: Governance, change: Change, what: str, as_json: bool) -> None:
    """Check `change` as the timelock would run it, schedule it, print id and ETA."""
    gov.simulate_as_owner(change.call, what)
    proposal = gov.propose(change)
    op = proposal.operation
    name, args = gov.describe(op)
    ready = proposal.ready_at or 0
    emit(
        {**proposal.to_dict(), "call": name, "args": args},
        f"proposed {name} {change.current} -> {change.wanted}\n"
        f"operation 0x{op.id.hex()}\nexecutable from {when(ready, gov.now())}: "
        f"`inferchain governance execute 0x{op.id.hex()}`",
        as_json,
    )


def open_signer(target: Target) -> Governance:
    return Governance.open(target, signs=True)


def open_with_role(role: str, action: str, target: Target) -> Governance:
    """Opened with a key that holds `role` (a wrong role is named before a state)."""
    gov = open_signer(target)
    gov.require_role(role, action)
    return gov


def open_proposer(target: Target) -> Governance:
    return open_with_role("PROPOSER_ROLE", "propose", target)


def open_guardian(target: Target) -> Governance:
    """Opened with the guardian's (or the owner's) key."""
    gov = open_signer(target)
    gov.require_brake()
    return gov


# -- propose -----------------------------------------------------------------------------


#: The market config's fields (IJobMarketAdmin.Config order) and their options.
CONFIG_OPTIONS = ("--fee-bps", "--collateral-bps", "--dispute-bond-bps")


@propose_app.command("set-config")
@market_options()
def set_config(
    fee_bps: int | None = typer.Option(None, "--fee-bps", min=0, max=65_535, help="Protocol fee."),
    collateral_bps: int | None = typer.Option(
        None, "--collateral-bps", min=0, max=65_535, help="Collateral a claim locks."
    ),
    bond_bps: int | None = typer.Option(
        None, "--dispute-bond-bps", min=0, max=65_535, help="Dispute bond."
    ),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Change the fee, the collateral a claim locks and/or the dispute bond (basis points of
    the price) of new jobs."""
    given = (fee_bps, collateral_bps, bond_bps)
    if all(v is None for v in given):
        raise typer.BadParameter("give --fee-bps, --collateral-bps, --dispute-bond-bps or some")
    gov = open_proposer(target)
    current = tuple(gov.read(gov.jobs.functions.config()))
    wanted = tuple(c if v is None else v for c, v in zip(current, given, strict=True))
    if wanted == current:
        raise OperationStateError(
            f"already done: the config is {current} (fee, collateral, bond bps)"
        )
    g, market = gov.governor.functions, gov.jobs.address
    # One value at a time against the contract's bounds, so the error names the option.
    for index, (option, value) in enumerate(zip(CONFIG_OPTIONS, given, strict=True)):
        if value is not None:
            one = tuple(value if i == index else c for i, c in enumerate(current))
            gov.simulate_as_owner(g.setConfig(market, one), f"{option} {value}")
    change = Change("MarketGovernor.setConfig", current, wanted, g.setConfig(market, wanted))
    _propose(gov, change, "set-config", as_json)


def require_token_change(gov: Governance, token: str, allowed: bool) -> None:
    """Refuse a token change that is already the market's state."""
    if gov.read(gov.jobs.functions.isTokenAllowed(token)) == allowed:
        state = "allowed" if allowed else "not allowed"
        raise OperationStateError(f"already done: token {token} is {state}")


def mode_enabled(gov: Governance, mode: int, hint: str = "") -> bool:
    """Whether a registered `mode` is enabled; an unregistered one is refused (`hint` appended)."""
    registered = gov.mode(mode)
    if not registered.registered:
        raise GovernanceRefused(f"mode {mode} is not registered{hint}")
    return registered.enabled


def propose_token(gov: Governance, token: str, allowed: bool, as_json: bool) -> None:
    require_token_change(gov, token, allowed)
    call = gov.governor.functions.setTokenAllowed(gov.jobs.address, token, allowed)
    name = f"MarketGovernor.setTokenAllowed({token})"
    _propose(gov, Change(name, not allowed, allowed, call), f"token {token}", as_json)


@propose_app.command("allow-token")
@market_options()
def allow_token(
    token: str = TOKEN_ARG,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Allow an ERC-20 for new jobs and deposits."""
    gov = open_proposer(target)
    propose_token(gov, parse_token(token), True, as_json)


@propose_app.command("disallow-token")
@market_options()
def disallow_token(
    token: str = TOKEN_ARG,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Refuse an ERC-20 for new jobs and deposits (the guardian can at once: --now)."""
    gov = open_proposer(target)
    propose_token(gov, parse_token(token), False, as_json)


@propose_app.command("enable-mode")
@market_options()
def enable_mode(
    mode: int = MODE_ARG,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Offer a registered verification mode to new jobs."""
    gov = open_proposer(target)
    if mode_enabled(gov, mode, ": `propose register-mode` first"):
        raise OperationStateError(f"already done: mode {mode} is enabled")
    call = gov.governor.functions.setModeEnabled(gov.jobs.address, mode, True)
    _propose(gov, Change(f"MarketGovernor.setModeEnabled({mode})", False, True, call),
             f"mode {mode}", as_json)  # fmt: skip


@propose_app.command("register-mode")
@market_options()
def register_mode(
    mode: int = MODE_ARG,
    verifier: str = typer.Argument(..., help="The IVerifier module; its windows are read."),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Give a free mode id its verifier module, for good (it starts disabled)."""
    module = parse_address(verifier, "VERIFIER")
    gov = open_proposer(target)
    if not gov.chain.w3.eth.get_code(module):
        raise GovernanceRefused(f"verifier {module} has no contract code on this chain")
    call = gov.governor.functions.registerMode(gov.jobs.address, mode, module)
    change = Change(f"MarketGovernor.registerMode({mode})", None, module, call)
    _propose(gov, change, f"mode {mode} with verifier {module}", as_json)


@propose_app.command("set-guardian")
@market_options()
def set_guardian(
    guardian: str = typer.Argument(..., help="New guardian (0x0…0: nobody but the owner)."),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Name who may pull the brakes at once."""
    wanted = parse_address(guardian, "GUARDIAN")
    gov = open_proposer(target)
    current = gov.read(gov.governor.functions.guardian())
    if current == wanted:
        raise OperationStateError(f"already done: the guardian is {current}")
    call = gov.governor.functions.setGuardian(wanted)
    _propose(gov, Change("MarketGovernor.setGuardian", current, wanted, call), "guardian", as_json)


@propose_app.command("withdraw-fees")
@market_options()
def withdraw_fees(
    token: str = typer.Argument(..., help="ERC-20 address, or eth."),
    to: str = typer.Argument(..., help="Recipient."),
    amount: str = typer.Argument(..., help="e.g. 0.5eth, 1000 (wei or token units)."),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Send protocol fees the governor holds in the market to TO (at most what it holds now)."""
    token_at, recipient, value = (
        parse_address(token, "TOKEN"),
        parse_address(to, "TO"),
        parse_amount(amount),
    )
    gov = open_proposer(target)
    held = gov.read(gov.jobs.functions.balanceOf(gov.governor.address, token_at))
    call = gov.governor.functions.withdrawFees(gov.jobs.address, token_at, recipient, value)
    change = Change(f"MarketGovernor.withdrawFees({token_at})", held, value, call)
    _propose(gov, change, f"withdraw {value} to {recipient}", as_json)


@propose_app.command("unpause")
@market_options()
def unpause(
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Allow new jobs again after a pause (only the owner may: through the timelock)."""
    gov = open_proposer(target)
    if not gov.read(gov.jobs.functions.paused()):
        raise OperationStateError("already done: the market is not paused")
    call = gov.governor.functions.unpause(gov.jobs.address)
    _propose(gov, Change("MarketGovernor.unpause", True, False, call), "unpause", as_json)
