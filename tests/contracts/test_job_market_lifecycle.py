"""JobMarket lifecycle: every transition, every deadline edge, every validation revert."""

from __future__ import annotations

import pytest

from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    CLAIMED,
    COLLATERAL_BPS,
    DAG_PB_CODEC,
    DISPUTE_BOND_BPS,
    ETH,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    ETHER,
    FEE_BPS,
    NONE,
    OPEN,
    RAW_CODEC,
    REQUEST_TTL,
    SETTLED,
    SUBMITTED,
    WORK_TIME,
    Deployment,
    cid,
    cid_parts,
    event,
    events,
    job_tuple,
    request_tuple,
    result_tuple,
    reverts,
)


def _split(price: int) -> tuple[int, int, int]:
    royalty = price * ETH_ROYALTY_BPS // 10_000
    fee = price * FEE_BPS // 10_000
    return price - royalty - fee, royalty, fee


# --- creation -----------------------------------------------------------------------------


def test_create_escrows_the_price_and_opens_the_job(d: Deployment) -> None:
    before = d.chain.balance(d.market.address)
    request = d.request()
    receipt = d.tx(
        "requester",
        d.market.functions.createJob(d.addr("requester"), request_tuple(request)),
        value=ETH_PRICE,
    )
    created = event(d.market, receipt, "JobCreated")
    assert created["requester"] == d.addr("requester") and created["modelId"] == d.eth_model
    assert created["inputCid"] == request["inputCid"]
    assert created["requestDeadline"] == request["requestDeadline"]
    terms = created["terms"]
    assert (terms["token"], terms["price"], terms["provider"]) == (
        ETH,
        ETH_PRICE,
        d.addr("provider"),
    )
    assert (terms["royaltyBps"], terms["feeBps"], terms["challengeWindow"]) == (
        ETH_ROYALTY_BPS,
        FEE_BPS,
        CHALLENGE_WINDOW,
    )
    # Snapshotted at creation: the dispute bond and the collateral a claim will lock.
    assert terms["disputeBond"] == ETH_PRICE * DISPUTE_BOND_BPS // 10_000
    assert terms["collateral"] == ETH_PRICE * COLLATERAL_BPS // 10_000
    zero = ("pricing", "verifyFee", "callbackFee")
    assert [terms[k] for k in zero] == [0] * 3 and terms["pricingTerms"] == b"\0" * 32
    assert d.chain.balance(d.market.address) == before + ETH_PRICE
    assert d.status(created["jobId"]) == (OPEN, request["requestDeadline"])
    assert d.market.functions.nextJobId().call() == created["jobId"] + 1


def test_collateral_is_at_least_one_wei(d: Deployment) -> None:
    """`max(1, price * collateralBps / 10_000)`: a claim always locks something."""
    d.govern(d.governor.functions.setConfig(d.market.address, (FEE_BPS, 5_000, DISPUTE_BOND_BPS)))
    d.tx("provider", d.models.functions.updateTerms(d.eth_model, 1, ETH_ROYALTY_BPS))
    job_id, job = d.create(maxPrice=1, value=1)
    assert job["terms"]["collateral"] == 1
    d.claim(job_id, job)
    assert d.locked("worker") == 1


def test_create_credits_excess_eth_to_the_requester(d: Deployment) -> None:
    request = d.request(maxPrice=3 * ETH_PRICE)
    receipt = d.tx(
        "requester",
        d.market.functions.createJob(d.addr("requester"), request_tuple(request)),
        value=3 * ETH_PRICE,
    )
    assert dict(event(d.market, receipt, "Deposited")) == {
        "account": d.addr("requester"),
        "token": ETH,
        "amount": 2 * ETH_PRICE,
    }
    assert d.balance("requester") == 2 * ETH_PRICE


