"""What a rerun of `inferchain deploy` does about values changed in the networks file.

The market's terms belong to the timelock, so a rerun never half-applies a change with a
setter. For each difference it looks for the matching timelock operation: none yet, it
schedules one (when the deployer holds the proposer role) or prints it for the proposer;
waiting, it reports when it is ready; ready, it executes it (anyone may). What is fixed at
deployment (mode 0's arbiter: the ManualArbiter's owner, either arbiter's windows, the
CommitteeArbiter's court; the proposer) is reported, never changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from web3 import Web3
from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.market import ZERO_ADDRESS, MarketConfig
from inferchain.market.deploy import ARBITERS, REEXEC_MODE, ZK_MODE, metered_pricing_calls
from inferchain.market.governance import (
    Operation,
    OperationState,
    pending_operations,
)
from inferchain.market.metering import METERED_PRICING
from inferchain.market.modes import read_mode, read_pricing


class ProposalState(StrEnum):
    """What the deployer did, or cannot do, about one difference."""

    SCHEDULE = "schedule"  # planned: the deployer will schedule it
    SCHEDULED = "scheduled"  # scheduled now; executable from `ready_at`
    WAITING = "waiting"  # scheduled before; not ready yet
    EXECUTE = "execute"  # planned: ready, the deployer will execute it
    EXECUTED = "executed"  # executed now
    FOR_PROPOSER = "for proposer"  # the deployer cannot schedule: the proposer must


@dataclass
class Proposal:
    """One governance change, as the report shows it."""

    name: str
    current: Any
    wanted: Any
    operation: Operation
    state: ProposalState
    ready_at: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "current": _jsonable(self.current),
            "wanted": _jsonable(self.wanted),
            "state": str(self.state),
            "ready_at": self.ready_at,
            **self.operation.to_dict(),
        }


@dataclass(frozen=True)
class Change:
    name: str
    current: Any
    wanted: Any
    call: Any


def governed_changes(chain: Chain, deployed: dict[str, str], config: MarketConfig) -> list[Change]:
    """Differences between the chain and `config` that a timelock operation can apply."""
    market = chain.contract("JobMarket", deployed["JobMarket"])
    governor = chain.contract("MarketGovernor", deployed["MarketGovernor"])
    timelock = chain.contract("InferchainTimelock", deployed["InferchainTimelock"])
    g = governor.functions
    changes = []
    current = tuple(chain.call(market.functions.config()))
    if current != config.market_config():
        wanted = config.market_config()
        changes.append(
            Change("MarketGovernor.setConfig", current, wanted, g.setConfig(market.address, wanted))
        )
    for token in config.allowed_tokens:
        if not chain.call(market.functions.isTokenAllowed(token)):
            call = g.setTokenAllowed(market.address, token, True)
            changes.append(Change(f"MarketGovernor.setTokenAllowed({token})", False, True, call))
    guardian = Web3.to_checksum_address(chain.call(g.guardian()))
    if config.guardian and guardian != Web3.to_checksum_address(config.guardian):
        changes.append(
            Change("MarketGovernor.setGuardian", guardian, config.guardian,
                   g.setGuardian(config.guardian))
        )  # fmt: skip
    for name, mode_id in _MODULE_MODES.items():
        changes += _module_mode_changes(chain, market, governor, deployed.get(name), mode_id)
    changes += _pricing_changes(chain, deployed, config)
    delay = int(chain.call(timelock.functions.getMinDelay()))
    if delay != config.timelock_delay:
        call = timelock.functions.updateDelay(config.timelock_delay)
        changes.append(Change("InferchainTimelock.updateDelay", delay, config.timelock_delay, call))
    return changes


#: The verification modules a deployment registers after the market, by their mode ids.
_MODULE_MODES = {"ZkVerifier": ZK_MODE, "ReexecVerifier": REEXEC_MODE}


def _module_mode_changes(
    chain: Chain, market: Contract, governor: Contract, module: str | None, mode_id: int
) -> list[Change]:
    """Mode `mode_id` for a market deployed before its module existed: register the module
    and offer it (two operations, executed in that order), unless the id is taken by another
    module (reported by `fixed_differences`)."""
    if module is None:
        return []
    mode = read_mode(chain, market, mode_id)
    if mode.registered and not _same(mode.module, module):
        return []
    g = governor.functions
    changes = []
    if not mode.registered:
        call = g.registerMode(market.address, mode_id, module)
        name = f"MarketGovernor.registerMode({mode_id})"
        changes.append(Change(name, ZERO_ADDRESS, module, call))
    if not mode.enabled:
        call = g.setModeEnabled(market.address, mode_id, True)
        changes.append(Change(f"MarketGovernor.setModeEnabled({mode_id})", False, True, call))
    return changes


def _pricing_changes(chain: Chain, deployed: dict[str, str], config: MarketConfig) -> list[Change]:
    """Register and enable the deployed TokenMeteredPricing as pricing id 1 (issue 16), unless
    the id is taken by another module (reported by `fixed_differences`)."""
    module = deployed.get("TokenMeteredPricing")
    if not config.metered_pricing or module is None:
        return []
    market = chain.contract("JobMarket", deployed["JobMarket"])
    governor = chain.contract("MarketGovernor", deployed["MarketGovernor"])
    pricing = read_pricing(chain, market, METERED_PRICING)
    if pricing.registered and not _same(pricing.module, module):
        return []
    register, enable = metered_pricing_calls(governor, market.address, module)
    changes = []
    if not pricing.registered:
        name = f"MarketGovernor.registerPricing({METERED_PRICING})"
        changes.append(Change(name, None, module, register))
    if not pricing.enabled:
        name = f"MarketGovernor.setPricingEnabled({METERED_PRICING})"
        changes.append(Change(name, False, True, enable))
    return changes


def _same(a: str, b: str) -> bool:
    return Web3.to_checksum_address(a) == Web3.to_checksum_address(b)


def fixed_differences(chain: Chain, deployed: dict[str, str], config: MarketConfig) -> list[str]:
    """Differences no operation applies in place, each with what to do instead."""
    timelock = chain.contract("InferchainTimelock", deployed["InferchainTimelock"])
    notes = _arbiter_differences(chain, deployed, config)
    for name, mode_id in _MODULE_MODES.items():
        module = deployed.get(name)
        mode = read_mode(chain, chain.contract("JobMarket", deployed["JobMarket"]), mode_id)
        if module and mode.registered and not _same(mode.module, module):
            notes.append(
                f"mode {mode_id} of the market is {mode.module}, not {name} {module}: a "
                f"mode's module is fixed; register {name} under a free mode id through the "
                f"timelock (MarketGovernor.registerMode, then setModeEnabled) and tell users "
                f"that id"
            )
    module = deployed.get("TokenMeteredPricing")
    if config.metered_pricing and module is not None:
        market = chain.contract("JobMarket", deployed["JobMarket"])
        pricing = read_pricing(chain, market, METERED_PRICING)
        if pricing.registered and not _same(pricing.module, module):
            notes.append(
                f"pricing id {METERED_PRICING} of JobMarket {market.address} is taken by "
                f"{pricing.module}, not TokenMeteredPricing {module}: an id's module is set "
                f"for good; metered jobs use the registered one"
            )
    proposer_role = chain.call(timelock.functions.PROPOSER_ROLE())
    if config.proposer and not chain.call(
        timelock.functions.hasRole(proposer_role, config.proposer)
    ):
        notes.append(
            f"{config.proposer} is not a proposer of InferchainTimelock {timelock.address}: "
            f"grant it the role through the timelock (grantRole) or keep the current proposer"
        )
    return notes


def _arbiter_differences(chain: Chain, deployed: dict[str, str], config: MarketConfig) -> list[str]:
    """Mode 0's arbiter (whichever of `ARBITERS` is deployed) against `config`: its kind,
    its windows, and the ManualArbiter's owner or the CommitteeArbiter's court."""
    held = [n for n in ARBITERS.values() if n in deployed]
    if not held:
        return []
    name = config.arbiter if config.arbiter in held else held[0]
    arbiter = chain.contract(name, deployed[name])
    notes = []
    if name != config.arbiter:
        notes.append(
            f"mode 0's arbiter is {name} {arbiter.address}, the networks file says disputes = "
            f'"{config.disputes}" ({config.arbiter}): '
            + _new_mode(config.arbiter)
            + f', or set disputes back to "{disputes_of(name)}"'
        )
    if name == "ManualArbiter":
        owner = Web3.to_checksum_address(chain.call(arbiter.functions.owner()))
        if config.arbiter_owner and owner != Web3.to_checksum_address(config.arbiter_owner):
            notes.append(
                f"ManualArbiter {arbiter.address} is owned by {owner}, the networks file says "
                f"{config.arbiter_owner}: its owner hands it over (transferOwnership, then "
                f"acceptOwnership by the new key)"
            )
    windows = (
        int(chain.call(arbiter.functions.challengeWindow())),
        int(chain.call(arbiter.functions.arbitrationWindow())),
    )
    if windows != (config.challenge_window, config.arbitration_window):
        notes.append(
            f"{name} windows are {windows}, the networks file says "
            f"{(config.challenge_window, config.arbitration_window)}: " + _new_mode(name)
        )
    if name == "CommitteeArbiter":
        court = int(chain.call(arbiter.functions.courtMode()))
        if court != REEXEC_MODE:
            notes.append(
                f"CommitteeArbiter {arbiter.address} takes its court from mode {court}, not the "
                f"reexec mode {REEXEC_MODE}, so no ReexecVerifier pool judges its disputes: "
                + _new_mode(f"CommitteeArbiter (court mode {REEXEC_MODE})")
            )
    return notes


def _new_mode(kind: str) -> str:
    return (
        f"a mode's module is fixed; deploy a new {kind} and register it as a new mode through "
        f"the timelock (MarketGovernor.registerMode, then setModeEnabled)"
    )


def disputes_of(arbiter: str) -> str:
    """The `disputes` setting that chooses `arbiter` (a value of `ARBITERS`)."""
    return next(k for k, v in ARBITERS.items() if v == arbiter)


def plan_proposal(
    chain: Chain, timelock_at: str, change: Change, deployer: str, from_block: int
) -> Proposal:
    """What to do about `change`: execute a ready operation, wait for one, or schedule one
    (the deployer when it is a proposer, else the proposer)."""
    timelock = chain.contract("InferchainTimelock", timelock_at)
    wanted = Operation.of(change.call)
    for scheduled in pending_operations(timelock, from_block):
        op = scheduled.operation
        if (op.target, op.data, op.value) == (wanted.target, wanted.data, wanted.value):
            state = (
                ProposalState.EXECUTE
                if scheduled.state == OperationState.READY
                else ProposalState.WAITING
            )
            return Proposal(
                change.name, change.current, change.wanted, op, state, scheduled.ready_at
            )
    # A fresh salt: the same call may have run before (a value changed there and back).
    salt = bytes(Web3.keccak(text=f"inferchain deploy {chain.block_timestamp()} {change.name}"))
    operation = Operation.of(change.call, salt=salt)
    proposer_role = chain.call(timelock.functions.PROPOSER_ROLE())
    can_schedule = chain.call(timelock.functions.hasRole(proposer_role, deployer))
    state = ProposalState.SCHEDULE if can_schedule else ProposalState.FOR_PROPOSER
    return Proposal(change.name, change.current, change.wanted, operation, state)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value
