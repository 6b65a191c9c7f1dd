"""`python -m inferchain.worker …`: the worker's CLI without the rest of `inferchain`."""

import sys

import typer

from inferchain.errors import InferchainError
from inferchain.worker.cli import app

try:
    app()
except InferchainError as exc:
    typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
    sys.exit(1)
