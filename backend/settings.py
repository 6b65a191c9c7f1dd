"""The gateway's one settings object (env prefix ``INFERCHAIN_GATEWAY_``).

Local defaults work against ``inferchain dev up``; outside ``mode=local`` placeholder or
dev-chain secrets are refused, so a copy of the dev config cannot reach production.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "local-development-secret-change-me-0000000000"


class GatewaySettings(BaseSettings):
    """Every knob of the gateway; see docs/gateway.md for what each one is for."""

    model_config = SettingsConfigDict(env_prefix="INFERCHAIN_GATEWAY_", extra="ignore")

    mode: Literal["local", "production"] = "local"
    host: str = "127.0.0.1"
    port: int = Field(8000, gt=0, lt=65536)

    # --- secrets and sign-in ---------------------------------------------------------
    secret_key: SecretStr = Field(SecretStr(PLACEHOLDER_SECRET), description="HMAC key, >=32 chars")
    siwe_uri: AnyHttpUrl = Field(AnyHttpUrl("http://127.0.0.1:8000"), description="URI in messages")
    nonce_ttl_s: int = Field(300, gt=0, le=3600)
    session_ttl_s: int = Field(3600, gt=0, le=7 * 86400)
    clock_skew_s: int = Field(30, ge=0, le=600)

    # --- storage -----------------------------------------------------------------------
    database_url: str = "sqlite:///.inferchain/gateway.db"

    # --- chain and IPFS ----------------------------------------------------------------
    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int = Field(31337, gt=0)
    market_address: str | None = Field(None, description="JobMarket; None serves no chain data")
    deployment_block: int = Field(0, ge=0)
    confirmations: int = Field(0, ge=0, le=1000)
    index_batch_blocks: int = Field(2000, gt=0, le=100_000)
    index_poll_s: float = Field(1.0, gt=0)
    reconcile_every: int = Field(50, ge=0, description="index steps between reconciliations")
    run_indexer: bool = True
    relayer_key: SecretStr | None = None
    ipfs_api_url: str = "http://127.0.0.1:5001"
    ipfs_timeout_s: float = Field(30.0, gt=0)

    # --- limits ------------------------------------------------------------------------
    max_body_bytes: int = Field(1 << 20, gt=0)
    max_input_bytes: int = Field(256 << 10, gt=0)
    max_result_bytes: int = Field(16 << 20, gt=0)
    rate_per_minute: float = Field(120.0, gt=0)
    rate_burst: int = Field(30, gt=0)
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="IPs or CIDR networks whose X-Forwarded-For names the client; none: "
        "every request is its socket peer's",
    )
    cors_origins: list[str] = Field(default_factory=list)
    default_request_ttl_s: int = Field(3600, gt=0)
    default_work_time_s: int = Field(600, gt=0)
    completion_timeout_s: float = Field(120.0, gt=0)
    #: Seconds between the ``/v1`` routes' reads of a job's on-chain logs (its claim, its
    #: result): one ``eth_getLogs`` each, nothing waits on the indexer.
    job_log_poll_s: float = Field(0.02, gt=0, le=5)
    #: Worker stream URLs (announced in registry metadata) may name private and loopback
    #: hosts; None: yes in mode=local (workers on 127.0.0.1), no otherwise. Link-local and
    #: metadata addresses are refused either way (``market.stream_hosts``).
    worker_stream_private_hosts: bool | None = None
    max_embedding_inputs: int = Field(
        16, gt=0, le=2048, description="texts per /v1/embeddings request; each is a paid job"
    )

    @field_validator("market_address")
    @classmethod
    def _checksum(cls, value: str | None) -> str | None:
        from web3 import Web3

        if value is None:
            return None
        if not Web3.is_address(value):
            raise ValueError(f"{value!r} is not an address")
        return Web3.to_checksum_address(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError as exc:
                raise ValueError(
                    f"trusted_proxies: {value!r} is not an IP address or network"
                ) from exc
        return values

    @model_validator(mode="after")
    def _no_placeholders_outside_local(self) -> GatewaySettings:
        secret = self.secret_key.get_secret_value()
        if len(secret) < 32:
            raise ValueError("secret_key must be at least 32 characters")
        if self.mode == "local":
            return self
        if secret == PLACEHOLDER_SECRET:
            raise ValueError("secret_key is the local placeholder; set a real one outside local")
        if self.relayer_key is not None and _is_dev_key(self.relayer_key.get_secret_value()):
            raise ValueError("relayer_key is a public dev-chain key; refused outside local mode")
        if "*" in self.cors_origins:
            raise ValueError("cors_origins '*' is refused outside local mode")
        return self

    @property
    def private_worker_streams(self) -> bool:
        """Whether worker stream URLs may name private hosts (see the setting)."""
        if self.worker_stream_private_hosts is None:
            return self.mode == "local"
        return self.worker_stream_private_hosts

    @property
    def siwe_domain(self) -> str:
        """The authority (host[:port]) a SIWE message must name."""
        return urlsplit(str(self.siwe_uri)).netloc

    def sqlite_path(self) -> Path | None:
        """The file of a SQLite URL (created on start), else None."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return Path(self.database_url[len(prefix) :])
        return None


def _is_dev_key(key: str) -> bool:
    from inferchain.devstack import dev_private_keys

    normal = key.lower().removeprefix("0x")
    return any(normal == k.lower().removeprefix("0x") for k in dev_private_keys())
