"""WorkerRegistry: stake, models, two-step exit, market-only hooks, bounds; reverts by name."""

from __future__ import annotations

import pytest

from tests.contracts.helpers import (
    ETH,
    ETHER,
    MIN_STAKE,
    SLASH_BPS,
    UNBONDING_DELAY,
    Deployment,
    cid,
    event,
    events,
    job_from_created,
    job_tuple,
    request_tuple,
    reverts,
)


def _worker(d: Deployment, role: str) -> dict:
    stake, claims, unbonding_ends, registered, generation = d.workers.functions.worker(
        d.addr(role)
    ).call()
    return {
        "stake": stake,
        "claims": claims,
        "unbondingEnds": unbonding_ends,
        "registered": registered,
        "generation": generation,
    }


def test_register_stakes_and_serves_models(d: Deployment) -> None:
    meta = cid("outsider hardware")
    receipt = d.tx(
        "outsider", d.workers.functions.register(MIN_STAKE, meta, [d.eth_model]), value=MIN_STAKE
    )
    registered = event(d.workers, receipt, "WorkerRegistered")
    assert (registered["stake"], registered["metadataCid"]) == (MIN_STAKE, meta)
    assert [e["modelId"] for e in events(d.workers, receipt, "ModelServed")] == [d.eth_model]
    assert _worker(d, "outsider")["registered"] and _worker(d, "outsider")["stake"] == MIN_STAKE
    assert d.workers.functions.metadataDigest(d.addr("outsider")).call() == meta[-32:]
    assert d.workers.functions.serves(d.addr("outsider"), d.eth_model).call()
    assert not d.workers.functions.serves(d.addr("outsider"), d.token_model).call()
    assert d.workers.functions.canClaim(d.addr("outsider"), d.eth_model).call()
    assert d.workers.functions.totalStaked().call() == 4 * MIN_STAKE
    assert d.chain.balance(d.workers.address) == 4 * MIN_STAKE


@pytest.mark.parametrize(
    ("stake", "value", "models", "error"),
    [
        (MIN_STAKE - 1, MIN_STAKE - 1, [1], "WorkerRegistryStakeBelowMinimum"),
        (MIN_STAKE, MIN_STAKE - 1, [1], "WorkerRegistryValueMismatch"),
        (MIN_STAKE, MIN_STAKE, [99], "WorkerRegistryUnknownModel"),
        (MIN_STAKE, MIN_STAKE, [1] * 65, "WorkerRegistryTooManyModels"),
    ],
)
def test_register_rejects_bad_input(
    d: Deployment, stake: int, value: int, models: list[int], error: str
) -> None:
    with reverts(error):
        d.tx("outsider", d.workers.functions.register(stake, cid("m"), models), value=value)


def test_register_rejects_bad_metadata_cid_and_double_registration(d: Deployment) -> None:
    with reverts("CidUnsupported"):
        d.tx("outsider", d.workers.functions.register(MIN_STAKE, b"not a cid", []), value=MIN_STAKE)
    with reverts("WorkerRegistryAlreadyRegistered"):
        d.tx("worker", d.workers.functions.register(MIN_STAKE, cid("m"), []), value=MIN_STAKE)


def test_add_stake_and_update_metadata(d: Deployment) -> None:
    receipt = d.tx("worker2", d.workers.functions.addStake(ETHER), value=ETHER)
    assert event(d.workers, receipt, "StakeAdded")["stake"] == MIN_STAKE + ETHER
    meta = cid("new region")
    receipt = d.tx("worker2", d.workers.functions.updateMetadata(meta))
    assert event(d.workers, receipt, "WorkerMetadataUpdated")["metadataCid"] == meta
    assert d.workers.functions.metadataDigest(d.addr("worker2")).call() == meta[-32:]
    with reverts("WorkerRegistryZeroAmount"):
        d.tx("worker2", d.workers.functions.addStake(0))
    with reverts("WorkerRegistryValueMismatch"):
        d.tx("worker2", d.workers.functions.addStake(ETHER), value=ETHER - 1)
    with reverts("CidUnsupported"):
        d.tx("worker2", d.workers.functions.updateMetadata(b"\x01"))


