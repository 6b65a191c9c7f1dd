"""`inferchain dev up | status | down`: the local Anvil + IPFS stack."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from inferchain.cli.output import JsonOption, emit
from inferchain.devstack import DevStack, ServiceStatus
from inferchain.settings import DevStackSettings, load_settings

app = typer.Typer(
    help="Run a local chain (Anvil) and IPFS node for development.", no_args_is_help=True
)


def _stack(overrides: dict[str, Any]) -> DevStack:
    overrides.pop("as_json", None)
    return DevStack(load_settings(DevStackSettings, **overrides))


StateDir = typer.Option(None, "--state-dir", help="PIDs, logs and IPFS repo [.inferchain]")


@app.command()
def up(
    state_dir: Path | None = StateDir,
    anvil_port: int | None = typer.Option(None, "--anvil-port", help="[8545]"),
    chain_id: int | None = typer.Option(None, "--chain-id", help="[31337]"),
    block_time: float | None = typer.Option(None, "--block-time", help="seconds [automine]"),
    ipfs_api_port: int | None = typer.Option(None, "--ipfs-api-port", help="[5001]"),
    ipfs_gateway_port: int | None = typer.Option(None, "--ipfs-gateway-port", help="[8080]"),
    ipfs_swarm_port: int | None = typer.Option(None, "--ipfs-swarm-port", help="[4001]"),
    as_json: bool = JsonOption,
) -> None:
    """Start Anvil and IPFS and wait until both answer.

    Services already running are reused; one that died restarts on its recorded ports.
    """
    stack = _stack(locals())
    statuses = stack.up(on_progress=lambda msg: None if as_json else typer.echo(msg))
    _report(stack, statuses, as_json)


@app.command()
def status(state_dir: Path | None = StateDir, as_json: bool = JsonOption) -> None:
    """Show whether each service runs and answers; exit 1 unless all are healthy."""
    stack = _stack({"state_dir": state_dir})
    statuses = stack.status()
    _report(stack, statuses, as_json)
    if not all(s.healthy for s in statuses):
        raise typer.Exit(1)


@app.command()
def down(state_dir: Path | None = StateDir, as_json: bool = JsonOption) -> None:
    """Stop exactly the processes `up` started."""
    stopped = _stack({"state_dir": state_dir}).down()
    emit({"stopped": stopped}, f"stopped: {', '.join(stopped) or 'nothing was running'}", as_json)


def _report(stack: DevStack, statuses: list[ServiceStatus], as_json: bool) -> None:
    data = {s.name: _describe(s) for s in statuses}
    lines = [f"state: {stack.state_dir}"]
    for s in statuses:
        if s.service is None:
            lines.append(f"{s.name:6} stopped")
            continue
        health = "healthy" if s.healthy else ("not answering" if s.running else "not running")
        lines.append(
            f"{s.name:6} {health:14} {s.service.url}  pid {s.service.pid}  log {s.service.log_path}"
        )
    for name, service in stack.extra_services().items():
        alive = service.alive()
        data[name] = {"running": alive, **service.to_dict()}
        state = "running" if alive else "not running"
        lines.append(
            f"{name:6} {state:14} {service.url}  pid {service.pid}  log {service.log_path}"
        )
    emit(data, "\n".join(lines), as_json)


def _describe(status: ServiceStatus) -> dict[str, Any]:
    base: dict[str, Any] = {"running": status.running, "answering": status.answering}
    if status.service is not None:
        base.update(status.service.to_dict())
    return base
