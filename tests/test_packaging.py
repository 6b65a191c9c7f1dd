"""Every Python package in the tree is declared in pyproject.toml, so wheels ship it."""

from __future__ import annotations

import tomllib

from inferchain.paths import project_root

ROOTS = {
    "inferchain": "inferchain",
    "inferchain.gateway": "backend",
    "inferchain.worker": "workers",
}


def test_every_package_is_listed_in_pyproject() -> None:
    root = project_root()
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == ROOTS
    found = {
        ".".join((dotted, *init.parent.relative_to(root / folder).parts))
        for dotted, folder in ROOTS.items()
        for init in (root / folder).rglob("__init__.py")
    }
    assert found == set(config["packages"])