def test_unregistered_accounts_are_refused(d: Deployment) -> None:
    for call, value in (
        (d.workers.functions.addStake(ETHER), ETHER),
        (d.workers.functions.updateMetadata(cid("m")), 0),
        (d.workers.functions.addModels([1]), 0),
        (d.workers.functions.removeModels([1]), 0),
        (d.workers.functions.requestExit(), 0),
        (d.workers.functions.cancelExit(), 0),
        (d.workers.functions.withdrawStake(), 0),
    ):
        with reverts("WorkerRegistryNotRegistered"):
            d.tx("outsider", call, value=value)


def test_removed_model_cannot_be_claimed_until_added_again(d: Deployment) -> None:
    receipt = d.tx("worker2", d.workers.functions.removeModels([d.eth_model]))
    assert event(d.workers, receipt, "ModelUnserved")["modelId"] == d.eth_model
    job_id, job = d.create()
    with reverts("WorkerRegistryModelNotServed") as caught:
        d.claim(job_id, job, "worker2")
    assert caught.args == {"worker": d.addr("worker2"), "modelId": d.eth_model}
    d.tx("worker2", d.workers.functions.addModels([d.eth_model]))
    d.claim(job_id, job, "worker2")
    with reverts("WorkerRegistryTooManyModels"):
        d.tx("worker2", d.workers.functions.removeModels([1] * 65))
    with reverts("WorkerRegistryUnknownModel"):
        d.tx("worker2", d.workers.functions.addModels([42]))


def test_unregistered_worker_cannot_claim(d: Deployment) -> None:
    job_id, job = d.create()
    with reverts("WorkerRegistryNotRegistered"):
        d.claim(job_id, job, "outsider")


def test_exit_stops_claims_and_cancel_restores_them(d: Deployment) -> None:
    receipt = d.tx("worker2", d.workers.functions.requestExit())
    ends = event(d.workers, receipt, "ExitRequested")["unbondingEnds"]
    assert ends == d.now() + UNBONDING_DELAY
    assert not d.workers.functions.canClaim(d.addr("worker2"), d.eth_model).call()
    job_id, job = d.create()
    with reverts("WorkerRegistryExiting"):
        d.claim(job_id, job, "worker2")
    with reverts("WorkerRegistryExiting"):
        d.tx("worker2", d.workers.functions.requestExit())
    d.tx("worker2", d.workers.functions.cancelExit())
    assert _worker(d, "worker2")["unbondingEnds"] == 0
    with reverts("WorkerRegistryNotExiting"):
        d.tx("worker2", d.workers.functions.cancelExit())
    d.claim(job_id, job, "worker2")


def test_withdraw_stake_waits_for_unbonding_edge(d: Deployment) -> None:
    with reverts("WorkerRegistryNotExiting"):
        d.tx("worker2", d.workers.functions.withdrawStake())
    d.tx("worker2", d.workers.functions.requestExit())
    ends = _worker(d, "worker2")["unbondingEnds"]
    with reverts("WorkerRegistryUnbonding") as caught:
        d.tx_at(ends - 1, "worker2", d.workers.functions.withdrawStake())
    assert caught.args["unbondingEnds"] == ends
    before = d.chain.balance(d.addr("worker2"))
    receipt = d.tx_at(ends, "worker2", d.workers.functions.withdrawStake())  # exactly at the end
    assert event(d.workers, receipt, "StakeWithdrawn")["amount"] == MIN_STAKE
    fee = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert d.chain.balance(d.addr("worker2")) == before + MIN_STAKE - fee
    assert _worker(d, "worker2") == {
        "stake": 0,
        "claims": 0,
        "unbondingEnds": 0,
        "registered": False,
        "generation": 1,
    }
    assert d.workers.functions.totalStaked().call() == 2 * MIN_STAKE


