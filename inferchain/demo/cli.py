"""`inferchain demo up | down`: the whole local marketplace in one command.

The demo owns its commands: ``inferchain.cli`` mounts this app and ``python -m
inferchain.demo`` runs it alone, so the demo never imports the CLI.
"""

from __future__ import annotations

from pathlib import Path

import typer

from inferchain.settings import DevStackSettings, load_settings

app = typer.Typer(
    help="Run the whole local marketplace and a user's first jobs.", no_args_is_help=True
)
StateDir = typer.Option(None, "--state-dir", help="PIDs, logs and IPFS repo [.inferchain]")


@app.command()
def up(state_dir: Path | None = StateDir) -> None:
    """Start Anvil, IPFS, the contracts, 3 models, a worker and the gateway; run a user's jobs."""
    from inferchain.demo import demo_up

    demo_up(load_settings(DevStackSettings, state_dir=state_dir), say=typer.echo)


@app.command()
def down(state_dir: Path | None = StateDir) -> None:
    """Stop the worker, the gateway, Anvil and IPFS (exactly what `demo up` started)."""
    from inferchain.demo import demo_down

    stopped = demo_down(load_settings(DevStackSettings, state_dir=state_dir))
    typer.echo(f"stopped: {', '.join(stopped) or 'nothing was running'}")