def test_create_for_another_requester_refunds_go_to_requester(d: Deployment) -> None:
    """The payer pays; the requester alone owns the job: excess ETH, cancel and refund."""
    request = d.request(maxPrice=2 * ETH_PRICE)
    receipt = d.tx(
        "requester2",
        d.market.functions.createJob(d.addr("requester"), request_tuple(request)),
        value=2 * ETH_PRICE,
    )
    created = event(d.market, receipt, "JobCreated")
    assert created["requester"] == d.addr("requester")
    assert d.balance("requester") == ETH_PRICE and d.balance("requester2") == 0
    job_id, job = d.create(requester="requester", role="requester2")
    with reverts("JobMarketNotRequester"):
        d.tx("requester2", d.market.functions.cancel(job_id, job_tuple(job)))
    d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    assert d.balance("requester") == 2 * ETH_PRICE and d.balance("requester2") == 0
    with reverts("JobMarketZeroAddress"):
        d.tx("requester2", d.market.functions.createJob(ETH, request_tuple(request)))


def test_job_commits_its_input(d: Deployment) -> None:
    """The tuple carries the input CID's codec and digest, parsed at creation, so a
    verification module can bind a proof or a re-execution to the input."""
    input_cid = cid("the input", DAG_PB_CODEC)
    job_id, job = d.create(inputCid=input_cid)
    assert (job["inputCodec"], job["inputDigest"]) == cid_parts(input_cid)
    wrong = {**job, "inputCodec": RAW_CODEC}
    with reverts("JobMarketJobMismatch"):
        d.tx("worker", d.market.functions.claim(job_id, job_tuple(wrong)))
    d.claim(job_id, job)


def test_job_commitment_view_matches_the_tuple(d: Deployment) -> None:
    job_id, job = d.create()
    commitment = d.market.functions.jobCommitment(job_tuple(job)).call()
    slot = d.chain.w3.eth.get_storage_at(d.market.address, _job_slot(d, job_id))
    assert bytes(slot)[:24] == commitment


def _job_slot(d: Deployment, job_id: int) -> int:
    """Storage slot of `_jobs[jobId]` (mapping at slot 3 after Config, Params and Ownable)."""
    from eth_utils import keccak

    for base in range(12):
        key = int.from_bytes(keccak(job_id.to_bytes(32, "big") + base.to_bytes(32, "big")), "big")
        if (
            int.from_bytes(d.chain.w3.eth.get_storage_at(d.market.address, key), "big") & 0xFF
            == OPEN
        ):
            return key
    raise AssertionError("job slot not found")


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"requestDeadline": -1}, "JobMarketInvalidRequestDeadline"),
        ({"requestDeadline": REQUEST_TTL * 24 * 30 + 10}, "JobMarketInvalidRequestDeadline"),
        ({"workTime": 0}, "JobMarketInvalidWorkTime"),
        ({"workTime": 7 * 86_400 + 1}, "JobMarketInvalidWorkTime"),
        ({"callbackGas": 1_000_001}, "JobMarketCallbackGasTooHigh"),
        ({"maxPrice": ETH_PRICE - 1}, "JobMarketPriceAboveMax"),
        ({"verification": 1}, "JobMarketVerificationDisabled"),
        ({"verification": 8}, "JobMarketVerificationDisabled"),
        ({"inputCid": b"\x01\x55\x12\x20"}, "CidUnsupported"),
        ({"pricing": 7}, "JobMarketPricingDisabled"),  # never registered
        ({"pricing": 1}, "TokenMeteredPricingNoRates"),  # registered; the model has no rates
    ],
)
def test_create_rejects_bad_requests(d: Deployment, override: dict, error: str) -> None:
    if "requestDeadline" in override:
        override = {"requestDeadline": d.now() + override["requestDeadline"]}
    request = d.request(**override)
    with reverts(error):
        d.tx(
            "requester",
            d.market.functions.createJob(d.addr("requester"), request_tuple(request)),
            value=ETH_PRICE,
        )


def test_create_needs_enough_eth_and_no_eth_for_tokens(d: Deployment) -> None:
    with reverts("JobMarketValueMismatch") as caught:
        d.create(value=ETH_PRICE - 1)
    assert caught.args == {"expected": ETH_PRICE, "sent": ETH_PRICE - 1}
    d.tx("requester", d.token.functions.approve(d.market.address, 2**255))
    with reverts("JobMarketValueMismatch"):
        d.create(model=d.token_model, value=1)


def test_request_deadline_may_be_now(d: Deployment) -> None:
    t = d.now() + 5
    request = d.request(requestDeadline=t)
    receipt = d.tx_at(
        t,
        "requester",
        d.market.functions.createJob(d.addr("requester"), request_tuple(request)),
        value=ETH_PRICE,
    )
    assert d.status(event(d.market, receipt, "JobCreated")["jobId"]) == (OPEN, t)


