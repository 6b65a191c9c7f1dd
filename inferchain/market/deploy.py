"""Deploy and wire the marketplace contracts, and bind to a deployed set by address.

`deploy_market` is the one way contracts get deployed: the dev stack, the tests, the
worker's and gateway's tests and `inferchain deploy` all call it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from pydantic import SecretStr
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.market.jobs import ETH

ETHER = 10**18


@dataclass(frozen=True)
class MarketConfig:
    """Deployment parameters; the contracts bound each one by a constant."""

    treasury: str
    protocol_fee_bps: int = 250
    challenge_window: int = 3_600
    arbitration_window: int = 86_400
    dispute_bond_bps: int = 1_000
    slash_reward_bps: int = 5_000
    stake_token: str = ETH
    min_stake: int = 1 * ETHER
    unbonding_delay: int = 86_400
    slash_bps: int = 5_000
    allowed_tokens: tuple[str, ...] = ()
    #: Who rules disputes on the ManualArbiter (its owner); None means the deployer.
    arbiter_owner: str | None = None


@dataclass(frozen=True)
class MarketAddresses:
    model_registry: str
    worker_registry: str
    job_market: str
    arbiter: str
    router: str
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
        )


#: Deployment order; each contract's constructor needs the addresses of those before it.
CONTRACTS = ("ModelRegistry", "WorkerRegistry", "JobRouter", "JobMarket", "ManualArbiter")


def market_params(config: MarketConfig) -> tuple[int, int, int, int]:
    """IJobMarket.Params as the ABI tuple."""
    return (
        config.challenge_window,
        config.arbitration_window,
        config.dispute_bond_bps,
        config.slash_reward_bps,
    )


def constructor_args(
    name: str, owner: str, config: MarketConfig, deployed: dict[str, str]
) -> tuple[Any, ...]:
    """Constructor arguments of contract `name`; `deployed` maps earlier names to addresses."""
    match name:
        case "ModelRegistry":
            return ()
        case "WorkerRegistry":
            return (
                owner,
                config.stake_token,
                deployed["ModelRegistry"],
                config.min_stake,
                config.unbonding_delay,
                config.slash_bps,
            )
        case "JobRouter":
            return (deployed["ModelRegistry"],)
        case "JobMarket":
            return (
                owner,
                deployed["ModelRegistry"],
                deployed["WorkerRegistry"],
                deployed["JobRouter"],
                config.treasury,
                config.protocol_fee_bps,
                market_params(config),
            )
        case "ManualArbiter":
            return (config.arbiter_owner or owner,)
    raise ValueError(f"{name} is not a market contract")


def deploy_market(chain: Chain, owner_key: str | SecretStr, config: MarketConfig) -> Market:
    """Deploy registries, router, market and arbiter from `owner_key` and wire them together."""
    owner = chain.sender(owner_key)
    start_block = chain.w3.eth.block_number + 1
    deployed: dict[str, str] = {}
    contracts: dict[str, Contract] = {}
    for name in CONTRACTS[:4]:
        contracts[name] = owner.deploy(
            name, *constructor_args(name, owner.address, config, deployed)
        )
        deployed[name] = contracts[name].address
    models, workers, router, jobs = (contracts[n] for n in CONTRACTS[:4])
    owner.transact(workers.functions.bindMarket(jobs.address))
    arbiter = owner.deploy(
        "ManualArbiter", *constructor_args("ManualArbiter", owner.address, config, deployed)
    )
    owner.transact(jobs.functions.setArbiter(0, arbiter.address))
    owner.transact(jobs.functions.setVerificationMode(0, True))
    for token in config.allowed_tokens:
        owner.transact(jobs.functions.setTokenAllowed(token, True))
    addresses = MarketAddresses(
        model_registry=models.address,
        worker_registry=workers.address,
        job_market=jobs.address,
        arbiter=arbiter.address,
        router=router.address,
        deployed_block=start_block,
    )
    return Market.connect(chain, addresses)
