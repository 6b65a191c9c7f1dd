#!/usr/bin/env python
"""Deploy the market to a network from networks.toml: same as `inferchain deploy`.

SEPOLIA_RPC_URL=https://... python scripts/deploy.py --network sepolia --dry-run
"""

from __future__ import annotations

import sys

import typer

from inferchain.cli.deploy import deploy
from inferchain.errors import InferchainError


def main() -> None:
    try:
        typer.run(deploy)
    except InferchainError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
