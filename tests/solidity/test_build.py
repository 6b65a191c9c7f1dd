"""The Solidity build: shipped artifacts are fresh, and compiler errors point at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from inferchain.artifacts import ARTIFACTS_DIR, artifact_names, load_artifact
from inferchain.paths import project_root
from inferchain.solidity import BuildResult, CompilationError, compile_contracts
from inferchain.solidity.compiler import SHIPPED_INTERFACES


@pytest.fixture(scope="module")
def fresh() -> BuildResult:
    return compile_contracts()


def test_shipped_artifacts_equal_a_fresh_compile(fresh: BuildResult) -> None:
    assert sorted(fresh.artifacts) == artifact_names(), "run `inferchain contracts build`"
    stale = [n for n, a in fresh.artifacts.items() if load_artifact(n) != a]
    assert not stale, f"artifacts out of date: {stale}; run `inferchain contracts build`"
    assert all(p.parent == ARTIFACTS_DIR for p in ARTIFACTS_DIR.glob("*.json"))


def test_standard_json_input_is_self_contained(fresh: BuildResult) -> None:
    sources = fresh.standard_json_input["sources"]
    assert "contracts/test/ChainProbe.sol" in sources
    assert all("content" in s for s in sources.values())


def _checkout_with(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "node_modules").symlink_to(project_root() / "node_modules")
    for name, text in files.items():
        path = tmp_path / "contracts" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    root = _checkout_with(
        tmp_path,
        {"Broken.sol": "pragma solidity ^0.8.28;\n\n\ncontract Broken {\n    uint256 x = ;\n}\n"},
    )
    with pytest.raises(CompilationError) as info:
        compile_contracts(root)
    assert any(m.startswith("contracts/Broken.sol:5:") for m in info.value.messages), (
        info.value.messages
    )
    assert "ParserError" in str(info.value)


def test_missing_import_is_named(tmp_path: Path) -> None:
    root = _checkout_with(
        tmp_path,
        {"A.sol": 'pragma solidity ^0.8.28;\nimport "./Nope.sol";\ncontract A {}\n'},
    )
    with pytest.raises(CompilationError, match=r"contracts/Nope\.sol: imported file not found"):
        compile_contracts(root)


def test_openzeppelin_imports_resolve(tmp_path: Path) -> None:
    root = _checkout_with(
        tmp_path,
        {
            "Owned.sol": (
                "// SPDX-License-Identifier: MIT\npragma solidity ^0.8.28;\n"
                'import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";\n'
                "contract Owned is Ownable { constructor() Ownable(msg.sender) {} }\n"
            )
        },
    )
    result = compile_contracts(root)
    interfaces = {name for names in SHIPPED_INTERFACES.values() for name in names}
    assert set(result.artifacts) == {"Owned", *interfaces}  # the rest of OZ compiled in
    assert any(e["type"] == "error" for e in result.artifacts["Owned"].abi)
