"""WorkerRegistry v2: discovery, per-token stakes, allocations to venues, locked collateral,
forced deallocation, venue slashes capped at their allocation, no admin; reverts by name."""

from __future__ import annotations

import pytest
from web3.contract import Contract

from inferchain.market.stakes import (
    Exposure,
    Stake,
    free_allocation,
    read_allocation,
    read_exposure,
    read_stake,
)
from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    ETH,
    ETHER,
    STAKE,
    TOKEN_STAKE,
    Deployment,
    cid,
    event,
    events,
    job_tuple,
    reverts,
)

FORCE_DELAY = 60 * 86_400


def _venue(d: Deployment) -> Contract:
    return d.chain.sender(d.actors.owner).deploy("MockVenue", d.workers.address)


def _registered(d: Deployment, role: str) -> tuple[bool, int, bytes]:
    registered, generation, digest = d.workers.functions.worker(d.addr(role)).call()
    return registered, generation, digest


def test_register_serves_models_without_staking(d: Deployment) -> None:
    meta = cid("outsider hardware")
    receipt = d.tx("outsider", d.workers.functions.register(meta, [d.eth_model]))
    assert event(d.workers, receipt, "WorkerRegistered")["metadataCid"] == meta
    assert [e["modelId"] for e in events(d.workers, receipt, "ModelServed")] == [d.eth_model]
    assert _registered(d, "outsider") == (True, 0, meta[-32:])
    assert d.workers.functions.metadataDigest(d.addr("outsider")).call() == meta[-32:]
    assert d.workers.functions.serves(d.addr("outsider"), d.eth_model).call()
    assert not d.workers.functions.serves(d.addr("outsider"), d.token_model).call()
    assert d.stake_of("outsider") == (0, 0)


@pytest.mark.parametrize(
    ("metadata", "models", "error"),
    [
        (cid("m"), [99], "WorkerRegistryUnknownModel"),
        (cid("m"), [1] * 65, "WorkerRegistryTooManyModels"),
        (b"not a cid", [], "CidUnsupported"),
    ],
)
def test_register_rejects_bad_input(
    d: Deployment, metadata: bytes, models: list[int], error: str
) -> None:
    with reverts(error):
        d.tx("outsider", d.workers.functions.register(metadata, models))


def test_register_twice_is_refused(d: Deployment) -> None:
    with reverts("WorkerRegistryAlreadyRegistered"):
        d.tx("worker", d.workers.functions.register(cid("m"), []))


def test_update_metadata_and_models(d: Deployment) -> None:
    meta = cid("new region")
    receipt = d.tx("worker2", d.workers.functions.updateMetadata(meta))
    assert event(d.workers, receipt, "WorkerMetadataUpdated")["metadataCid"] == meta
    assert d.workers.functions.metadataDigest(d.addr("worker2")).call() == meta[-32:]
    receipt = d.tx("worker2", d.workers.functions.removeModels([d.token_model]))
    assert event(d.workers, receipt, "ModelUnserved")["modelId"] == d.token_model
    assert not d.workers.functions.serves(d.addr("worker2"), d.token_model).call()
    d.tx("worker2", d.workers.functions.addModels([d.token_model]))
    assert d.workers.functions.serves(d.addr("worker2"), d.token_model).call()


@pytest.mark.parametrize(
    "call",
    ["updateMetadata", "addModels", "removeModels", "leave"],
)
def test_unregistered_accounts_are_refused(d: Deployment, call: str) -> None:
    args = {"updateMetadata": (cid("m"),), "addModels": ([1],), "removeModels": ([1],)}
    with reverts("WorkerRegistryNotRegistered"):
        d.tx("outsider", getattr(d.workers.functions, call)(*args.get(call, ())))


def test_leave_forgets_models_but_keeps_the_stake(d: Deployment) -> None:
    stake = d.stake_of("worker2")
    receipt = d.tx("worker2", d.workers.functions.leave())
    assert event(d.workers, receipt, "WorkerLeft")["worker"] == d.addr("worker2")
    assert _registered(d, "worker2") == (False, 1, b"\x00" * 32)
    assert not d.workers.functions.serves(d.addr("worker2"), d.eth_model).call()
    assert d.stake_of("worker2") == stake
    # Served models are discovery only: a worker that left still claims with its allocation.
    d.claim(*d.create(), role="worker2")
    # Coming back starts a new generation with no models.
    d.tx("worker2", d.workers.functions.register(cid("back"), []))
    assert _registered(d, "worker2")[:2] == (True, 1)
    assert not d.workers.functions.serves(d.addr("worker2"), d.eth_model).call()


