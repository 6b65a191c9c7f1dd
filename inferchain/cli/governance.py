"""`inferchain governance propose ... | pending | execute | cancel | pause | disable-mode |
disallow-token | show`: the market's admin, through the timelock or the guardian's brakes.

Owner actions are timelock operations: a proposer schedules them with the timelock's
minimum delay, anyone executes them once ready. The guardian's brakes (pause, disable a
mode or a token) act at once and only stop new jobs. Each command checks first, without a
transaction, what the chain would refuse (see `_governance`).
"""

from __future__ import annotations

from typing import Any

import typer

from inferchain.cli._governance import (
    Governance,
    NotAuthorized,
    OperationStateError,
    jsonable,
    when,
)
from inferchain.cli._governance_propose import (
    MODE_ARG,
    TOKEN_ARG,
    mode_enabled,
    open_guardian,
    open_proposer,
    open_with_role,
    parse_token,
    propose_app,
    propose_token,
    require_token_change,
)
from inferchain.cli._governance_show import human, snapshot
from inferchain.cli._network import Target, market_options
from inferchain.cli.output import JsonOption, emit
from inferchain.market import OperationState, ScheduledOperation

app = typer.Typer(
    help="Market governance: timelock proposals, their execution, the guardian's brakes.",
    no_args_is_help=True,
)
app.add_typer(propose_app, name="propose")
OpIdArg = typer.Argument(..., help="Operation id (0x…, or its first digits if unique).")


# -- operations --------------------------------------------------------------------------


def _operation_dict(gov: Governance, scheduled: ScheduledOperation) -> dict[str, Any]:
    op = scheduled.operation
    name, args = gov.describe(op)
    fields = op.to_dict()
    return {
        "operation_id": fields.pop("operation_id"),
        "state": scheduled.state.name.lower(),
        "ready_at": scheduled.ready_at,
        "call": name,
        "args": args,
        **fields,
    }


def _call_text(item: dict[str, Any]) -> str:
    args = ", ".join(f"{k}={v}" for k, v in item["args"].items())
    return f"{item['call']}({args})"


@app.command()
@market_options(keystore=False)
def pending(
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Operations waiting for their delay or ready to execute, decoded."""
    gov = Governance.open(target)
    items = [_operation_dict(gov, s) for s in gov.pending()]
    now = gov.now()
    lines = [
        f"{i['operation_id']} {i['state']:7} {_call_text(i)}\n"
        f"  executable from {when(i['ready_at'], now)}"
        for i in items
    ]
    emit({"operations": items, "now": now}, "\n".join(lines) or "no pending operations", as_json)


_OPERATION_DONE = {"execute": ("done", "executed"), "cancel": ("cancelled", "cancelled")}


def _act_on_operation(
    action: str,
    role: str,
    operation_id: str,
    target: Target,
    as_json: bool,
) -> None:
    """Execute or cancel one operation (`action` names the Operation method) with `role`."""
    gov = open_with_role(role, action, target)
    scheduled = gov.find(operation_id)
    item = _operation_dict(gov, scheduled)
    if action == "execute" and scheduled.state == OperationState.WAITING:
        raise OperationStateError(
            f"too early: operation {item['operation_id']} is executable from "
            f"{when(scheduled.ready_at, gov.now())}"
        )
    receipt = gov.send(getattr(scheduled.operation, action)(gov.timelock))
    tx = receipt["transactionHash"].to_0x_hex()
    state, verb = _OPERATION_DONE[action]
    emit({**item, "state": state, "tx": tx}, f"{verb} {_call_text(item)} (tx {tx})", as_json)


@app.command()
@market_options()
def execute(
    operation_id: str = OpIdArg,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Run a ready operation (anyone may, once its delay passed)."""
    _act_on_operation("execute", "EXECUTOR_ROLE", operation_id, target, as_json)


@app.command()
@market_options()
def cancel(
    operation_id: str = OpIdArg,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Drop a waiting or ready operation (a proposer: the canceller role)."""
    _act_on_operation("cancel", "CANCELLER_ROLE", operation_id, target, as_json)


# -- the guardian's brakes ---------------------------------------------------------------


def _brake(gov: Governance, call: Any, done: str, as_json: bool) -> None:
    receipt = gov.send(call)
    tx = receipt["transactionHash"].to_0x_hex()
    emit({"done": done, "by": gov.me, "tx": tx}, f"{done} (tx {tx})", as_json)


@app.command()
@market_options()
def pause(
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Guardian: stop new jobs now (running jobs, settlement and withdrawals go on)."""
    gov = open_guardian(target)
    if gov.read(gov.jobs.functions.paused()):
        raise OperationStateError("already done: the market is paused")
    call = gov.governor.functions.pause(gov.jobs.address)
    _brake(gov, call, "paused: no new jobs until `propose unpause` is executed", as_json)


@app.command("disable-mode")
@market_options()
def disable_mode(
    mode: int = MODE_ARG,
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Guardian: withdraw a verification mode from new jobs now."""
    gov = open_guardian(target)
    if not mode_enabled(gov, mode):
        raise OperationStateError(f"already done: mode {mode} is disabled")
    call = gov.governor.functions.setModeEnabled(gov.jobs.address, mode, False)
    _brake(gov, call, f"mode {mode} disabled for new jobs", as_json)


@app.command("disallow-token")
@market_options()
def disallow_token(
    token: str = TOKEN_ARG,
    now: bool = typer.Option(
        False, "--now", help="As the guardian, at once (without: a timelock proposal)."
    ),
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Refuse an ERC-20 for new jobs: --now as the guardian, else through the timelock."""
    address = parse_token(token)
    if not now:
        try:
            gov = open_proposer(target)
        except NotAuthorized as exc:
            raise NotAuthorized(f"{exc} (the guardian refuses a token at once with --now)") from exc
        propose_token(gov, address, False, as_json)
        return
    gov = open_guardian(target)
    require_token_change(gov, address, False)
    call = gov.governor.functions.setTokenAllowed(gov.jobs.address, address, False)
    _brake(gov, call, f"token {address} refused for new jobs", as_json)


# -- show --------------------------------------------------------------------------------


@app.command()
@market_options(keystore=False)
def show(
    target: Target = Target(),
    as_json: bool = JsonOption,
) -> None:
    """Governor, timelock (delay, proposers), guardian, market config, modes, tokens, fees."""
    gov = Governance.open(target)
    data = snapshot(gov)
    emit(jsonable(data), human(data), as_json)
