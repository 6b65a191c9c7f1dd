"""The networks file: one entry per chain Inferchain is deployed to.

Secrets never live here: an entry names the environment variable that holds its RPC URL
(provider URLs carry API keys), and keys come from a keystore (see `inferchain.wallet`).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)
from web3 import Web3

from inferchain.deploy.errors import NetworkConfigError
from inferchain.market import MarketConfig
from inferchain.market.deploy import DAY, DEFAULT_TIMELOCK_DELAY, ReexecConfig
from inferchain.paths import project_root

NETWORKS_FILE_ENV = "INFERCHAIN_NETWORKS_FILE"
NETWORK_ENV = "INFERCHAIN_NETWORK"
DEFAULT_NETWORK = "local"
#: The shortest timelock delay a deployment off local chains accepts.
MIN_PUBLIC_TIMELOCK_DELAY = DAY


def _address(value: str | None) -> str | None:
    if value is None or value == "":
        return None
    if not Web3.is_address(value):
        raise ValueError(f"{value!r} is not an address")
    return Web3.to_checksum_address(value)


Address = Annotated[str, AfterValidator(_address)]
OptionalAddress = Annotated[str | None, AfterValidator(_address)]


class MarketParams(BaseModel):
    """Fees, collateral, windows and delays, each within the governor's bounds (which the
    contracts check again). Fee, collateral and bond are the market's config; `disputes` and
    the windows are mode 0's arbiter's, fixed at its deployment; the delay is the timelock's.
    The worker registry has no parameters: workers stake and allocate what they choose."""

    model_config = ConfigDict(extra="forbid")

    #: Who judges mode 0's disputes: "committee" (CommitteeArbiter: a committee drawn from the
    #: reexec pool, no key) or "manual" (ManualArbiter: the `arbiter` key rules).
    disputes: Literal["committee", "manual"] = "committee"
    fee_bps: int = Field(250, ge=0, le=1_000)
    dispute_bond_bps: int = Field(1_000, ge=500, le=5_000)
    timelock_delay: int = Field(DEFAULT_TIMELOCK_DELAY, ge=0)
    challenge_window: int = Field(3_600, ge=600, le=7 * DAY)
    arbitration_window: int = Field(DAY, ge=DAY, le=14 * DAY)
    #: Collateral a claim locks from the worker's allocation, in bps of the job's price.
    collateral_bps: int = Field(10_000, ge=5_000, le=30_000)
    #: Deploy TokenMeteredPricing and register it as pricing id 1 through the timelock.
    metered_pricing: bool = True


_REEXEC = ReexecConfig()


class ReexecParams(BaseModel):
    """ReexecVerifier's parameters (mode 2), fixed at its deployment: the bounds are its
    constructor's (`ReexecBadParams`, the governor's window bounds), checked here first so a
    bad entry is named before anything is sent. Defaults are `ReexecConfig`'s."""

    model_config = ConfigDict(extra="forbid")

    #: Members drawn per job (ReexecVerifier.MAX_COMMITTEE is 15).
    committee_size: int = Field(_REEXEC.committee_size, ge=1, le=15)
    #: Least bond (wei) to join the pool and be drawn.
    min_bond: int = Field(_REEXEC.min_bond, gt=0, lt=2**96)
    #: Wei per committee seat; a job escrows `committee_size` times this.
    fee_per_verifier: int = Field(_REEXEC.fee_per_verifier, ge=0, lt=2**96)
    #: Part of its bond a silent or outvoted member loses.
    slash_bps: int = Field(_REEXEC.slash_bps, ge=0, le=10_000)
    draw_window: int = Field(_REEXEC.draw_window, gt=0, lt=2**32)
    commit_window: int = Field(_REEXEC.commit_window, gt=0, lt=2**32)
    reveal_window: int = Field(_REEXEC.reveal_window, gt=0, lt=2**32)
    #: The market's window for this mode: covers the three windows above.
    challenge_window: int = Field(_REEXEC.challenge_window, ge=600, le=7 * DAY)
    arbitration_window: int = Field(_REEXEC.arbitration_window, ge=DAY, le=14 * DAY)
    #: Seconds between asking to leave and leaving.
    leave_delay: int = Field(_REEXEC.leave_delay, ge=0, lt=2**32)

    @model_validator(mode="after")
    def _windows_fit(self) -> ReexecParams:
        rounds = self.draw_window + self.commit_window + self.reveal_window
        if rounds > self.challenge_window:
            raise ValueError(
                f"draw_window + commit_window + reveal_window is {rounds}s, more than "
                f"challenge_window {self.challenge_window}s: a round must end inside it"
            )
        return self

    def config(self) -> ReexecConfig:
        """As the deployment's `ReexecConfig`."""
        return ReexecConfig(**self.model_dump())


