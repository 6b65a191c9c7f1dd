"""Deploy the marketplace contracts, and bind to a deployed set by address.

`deploy_market` is the one way contracts get deployed: the dev stack, the tests, the
worker's and gateway's tests and `inferchain deploy` all call it (the deployer step by
step, through `CONTRACTS` and `constructor_args`). The order is the design's (§1.7):
registries and router, then the timelock, the governor it owns, the arbiter, and the market,
whose constructor takes its config, its modes and its tokens, so the only wiring call left
is the v1 worker registry's `bindMarket`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import SecretStr
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.market.jobs import ETH, ZERO_ADDRESS

ETHER = 10**18
DAY = 86_400
#: The timelock delay of a production deployment; `inferchain deploy` refuses under 1 day
#: off local chains.
DEFAULT_TIMELOCK_DELAY = 2 * DAY
#: The verification mode the ManualArbiter serves.
MANUAL_MODE = 0


@dataclass(frozen=True)
class MarketConfig:
    """Deployment parameters. The market's constructor checks the fee and the bond against
    the governor's bounds, and the arbiter's windows against the mode bounds; every later
    change goes through the timelock."""

    #: Protocol fee (0..1,000 bps of the price), credited to the governor's account.
    fee_bps: int = 250
    #: Dispute bond (500..5,000 bps of the price).
    dispute_bond_bps: int = 1_000
    #: Seconds between scheduling a governance operation and executing it.
    timelock_delay: int = DEFAULT_TIMELOCK_DELAY
    #: Who may schedule and cancel timelock operations; None means the deployer.
    proposer: str | None = None
    #: Who may pause and disable at once; None means the deployer.
    guardian: str | None = None
    #: Who rules disputes on the ManualArbiter (its owner); None means the deployer.
    arbiter_owner: str | None = None
    #: The ManualArbiter's windows (10 min..7 days; 1..14 days), fixed for good.
    challenge_window: int = 3_600
    arbitration_window: int = DAY
    #: The v1 worker registry's settings (slice 6 replaces the registry).
    stake_token: str = ETH
    min_stake: int = 1 * ETHER
    unbonding_delay: int = DAY
    slash_bps: int = 5_000
    allowed_tokens: tuple[str, ...] = ()

    def market_config(self) -> tuple[int, int]:
        """IJobMarketAdmin.Config as the ABI tuple."""
        return (self.fee_bps, self.dispute_bond_bps)


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
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


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

    @classmethod
    def connect(cls, chain: Chain, addresses: MarketAddresses) -> Market:
        return cls(
            chain=chain,
            addresses=addresses,
            models=chain.contract("ModelRegistry", addresses.model_registry),
            workers=chain.contract("WorkerRegistry", addresses.worker_registry),
            jobs=chain.contract("JobMarket", addresses.job_market),
            arbiter=chain.contract("ManualArbiter", addresses.arbiter),
            router=chain.contract("JobRouter", addresses.router),
            governor=chain.contract("MarketGovernor", addresses.governor),
            timelock=chain.contract("InferchainTimelock", addresses.timelock),
        )


#: Deployment order; each contract's constructor needs the addresses of those before it.
CONTRACTS = (
    "ModelRegistry",
    "WorkerRegistry",
    "JobRouter",
    "InferchainTimelock",
    "MarketGovernor",
    "ManualArbiter",
    "JobMarket",
)


def constructor_args(
    name: str, deployer: str, config: MarketConfig, deployed: dict[str, str]
) -> tuple[Any, ...]:
    """Constructor arguments of contract `name`; `deployed` maps earlier names to addresses."""
    match name:
        case "ModelRegistry":
            return ()
        case "WorkerRegistry":
            return (
                deployer,
                config.stake_token,
                deployed["ModelRegistry"],
                config.min_stake,
                config.unbonding_delay,
                config.slash_bps,
            )
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
        case "JobMarket":
            return (
                deployed["MarketGovernor"],
                deployed["JobRouter"],
                deployed["ModelRegistry"],
                deployed["WorkerRegistry"],
                config.market_config(),
                [(MANUAL_MODE, deployed["ManualArbiter"])],
                list(config.allowed_tokens),
            )
    raise ValueError(f"{name} is not a market contract")


def deploy_market(chain: Chain, owner_key: str | SecretStr, config: MarketConfig) -> Market:
    """Deploy everything from `owner_key` in the order of `CONTRACTS`, then bind the worker
    registry to the market (the one wiring call left until the registry's v2)."""
    owner = chain.sender(owner_key)
    start_block = chain.w3.eth.block_number + 1
    deployed: dict[str, str] = {}
    for name in CONTRACTS:
        contract = owner.deploy(name, *constructor_args(name, owner.address, config, deployed))
        deployed[name] = contract.address
    workers = chain.contract("WorkerRegistry", deployed["WorkerRegistry"])
    owner.transact(workers.functions.bindMarket(deployed["JobMarket"]))
    addresses = MarketAddresses(
        model_registry=deployed["ModelRegistry"],
        worker_registry=deployed["WorkerRegistry"],
        job_market=deployed["JobMarket"],
        arbiter=deployed["ManualArbiter"],
        router=deployed["JobRouter"],
        governor=deployed["MarketGovernor"],
        timelock=deployed["InferchainTimelock"],
        deployed_block=start_block,
    )
    return Market.connect(chain, addresses)
