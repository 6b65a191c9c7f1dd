"""The market's deployment: which contracts, in which order, with which constructor arguments,
and the binding to a deployed set by address.

Two callers deploy, and both take the order and arguments from here (`market_contracts`,
`constructor_args`, `metered_pricing_calls`, `MarketAddresses.of`): `deploy_market`, which
deploys a fresh set in one go (the tests, the benchmarks), and `inferchain deploy`
(`inferchain.deploy.deploy_network`, also used by `inferchain demo up`), which deploys step
by step, reuses what a network already holds and records it. The order is the design's
(§1.7): registries and router, then the timelock, the governor it owns, the arbiter of mode
0 (`CommitteeArbiter` by default, whose disputes the ReexecVerifier pool judges;
`ManualArbiter`, one key, with `disputes="manual"`), and the market, whose constructor takes
its config, its modes and its tokens, so no wiring call is left: the worker registry v2 has
no owner and serves every market (a worker allocates stake to each). ReexecVerifier,
deployed just before the market, is given the market's predicted address (`create_address`).
Last comes `TokenMeteredPricing`, which the timelock registers as pricing id
`METERED_PRICING` and enables (issue 16)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from typing import Any, Literal

from eth_utils import keccak, to_checksum_address
from pydantic import SecretStr
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.market.court import is_committee_arbiter
from inferchain.market.governance import Operation
from inferchain.market.jobs import ZERO_ADDRESS
from inferchain.market.metering import METERED_PRICING
from inferchain.market.modes import MANUAL_MODE, REEXEC_MODE, ZK_MODE, read_mode, read_pricing
from inferchain.market.reexec import dispute_round_s

ETHER = 10**18
DAY = 86_400
#: The timelock delay of a production deployment; `inferchain deploy` refuses under 1 day
#: off local chains.
DEFAULT_TIMELOCK_DELAY = 2 * DAY


@dataclass(frozen=True)
class ReexecConfig:
    """ReexecVerifier's fixed parameters (IReexecVerifier.Params), mode `REEXEC_MODE`.

    Local defaults: a committee of 3, a small fee, and windows that fit the smallest
    challenge window the governor allows (10 min), so a silent committee delays a job's pay
    by ten minutes at most."""

    committee_size: int = 3
    #: Least bond (wei) to join the pool and be drawn.
    min_bond: int = 1 * ETHER
    #: The verification fee a job escrows is `committee_size` times this (wei).
    fee_per_verifier: int = 10**14
    #: Part of its bond a member loses when silent or in the minority.
    slash_bps: int = 2_000
    draw_window: int = 120
    commit_window: int = 240
    reveal_window: int = 240
    #: The market's window for this mode; at least the three windows above (600..7 days).
    challenge_window: int = 600
    arbitration_window: int = DAY
    leave_delay: int = DAY

    def dispute_round_s(self) -> int:
        """What a dispute round needs before the arbitration deadline (`dispute_round_s`)."""
        return dispute_round_s(self.draw_window, self.commit_window, self.reveal_window)

    def params(self) -> tuple[int, ...]:
        """IReexecVerifier.Params as the ABI tuple."""
        return (
            self.committee_size,
            self.min_bond,
            self.fee_per_verifier,
            self.slash_bps,
            self.draw_window,
            self.commit_window,
            self.reveal_window,
            self.challenge_window,
            self.arbitration_window,
            self.leave_delay,
        )


@dataclass(frozen=True)
class MarketConfig:
    """Deployment parameters. The market's constructor checks the fee, the collateral and
    the bond against the governor's bounds, and the arbiter's windows against the mode
    bounds; every later change goes through the timelock. The worker registry has none."""

    #: Protocol fee (0..1,000 bps of the price), credited to the governor's account.
    fee_bps: int = 250
    #: Collateral a claim locks of the worker's allocation (5,000..30,000 bps of the price).
    collateral_bps: int = 10_000
    #: Dispute bond (500..5,000 bps of the price).
    dispute_bond_bps: int = 1_000
    #: Seconds between scheduling a governance operation and executing it.
    timelock_delay: int = DEFAULT_TIMELOCK_DELAY
    #: Who may schedule and cancel timelock operations; None means the deployer.
    proposer: str | None = None
    #: Who may pause and disable at once; None means the deployer.
    guardian: str | None = None
    #: Who judges mode 0's disputes: "committee" (CommitteeArbiter: a committee drawn from
    #: the ReexecVerifier pool, which the deployment must then have) or "manual"
    #: (ManualArbiter: its owner's key rules, as the contract tests need).
    disputes: Literal["committee", "manual"] = "committee"
    #: Who rules disputes on the ManualArbiter (its owner); None means the deployer.
    arbiter_owner: str | None = None
    #: Mode 0's arbiter's windows (10 min..7 days; 1..14 days), fixed for good. With the
    #: committee, the arbitration window must fit a dispute round (`check_dispute_round`).
    challenge_window: int = 3_600
    arbitration_window: int = DAY
    allowed_tokens: tuple[str, ...] = ()
    #: Register TokenMeteredPricing as pricing id `METERED_PRICING` through the timelock.
    metered_pricing: bool = True
    #: ReexecVerifier's parameters (mode `REEXEC_MODE`).
    reexec: ReexecConfig = field(default_factory=ReexecConfig)

    def market_config(self) -> tuple[int, int, int]:
        """IJobMarketAdmin.Config as the ABI tuple (fee, collateral, bond)."""
        return (self.fee_bps, self.collateral_bps, self.dispute_bond_bps)

    @property
    def arbiter(self) -> str:
        """The contract name of mode 0's arbiter."""
        return ARBITERS[self.disputes]

    def check_dispute_round(self) -> None:
        """With the committee, a dispute round opened at once must end (draw, commit and
        reveal windows, then one more reveal window to resolve it) within the arbitration
        window, or no dispute could ever be judged (ReexecVerifier.openDispute refuses it)."""
        if self.disputes != "committee":
            return
        need = self.reexec.dispute_round_s()
        if self.arbitration_window < need:
            raise ValueError(
                f"arbitration_window {self.arbitration_window}s cannot fit a dispute round: the "
                f"committee needs draw + commit + 2 x reveal = {need}s"
            )