# --- cancel and expire --------------------------------------------------------------------


def test_requester_cancels_an_open_job(d: Deployment) -> None:
    job_id, job = d.create()
    with reverts("JobMarketNotRequester") as caught:
        d.tx("outsider", d.market.functions.cancel(job_id, job_tuple(job)))
    assert caught.args == {"jobId": job_id, "caller": d.addr("outsider")}
    receipt = d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    assert event(d.market, receipt, "JobCancelled")["jobId"] == job_id
    assert d.balance("requester") == ETH_PRICE
    assert d.status(job_id) == (SETTLED, 0)
    with reverts("JobMarketInvalidStatus") as caught:
        d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    assert caught.args == {"jobId": job_id, "current": SETTLED, "expected": OPEN}


def test_claimed_job_cannot_be_cancelled(d: Deployment) -> None:
    job_id, job = d.create()
    d.claim(job_id, job)
    with reverts("JobMarketInvalidStatus") as caught:
        d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    assert caught.args["current"] == CLAIMED


def test_expire_edge_and_claim_edge_at_the_request_deadline(d: Deployment) -> None:
    deadline = d.now() + REQUEST_TTL
    job_id, job = d.create(requestDeadline=deadline)
    other_id, other = d.create(requestDeadline=deadline)
    with reverts("JobMarketRequestNotExpired") as caught:
        d.tx_at(deadline, "outsider", d.market.functions.expire(job_id, job_tuple(job)))
    assert caught.args["deadline"] == deadline
    d.tx_at(
        deadline, "worker", d.market.functions.claim(other_id, job_tuple(other))
    )  # exactly at: ok
    receipt = d.tx_at(deadline + 1, "outsider", d.market.functions.expire(job_id, job_tuple(job)))
    assert event(d.market, receipt, "JobExpired")["jobId"] == job_id
    assert d.balance("requester") == ETH_PRICE


def test_claim_one_second_after_the_request_deadline_is_refused(d: Deployment) -> None:
    job_id, job = d.create()
    deadline = d.status(job_id)[1]
    with reverts("JobMarketRequestExpired") as caught:
        d.tx_at(deadline + 1, "worker", d.market.functions.claim(job_id, job_tuple(job)))
    assert caught.args == {"jobId": job_id, "deadline": deadline}


# --- claim --------------------------------------------------------------------------------


def test_claim_sets_worker_and_deadline(d: Deployment) -> None:
    job_id, job = d.create()
    receipt = d.tx("worker", d.market.functions.claim(job_id, job_tuple(job)))
    claimed = event(d.market, receipt, "JobClaimed")
    assert claimed["worker"] == d.addr("worker")
    assert claimed["deadline"] == d.now() + WORK_TIME
    assert d.status(job_id) == (CLAIMED, claimed["deadline"])
    assert job["terms"]["collateral"] == ETH_PRICE  # 1x the price by default
    assert d.locked("worker") == ETH_PRICE
    with reverts("JobMarketInvalidStatus"):
        d.tx("worker2", d.market.functions.claim(job_id, job_tuple(job)))


@pytest.mark.parametrize(
    "tamper",
    [
        lambda j: {**j, "terms": {**j["terms"], "price": 1}},
        lambda j: {**j, "requester": j["terms"]["provider"]},
        lambda j: {**j, "modelId": 2},
        lambda j: {**j, "usage": b"\x01" * 32},
        lambda j: {**j, "inputDigest": b"\x02" * 32},
        lambda j: {**j, "terms": {**j["terms"], "disputeBond": 1}},
    ],
)
def test_a_wrong_tuple_is_refused(d: Deployment, tamper) -> None:  # type: ignore[no-untyped-def]
    job_id, job = d.create()
    with reverts("JobMarketJobMismatch") as caught:
        d.tx("worker", d.market.functions.claim(job_id, job_tuple(tamper(job))))
    assert caught.args == {"jobId": job_id}


