"""A test-local root app mounting the wallet, job, model, verifier and deploy commands, run
in-process."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import typer
from typer.testing import CliRunner

from inferchain.cli import deploy, job, model, verifier, wallet
from inferchain.errors import InferchainError


def build_app() -> typer.Typer:
    app = typer.Typer(pretty_exceptions_enable=False)
    app.command("deploy")(deploy.deploy)
    app.add_typer(wallet.app, name="wallet")
    app.add_typer(job.app, name="job")
    app.add_typer(model.app, name="model")
    app.add_typer(verifier.app, name="verifier")
    return app


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        return self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


class Cli:
    """Invoke like `inferchain ...`: an InferchainError becomes `error: ...` and exit 1."""

    def __init__(self) -> None:
        self.app = build_app()
        self.runner = CliRunner()

    def __call__(self, *args: str, env: dict[str, str] | None = None, input: str | None = None):
        result = self.runner.invoke(self.app, list(args), env=env, input=input)
        exc = result.exception
        if isinstance(exc, InferchainError):
            return Outcome(1, result.stdout, f"error: {exc}")
        if exc is not None and not isinstance(exc, SystemExit):
            raise exc
        return Outcome(result.exit_code, result.stdout, result.stderr)
