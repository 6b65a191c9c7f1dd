"""What a block explorer needs to verify each deployed contract (Etherscan, Basescan).

Explorers take the solc standard-JSON input, the fully qualified contract name, the
compiler version and the ABI-encoded constructor arguments; all four are written here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from inferchain.artifacts import load_artifact
from inferchain.deploy.records import DeploymentRecord
from inferchain.solidity import standard_json_input
from inferchain.solidity.config import SOLC_VERSION


def verification_inputs(
    record: DeploymentRecord, solc_input: dict[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """Per recorded contract: address, `path:Name`, compiler, constructor args, solc input."""
    solc_input = solc_input or standard_json_input()
    inputs = {}
    for name, contract in sorted(record.contracts.items()):
        artifact = load_artifact(name)
        inputs[name] = {
            "address": contract.address,
            "contract": f"{artifact.source_name}:{name}",
            "compiler_version": record.compiler.get("version", SOLC_VERSION),
            "constructor_arguments": contract.constructor_args,
            "standard_json_input": solc_input,
        }
    return inputs


def write_verification_inputs(record: DeploymentRecord, out_dir: Path) -> list[Path]:
    """One `<Contract>.json` per contract in `out_dir`; returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in verification_inputs(record).items():
        path = out_dir / f"{name}.json"
        path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
        written.append(path)
    return written