#: Mode 0's arbiter by `MarketConfig.disputes`; `MarketAddresses.arbiter` holds either.
ARBITERS = {"committee": "CommitteeArbiter", "manual": "ManualArbiter"}


#: The contracts every deployment has, by the `MarketAddresses` field holding each.
ADDRESS_FIELDS = {
    "ModelRegistry": "model_registry",
    "WorkerRegistry": "worker_registry",
    "JobMarket": "job_market",
    "JobRouter": "router",
    "MarketGovernor": "governor",
    "InferchainTimelock": "timelock",
}
#: Optional modules, kept in `MarketAddresses.extra` under these names.
OPTIONAL_MODULES = ("TokenMeteredPricing",)


@dataclass(frozen=True)
class MarketAddresses:
    model_registry: str
    worker_registry: str
    job_market: str
    arbiter: str
    router: str
    governor: str
    timelock: str
    deployed_block: int
    #: ZkVerifier, the module of mode `ZK_MODE`; None where the deployment has none.
    zk_verifier: str | None = None
    #: ReexecVerifier, the module of mode `REEXEC_MODE`; None where the deployment has none.
    reexec_verifier: str | None = None
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def of(cls, deployed: Mapping[str, str], deployed_block: int) -> MarketAddresses:
        """The addresses of a deployment given as contract name -> address (every name of
        `ADDRESS_FIELDS` present, and one of `ARBITERS`; the verifiers and the optional
        modules where deployed)."""
        return cls(
            **{f: deployed[name] for name, f in ADDRESS_FIELDS.items()},
            arbiter=arbiter_of(deployed),
            deployed_block=deployed_block,
            zk_verifier=deployed.get("ZkVerifier"),
            reexec_verifier=deployed.get("ReexecVerifier"),
            extra={n: deployed[n] for n in OPTIONAL_MODULES if n in deployed},
        )


