"""Issue 12, attack 3: the owner takes a worker's stake.

By default the deployer owns the market, the worker registry and the ManualArbiter. On v1 the
slash size (`minStake * slashBps`), the requester's share of it and the treasury are read when
the slash happens, not when the job was created; so after a claim the owner can turn all of
them toward itself, rule "worker loses" as the arbiter, and collect the whole stake. The same
knobs let it block every claim or leave requesters no time to dispute.
"""

from __future__ import annotations

import pytest

from tests.contracts.attacks.harness import Move, attack_steps, dispute_move, outcome, stake_of
from tests.contracts.helpers import ETH, Deployment, job_tuple

WORKER = "worker"


def _set_params(d: Deployment, **changes: int) -> None:
    """The owner changes some of the market's (challengeWindow, arbitrationWindow,
    disputeBondBps, slashRewardBps)."""
    names = ("challengeWindow", "arbitrationWindow", "disputeBondBps", "slashRewardBps")
    params = dict(zip(names, d.market.functions.params().call(), strict=True))
    d.tx("owner", d.market.functions.setParams(tuple({**params, **changes}[n] for n in names)))


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 3 works on contracts v1: slash terms are read at slash time",
)
def test_attack3_owner_cannot_take_a_workers_stake(d: Deployment) -> None:
    with attack_steps():
        stake = stake_of(d, WORKER)
        job_id, job = d.create()
        job = d.claim(job_id, job)
        # After the claim, the owner points every term of the slash at itself.
        d.tx("owner", d.workers.functions.setMinStake(stake))
        d.tx("owner", d.workers.functions.setSlashBps(10_000))
        _set_params(d, slashRewardBps=0)
        d.tx("owner", d.market.functions.setTreasury(d.addr("owner")))
        job = d.dispute(job_id, d.submit(job_id, job))
        d.tx("owner", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), False))
        taken = d.balance("owner")
        if taken:
            d.tx("owner", d.market.functions.withdraw(ETH, d.addr("owner"), taken))
        lost = stake - stake_of(d, WORKER)
    price = job["terms"]["price"]
    assert taken == 0 and lost <= price, (
        f"the owner took {taken} of a {stake} stake; the worker lost {lost} over a job of {price}"
    )


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 3 works on contracts v1: raising minStake blocks every claim",
)
def test_attack3_raising_the_minimum_stake_does_not_block_claims(d: Deployment) -> None:
    with attack_steps():
        job_id, job = d.create()
        d.tx("owner", d.workers.functions.setMinStake(d.workers.functions.MAX_MIN_STAKE().call()))
        claim = Move(WORKER, d.market.functions.claim(job_id, job_tuple(job)))
        refused = outcome(d, claim, refusals=["WorkerRegistryStakeBelowMinimum"])
    assert refused is None, f"the owner's new minimum stake refused an open job's claim: {refused}"


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 3 works on contracts v1: a 1-second challenge window is allowed",
)
def test_attack3_owner_cannot_shrink_the_challenge_window_to_nothing(d: Deployment) -> None:
    with attack_steps():
        _set_params(d, challengeWindow=1)
        job_id, job = d.create()
        job = d.submit(job_id, d.claim(job_id, job))
        d.chain.increase_time(60)  # the requester reads the answer and finds it wrong
        dispute = dispute_move(d, job_id, job)
        refused = outcome(d, dispute, refusals=["JobMarketChallengeWindowClosed"])
    assert refused is None, f"a dispute one minute after the result was refused: {refused}"
