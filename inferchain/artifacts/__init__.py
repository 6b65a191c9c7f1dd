"""Compiled contract artifacts (ABI + bytecode), shipped as package data.

A worker operator needs neither node nor solc: `inferchain contracts build` writes these
files and a test fails when they differ from a fresh compile.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from inferchain.errors import ConfigError

ARTIFACTS_DIR = Path(__file__).resolve().parent

__all__ = ["ARTIFACTS_DIR", "Artifact", "artifact_names", "load_artifact"]


@dataclass(frozen=True)
class Artifact:
    contract_name: str
    source_name: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    compiler_version: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1, sort_keys=True) + "\n"


@cache
def load_artifact(name: str) -> Artifact:
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(artifact_names()) or "none (run `inferchain contracts build`)"
        raise ConfigError(f"no contract artifact named {name!r}; known: {known}")
    return Artifact(**json.loads(path.read_text(encoding="utf-8")))


def artifact_names() -> list[str]:
    return sorted(p.stem for p in ARTIFACTS_DIR.glob("*.json"))
