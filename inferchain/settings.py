"""Typed settings read from env vars (CLI flags override): the shared loader and the dev stack's.

`load_settings` loads any settings class; `DevStackSettings` is the local stack's. Each app
keeps its own class beside its code, in a module of the same name: the gateway's in
`inferchain.gateway.settings`, the worker's in `inferchain.worker.settings`.

Local defaults just work against `inferchain dev up`; every field can be set with the
environment variable named in its class's `env_prefix` plus the field name, upper-cased.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inferchain.errors import ConfigError

Port = int
SettingsT = TypeVar("SettingsT", bound=BaseSettings)


def load_settings(cls: type[SettingsT], **overrides: Any) -> SettingsT:
    """Env vars, then non-None CLI overrides; invalid values become one readable ConfigError."""
    try:
        return cls(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid {cls.__name__}: {problems}") from exc


class DevStackSettings(BaseSettings):
    """The local Anvil + IPFS stack (`inferchain dev ...`); env prefix INFERCHAIN_DEV_."""

    model_config = SettingsConfigDict(env_prefix="INFERCHAIN_DEV_", extra="ignore")

    state_dir: Path = Field(Path(".inferchain"), description="PIDs, logs, IPFS repo")
    chain_id: int = Field(31337, gt=0)
    anvil_port: Port = Field(8545, gt=0, lt=65536)
    block_time: float | None = Field(None, gt=0, description="seconds; default automine")
    ipfs_api_port: Port = Field(5001, gt=0, lt=65536)
    ipfs_gateway_port: Port = Field(8080, gt=0, lt=65536)
    ipfs_swarm_port: Port = Field(4001, gt=0, lt=65536)
    start_timeout: float = Field(30.0, gt=0)

    @model_validator(mode="after")
    def _distinct_ports(self) -> DevStackSettings:
        ports = [self.anvil_port, self.ipfs_api_port, self.ipfs_gateway_port, self.ipfs_swarm_port]
        if len(set(ports)) != len(ports):
            raise ValueError(f"dev stack ports must differ, got {ports}")
        return self

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.anvil_port}"

    @property
    def ipfs_api_url(self) -> str:
        return f"http://127.0.0.1:{self.ipfs_api_port}"