@dataclass(frozen=True)
class Market:
    """The deployed contracts, bound to one chain connection."""

    chain: Chain
    addresses: MarketAddresses
    models: Contract
    workers: Contract
    jobs: Contract
    arbiter: Contract
    #: The shared JobRouter: signed requests, disputes and deposits, session signers.
    router: Contract
    #: The market's only admin, and the account its protocol fees are credited to.
    governor: Contract
    #: The governor's owner: every owner action waits its delay.
    timelock: Contract
    #: ZkVerifier (mode `ZK_MODE`), where the deployment has one.
    zk: Contract | None = None
    #: ReexecVerifier (mode `REEXEC_MODE`), where the deployment has one.
    reexec: Contract | None = None

    @classmethod
    def connect(cls, chain: Chain, addresses: MarketAddresses) -> Market:
        return cls(
            chain=chain,
            addresses=addresses,
            models=chain.contract("ModelRegistry", addresses.model_registry),
            workers=chain.contract("WorkerRegistry", addresses.worker_registry),
            jobs=chain.contract("JobMarket", addresses.job_market),
            arbiter=chain.contract(arbiter_kind(chain, addresses.arbiter), addresses.arbiter),
            router=chain.contract("JobRouter", addresses.router),
            governor=chain.contract("MarketGovernor", addresses.governor),
            timelock=chain.contract("InferchainTimelock", addresses.timelock),
            zk=chain.contract("ZkVerifier", addresses.zk_verifier)
            if addresses.zk_verifier
            else None,
            reexec=chain.contract("ReexecVerifier", addresses.reexec_verifier)
            if addresses.reexec_verifier
            else None,
        )

    @classmethod
    def at(cls, chain: Chain, market_address: str, *, deployed_block: int = 0) -> Market:
        """Bind the market at `market_address` and every contract it names, read on-chain:
        the registries, the router, the governor and the governor's owner (the timelock), mode
        0's module (its arbiter), mode 1's (ZkVerifier), mode 2's (ReexecVerifier) and
        the metered pricing module.
        The deployment block is not on-chain: pass it when a caller needs it (0: unknown)."""
        jobs = chain.contract("JobMarket", market_address)
        governor = chain.contract("MarketGovernor", chain.call(jobs.functions.governor()))
        zk = read_mode(chain, jobs, ZK_MODE)
        reexec = read_mode(chain, jobs, REEXEC_MODE)
        addresses = MarketAddresses(
            model_registry=chain.call(jobs.functions.modelRegistry()),
            worker_registry=chain.call(jobs.functions.workerRegistry()),
            job_market=jobs.address,
            arbiter=read_mode(chain, jobs, MANUAL_MODE).module,
            router=chain.call(jobs.functions.router()),
            governor=governor.address,
            timelock=chain.call(governor.functions.owner()),
            deployed_block=deployed_block,
            zk_verifier=zk.module if zk.registered else None,
            reexec_verifier=reexec.module if reexec.registered else None,
            extra=_optional_modules(chain, jobs),
        )
        return cls.connect(chain, addresses)

    @cached_property
    def max_batch(self) -> int:
        """Most jobs one batch transaction may carry (the market's MAX_BATCH), read once."""
        return int(self.chain.call(self.jobs.functions.MAX_BATCH()))


def arbiter_of(deployed: Mapping[str, str]) -> str:
    """The address of mode 0's arbiter among `deployed` (contract name -> address)."""
    for name in ARBITERS.values():
        if name in deployed:
            return deployed[name]
    raise KeyError(" or ".join(ARBITERS.values()))


def arbiter_kind(chain: Chain, address: str) -> str:
    """Which of `ARBITERS` the contract at `address` is: a CommitteeArbiter answers
    `courtMode()`, a ManualArbiter has no such function."""
    return "CommitteeArbiter" if is_committee_arbiter(chain, address) else "ManualArbiter"


def _optional_modules(chain: Chain, jobs: Contract) -> dict[str, str]:
    """The optional modules a deployment registers, as `MarketAddresses.extra` names them."""
    metered = read_pricing(chain, jobs, METERED_PRICING)
    return {"TokenMeteredPricing": metered.module} if metered.registered else {}


#: Deployment order; each contract's constructor needs the addresses of those before it.
CONTRACTS = (
    "ModelRegistry",
    "WorkerRegistry",
    "JobRouter",
    "InferchainTimelock",
    "MarketGovernor",
    "CommitteeArbiter",
    "ManualArbiter",
    "ZkVerifier",
    "ReexecVerifier",
    "JobMarket",
    "TokenMeteredPricing",
)


def market_contracts(
    config: MarketConfig, *, zk: bool = True, reexec: bool = True
) -> tuple[str, ...]:
    """What a deployment with `config` holds, in the order of `CONTRACTS`: the arbiter of
    `config.disputes`, the metered pricing only where configured, ZkVerifier only with `zk`,
    ReexecVerifier only with `reexec` (which the committee needs)."""
    if config.disputes == "committee" and not reexec:
        raise ValueError(
            "disputes='committee' needs the reexec mode, whose pool judges them: deploy "
            "ReexecVerifier too, or choose disputes='manual'"
        )
    left_out = {name for name in ARBITERS.values() if name != config.arbiter}
    if not config.metered_pricing:
        left_out.add("TokenMeteredPricing")
    if not zk:
        left_out.add("ZkVerifier")
    if not reexec:
        left_out.add("ReexecVerifier")
    return tuple(name for name in CONTRACTS if name not in left_out)


