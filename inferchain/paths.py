"""Where the project's non-Python tools live (node_modules, contracts/)."""

from __future__ import annotations

import os
from pathlib import Path

from inferchain.errors import ConfigError

INSTALL_HINT = "run `npm ci` in the Inferchain checkout (see README: Install)"


def project_root() -> Path:
    """The checkout holding package.json: INFERCHAIN_ROOT, else the nearest above cwd or this file.

    Workers installed from a wheel need no checkout; only the dev stack and the Solidity build do.
    """
    env = os.environ.get("INFERCHAIN_ROOT")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for candidate in (start, *start.parents):
            if (candidate / "package.json").is_file() and (candidate / "contracts").is_dir():
                return candidate
    raise ConfigError(
        "cannot find the Inferchain checkout (package.json + contracts/); "
        "run from inside it or set INFERCHAIN_ROOT"
    )


def node_modules() -> Path:
    path = project_root() / "node_modules"
    if not path.is_dir():
        raise ConfigError(f"{path} is missing: {INSTALL_HINT}")
    return path