def test_withdraw_stake_refused_while_holding_claimed_jobs(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job, "worker2")
    assert d.workers.functions.activeJobs(d.addr("worker2")).call() == 1
    d.tx("worker2", d.workers.functions.requestExit())
    d.chain.increase_time(UNBONDING_DELAY)
    with reverts("WorkerRegistryActiveJobs") as caught:
        d.tx("worker2", d.workers.functions.withdrawStake())
    assert caught.args["activeJobs"] == 1
    # Anyone settling the job (here a timeout, which slashes) frees what is left.
    d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
    assert d.workers.functions.activeJobs(d.addr("worker2")).call() == 0
    receipt = d.tx("worker2", d.workers.functions.withdrawStake())
    assert (
        event(d.workers, receipt, "StakeWithdrawn")["amount"]
        == MIN_STAKE * (10_000 - SLASH_BPS) // 10_000
    )


def test_reregistration_starts_with_no_models(d: Deployment) -> None:
    d.tx("worker2", d.workers.functions.requestExit())
    d.chain.increase_time(UNBONDING_DELAY)
    d.tx("worker2", d.workers.functions.withdrawStake())
    assert not d.workers.functions.serves(d.addr("worker2"), d.eth_model).call()
    d.tx("worker2", d.workers.functions.register(MIN_STAKE, cid("back"), []), value=MIN_STAKE)
    assert not d.workers.functions.serves(d.addr("worker2"), d.eth_model).call()
    job_id, job = d.create()
    with reverts("WorkerRegistryModelNotServed"):
        d.claim(job_id, job, "worker2")


def test_slashed_below_minimum_cannot_claim_until_topped_up(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job, "worker2")
    d.chain.increase_time(job["terms"]["workTime"] + 1)
    receipt = d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
    slashed = event(d.workers, receipt, "WorkerSlashed")
    assert slashed["amount"] == MIN_STAKE * SLASH_BPS // 10_000
    assert slashed["stake"] == MIN_STAKE - slashed["amount"]
    job_id, job = d.create()
    with reverts("WorkerRegistryStakeBelowMinimum"):
        d.claim(job_id, job, "worker2")
    d.tx("worker2", d.workers.functions.addStake(slashed["amount"]), value=slashed["amount"])
    d.claim(job_id, job, "worker2")


def test_slash_is_capped_at_the_remaining_stake(d: Deployment) -> None:
    d.tx("owner", d.workers.functions.setSlashBps(10_000))
    d.tx("owner", d.workers.functions.setMinStake(2 * MIN_STAKE))
    job_id, job = d.create()
    job = d.claim(job_id, job, "worker")  # stakes 2 * MIN_STAKE
    d.tx("owner", d.workers.functions.setMinStake(3 * MIN_STAKE))  # slash would be 3 ETH
    d.chain.increase_time(job["terms"]["workTime"] + 1)
    receipt = d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
    assert event(d.market, receipt, "JobTimedOut")["slashed"] == 2 * MIN_STAKE
    assert _worker(d, "worker")["stake"] == 0
    # A second timeout finds nothing left to take: no slash event, nothing sent.
    d.tx("owner", d.workers.functions.setMinStake(MIN_STAKE))
    d.tx("worker", d.workers.functions.addStake(MIN_STAKE), value=MIN_STAKE)
    d.tx("owner", d.workers.functions.setSlashBps(0))
    job_id, job = d.create()
    job = d.claim(job_id, job, "worker")
    d.chain.increase_time(job["terms"]["workTime"] + 1)
    receipt = d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job)))
    assert events(d.workers, receipt, "WorkerSlashed") == []
    assert event(d.market, receipt, "JobTimedOut")["slashed"] == 0