def test_unknown_job_reads_none(d: Deployment) -> None:
    job_id, job = d.create()
    assert d.status(job_id + 1) == (NONE, 0)
    assert d.status(0) == (NONE, 0)
    with reverts("JobMarketInvalidStatus") as caught:
        d.tx("worker", d.market.functions.claim(job_id + 1, job_tuple(job)))
    assert caught.args["current"] == NONE


# --- submit, failure, timeout -------------------------------------------------------------


def test_submit_at_the_claim_deadline_opens_the_challenge_window(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job)
    deadline = d.status(job_id)[1]
    output = cid("the answer")
    with reverts("JobMarketNotWorker") as caught:
        d.tx(
            "worker2",
            d.market.functions.submitResult(
                job_id, job_tuple(job), result_tuple(output, b"\x01" * 32)
            ),
        )
    assert caught.args == {"jobId": job_id, "caller": d.addr("worker2")}
    with reverts("CidUnsupported"):
        d.tx(
            "worker",
            d.market.functions.submitResult(
                job_id, job_tuple(job), result_tuple(b"junk", b"\x01" * 32)
            ),
        )
    receipt = d.tx_at(
        deadline,
        "worker",
        d.market.functions.submitResult(job_id, job_tuple(job), result_tuple(output, b"\x01" * 32)),
    )
    submitted = event(d.market, receipt, "ResultSubmitted")
    assert (submitted["outputCid"], submitted["outputHash"]) == (output, b"\x01" * 32)
    assert submitted["challengeDeadline"] == deadline + CHALLENGE_WINDOW
    assert d.status(job_id) == (SUBMITTED, deadline + CHALLENGE_WINDOW)


def test_submit_on_open_claims_and_submits_at_once(d: Deployment) -> None:
    job_id, job = d.create()
    output, output_hash, usage = cid("fast answer"), b"\x33" * 32, b"\x07" * 32
    call = d.market.functions.submitResult(
        job_id, job_tuple(job), result_tuple(output, output_hash, usage)
    )
    receipt = d.tx("worker", call)
    assert events(d.market, receipt, "JobClaimed") == []
    submitted = event(d.market, receipt, "ResultSubmitted")
    assert (submitted["worker"], submitted["outputCid"], submitted["usage"]) == (
        d.addr("worker"),
        output,
        usage,
    )
    assert d.status(job_id) == (SUBMITTED, d.now() + CHALLENGE_WINDOW)
    assert d.locked("worker") == job["terms"]["collateral"]
    # The commitment now names the worker, the output and the usage.
    codec, digest = cid_parts(output)
    job = {**job, "worker": d.addr("worker"), "outputCodec": codec, "outputDigest": digest}
    job = {**job, "outputHash": output_hash, "usage": usage}
    with reverts("JobMarketInvalidStatus"):  # a rival that lost the race
        d.tx("worker2", call)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    assert d.balance("worker") == _split(ETH_PRICE)[0]
    assert d.exposure("worker")["locked"] == 0 and d.exposure("worker")["paid"] == 1


def test_submit_on_open_edges(d: Deployment) -> None:
    """Only until the request deadline, only by a worker whose allocation covers it."""
    (first, job1), (second, job2) = d.create(), d.create()
    fns = d.market.functions
    submit1 = fns.submitResult(first, job_tuple(job1), result_tuple(cid("x")))
    submit2 = fns.submitResult(second, job_tuple(job2), result_tuple(cid("y")))
    with reverts("JobMarketAllocationExceeded"):
        d.tx("outsider", submit1)
    d.tx_at(d.status(first)[1], "worker", submit1)
    assert d.status(first)[0] == SUBMITTED
    with reverts("JobMarketRequestExpired"):
        d.tx_at(d.status(second)[1] + 1, "worker", submit2)


def test_submit_one_second_after_the_claim_deadline_is_refused(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job)
    deadline = d.status(job_id)[1]
    with reverts("JobMarketClaimExpired"):
        d.tx_at(
            deadline + 1,
            "worker",
            d.market.functions.submitResult(
                job_id, job_tuple(job), result_tuple(cid("late"), b"\x01" * 32)
            ),
        )


