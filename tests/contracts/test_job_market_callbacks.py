"""AI-oracle callbacks (contracts v2 §2.8): payment never runs the callback; a paid callback
job waits as `Paid` until anyone calls `deliver`, which runs it with exactly its stipend and
pays the deliverer the job's callback fee, or after DELIVERY_WINDOW refunds that fee. The
example consumer, and consumers that revert, burn gas, reenter or return a huge revert."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from inferchain.chain import decode_revert
from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    ETH,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    FEE_BPS,
    PAID,
    SETTLED,
    Deployment,
    cid,
    event,
    job_from_created,
    job_tuple,
    reverts,
)

REVERT, BURN_GAS, REENTER, RETURN_BOMB, ACCEPT = range(5)
WORKER_SHARE = ETH_PRICE - ETH_PRICE * ETH_ROYALTY_BPS // 10_000 - ETH_PRICE * FEE_BPS // 10_000
DAY = 86_400
CALLBACK_FEE = 10**14


def _ready(d: Deployment, **overrides) -> tuple[int, dict, bytes]:  # type: ignore[no-untyped-def]
    job_id, job = d.create(**overrides)
    output = cid(f"oracle answer {job_id}")
    job = d.submit(job_id, d.claim(job_id, job), output=output)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    return job_id, job, output


def _paid(d: Deployment, **overrides) -> tuple[int, dict, bytes]:  # type: ignore[no-untyped-def]
    job_id, job, output = _ready(d, **overrides)
    receipt = d.finalize(job_id, job)
    # Payment runs no foreign code: the consumer is not called, the job waits for deliver.
    assert event(d.market, receipt, "JobFinalized")["workerAmount"] == WORKER_SHARE
    assert not d.market.events.CallbackDelivered().process_receipt(receipt)
    assert d.status(job_id)[0] == PAID
    return job_id, job, output


def test_example_consumer_receives_the_answer(d: Deployment) -> None:
    consumer = d.chain.sender(d.actors.owner).deploy("ExampleConsumer", d.market.address)
    question = cid("what is 2 + 2?")
    receipt = d.tx(
        "requester",
        consumer.functions.ask(d.eth_model, question, ETH_PRICE, d.now() + 600, 600, CALLBACK_FEE),
        value=ETH_PRICE + CALLBACK_FEE,
    )
    created = event(d.market, receipt, "JobCreated")
    job_id, job = created["jobId"], job_from_created(created)
    # The asker is the job's requester; the consumer is only its callback.
    assert created["inputCid"] == question and job["requester"] == d.addr("requester")
    assert job["terms"]["callback"] == consumer.address
    assert job["terms"]["callbackFee"] == CALLBACK_FEE
    assert event(consumer, receipt, "Asked")["asker"] == d.addr("requester")
    output = cid("4")
    job = d.submit(job_id, d.claim(job_id, job), output=output)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    assert consumer.functions.answer(job_id).call() == b""  # not delivered yet
    receipt = d.deliver(job_id, job, role="worker2")
    assert dict(event(d.market, receipt, "CallbackDelivered")) == {
        "jobId": job_id,
        "callback": consumer.address,
        "deliverer": d.addr("worker2"),
        "success": True,
    }
    assert event(consumer, receipt, "Answered")["outputCid"] == output
    assert consumer.functions.answer(job_id).call() == output
    assert consumer.functions.askerOf(job_id).call() == d.addr("requester")
    assert d.balance("worker2") == CALLBACK_FEE
    assert d.status(job_id) == (SETTLED, 0)
    with reverts("JobMarketInvalidStatus"):
        d.deliver(job_id, job)


def test_example_consumer_guards_its_callback_and_refunds(d: Deployment) -> None:
    consumer = d.chain.sender(d.actors.owner).deploy("ExampleConsumer", d.market.address)
    with reverts("ExampleConsumerNotMarket"):
        d.tx("outsider", consumer.functions.onInferenceResult(1, cid("x")))
    # A job naming the consumer that the consumer did not create: its callback refuses,
    # the worker is paid anyway and the deliverer still earns the fee.
    job_id, job, _ = _paid(
        d, callback=consumer.address, callbackGas=150_000, callbackFee=CALLBACK_FEE
    )
    assert event(d.market, d.deliver(job_id, job), "CallbackDelivered")["success"] is False
    assert d.balance("worker") == WORKER_SHARE
    assert d.balance("outsider") == CALLBACK_FEE
    # The asker sends exactly its limit plus the fee; refunds and excess go to the asker,
    # never to the consumer (which has no owner and nothing to withdraw).
    ask = consumer.functions.ask(d.eth_model, cid("q"), 2 * ETH_PRICE, d.now() + 5, 600, 7)
    with reverts("ExampleConsumerValueMismatch"):
        d.tx("requester", ask, value=2 * ETH_PRICE)
    before = d.balance("requester")
    receipt = d.tx("requester", ask, value=2 * ETH_PRICE + 7)
    created = event(d.market, receipt, "JobCreated")
    d.chain.increase_time(10)
    d.tx(
        "outsider",
        d.market.functions.expire(created["jobId"], job_tuple(job_from_created(created))),
    )
    assert d.balance(consumer.address) == 0
    assert d.balance("requester") - before == 2 * ETH_PRICE + 7  # the callback fee too


@pytest.mark.parametrize("mode", [REVERT, BURN_GAS, REENTER, RETURN_BOMB])
def test_hostile_consumer_never_blocks_payment(d: Deployment, mode: int) -> None:
    hostile = d.chain.sender(d.actors.owner).deploy("HostileConsumer", d.market.address, mode)
    job_id, job, _ = _paid(d, callback=hostile.address, callbackGas=300_000)
    assert d.balance("worker") == WORKER_SHARE
    receipt = d.deliver(job_id, job)
    assert event(d.market, receipt, "CallbackDelivered")["success"] is False
    assert receipt["gasUsed"] < 300_000 + 60_000  # the stipend bounds what a consumer burns
    assert hostile.functions.accepted().call() == 0
    assert d.status(job_id) == (SETTLED, 0)


def test_accepting_consumer_counts_once(d: Deployment) -> None:
    hostile = d.chain.sender(d.actors.owner).deploy("HostileConsumer", d.market.address, ACCEPT)
    job_id, job, _ = _paid(d, callback=hostile.address, callbackGas=100_000)
    assert event(d.market, d.deliver(job_id, job), "CallbackDelivered")["success"] is True
    assert hostile.functions.accepted().call() == 1


def test_deliverer_must_leave_the_stipend(d: Deployment) -> None:
    hostile = d.chain.sender(d.actors.owner).deploy("HostileConsumer", d.market.address, ACCEPT)
    job_id, job, _ = _paid(
        d, callback=hostile.address, callbackGas=500_000, callbackFee=CALLBACK_FEE
    )
    fn = d.market.functions.deliver(job_id, job_tuple(job))
    with reverts("JobMarketInsufficientCallbackGas"):
        try:
            fn.call({"from": d.addr("outsider"), "gas": 300_000})
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from exc
    d.deliver(job_id, job)
    assert hostile.functions.accepted().call() == 1
    assert d.balance("outsider") == CALLBACK_FEE


def test_late_delivery_refunds_the_fee_and_skips_the_callback(d: Deployment) -> None:
    hostile = d.chain.sender(d.actors.owner).deploy("HostileConsumer", d.market.address, ACCEPT)
    job_id, job, _ = _paid(
        d, callback=hostile.address, callbackGas=100_000, callbackFee=CALLBACK_FEE
    )
    before = d.balance("requester")
    d.chain.increase_time(DAY + 1)
    receipt = d.deliver(job_id, job)
    assert event(d.market, receipt, "DeliveryExpired")["jobId"] == job_id
    assert not d.market.events.CallbackDelivered().process_receipt(receipt)
    assert hostile.functions.accepted().call() == 0
    assert d.balance("requester") - before == CALLBACK_FEE
    assert d.balance("outsider") == 0
    assert d.status(job_id) == (SETTLED, 0)


def test_refunded_callback_job_returns_the_fee(d: Deployment) -> None:
    hostile = d.chain.sender(d.actors.owner).deploy("HostileConsumer", d.market.address, ACCEPT)
    job_id, job = d.create(callback=hostile.address, callbackGas=100_000, callbackFee=CALLBACK_FEE)
    before = d.balance("requester")
    d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    assert d.balance("requester") - before == ETH_PRICE + CALLBACK_FEE
    assert d.status(job_id) == (SETTLED, 0)


def test_jobs_without_callback_settle_at_once(d: Deployment) -> None:
    job_id, job, _ = _ready(d)
    d.finalize(job_id, job)
    assert d.status(job_id) == (SETTLED, 0)
    assert d.balance("worker", ETH) == WORKER_SHARE
    with reverts("JobMarketInvalidStatus"):
        d.deliver(job_id, job)
