"""Issue 12, attack 8: the finalizer pays for the requester's callback.

On v1 `finalize` and `finalizeBatch` run the callback with its whole stipend. A consumer that
behaved when the worker claimed can switch to burning that stipend afterwards, and whoever
settles the job (a worker's batch, a keeper) pays up to `MAX_CALLBACK_GAS` for it.

Since contracts v2 slice 4 payment runs no callback: the job becomes `Paid`, and whoever calls
`deliver` runs it and earns the `callbackFee` the requester escrowed (§2.8).
"""

from __future__ import annotations

from tests.contracts.attacks.harness import attack_steps, submit_all
from tests.contracts.helpers import CHALLENGE_WINDOW, SETTLED, Deployment, event, job_tuple
from tests.contracts.test_job_market_callbacks import ACCEPT, BURN_GAS

BATCH = 20
TARGET = 7
#: How far a batch holding the callback job may cost, per job, from one without callbacks.
TOLERANCE_PER_JOB = 500
#: What a delivery may cost beyond the stipend it forwards: the 21,000 intrinsic gas, the
#: job tuple's calldata (~10k), the hop to the rare-path contract, the slot cleared and the
#: deliverer's first balance credit (a zero-to-nonzero write, 22,100). Measured 60,848.
DELIVERY_OVERHEAD = 65_000
CALLBACK_FEE = 10**15
DAY = 86_400


def _finalize_gas(d: Deployment, ids: list[int], jobs: list[dict]) -> int:
    receipt = d.tx("outsider", d.market.functions.finalizeBatch(ids, [job_tuple(j) for j in jobs]))
    return receipt["gasUsed"]


def test_attack8_gas_burning_callback_is_paid_by_its_requester(d: Deployment) -> None:
    with attack_steps():
        consumer = d.chain.sender(d.actors.requester).deploy(
            "HostileConsumer", d.market.address, ACCEPT
        )
        stipend = d.market.functions.MAX_CALLBACK_GAS().call()
        warm_up = d.create()  # settled first, so that both batches update existing balances
        plain = [d.create() for _ in range(BATCH)]
        with_callback = [
            d.create(callback=consumer.address, callbackGas=stipend, callbackFee=CALLBACK_FEE)
            if k == TARGET
            else d.create()
            for k in range(BATCH)
        ]
        late_id, late_job = d.create(
            callback=consumer.address, callbackGas=stipend, callbackFee=CALLBACK_FEE
        )
        created = [warm_up, *plain, *with_callback, (late_id, late_job)]
        ids = [job_id for job_id, _ in created]
        jobs = submit_all(d, ids, [job for _, job in created])  # while the consumer behaves
        d.tx("requester", consumer.functions.setMode(BURN_GAS))
        d.chain.increase_time(CHALLENGE_WINDOW + 1)
        d.finalize(ids[0], jobs[0])
        plain_gas = _finalize_gas(d, ids[1 : BATCH + 1], jobs[1 : BATCH + 1])
        hostile_gas = _finalize_gas(
            d, ids[BATCH + 1 : 2 * BATCH + 1], jobs[BATCH + 1 : 2 * BATCH + 1]
        )
        d.finalize(late_id, jobs[-1])
        # Someone delivers the hostile callback: it burns the requester's stipend, not the
        # finalizer's gas, and the deliverer is paid for it.
        target_id, target_job = ids[BATCH + 1 + TARGET], jobs[BATCH + 1 + TARGET]
        delivery = d.deliver(target_id, target_job, role="worker2")
        d.chain.increase_time(DAY + 1)
        requester_before = d.balance("requester")
        expired = d.deliver(late_id, jobs[-1], role="worker2")
    per_job = (hostile_gas - plain_gas) / BATCH
    assert abs(per_job) <= TOLERANCE_PER_JOB, (
        f"finalizing {BATCH} jobs cost {plain_gas} gas, or {hostile_gas} with one hostile callback "
        f"({per_job:+.0f} per job) paid by the finalizer"
    )
    assert event(d.market, delivery, "CallbackDelivered")["success"] is False
    assert delivery["gasUsed"] <= stipend + DELIVERY_OVERHEAD
    assert (
        d.balance("worker2") == CALLBACK_FEE
    )  # the deliverer was paid; the late call earned nothing
    assert event(d.market, expired, "DeliveryExpired")["jobId"] == late_id
    assert d.balance("requester") - requester_before == CALLBACK_FEE
    assert d.status(target_id)[0] == d.status(late_id)[0] == SETTLED