def test_stake_in_eth_and_tokens_is_counted_per_token(d: Deployment) -> None:
    eth_total = d.workers.functions.totalStaked(ETH).call()
    assert eth_total == 3 * STAKE == d.chain.balance(d.workers.address)
    token_total = d.workers.functions.totalStaked(d.token.address).call()
    assert token_total == 2 * TOKEN_STAKE == d.token.functions.balanceOf(d.workers.address).call()
    receipt = d.tx("outsider", d.workers.functions.stake(ETH, ETHER), value=ETHER)
    staked = event(d.workers, receipt, "Staked")
    assert (staked["token"], staked["amount"], staked["stake"]) == (ETH, ETHER, ETHER)
    assert d.stake_of("outsider") == (ETHER, 0)
    assert d.workers.functions.totalStaked(ETH).call() == eth_total + ETHER


@pytest.mark.parametrize(
    ("token", "amount", "value", "error"),
    [
        ("eth", ETHER, ETHER - 1, "WorkerRegistryValueMismatch"),
        ("token", ETHER, 1, "WorkerRegistryValueMismatch"),
        ("eth", 0, 0, "WorkerRegistryZeroAmount"),
        ("eth", 2**96, 2**96, "WorkerRegistryStakeTooLarge"),
    ],
)
def test_stake_rejects_bad_input(
    d: Deployment, token: str, amount: int, value: int, error: str
) -> None:
    address = ETH if token == "eth" else d.token.address
    d.tx("worker", d.token.functions.approve(d.workers.address, amount))
    d.chain._rpc("anvil_setBalance", d.addr("worker"), hex(2**97))
    with reverts(error):
        d.tx("worker", d.workers.functions.stake(address, amount), value=value)


def test_erc20_stake_is_pulled_exactly_and_unstaked_to_anyone(d: Deployment) -> None:
    token = d.token.address
    d.tx("worker", d.token.functions.approve(d.workers.address, ETHER))
    d.tx("worker", d.workers.functions.stake(token, ETHER))
    assert d.stake_of("worker", token) == (TOKEN_STAKE + ETHER, TOKEN_STAKE)
    before = d.token.functions.balanceOf(d.addr("outsider")).call()
    receipt = d.tx("worker", d.workers.functions.unstake(token, ETHER, d.addr("outsider")))
    unstaked = event(d.workers, receipt, "Unstaked")
    assert (unstaked["amount"], unstaked["to"], unstaked["stake"]) == (
        ETHER,
        d.addr("outsider"),
        TOKEN_STAKE,
    )
    assert d.token.functions.balanceOf(d.addr("outsider")).call() == before + ETHER
    assert d.token.functions.balanceOf(d.workers.address).call() == 2 * TOKEN_STAKE


