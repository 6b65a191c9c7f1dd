"""The worker's one settings object (env prefix ``INFERCHAIN_WORKER_``; CLI flags override).

Local defaults work against ``inferchain dev up`` with the first dev account's key refused
outside ``mode=local``. Market addresses come from ``deployments/<chain-id>.json`` (written by
``inferchain deploy``) or, when given, a JSON file of ``MarketAddresses``. The key comes from
an encrypted keystore (``keystore`` + ``INFERCHAIN_KEYSTORE_PASSWORD``) or ``private_key``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from eth_utils import is_address, to_checksum_address
from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from inferchain import untrusted_json
from inferchain.deploy.records import deployments_dir, load_record
from inferchain.errors import ConfigError
from inferchain.market import ETH, MarketAddresses
from inferchain.wallet.keys import keystore_password
from inferchain.wallet.keystore import decrypt_keystore

#: Anvil's first dev account: fine locally, refused anywhere else.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
LOCAL_HEAD_POLL_S = 0.02


class WorkerSettings(BaseSettings):
    """Every knob of a worker node; docs/worker.md explains each group."""

    model_config = SettingsConfigDict(env_prefix="INFERCHAIN_WORKER_", extra="ignore")

    mode: Literal["local", "production"] = "local"
    # --- chain and IPFS ----------------------------------------------------------------
    rpc_url: str = "http://127.0.0.1:8545"
    chain_id: int | None = Field(None, gt=0, description="refuse another chain when set")
    private_key: SecretStr = SecretStr(DEV_KEY)
    keystore: Path | None = Field(None, description="encrypted keystore; wins over private_key")
    market_addresses_file: Path | None = None
    deployments_dir: Path | None = Field(None, description="default: deployments/ in the checkout")
    ipfs_api_url: str = "http://127.0.0.1:5001"
    ipfs_timeout_s: float = Field(10.0, gt=0)
    max_input_bytes: int = Field(1 << 20, gt=0)
    #: Inputs fetched before claiming are kept here (LRU) until their jobs run.
    input_cache_bytes: int = Field(64 << 20, gt=0)
    # --- what to serve and how ---------------------------------------------------------
    models: list[int] = Field(default_factory=list, description="model ids; empty: as registered")
    device: str = "auto"
    #: Most jobs of one model run as one inference batch (each runtime's manifest limit
    #: applies too). Transactions are batched separately, up to the market's MAX_BATCH.
    inference_batch_size: int = Field(16, ge=1, le=256)
    #: claimBatch / submitBatch (up to the market's MAX_BATCH jobs per transaction) instead
    #: of one per job.
    batch_transactions: bool = True
    max_wait_s: float = Field(0.05, ge=0)
    max_in_flight: int = Field(64, ge=1)
    poll_interval_s: float = Field(0.1, gt=0)
    #: Seconds between ``eth_blockNumber`` polls that wake the loop when the head moves
    #: (``head_watch``). None: 0.02 in mode=local (a local chain answers in a millisecond),
    #: off elsewhere (the loop's own ``poll_interval_s`` tick); 0 turns it off.
    head_poll_s: float | None = Field(None, ge=0)
    confirmations: int = Field(0, ge=0, le=1000)
    log_chunk_blocks: int = Field(5_000, gt=0)
    reconcile_every_s: float = Field(30.0, gt=0)
    #: Claim only when work_time covers the expected work plus this, and submit no later.
    deadline_margin_s: int = Field(20, ge=0)
    #: Fast path: a job whose model is expected to take at most this long (end to end) is
    #: run before it is claimed and submitted on Open, claim and submit in one transaction;
    #: if a rival wins, it is dropped. Longer jobs are claimed first. 0 turns it off.
    fast_path_max_s: float = Field(2.0, ge=0)
    #: Models that stream text are claimed as soon as their input is here, and decode while
    #: the claim is in flight: readers find the worker by its JobClaimed log. True puts them
    #: on the fast path too (one transaction less, but no reader sees a token before the
    #: result is on-chain).
    fast_path_streams: bool = False
    shutdown_grace_s: float = Field(30.0, ge=0)
    #: Verification mode ids whose jobs need an EZKL proof at submission (the market's mode
    #: of its ZkVerifier); empty: this worker proves nothing. Proofs run in ``zk_provers``
    #: child processes, off the job path (``proving.py``).
    zk_modes: list[int] = Field(default_factory=list)
    zk_provers: int = Field(1, ge=1, le=64)
    #: Verifier duty (`reexec`): re-run the jobs of committees this worker is drawn onto,
    #: vote, and draw and settle rounds, in a thread of its own (``verifying.py``). A worker
    #: not in the verifier pool joins it at start, posting `verify_bond`.
    verify: bool = False
    #: Bond (wei) to post when `verify` joins the pool; None: the pool's minimum bond.
    verify_bond: int | None = Field(None, gt=0)
    # --- state, money, observability ---------------------------------------------------
    state_dir: Path = Path(".inferchain/worker")
    bundle_cache_bytes: int = Field(2 << 30, gt=0)
    #: Loaded models (parameters + buffers as loaded) kept in memory; least recently used
    #: dropped first.
    model_memory_bytes: int = Field(8 << 30, gt=0)
    #: Stake to hold in the worker registry, wei per token (ETH is the zero address; "eth"
    #: is accepted): a target, topped up at start with --register. Env: a JSON object.
    stake: dict[str, int] = Field(default_factory=dict)
    #: Allocation to this market, wei per token: every claim locks the job's collateral
    #: from it. A token with a stake and no allocation here is allocated in full.
    allocation: dict[str, int] = Field(default_factory=dict)
    auto_withdraw_threshold: int | None = Field(None, gt=0, description="wei; None: never")
    finalize: bool = True
    metrics_host: str = "127.0.0.1"
    metrics_port: int | None = Field(None, ge=0, lt=65536, description="0: any free port")
    # --- token streams (GET /jobs/{id}/stream, announced in the registry metadata) ------
    stream_host: str = "127.0.0.1"
    stream_port: int | None = Field(
        0, ge=0, lt=65536, description="0: any free port; None: no stream server"
    )
    #: What readers connect to when it is not http://stream_host:port (a proxy, a public
    #: name); announced in the metadata document as given.
    stream_public_url: str | None = Field(None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    #: /health turns 503 when the loop has had no good tick for this long.
    health_max_tick_age_s: float = Field(15.0, gt=0)

    @field_validator("stake", "allocation", mode="before")
    @classmethod
    def _token_amounts(cls, value: object) -> object:
        return parse_token_amounts(value) if isinstance(value, dict | list) else value

    @model_validator(mode="after")
    def _no_dev_key_outside_local(self) -> WorkerSettings:
        if self.mode != "local" and self.private_key.get_secret_value() == DEV_KEY:
            raise ValueError("the public dev key is refused outside mode=local")
        return self

    def head_poll(self) -> float | None:
        """Seconds between head polls, or None for none (see ``head_poll_s``)."""
        if self.head_poll_s is None:
            return LOCAL_HEAD_POLL_S if self.mode == "local" else None
        return self.head_poll_s or None

    def market_addresses(self, chain_id: int) -> MarketAddresses:
        """The deployed contracts this worker talks to on chain `chain_id`."""
        if self.market_addresses_file is not None:
            return load_market_addresses(self.market_addresses_file)
        directory = deployments_dir(self.deployments_dir)
        return load_record(directory, chain_id).market_addresses()

    def signing_key(self) -> SecretStr:
        """The keystore's key when one is configured, else `private_key`."""
        if self.keystore is None:
            return self.private_key
        return SecretStr(decrypt_keystore(self.keystore, keystore_password(prompt=None)))


def parse_token_amounts(value: dict[str, object] | list[str]) -> dict[str, int]:
    """Token → wei from a mapping or from ``[TOKEN=]WEI`` strings (CLI flags; no token: ETH).

    Tokens are checksummed ("eth" is the zero address); amounts are non-negative integers.
    """
    pairs: list[tuple[str, object]]
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        pairs = [(t if sep else ETH, a) for t, sep, a in (str(v).rpartition("=") for v in value)]
    amounts: dict[str, int] = {}
    for token, amount in pairs:
        key = ETH if token.lower() == "eth" else token
        if not is_address(key):
            raise ValueError(f"{token!r} is not a token address (or eth)")
        try:
            wei = int(str(amount), 0) if isinstance(amount, str) else int(amount)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise ValueError(f"{amount!r} is not an amount of wei") from None
        if isinstance(amount, bool | float) or wei < 0:
            raise ValueError(f"{amount!r} is not an amount of wei")
        amounts[to_checksum_address(key)] = wei
    return amounts


def load_market_addresses(path: Path) -> MarketAddresses:
    try:
        data = untrusted_json.loads(Path(path).read_bytes(), source=f"market addresses {path}")
        return MarketAddresses(**data)
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(f"cannot read market addresses from {path}: {exc}") from exc
