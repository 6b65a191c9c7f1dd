"""Issue 12, attack 3: the owner takes a worker's stake.

On v1 the deployer owned the market, the worker registry and the ManualArbiter, and the slash
size (`minStake * slashBps`), the requester's share of it and the treasury were read when the
slash happened, not when the job was created: after a claim the owner could turn all of them
toward itself, rule "worker loses" as the arbiter, and collect the whole stake. The same knobs
let it block every claim or leave requesters no time to dispute.

Since slice 2 the market's owner is a governor behind a 2-day timelock, with bounded values
only; every slash goes to the requester and fees to the governor's account; the arbiter has
its own owner; a mode's windows are its module's, bounded at registration. Since slice 6 the
worker registry has no owner and no parameters, and every term of a job (fee, collateral,
bond) is snapshotted at its creation (docs/design/contracts-v2.md §2.3).
"""

from __future__ import annotations

from inferchain.market.deploy import ETHER
from tests.contracts.attacks.harness import (
    Move,
    attack_steps,
    dispute_move,
    outcome,
    same_block,
    stake_of,
)
from tests.contracts.helpers import (
    COLLATERAL_BPS,
    DISPUTE_BOND_BPS,
    ETH,
    FEE_BPS,
    REQUEST_TTL,
    TIMELOCK_DELAY,
    Deployment,
    job_tuple,
)

WORKER = "worker"
#: The owner's harshest config: the governor's upper bounds of fee, collateral and bond.
HARSHEST = (1_000, 30_000, 5_000)


def _registry_admin(d: Deployment) -> list[str]:
    """Functions and errors of the registry's ABI that would mean someone administers it."""
    names = [item.get("name", "") for item in d.workers.abi]
    return [
        n
        for n in names
        if n in {"owner", "transferOwnership", "renounceOwnership"}
        or n.startswith("set")
        or n == "OwnableUnauthorizedAccount"
    ]


def test_attack3_owner_cannot_take_a_workers_stake(d: Deployment) -> None:
    with attack_steps():
        stake = stake_of(d, WORKER)
        fees_before = d.balance(d.fees)
        # An Open job from before the change, claimable for a while.
        old_id, old = d.create(requestDeadline=d.now() + 3 * 86_400)
        job_id, job = d.create()
        job = d.claim(job_id, job)
        # After the claim, the proposer schedules the harshest config it may.
        change = d.schedule(d.governor.functions.setConfig(d.market.address, HARSHEST))
        early = outcome(
            d,
            Move("outsider", change.execute(d.timelock)),
            refusals=["TimelockUnexpectedOperationState"],
        )
        job = d.submit(job_id, job)
        requester_before = d.balance("requester")
        d.dispute(job_id, job)
        rule = d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), False)
        by_owner = outcome(d, Move("owner", rule), refusals=["OwnableUnauthorizedAccount"])
        # The arbiter key, which the owner no longer holds, colludes.
        d.tx("arbiter", rule)
        requester_got = d.balance("requester") - requester_before
        d.chain.increase_time(TIMELOCK_DELAY)
        d.tx("outsider", change.execute(d.timelock))
        lost = stake - stake_of(d, WORKER)
        taken = d.balance("owner") + d.balance(d.fees) - fees_before
        # The Open job from before keeps its collateral; the worker leaves with the rest.
        d.claim(old_id, old, role="worker2")
        left = stake - lost
        same_block(
            d,
            [
                Move(WORKER, d.workers.functions.deallocate(d.market.address, ETH, left)),
                Move(WORKER, d.workers.functions.unstake(ETH, left, d.addr(WORKER))),
            ],
        )
    terms = job["terms"]
    collateral = terms["collateral"]
    assert (
        (
            early,
            by_owner,
            lost,
            requester_got,
            taken,
            (terms["feeBps"], terms["disputeBond"]),
            d.locked("worker2"),
            stake_of(d, WORKER),
            _registry_admin(d),
        )
        == (
            "TimelockUnexpectedOperationState",
            "OwnableUnauthorizedAccount",
            collateral,
            terms["price"] + terms["disputeBond"] + collateral,
            0,
            (FEE_BPS, terms["price"] * DISPUTE_BOND_BPS // 10_000),
            old["terms"]["collateral"],
            0,
            [],
        )
        and collateral == terms["price"] * COLLATERAL_BPS // 10_000
        and left == 2 * ETHER - collateral
    )


def test_attack3_raising_the_harshest_config_does_not_block_claims(d: Deployment) -> None:
    with attack_steps():
        job_id, job = d.create(requestDeadline=d.now() + REQUEST_TTL + TIMELOCK_DELAY)
        d.govern(d.governor.functions.setConfig(d.market.address, HARSHEST))
        claim = Move(WORKER, d.market.functions.claim(job_id, job_tuple(job)))
        refused = outcome(d, claim, refusals=["JobMarketAllocationExceeded"])
        admin = _registry_admin(d)
    assert (refused, d.locked(WORKER), admin) == (None, job["terms"]["collateral"], []), (
        f"after the owner's harshest config an open job's claim was refused with {refused}, "
        f"or locked {d.locked(WORKER)} instead of its collateral; registry admin: {admin}"
    )


def test_attack3_owner_cannot_shrink_the_challenge_window_to_nothing(d: Deployment) -> None:
    with attack_steps():
        # The challenge window is a mode's: the owner brings a module with a 1-second window
        # and schedules it as mode 1, enabled, through the timelock.
        instant = d.chain.sender(d.actors.owner).deploy("ManualArbiter", d.addr("owner"), 1, 86_400)
        g = d.governor.functions
        register = d.schedule(g.registerMode(d.market.address, 1, instant.address))
        enable = d.schedule(g.setModeEnabled(d.market.address, 1, True))
        d.chain.increase_time(TIMELOCK_DELAY)
        refusals = ["MarketGovernorParameterOutOfBounds", "JobMarketModeUnknown"]
        for operation in (register, enable):
            outcome(d, Move("outsider", operation.execute(d.timelock)), refusals=refusals)
        mode = 1 if d.market.functions.modeOf(1).call()[3] else 0
        job_id, job = d.create(verification=mode)
        job = d.submit(job_id, d.claim(job_id, job))
        d.chain.increase_time(60)  # the requester reads the answer and finds it wrong
        dispute = dispute_move(d, job_id, job)
        refused = outcome(d, dispute, refusals=["JobMarketChallengeWindowClosed"])
    assert refused is None, f"a dispute one minute after the result was refused: {refused}"
