"""Root Typer app: mounts one sub-app per command group and turns errors into one line."""

from __future__ import annotations

import logging
import sys

import typer

from inferchain.cli import (
    contracts,
    deploy,
    dev,
    gateway,
    governance,
    job,
    model,
    verifier,
    wallet,
)
from inferchain.demo import cli as demo
from inferchain.errors import InferchainError
from inferchain.worker import cli as worker

app = typer.Typer(
    name="inferchain",
    help="Inferchain: an open, on-chain marketplace for AI inference.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(dev.app, name="dev")
app.add_typer(contracts.app, name="contracts")
app.add_typer(model.app, name="model")
app.add_typer(gateway.app, name="gateway")
app.add_typer(wallet.app, name="wallet")
app.add_typer(job.app, name="job")
app.add_typer(worker.app, name="worker")
app.add_typer(demo.app, name="demo")
app.add_typer(governance.app, name="governance")
app.add_typer(verifier.app, name="verifier")
app.command("deploy")(deploy.deploy)


@app.callback()
def _root(verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging.")) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)


def main() -> None:
    """Console entry point: known errors print as `error: ...` with exit code 1, no traceback."""
    try:
        app()
    except InferchainError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)
