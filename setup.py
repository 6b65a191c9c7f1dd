"""Package discovery for the one remap in this repository (README, "Layout").

``backend/`` ships as ``inferchain.gateway`` and ``workers/`` as ``inferchain.worker``; every
package below the three roots is found here rather than listed by hand, so a new module
folder ships without touching the build. Folders of package data (demo bundles, migrations,
the ZK check's source) are found too, which keeps setuptools from warning that it would drop
them. Test-only artifacts are not shipped. Everything else lives in pyproject.toml.
"""

import tomllib
from pathlib import Path

from setuptools import find_namespace_packages, setup

PYPROJECT = tomllib.loads((Path(__file__).parent / "pyproject.toml").read_text())
PACKAGE_DIRS: dict[str, str] = PYPROJECT["tool"]["setuptools"]["package-dir"]
NOT_SHIPPED = ["*__pycache__*", "artifacts.test"]


def discover() -> list[str]:
    """The roots and every importable folder under them (dashed bundle names are data)."""
    packages = []
    for root, folder in PACKAGE_DIRS.items():
        packages.append(root)
        for sub in find_namespace_packages(folder, exclude=NOT_SHIPPED):
            if all(part.isidentifier() for part in sub.split(".")):
                packages.append(f"{root}.{sub}")
    return sorted(packages)


if __name__ == "__main__":  # setuptools runs this file as __main__; tests import discover()
    setup(packages=discover())
