"""`deployments/<chain-id>.json`: what was deployed where, and how to rebuild it.

Every command finds the contract addresses here by the chain id its RPC reports, so a
user never copies addresses around. The record is rewritten after every step, so an
interrupted deployment resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inferchain import untrusted_json
from inferchain.artifacts import load_artifact
from inferchain.deploy.errors import DeploymentMissing
from inferchain.market import MarketAddresses
from inferchain.market.deploy import ADDRESS_FIELDS, ARBITERS
from inferchain.paths import project_root

DEPLOYMENTS_DIR_ENV = "INFERCHAIN_DEPLOYMENTS_DIR"


def sha256_json(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()


def artifact_fingerprint(name: str) -> tuple[str, str]:
    """(abi sha256, creation bytecode sha256) of the shipped artifact `name`."""
    artifact = load_artifact(name)
    return sha256_json(artifact.abi), hashlib.sha256(artifact.bytecode.encode()).hexdigest()


@dataclass
class ContractRecord:
    address: str
    tx_hash: str
    block: int
    abi_sha256: str
    bytecode_sha256: str
    #: keccak256 of the runtime code read back after deployment (immutables included).
    code_hash: str
    constructor_args: str


@dataclass
class StepRecord:
    step: str
    tx_hash: str
    block: int


@dataclass
class DeploymentRecord:
    chain_id: int
    network: str
    deployer: str
    compiler: dict[str, Any]
    contracts: dict[str, ContractRecord] = field(default_factory=dict)
    transactions: list[StepRecord] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeploymentRecord:
        return cls(
            chain_id=data["chain_id"],
            network=data["network"],
            deployer=data["deployer"],
            compiler=data.get("compiler", {}),
            contracts={k: ContractRecord(**v) for k, v in data.get("contracts", {}).items()},
            transactions=[StepRecord(**t) for t in data.get("transactions", [])],
        )

    def market_addresses(self) -> MarketAddresses:
        missing = [name for name in ADDRESS_FIELDS if name not in self.contracts]
        if not any(name in self.contracts for name in ARBITERS.values()):
            missing.append(" or ".join(ARBITERS.values()))
        if missing:
            raise DeploymentMissing(
                f"the deployment on chain {self.chain_id} lacks {', '.join(missing)}; "
                f"run `inferchain deploy --network {self.network}`"
            )
        return MarketAddresses.of(
            {name: c.address for name, c in self.contracts.items()},
            deployed_block=min(c.block for c in self.contracts.values()),
        )


def deployments_dir(override: Path | None = None) -> Path:
    """--deployments-dir, else $INFERCHAIN_DEPLOYMENTS_DIR, else deployments/ in the checkout."""
    if override is not None:
        return override
    env = os.environ.get(DEPLOYMENTS_DIR_ENV)
    if env:
        return Path(env)
    return project_root() / "deployments"


def record_path(directory: Path, chain_id: int) -> Path:
    return directory / f"{chain_id}.json"


def read_record(directory: Path, chain_id: int) -> DeploymentRecord | None:
    path = record_path(directory, chain_id)
    if not path.is_file():
        return None
    try:
        data = untrusted_json.loads(path.read_bytes(), source=f"deployment record {path}")
        return DeploymentRecord.from_dict(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DeploymentMissing(f"{path} is not a deployment record: {exc}") from exc


def load_record(directory: Path, chain_id: int) -> DeploymentRecord:
    """The record for `chain_id`; DeploymentMissing (with the fix) when there is none."""
    record = read_record(directory, chain_id)
    if record is None:
        raise DeploymentMissing(
            f"nothing is deployed on chain {chain_id} according to "
            f"{record_path(directory, chain_id)}; run `inferchain deploy --network NAME` first"
        )
    return record


def write_record(directory: Path, record: DeploymentRecord) -> Path:
    """Write atomically (a crash mid-write must not lose the addresses of paid deployments)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = record_path(directory, record.chain_id)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(record.to_json(), encoding="utf-8")
    os.replace(tmp, path)
    return path