def test_market_hooks_refuse_everyone_else(d: Deployment) -> None:
    with reverts("WorkerRegistryNotMarket"):
        d.tx("worker", d.workers.functions.acquire(d.addr("worker"), d.eth_model, 1))
    with reverts("WorkerRegistryNotMarket"):
        d.tx("owner", d.workers.functions.slash(d.addr("worker")))


def test_market_binds_once(d: Deployment) -> None:
    assert d.workers.functions.market().call() == d.market.address
    with reverts("WorkerRegistryMarketAlreadyBound"):
        d.tx("owner", d.workers.functions.bindMarket(d.addr("outsider")))
    fresh = d.chain.sender(d.actors.owner).deploy(
        "WorkerRegistry", d.addr("owner"), ETH, d.models.address, MIN_STAKE, UNBONDING_DELAY, 0
    )
    with reverts("WorkerRegistryMarketAlreadyBound"):
        d.tx("owner", fresh.functions.bindMarket(ETH))
    with reverts("OwnableUnauthorizedAccount"):
        d.tx("outsider", fresh.functions.bindMarket(d.addr("outsider")))
    # Unbound: nothing was ever claimed, so nothing is active.
    assert fresh.functions.activeJobs(d.addr("worker")).call() == 0


@pytest.mark.parametrize(
    ("setter", "value"),
    [
        ("setMinStake", 0),
        ("setMinStake", 10**27 + 1),
        ("setUnbondingDelay", 3_599),
        ("setUnbondingDelay", 30 * 86_400 + 1),
        ("setSlashBps", 10_001),
    ],
)
def test_parameters_are_bounded(d: Deployment, setter: str, value: int) -> None:
    with reverts("WorkerRegistryParameterOutOfBounds"):
        d.tx("owner", getattr(d.workers.functions, setter)(value))


@pytest.mark.parametrize(
    ("setter", "value", "event_name", "getter"),
    [
        ("setMinStake", 2 * ETHER, "MinStakeUpdated", "minStake"),
        ("setUnbondingDelay", 3_600, "UnbondingDelayUpdated", "unbondingDelay"),
        ("setSlashBps", 10_000, "SlashBpsUpdated", "slashBps"),
    ],
)
def test_owner_sets_parameters(
    d: Deployment, setter: str, value: int, event_name: str, getter: str
) -> None:
    with reverts("OwnableUnauthorizedAccount"):
        d.tx("outsider", getattr(d.workers.functions, setter)(value))
    receipt = d.tx("owner", getattr(d.workers.functions, setter)(value))
    assert list(event(d.workers, receipt, event_name).values()) == [value]
    assert getattr(d.workers.functions, getter)().call() == value


def test_exit_uses_the_delay_in_force_when_requested(d: Deployment) -> None:
    d.tx("worker2", d.workers.functions.requestExit())
    ends = _worker(d, "worker2")["unbondingEnds"]
    d.tx("owner", d.workers.functions.setUnbondingDelay(30 * 86_400))
    assert _worker(d, "worker2")["unbondingEnds"] == ends


def test_erc20_stake_is_pulled_exactly(d: Deployment) -> None:
    owner = d.chain.sender(d.actors.owner)
    registry = owner.deploy(
        "WorkerRegistry", owner.address, d.token.address, d.models.address, MIN_STAKE, 3_600, 0
    )
    d.tx("worker", d.token.functions.approve(registry.address, MIN_STAKE))
    with reverts("WorkerRegistryValueMismatch"):
        d.tx("worker", registry.functions.register(MIN_STAKE, cid("m"), []), value=1)
    d.tx("worker", registry.functions.register(MIN_STAKE, cid("m"), []))
    assert d.token.functions.balanceOf(registry.address).call() == MIN_STAKE
    assert registry.functions.stakeToken().call() == d.token.address
    d.tx("worker", registry.functions.requestExit())
    d.chain.increase_time(3_600)
    before = d.token.functions.balanceOf(d.addr("worker")).call()
    d.tx("worker", registry.functions.withdrawStake())
    assert d.token.functions.balanceOf(d.addr("worker")).call() == before + MIN_STAKE
    assert d.token.functions.balanceOf(registry.address).call() == 0