def test_report_failure_refunds_and_charges_the_failure_fee(d: Deployment) -> None:
    """At the deadline the worker held the job for its whole work time: the fee is the
    whole collateral, slashed to the requester (attack 2 checks the 1 % floor)."""
    job_id, job = d.create()
    job = d.claim(job_id, job)
    deadline = d.status(job_id)[1]
    evidence = cid("the input is not UTF-8")
    with reverts("JobMarketNotWorker"):
        d.tx("requester", d.market.functions.reportFailure(job_id, job_tuple(job), evidence))
    with reverts("CidUnsupported"):
        d.tx("worker", d.market.functions.reportFailure(job_id, job_tuple(job), b"x"))
    stake = d.stake_of("worker")[0]
    receipt = d.tx_at(
        deadline, "worker", d.market.functions.reportFailure(job_id, job_tuple(job), evidence)
    )
    failed = event(d.market, receipt, "JobFailed")
    fee = job["terms"]["collateral"]
    assert (failed["worker"], failed["evidenceCid"], failed["fee"]) == (
        d.addr("worker"),
        evidence,
        fee,
    )
    assert d.balance("requester") == ETH_PRICE + fee
    assert d.stake_of("worker")[0] == stake - fee
    assert d.exposure("worker")["locked"] == 0 and d.exposure("worker")["failed"] == 1
    assert d.status(job_id) == (SETTLED, 0)


def test_report_failure_after_the_claim_deadline_is_refused(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job)
    deadline = d.status(job_id)[1]
    with reverts("JobMarketClaimExpired"):
        d.tx_at(
            deadline + 1,
            "worker",
            d.market.functions.reportFailure(job_id, job_tuple(job), cid("e")),
        )


def test_timeout_edge_refunds_and_slashes(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job)
    deadline = d.status(job_id)[1]
    with reverts("JobMarketClaimNotExpired"):
        d.tx_at(deadline, "outsider", d.market.functions.timeout(job_id, job_tuple(job)))
    registry_before = d.chain.balance(d.workers.address)
    receipt = d.tx_at(deadline + 1, "outsider", d.market.functions.timeout(job_id, job_tuple(job)))
    slash = job["terms"]["collateral"]
    timed_out = event(d.market, receipt, "JobTimedOut")
    assert (timed_out["worker"], timed_out["slashed"]) == (d.addr("worker"), slash)
    # The whole slash goes to the requester; the fee account gets none of it.
    assert d.balance("requester") == ETH_PRICE + slash
    assert d.balance(d.fees) == 0
    assert d.chain.balance(d.workers.address) == registry_before - slash
    assert d.exposure("worker")["locked"] == 0 and d.exposure("worker")["timedOut"] == 1
    assert d.allocation("worker") == 2 * ETHER - slash


# --- finalize -----------------------------------------------------------------------------


def test_finalize_edge_pays_worker_provider_and_fee_account(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job)
    job = d.submit(job_id, job)
    deadline = d.status(job_id)[1]
    with reverts("JobMarketChallengeWindowOpen") as caught:
        d.tx_at(deadline, "outsider", d.market.functions.finalize(job_id, job_tuple(job)))
    assert caught.args["deadline"] == deadline
    receipt = d.tx_at(deadline + 1, "outsider", d.market.functions.finalize(job_id, job_tuple(job)))
    worker_amount, royalty, fee = _split(ETH_PRICE)
    finalized = event(d.market, receipt, "JobFinalized")
    assert (finalized["workerAmount"], finalized["royalty"], finalized["fee"]) == (
        worker_amount,
        royalty,
        fee,
    )
    assert (d.balance("worker"), d.balance("provider"), d.balance(d.fees)) == (
        worker_amount,
        royalty,
        fee,
    )
    assert events(d.market, receipt, "CallbackDelivered") == []
    assert d.status(job_id) == (SETTLED, 0)
    assert d.exposure("worker") == {
        "locked": 0,
        "paid": 1,
        "failed": 0,
        "timedOut": 0,
        "disputesLost": 0,
        "disputesWon": 0,
    }
    with reverts("JobMarketInvalidStatus"):
        d.finalize(job_id, job)


def test_submitted_output_is_bound_to_the_tuple(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.claim(job_id, job)
    job = d.submit(job_id, job, output=cid("real"))
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    codec, digest = cid_parts(cid("forged"))
    with reverts("JobMarketJobMismatch"):
        d.finalize(job_id, {**job, "outputDigest": digest, "outputCodec": codec})
    d.finalize(job_id, job)
