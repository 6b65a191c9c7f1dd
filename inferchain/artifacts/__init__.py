"""Compiled contract artifacts (ABI + bytecode), shipped as package data.

A worker operator needs neither node nor solc: `inferchain contracts build` writes these
files and a test fails when they differ from a fresh compile. Artifacts of the test
contracts (``contracts/test/``) go to ``test/`` beside them: found in a checkout, left out
of the wheel (package data takes ``*.json`` of this folder only).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Any

from inferchain.errors import ConfigError

ARTIFACTS_DIR = Path(__file__).resolve().parent
TEST_ARTIFACTS_DIR = ARTIFACTS_DIR / "test"
_TEST_SOURCES = "contracts/test/"

__all__ = [
    "ARTIFACTS_DIR",
    "TEST_ARTIFACTS_DIR",
    "Artifact",
    "artifact_names",
    "load_artifact",
]


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

    @property
    def relative_path(self) -> Path:
        """Where the file goes under ``ARTIFACTS_DIR``: test contracts under ``test/``."""
        folder = "test" if self.source_name.startswith(_TEST_SOURCES) else "."
        return Path(folder, f"{self.contract_name}.json")


@cache
def load_artifact(name: str) -> Artifact:
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        path = TEST_ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        known = ", ".join(artifact_names()) or "none (run `inferchain contracts build`)"
        raise ConfigError(f"no contract artifact named {name!r}; known: {known}")
    return Artifact(**json.loads(path.read_text(encoding="utf-8")))


def artifact_names() -> list[str]:
    """Every artifact present: the shipped ones, plus the test contracts' in a checkout."""
    return sorted(p.stem for d in (ARTIFACTS_DIR, TEST_ARTIFACTS_DIR) for p in d.glob("*.json"))
