"""One way to print results: human-readable lines, or one JSON document with --json."""

from __future__ import annotations

import json
from typing import Any

import typer

JsonOption = typer.Option(False, "--json", help="Print machine-readable JSON.")


def emit(data: Any, human: str, as_json: bool) -> None:
    typer.echo(json.dumps(data, indent=2, default=str) if as_json else human)
