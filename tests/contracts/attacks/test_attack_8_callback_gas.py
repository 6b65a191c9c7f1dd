"""Issue 12, attack 8: the finalizer pays for the requester's callback.

On v1 `finalize` and `finalizeBatch` run the callback with its whole stipend. A consumer that
behaved when the worker claimed can switch to burning that stipend afterwards, and whoever
settles the job (a worker's batch, a keeper) pays up to `MAX_CALLBACK_GAS` for it.
"""

from __future__ import annotations

import pytest

from tests.contracts.attacks.harness import attack_steps, submit_all
from tests.contracts.helpers import CHALLENGE_WINDOW, Deployment, job_tuple
from tests.contracts.test_job_market_callbacks import ACCEPT, BURN_GAS

BATCH = 20
TARGET = 7
#: How far a batch holding the callback job may cost, per job, from one without callbacks.
TOLERANCE_PER_JOB = 500


def _finalize_gas(d: Deployment, ids: list[int], jobs: list[dict]) -> int:
    receipt = d.tx("outsider", d.market.functions.finalizeBatch(ids, [job_tuple(j) for j in jobs]))
    return receipt["gasUsed"]


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 8 works on contracts v1: finalizing runs a gas-burning callback "
    "at the finalizer's cost",
)
def test_attack8_gas_burning_callback_is_paid_by_its_requester(d: Deployment) -> None:
    with attack_steps():
        consumer = d.chain.sender(d.actors.requester).deploy(
            "HostileConsumer", d.market.address, ACCEPT
        )
        stipend = d.market.functions.MAX_CALLBACK_GAS().call()
        warm_up = d.create()  # settled first, so that both batches update existing balances
        plain = [d.create() for _ in range(BATCH)]
        with_callback = [
            d.create(callback=consumer.address, callbackGas=stipend) if k == TARGET else d.create()
            for k in range(BATCH)
        ]
        created = [warm_up, *plain, *with_callback]
        ids = [job_id for job_id, _ in created]
        jobs = submit_all(d, ids, [job for _, job in created])  # while the consumer behaves
        d.tx("requester", consumer.functions.setMode(BURN_GAS))
        d.chain.increase_time(CHALLENGE_WINDOW + 1)
        d.finalize(ids[0], jobs[0])
        plain_gas = _finalize_gas(d, ids[1 : BATCH + 1], jobs[1 : BATCH + 1])
        hostile_gas = _finalize_gas(d, ids[BATCH + 1 :], jobs[BATCH + 1 :])
    per_job = (hostile_gas - plain_gas) / BATCH
    assert abs(per_job) <= TOLERANCE_PER_JOB, (
        f"finalizing {BATCH} jobs cost {plain_gas} gas, or {hostile_gas} with one hostile callback "
        f"({per_job:+.0f} per job) paid by the finalizer"
    )
