"""`inferchain contracts build | check`: compile contracts/ into shipped artifacts."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from inferchain.artifacts import ARTIFACTS_DIR, artifact_names, load_artifact
from inferchain.cli.output import JsonOption, emit
from inferchain.solidity import compile_contracts, write_artifacts

app = typer.Typer(help="Build the Solidity contracts.", no_args_is_help=True)


@app.command()
def build(
    standard_json: Path | None = typer.Option(
        None, "--standard-json", help="Also write the solc standard-JSON input (for verification)."
    ),
    as_json: bool = JsonOption,
) -> None:
    """Compile every contract and rewrite the artifacts shipped in the package."""
    result = compile_contracts()
    for warning in result.warnings:
        typer.secho(f"warning: {warning}", fg=typer.colors.YELLOW, err=True)
    written = write_artifacts(result)
    if standard_json:
        standard_json.write_text(json.dumps(result.standard_json_input, indent=1))
    emit(
        {"artifacts": [str(p) for p in written]},
        f"compiled {len(written)} contracts into {ARTIFACTS_DIR}",
        as_json,
    )


@app.command()
def check() -> None:
    """Exit 1 when the shipped artifacts differ from a fresh compile."""
    result = compile_contracts()
    stale = [
        name
        for name, artifact in result.artifacts.items()
        if not (ARTIFACTS_DIR / artifact.relative_path).exists() or load_artifact(name) != artifact
    ]
    shipped = set(artifact_names())
    stale += sorted(shipped - set(result.artifacts))
    if stale:
        typer.secho(
            f"artifacts out of date: {', '.join(sorted(stale))}; run `inferchain contracts build`",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(1)
    typer.echo(f"{len(result.artifacts)} artifacts match a fresh compile")
