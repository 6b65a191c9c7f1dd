"""Issue 12, attack 3: the owner takes a worker's stake.

On v1 the deployer owned the market, the worker registry and the ManualArbiter, and the slash
size (`minStake * slashBps`), the requester's share of it and the treasury were read when the
slash happened, not when the job was created: after a claim the owner could turn all of them
toward itself, rule "worker loses" as the arbiter, and collect the whole stake. The same knobs
let it block every claim or leave requesters no time to dispute.

Since slice 2 the market's owner is a governor behind a 2-day timelock, with bounded values
only; every slash goes to the requester and fees to the governor's account; the arbiter has
its own owner; a mode's windows are its module's, bounded at registration. What is left
(the v1 registry's owner sizing the slash and the minimum stake) goes with slice 6.
"""

from __future__ import annotations

import pytest

from tests.contracts.attacks.harness import Move, attack_steps, dispute_move, outcome, stake_of
from tests.contracts.helpers import ETH, TIMELOCK_DELAY, Deployment, job_tuple

WORKER = "worker"


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 3 until slice 6: the v1 registry owner sizes the slash at slash time",
)
def test_attack3_owner_cannot_take_a_workers_stake(d: Deployment) -> None:
    with attack_steps():
        stake = stake_of(d, WORKER)
        job_id, job = d.create()
        job = d.claim(job_id, job)
        # After the claim, the owner points every term of the slash it still holds at the
        # whole stake. (The market's terms now wait 2 days in the timelock, and the slash
        # goes to the requester whatever they say.)
        d.tx("owner", d.workers.functions.setMinStake(stake))
        d.tx("owner", d.workers.functions.setSlashBps(10_000))
        job = d.dispute(job_id, d.submit(job_id, job))
        # The arbiter key, which the owner no longer holds, colludes.
        d.tx("arbiter", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), False))
        taken = d.balance("owner") + d.balance(d.fees)
        if d.balance("owner"):
            d.tx("owner", d.market.functions.withdraw(ETH, d.addr("owner"), d.balance("owner")))
        lost = stake - stake_of(d, WORKER)
    price = job["terms"]["price"]
    assert taken == 0 and lost <= price, (
        f"the owner took {taken} of a {stake} stake; the worker lost {lost} over a job of {price}"
    )


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 3, until slice 6: raising the v1 registry's minStake blocks claims",
)
def test_attack3_raising_the_minimum_stake_does_not_block_claims(d: Deployment) -> None:
    with attack_steps():
        job_id, job = d.create()
        d.tx("owner", d.workers.functions.setMinStake(d.workers.functions.MAX_MIN_STAKE().call()))
        claim = Move(WORKER, d.market.functions.claim(job_id, job_tuple(job)))
        refused = outcome(d, claim, refusals=["WorkerRegistryStakeBelowMinimum"])
    assert refused is None, f"the owner's new minimum stake refused an open job's claim: {refused}"


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
