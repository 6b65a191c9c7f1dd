"""`python -m inferchain.demo up|down`: the demo without the rest of `inferchain`."""

import sys

import typer

from inferchain.demo.cli import app
from inferchain.errors import InferchainError

try:
    app()
except InferchainError as exc:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    sys.exit(1)