class Network(BaseModel):
    """One `[networks.NAME]` entry."""

    model_config = ConfigDict(extra="forbid")

    name: str
    chain_id: int = Field(gt=0)
    rpc_url_env: str = Field(min_length=1)
    #: Used when the env var is unset; only sensible for local chains.
    default_rpc_url: str | None = None
    #: Local development chain: plain private keys from the environment are accepted.
    local: bool = False
    confirmations: int = Field(1, ge=1)
    confirmation_timeout_s: float = Field(600.0, gt=0)
    #: Who schedules timelock operations (the protocol multisig); empty means the deployer.
    proposer: OptionalAddress = None
    #: Who may pause and disable at once; empty means the deployer.
    guardian: OptionalAddress = None
    #: Owner of the ManualArbiter (rules disputes) with `market.disputes = "manual"`; empty
    #: means the deployer, on local chains only. Must be empty with the committee (no owner).
    arbiter: OptionalAddress = None
    allowed_tokens: list[Address] = Field(default_factory=list)
    explorer_url: str | None = None
    market: MarketParams = Field(default_factory=MarketParams)
    #: The reexec tier's module (mode 2), `[networks.NAME.reexec]`.
    reexec: ReexecParams = Field(default_factory=ReexecParams)

    def rpc_url(self) -> str:
        """The RPC URL from the env var this entry names (its default for local chains)."""
        url = os.environ.get(self.rpc_url_env) or self.default_rpc_url
        if not url:
            raise NetworkConfigError(
                f"network {self.name!r}: set {self.rpc_url_env} to its RPC URL "
                f"(e.g. https://… from your node provider)"
            )
        return url

    def market_config(self, deployer: str) -> MarketConfig:
        """The deployment's config; off local chains it refuses a timelock delay under a day
        and, with `market.disputes = "manual"`, an arbiter owned by the proposer or the
        deployer (separate keys keep the protocol owner from ruling on disputes). With the
        committee it refuses an arbitration window no dispute round fits."""
        m = self.market
        deployer = Web3.to_checksum_address(deployer)
        proposer = self.proposer or deployer
        if not self.local and m.timelock_delay < MIN_PUBLIC_TIMELOCK_DELAY:
            raise NetworkConfigError(
                f"network {self.name!r}: market.timelock_delay is {m.timelock_delay}s; "
                f"outside local chains it must be at least {MIN_PUBLIC_TIMELOCK_DELAY}s "
                f"(1 day), so that everyone sees owner actions coming"
            )
        config = MarketConfig(
            fee_bps=m.fee_bps,
            dispute_bond_bps=m.dispute_bond_bps,
            timelock_delay=m.timelock_delay,
            proposer=proposer,
            guardian=self.guardian or deployer,
            disputes=m.disputes,
            arbiter_owner=self._arbiter_owner(deployer, proposer),
            challenge_window=m.challenge_window,
            arbitration_window=m.arbitration_window,
            collateral_bps=m.collateral_bps,
            allowed_tokens=tuple(self.allowed_tokens),
            metered_pricing=m.metered_pricing,
            reexec=self.reexec.config(),
        )
        self._check_dispute_round(config)
        return config

    def _arbiter_owner(self, deployer: str, proposer: str) -> str | None:
        """The ManualArbiter's owner, or None with the committee, which has no owner.

        An `arbiter` set with the committee is refused rather than ignored: whoever set it
        expects that key to rule disputes, and nothing would ever ask it to."""
        if self.market.disputes == "committee":
            if self.arbiter:
                raise NetworkConfigError(
                    f"network {self.name!r}: arbiter is {self.arbiter}, but market.disputes is "
                    f'"committee", whose court has no owner: no key rules its disputes. '
                    f'Empty `arbiter` to keep the committee, or set market.disputes = "manual" '
                    f"for that key to rule them (ManualArbiter)"
                )
            return None
        arbiter = self.arbiter or deployer
        if not self.local and arbiter in (proposer, deployer):
            who = "the deployer" if arbiter == deployer else "the proposer"
            raise NetworkConfigError(
                f"network {self.name!r}: the arbiter owner {arbiter} is {who}; outside "
                f"local chains set `arbiter` to a key of its own (not the proposer "
                f"{proposer} nor the deployer {deployer})"
            )
        return arbiter

    def _check_dispute_round(self, config: MarketConfig) -> None:
        """The committee's dispute round must end inside mode 0's arbitration window
        (`MarketConfig.check_dispute_round`), named here by the networks file's fields."""
        try:
            config.check_dispute_round()
        except ValueError as exc:
            r, need = self.reexec, config.reexec.dispute_round_s()
            raise NetworkConfigError(
                f"network {self.name!r}: market.arbitration_window is "
                f"{self.market.arbitration_window}s, too short for a dispute round of the "
                f"committee: reexec.draw_window + reexec.commit_window + 2 x "
                f"reexec.reveal_window = {r.draw_window} + {r.commit_window} + 2 x "
                f"{r.reveal_window} = {need}s. Raise market.arbitration_window to at least "
                f'{need}, shorten those windows, or set market.disputes = "manual"'
            ) from exc


def default_networks_file() -> Path:
    env = os.environ.get(NETWORKS_FILE_ENV)
    if env:
        return Path(env)
    return project_root() / "networks.toml"


def load_networks(path: Path | None = None) -> dict[str, Network]:
    """Every entry of the networks file, validated; errors name the entry and field."""
    path = path or default_networks_file()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NetworkConfigError(
            f"no networks file at {path}; pass --networks-file or set {NETWORKS_FILE_ENV}"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise NetworkConfigError(f"{path} is not valid TOML: {exc}") from exc
    entries: dict[str, Any] = raw.get("networks", {})
    if not isinstance(entries, dict) or not entries:
        raise NetworkConfigError(f"{path} has no [networks.NAME] entries")
    networks = {}
    for name, entry in entries.items():
        try:
            networks[name] = Network(name=name, **entry)
        except (ValidationError, TypeError) as exc:
            raise NetworkConfigError(f"{path}: network {name!r}: {_describe(exc)}") from exc
    return networks


def load_network(name: str | None = None, path: Path | None = None) -> Network:
    """The entry `name` (default: $INFERCHAIN_NETWORK, else `local`)."""
    name = name or os.environ.get(NETWORK_ENV) or DEFAULT_NETWORK
    networks = load_networks(path)
    if name not in networks:
        known = ", ".join(sorted(networks))
        raise NetworkConfigError(f"unknown network {name!r}; the networks file has: {known}")
    return networks[name]


def _describe(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'entry'}: {e['msg']}" for e in exc.errors()
        )
    return str(exc)