def test_fee_on_transfer_stake_token_is_refused(d: Deployment) -> None:
    owner = d.chain.sender(d.actors.owner)
    fot = owner.deploy("FeeOnTransferToken")
    registry = owner.deploy(
        "WorkerRegistry", owner.address, fot.address, d.models.address, MIN_STAKE, 3_600, 0
    )
    d.tx("owner", fot.functions.mint(d.addr("worker"), 10 * MIN_STAKE))
    d.tx("worker", fot.functions.approve(registry.address, 10 * MIN_STAKE))
    with reverts("TokenTransferAmountMismatch") as caught:
        d.tx("worker", registry.functions.register(MIN_STAKE, cid("m"), []))
    assert caught.args == {"expected": MIN_STAKE, "received": MIN_STAKE * 99 // 100}
    assert fot.functions.balanceOf(registry.address).call() == 0


@pytest.mark.parametrize("bubble", [False, True])
def test_reentrant_worker_cannot_withdraw_stake_twice(d: Deployment, bubble: bool) -> None:
    attacker = d.chain.sender(d.actors.owner).deploy(
        "ReentrantReceiver", d.market.address, d.workers.address, bubble
    )
    d.tx("outsider", attacker.functions.registerWorker(cid("m"), []), value=MIN_STAKE)
    d.tx("outsider", attacker.functions.requestExit())
    d.chain.increase_time(UNBONDING_DELAY)
    staked_before = d.workers.functions.totalStaked().call()
    if bubble:
        with reverts("TokenTransferEthFailed"):
            d.tx("outsider", attacker.functions.withdrawStake())
        assert d.chain.balance(attacker.address) == 0
        assert d.workers.functions.totalStaked().call() == staked_before
    else:
        d.tx("outsider", attacker.functions.withdrawStake())
        assert attacker.functions.reentryAttempts().call() == 1
        assert attacker.functions.reentrySuccesses().call() == 0
        assert d.chain.balance(attacker.address) == MIN_STAKE
        assert d.workers.functions.totalStaked().call() == staked_before - MIN_STAKE
    assert d.chain.balance(d.workers.address) == d.workers.functions.totalStaked().call()


def test_erc20_stake_slash_reaches_the_market_in_the_token(d: Deployment) -> None:
    owner = d.chain.sender(d.actors.owner)
    registry = owner.deploy(
        "WorkerRegistry",
        owner.address,
        d.token.address,
        d.models.address,
        MIN_STAKE,
        3_600,
        SLASH_BPS,
    )
    market = d.another_market(workers=registry.address)
    d.tx("owner", registry.functions.bindMarket(market.address))
    d.tx("worker", d.token.functions.approve(registry.address, MIN_STAKE))
    d.tx("worker", registry.functions.register(MIN_STAKE, cid("m"), [d.eth_model]))
    request = {**d.request(), "workTime": 60}
    receipt = d.tx(
        "requester",
        market.functions.createJob(d.addr("requester"), request_tuple(request)),
        value=request["maxPrice"],
    )
    created = event(market, receipt, "JobCreated")
    job = job_from_created(created)
    d.tx("worker", market.functions.claim(created["jobId"], job_tuple(job)))
    job = {**job, "worker": d.addr("worker")}
    d.chain.increase_time(61)
    d.tx("outsider", market.functions.timeout(created["jobId"], job_tuple(job)))
    slash = MIN_STAKE * SLASH_BPS // 10_000
    # The whole slash goes to the harmed requester; the fee account gets none of it.
    assert market.functions.balanceOf(d.addr("requester"), d.token.address).call() == slash
    assert market.functions.balanceOf(d.fees, d.token.address).call() == 0
    assert d.token.functions.balanceOf(market.address).call() == slash
    assert d.token.functions.balanceOf(registry.address).call() == MIN_STAKE - slash
