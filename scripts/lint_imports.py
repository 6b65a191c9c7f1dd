#!/usr/bin/env python3
"""Check the import-linter contracts in pyproject.toml (the layers) over the whole package.

    .venv/bin/python scripts/lint_imports.py             # what scripts/test.sh runs
    .venv/bin/python scripts/lint_imports.py --verbose   # any lint-imports flag passes through

Why not bare ``lint-imports``: ``inferchain.gateway`` and ``inferchain.worker`` live in
``backend/`` and ``workers/`` through setuptools' ``package-dir``, and grimp builds its graph
by walking the root package's directory, so it would never see them. This script lays out
the package as Python imports it, as symlinks in a temporary directory (from the same
``package-dir`` table the wheel uses), and runs ``lint-imports`` from there.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "pyproject.toml"


def package_dirs() -> dict[str, Path]:
    """``package-dir`` from pyproject.toml: dotted package name -> its source folder."""
    setuptools = tomllib.loads(CONFIG.read_text())["tool"]["setuptools"]
    return {name: ROOT / folder for name, folder in setuptools["package-dir"].items()}


def lay_out(mapping: dict[str, Path], into: Path) -> None:
    """Build ``into/<top>/…`` so each package sits where its dotted name says.

    A top-level package becomes a real folder of links to its entries; a nested one (one
    level down, as ``inferchain.gateway``) becomes a link inside its parent's folder.
    """
    for name, source in sorted(mapping.items(), key=lambda item: item[0].count(".")):
        parts = name.split(".")
        if len(parts) == 1:
            folder = into / name
            folder.mkdir()
            nested = {n.split(".")[1] for n in mapping if n.startswith(f"{name}.")}
            for entry in source.iterdir():
                if entry.name not in nested and entry.name != "__pycache__":
                    (folder / entry.name).symlink_to(entry)
        elif len(parts) == 2 and (into / parts[0]).is_dir():
            (into / parts[0] / parts[1]).symlink_to(source, target_is_directory=True)
        else:
            raise SystemExit(f"lint_imports: cannot lay out package-dir entry {name!r}")


def main() -> int:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    if not lint_imports.is_file():
        raise SystemExit(f"{lint_imports} is missing: run scripts/install.sh (dev extra)")
    with tempfile.TemporaryDirectory(prefix="inferchain-imports-") as tmp:
        lay_out(package_dirs(), Path(tmp))
        # lint-imports puts its working directory first on sys.path: the laid-out package
        # wins over the editable install's finder.
        command = [str(lint_imports), "--config", str(CONFIG), "--no-cache", *sys.argv[1:]]
        return subprocess.run(command, cwd=tmp, env=os.environ.copy(), check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
