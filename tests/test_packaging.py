"""Every Python package in the tree ships (setup.py discovers it under the roots that
pyproject.toml maps); the test contracts' artifacts stay out."""

from __future__ import annotations

import runpy
import tomllib

from inferchain.artifacts import (
    ARTIFACTS_DIR,
    TEST_ARTIFACTS_DIR,
    artifact_names,
    load_artifact,
)
from inferchain.chain.revert import error_selectors
from inferchain.paths import project_root

ROOTS = {
    "inferchain": "inferchain",
    "inferchain.gateway": "backend",
    "inferchain.worker": "workers",
}


def test_every_package_in_the_tree_ships() -> None:
    root = project_root()
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"] == ROOTS
    shipped = set(runpy.run_path(str(root / "setup.py"), run_name="setup_under_test")["discover"]())
    found = {
        ".".join((dotted, *init.parent.relative_to(root / folder).parts))
        for dotted, folder in ROOTS.items()
        for init in (root / folder).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert found <= shipped
    assert "inferchain.artifacts.test" not in shipped


def test_wheel_ships_contract_artifacts_but_not_the_test_contracts() -> None:
    """The package-data globs, matched as setuptools does (not recursively), take every
    production artifact and the ERC-20 interfaces, and none of ``contracts/test/``'s."""
    data = tomllib.loads((project_root() / "pyproject.toml").read_text())["tool"]["setuptools"]
    patterns = data["package-data"]["inferchain.artifacts"]
    shipped = {path.stem for pattern in patterns for path in ARTIFACTS_DIR.glob(pattern)}
    tests_only = {path.stem for path in TEST_ARTIFACTS_DIR.glob("*.json")}
    assert {"MockERC20Permit", "ChainProbe"} <= tests_only
    assert {"IERC20", "IERC20Errors", "JobMarket"} <= shipped
    assert shipped.isdisjoint(tests_only)
    assert shipped | tests_only == set(artifact_names())
    assert not [n for n in shipped if load_artifact(n).source_name.startswith("contracts/test/")]


def test_shipped_artifacts_alone_name_every_erc20_error_a_test_token_raises() -> None:
    """An installed wheel (no test artifacts) still decodes a token's ERC-6093 reverts."""
    shipped = [n for n in artifact_names() if not (TEST_ARTIFACTS_DIR / f"{n}.json").exists()]
    known = {name for name, _ in error_selectors(load_artifact(n).abi for n in shipped).values()}
    token_errors = {i["name"] for i in load_artifact("MockERC20Permit").abi if i["type"] == "error"}
    erc20_errors = {name for name in token_errors if name.startswith("ERC20")}
    assert {"ERC20InsufficientBalance", "ERC20InsufficientAllowance"} <= erc20_errors <= known


def test_the_torch_contract_covers_exactly_the_core_layer() -> None:
    """pyproject.toml names the core twice (its layer, and where torch is forbidden)."""
    config = tomllib.loads((project_root() / "pyproject.toml").read_text())["tool"]
    contracts = {c["id"]: c for c in config["importlinter"]["contracts"]}
    core_layer = contracts["apps-over-core"]["layers"][-1]
    core = {f"inferchain.{name.strip()}" for name in core_layer.split(":")}
    assert set(contracts["core-without-torch"]["source_modules"]) == core