def test_fee_on_transfer_stake_is_refused(d: Deployment) -> None:
    fot = d.chain.sender(d.actors.owner).deploy("FeeOnTransferToken")
    d.tx("owner", fot.functions.mint(d.addr("worker"), 10 * ETHER))
    d.tx("worker", fot.functions.approve(d.workers.address, 10 * ETHER))
    with reverts("TokenTransferAmountMismatch") as caught:
        d.tx("worker", d.workers.functions.stake(fot.address, ETHER))
    assert caught.args == {"expected": ETHER, "received": ETHER * 99 // 100}
    assert fot.functions.balanceOf(d.workers.address).call() == 0


def test_unstake_takes_only_unallocated_stake(d: Deployment) -> None:
    d.tx("worker2", d.workers.functions.stake(ETH, ETHER), value=ETHER)
    with reverts("WorkerRegistryInsufficientFreeStake") as caught:
        d.tx("worker2", d.workers.functions.unstake(ETH, ETHER + 1, d.addr("worker2")))
    assert caught.args == {"token": ETH, "free": ETHER, "amount": ETHER + 1}
    with reverts("WorkerRegistryZeroAddress"):
        d.tx("worker2", d.workers.functions.unstake(ETH, ETHER, ETH))
    with reverts("WorkerRegistryZeroAmount"):
        d.tx("worker2", d.workers.functions.unstake(ETH, 0, d.addr("worker2")))
    before = d.chain.balance(d.addr("outsider"))
    d.tx("worker2", d.workers.functions.unstake(ETH, ETHER, d.addr("outsider")))
    assert d.chain.balance(d.addr("outsider")) == before + ETHER
    assert d.stake_of("worker2") == (STAKE, STAKE)
    assert d.chain.balance(d.workers.address) == d.workers.functions.totalStaked(ETH).call()


def test_allocate_needs_free_stake_and_a_contract(d: Deployment) -> None:
    venue = _venue(d)
    with reverts("WorkerRegistryInsufficientFreeStake"):
        d.tx("worker2", d.workers.functions.allocate(venue.address, ETH, 1))
    d.tx("worker2", d.workers.functions.stake(ETH, ETHER), value=ETHER)
    with reverts("WorkerRegistryNotVenue"):
        d.tx("worker2", d.workers.functions.allocate(d.addr("outsider"), ETH, ETHER))
    receipt = d.tx("worker2", d.workers.functions.allocate(venue.address, ETH, ETHER))
    allocated = event(d.workers, receipt, "Allocated")
    assert (allocated["venue"], allocated["amount"], allocated["allocation"]) == (
        venue.address,
        ETHER,
        ETHER,
    )
    assert d.allocation("worker2", ETH, venue.address) == ETHER
    assert d.stake_of("worker2") == (STAKE + ETHER, STAKE + ETHER)


def test_deallocate_refuses_locked_collateral(d: Deployment) -> None:
    job_id, job = d.create()
    d.claim(job_id, job, role="worker2")
    collateral = job["terms"]["collateral"]
    assert d.locked("worker2") == collateral
    w = d.workers.functions
    with reverts("WorkerRegistryAllocationLocked") as caught:
        d.tx("worker2", w.deallocate(d.market.address, ETH, STAKE - collateral + 1))
    assert caught.args == {
        "venue": d.market.address,
        "token": ETH,
        "locked": collateral,
        "left": collateral - 1,
    }
    with reverts("WorkerRegistryInsufficientAllocation"):
        d.tx("worker2", w.deallocate(d.market.address, ETH, STAKE + 1))
    receipt = d.tx("worker2", w.deallocate(d.market.address, ETH, STAKE - collateral))
    assert event(d.workers, receipt, "Deallocated")["allocation"] == collateral
    assert d.stake_of("worker2") == (STAKE, collateral)
    d.tx("worker2", w.unstake(ETH, STAKE - collateral, d.addr("worker2")))
    # The collateral left is locked until the job ends; then it can leave too.
    job = d.submit(job_id, {**job, "worker": d.addr("worker2")}, role="worker2")
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    assert d.locked("worker2") == 0
    d.tx("worker2", w.deallocate(d.market.address, ETH, collateral))


def test_forced_deallocation_frees_a_broken_venue_after_the_delay(d: Deployment) -> None:
    venue = _venue(d)
    w = d.workers.functions
    d.stake_and_allocate("outsider", ETH, ETHER, venue=venue.address)
    d.tx("outsider", venue.functions.setLocked(d.addr("outsider"), ETH, ETHER))
    d.tx("outsider", venue.functions.setBroken(True))
    with reverts("WorkerRegistryForceNotDue"):
        d.tx("outsider", w.forceDeallocate(venue.address, ETH))
    receipt = d.tx("outsider", w.requestForcedDeallocation(venue.address, ETH))
    force_at = event(d.workers, receipt, "ForcedDeallocationRequested")["forceAt"]
    assert force_at == d.now() + FORCE_DELAY
    assert w.allocationState(d.addr("outsider"), ETH, venue.address).call() == (ETHER, force_at)
    # From the request on, the venue sees no allocation to lock new collateral against.
    assert w.allocationOf(d.addr("outsider"), ETH, venue.address).call() == 0
    d.tx("outsider", w.stake(ETH, 1), value=1)
    with reverts("WorkerRegistryForcePending"):
        d.tx("outsider", w.allocate(venue.address, ETH, 1))
    with reverts("WorkerRegistryForceNotDue"):
        d.tx_at(force_at - 1, "outsider", w.forceDeallocate(venue.address, ETH))
    receipt = d.tx_at(force_at, "outsider", w.forceDeallocate(venue.address, ETH))
    assert event(d.workers, receipt, "Deallocated")["amount"] == ETHER
    assert d.allocation("outsider", ETH, venue.address) == 0
    d.tx("outsider", w.unstake(ETH, ETHER + 1, d.addr("outsider")))
    assert d.stake_of("outsider") == (0, 0)
    with reverts("WorkerRegistryInsufficientAllocation"):
        d.tx("outsider", w.requestForcedDeallocation(venue.address, ETH))


def test_a_pending_forced_deallocation_stops_new_claims_against_it(d: Deployment) -> None:
    """Attack: request a forced deallocation, claim jobs just before it is due, force the
    collateral out and let the jobs time out unslashed. From the request on, the market sees
    no allocation, so no claim locks collateral the forced deallocation would free."""
    w = d.workers.functions
    held_id, held = d.create()
    held = d.claim(held_id, held, role="worker2")  # claimed before the request: still covered
    d.tx("worker2", w.requestForcedDeallocation(d.market.address, ETH))
    assert d.allocation("worker2") == 0
    job_id, job = d.create()
    with reverts("JobMarketAllocationExceeded"):
        d.claim(job_id, job, role="worker2")
    # The job claimed before the request stays slashable in full.
    deadline = d.status(held_id)[1]
    receipt = d.tx_at(
        deadline + 1, "outsider", d.market.functions.timeout(held_id, job_tuple(held))
    )
    assert event(d.market, receipt, "JobTimedOut")["slashed"] == held["terms"]["collateral"]
    # Emptying the allocation ends the request; the worker may allocate anew.
    (amount, _) = w.allocationState(d.addr("worker2"), ETH, d.market.address).call()
    d.tx("worker2", w.deallocate(d.market.address, ETH, amount))
    assert w.allocationState(d.addr("worker2"), ETH, d.market.address).call() == (0, 0)
    d.tx("worker2", w.allocate(d.market.address, ETH, amount))
    d.claim(job_id, job, role="worker2")


def test_venue_slash_capped_at_its_allocation(d: Deployment) -> None:
    venue, other = _venue(d), _venue(d)
    d.tx("outsider", d.workers.functions.stake(ETH, 3 * ETHER), value=3 * ETHER)
    d.tx("outsider", d.workers.functions.allocate(venue.address, ETH, ETHER))
    d.tx("outsider", d.workers.functions.allocate(other.address, ETH, ETHER))
    total = d.workers.functions.totalStaked(ETH).call()
    receipt = d.tx("owner", venue.functions.slash(d.addr("outsider"), ETH, 5 * ETHER))
    slashed = event(d.workers, receipt, "Slashed")
    assert (slashed["venue"], slashed["amount"], slashed["stake"]) == (
        venue.address,
        ETHER,
        2 * ETHER,
    )
    assert d.chain.balance(venue.address) == ETHER
    assert d.allocation("outsider", ETH, venue.address) == 0
    assert d.allocation("outsider", ETH, other.address) == ETHER
    assert d.stake_of("outsider") == (2 * ETHER, ETHER)
    assert d.workers.functions.totalStaked(ETH).call() == total - ETHER
    # Nothing allocated to the caller: nothing taken, no event.
    receipt = d.tx("owner", venue.functions.slash(d.addr("outsider"), ETH, ETHER))
    assert events(d.workers, receipt, "Slashed") == []
    receipt = d.tx("outsider", d.workers.functions.slash(d.addr("worker"), ETH, ETHER))
    assert events(d.workers, receipt, "Slashed") == []
    assert d.stake_of("worker") == (2 * STAKE, 2 * STAKE)


def test_registry_has_no_admin(d: Deployment) -> None:
    names = {item.get("name") for item in d.workers.abi}
    assert not names & {"owner", "transferOwnership", "renounceOwnership", "bindMarket"}
    assert not [n for n in names if n and n.startswith("set")]
    constructor = next(item for item in d.workers.abi if item["type"] == "constructor")
    assert [i["type"] for i in constructor["inputs"]] == ["address"]  # the model registry


@pytest.mark.parametrize("bubble", [False, True])
def test_reentrant_worker_cannot_unstake_twice(d: Deployment, bubble: bool) -> None:
    attacker = d.chain.sender(d.actors.owner).deploy(
        "ReentrantReceiver", d.market.address, d.workers.address, bubble
    )
    d.tx("outsider", attacker.functions.stakeWorker(), value=ETHER)
    staked_before = d.workers.functions.totalStaked(ETH).call()
    if bubble:
        with reverts("TokenTransferEthFailed"):
            d.tx("outsider", attacker.functions.unstake(ETHER))
        assert d.chain.balance(attacker.address) == 0
        assert d.workers.functions.totalStaked(ETH).call() == staked_before
    else:
        d.tx("outsider", attacker.functions.unstake(ETHER // 2))
        assert attacker.functions.reentryAttempts().call() == 1
        assert attacker.functions.reentrySuccesses().call() == 0
        assert d.chain.balance(attacker.address) == ETHER // 2
        assert d.workers.functions.totalStaked(ETH).call() == staked_before - ETHER // 2
    assert d.chain.balance(d.workers.address) == d.workers.functions.totalStaked(ETH).call()


def test_typed_views_read_stake_allocation_and_exposure(d: Deployment) -> None:
    worker = d.addr("worker")
    job_id, job = d.create()
    d.claim(job_id, job)
    collateral = job["terms"]["collateral"]
    assert read_stake(d.chain, d.workers, worker, ETH) == Stake(2 * STAKE, 2 * STAKE)
    assert read_stake(d.chain, d.workers, worker, ETH).unallocated == 0
    assert read_allocation(d.chain, d.workers, worker, ETH, d.market.address) == 2 * STAKE
    assert read_exposure(d.chain, d.market, worker, ETH) == Exposure(collateral, 0, 0, 0, 0, 0)
    free = free_allocation(d.chain, d.workers, d.market, worker, ETH)
    assert free == 2 * STAKE - collateral