def constructor_args(
    name: str, deployer: str, config: MarketConfig, deployed: dict[str, str]
) -> tuple[Any, ...]:
    """Constructor arguments of contract `name`; `deployed` maps earlier names to addresses."""
    match name:
        case "ModelRegistry":
            return ()
        case "WorkerRegistry":
            return (deployed["ModelRegistry"],)
        case "JobRouter":
            return (deployed["ModelRegistry"],)
        case "InferchainTimelock":
            # Executors: address(0) lets anyone execute a ready operation.
            return (config.timelock_delay, [config.proposer or deployer], [ZERO_ADDRESS])
        case "MarketGovernor":
            return (deployed["InferchainTimelock"], config.guardian or deployer)
        case "ManualArbiter":
            return (
                config.arbiter_owner or deployer,
                config.challenge_window,
                config.arbitration_window,
            )
        case "CommitteeArbiter":
            # Its court, the pool of mode REEXEC_MODE, is read from the market it serves.
            config.check_dispute_round()
            return (REEXEC_MODE, config.challenge_window, config.arbitration_window)
        case "ZkVerifier":
            # Its windows only matter for disputes, which a proven job never reaches.
            return (deployed["ModelRegistry"], config.challenge_window, config.arbitration_window)
        case "ReexecVerifier":
            # The one market it serves, deployed next: `deployed` holds its predicted address
            # (`create_address(deployer, nonce + 1)`, this deployment's nonce being `nonce`).
            return (deployed["JobMarket"], config.reexec.params())
        case "JobMarket":
            modes = [(MANUAL_MODE, arbiter_of(deployed))]
            if "ZkVerifier" in deployed:
                modes.append((ZK_MODE, deployed["ZkVerifier"]))
            if "ReexecVerifier" in deployed:
                modes.append((REEXEC_MODE, deployed["ReexecVerifier"]))
            return (
                deployed["MarketGovernor"],
                deployed["JobRouter"],
                deployed["ModelRegistry"],
                deployed["WorkerRegistry"],
                config.market_config(),
                modes,
                list(config.allowed_tokens),
            )
        case "TokenMeteredPricing":
            return (deployed["ModelRegistry"],)
    raise ValueError(f"{name} is not a market contract")


def create_address(deployer: str, nonce: int) -> str:
    """The address a contract created by `deployer`'s transaction number `nonce` gets
    (CREATE: the last 20 bytes of keccak(rlp([deployer, nonce])))."""
    sender = bytes.fromhex(deployer.removeprefix("0x"))
    if nonce == 0:
        encoded_nonce = b"\x80"
    elif nonce < 0x80:
        encoded_nonce = bytes([nonce])
    else:
        raw = nonce.to_bytes((nonce.bit_length() + 7) // 8, "big")
        encoded_nonce = bytes([0x80 + len(raw)]) + raw
    payload = b"\x94" + sender + encoded_nonce
    return to_checksum_address(keccak(bytes([0xC0 + len(payload)]) + payload)[12:])


def metered_pricing_calls(governor: Contract, market: str, module: str) -> list[Any]:
    """The two governor calls that offer `module` as pricing id `METERED_PRICING` on `market`
    (register for good, then enable), each a timelock operation."""
    g = governor.functions
    return [
        g.registerPricing(market, METERED_PRICING, module),
        g.setPricingEnabled(market, METERED_PRICING, True),
    ]


def deploy_market(
    chain: Chain,
    owner_key: str | SecretStr,
    config: MarketConfig,
    *,
    zk: bool = False,
    reexec: bool = False,
) -> Market:
    """Deploy a fresh set from `owner_key` in the order of `market_contracts` and register
    the metered pricing through the timelock.

    The timelock starts with no delay so that the registration runs at once, as its own
    operations, and then raises its delay to the configured one (an operation too): tests and
    benchmarks get a market whose governance is the production one, without waiting days.
    `inferchain deploy` instead schedules the registration and executes it after the delay,
    and records what it deployed. Without `zk`, ZkVerifier is left out and mode `ZK_MODE`
    stays free (most tests register modes of their own there); likewise ReexecVerifier and
    mode `REEXEC_MODE` without `reexec`. `inferchain deploy` always sets both up.
    """
    owner = chain.sender(owner_key)
    start_block = chain.w3.eth.block_number + 1
    deployed: dict[str, str] = {}
    bootstrap = replace(config, timelock_delay=0)
    for name in market_contracts(config, zk=zk, reexec=reexec):
        if name == "ReexecVerifier":
            nonce = chain.w3.eth.get_transaction_count(owner.address, "pending")
            deployed["JobMarket"] = create_address(owner.address, nonce + 1)
        args = constructor_args(name, owner.address, bootstrap, deployed)
        address = owner.deploy(name, *args).address
        if name == "JobMarket" and deployed.get("JobMarket", address) != address:
            raise RuntimeError(f"JobMarket deployed at {address}, not {deployed['JobMarket']}")
        deployed[name] = address
    timelock = chain.contract("InferchainTimelock", deployed["InferchainTimelock"])
    calls = []
    if config.metered_pricing:
        governor = chain.contract("MarketGovernor", deployed["MarketGovernor"])
        calls += metered_pricing_calls(
            governor, deployed["JobMarket"], deployed["TokenMeteredPricing"]
        )
    if config.timelock_delay:
        calls.append(timelock.functions.updateDelay(config.timelock_delay))
    for call in calls:
        operation = Operation.of(call)
        owner.transact(operation.schedule(timelock, 0))
        owner.transact(operation.execute(timelock))
    return Market.connect(chain, MarketAddresses.of(deployed, start_block))
