"""`python -m inferchain.worker …`: the worker's CLI without the rest of `inferchain`."""

import sys

import typer

from inferchain.cli.worker import app
from inferchain.errors import InferchainError

try:
    app()
except InferchainError as exc:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    sys.exit(1)
