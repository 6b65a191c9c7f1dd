"""Challenge window, dispute bond and the arbiter interface (ManualArbiter as the first tier)."""

from __future__ import annotations

from inferchain.market import decode_logs
from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    COLLATERAL_BPS,
    DISPUTE_BOND_BPS,
    DISPUTED,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    FEE_BPS,
    PENDING,
    SETTLED,
    TOKEN_PRICE,
    TOKEN_ROYALTY_BPS,
    WORKER_LOSES,
    WORKER_WINS,
    Deployment,
    event,
    events,
    job_tuple,
    reverts,
)

BOND = ETH_PRICE * DISPUTE_BOND_BPS // 10_000


def _submitted(d: Deployment, **overrides) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    job_id, job = d.create(**overrides)
    job = d.claim(job_id, job)
    return job_id, d.submit(job_id, job)


def test_dispute_edge_at_the_challenge_deadline(d: Deployment) -> None:
    job_id, job = _submitted(d)
    deadline = d.status(job_id)[1]
    with reverts("JobMarketNotRequester"):
        d.tx("outsider", d.market.functions.dispute(job_id, job_tuple(job)), value=BOND)
    with reverts("JobMarketValueMismatch") as caught:
        d.tx("requester", d.market.functions.dispute(job_id, job_tuple(job)), value=BOND - 1)
    assert caught.args == {"expected": BOND, "sent": BOND - 1}
    receipt = d.tx_at(
        deadline, "requester", d.market.functions.dispute(job_id, job_tuple(job)), value=BOND
    )
    disputed = event(d.market, receipt, "JobDisputed")
    assert (disputed["bond"], disputed["arbitrationDeadline"]) == (
        BOND,
        deadline + ARBITRATION_WINDOW,
    )
    assert d.status(job_id) == (DISPUTED, deadline + ARBITRATION_WINDOW)
    with reverts("JobMarketInvalidStatus"):
        d.finalize(job_id, job)


def test_dispute_one_second_after_the_window_is_refused(d: Deployment) -> None:
    job_id, job = _submitted(d)
    deadline = d.status(job_id)[1]
    with reverts("JobMarketChallengeWindowClosed") as caught:
        d.tx_at(
            deadline + 1,
            "requester",
            d.market.functions.dispute(job_id, job_tuple(job)),
            value=BOND,
        )
    assert caught.args == {"jobId": job_id, "deadline": deadline}


def test_resolve_waits_for_a_verdict(d: Deployment) -> None:
    job_id, job = _submitted(d)
    job = d.dispute(job_id, job)
    assert (
        d.arbiter.functions.verdict(job_id, job_tuple(job)).call({"from": d.market.address})
        == PENDING
    )
    with reverts("JobMarketVerdictPending"):
        d.tx("outsider", d.market.functions.resolveDispute(job_id, job_tuple(job)))


def test_worker_wins_gets_paid_and_the_bond(d: Deployment) -> None:
    job_id, job = _submitted(d)
    job = d.dispute(job_id, job)
    receipt = d.tx(
        "arbiter", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), True)
    )
    assert event(d.arbiter, receipt, "Ruled")["workerWins"] is True
    resolved = event(d.market, receipt, "DisputeResolved")
    assert (resolved["workerWins"], resolved["slashed"]) == (True, 0)
    royalty = ETH_PRICE * ETH_ROYALTY_BPS // 10_000
    fee = ETH_PRICE * FEE_BPS // 10_000
    assert (
        event(d.market, receipt, "JobFinalized")["workerAmount"] == ETH_PRICE - royalty - fee + BOND
    )
    assert d.balance("worker") == ETH_PRICE - royalty - fee + BOND
    assert (d.balance("provider"), d.balance(d.fees), d.balance("requester")) == (
        royalty,
        fee,
        0,
    )
    assert d.status(job_id) == (SETTLED, 0)
    record = d.exposure("worker")
    assert (record["locked"], record["paid"], record["disputesWon"]) == (0, 1, 1)
    assert d.arbiter.functions.rulingOf(d.market.address, job_id).call() == WORKER_WINS


def test_worker_loses_refund_bond_back_and_slash(d: Deployment) -> None:
    job_id, job = _submitted(d)
    job = d.dispute(job_id, job)
    stake = d.stake_of("worker")[0]
    receipt = d.tx(
        "arbiter", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), False)
    )
    slash = job["terms"]["collateral"]
    resolved = event(d.market, receipt, "DisputeResolved")
    assert (resolved["workerWins"], resolved["slashed"]) == (False, slash)
    assert events(d.market, receipt, "JobFinalized") == []
    assert d.balance("requester") == ETH_PRICE + BOND + slash  # the whole slash
    assert d.balance(d.fees) == 0
    assert d.balance("worker") == 0
    assert d.stake_of("worker")[0] == stake - slash
    assert d.exposure("worker")["locked"] == 0 and d.exposure("worker")["disputesLost"] == 1
    assert d.arbiter.functions.rulingOf(d.market.address, job_id).call() == WORKER_LOSES
    with reverts("ManualArbiterAlreadyRuled"):
        d.tx("arbiter", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), True))


def test_only_the_arbiter_owner_rules(d: Deployment) -> None:
    job_id, job = _submitted(d)
    job = d.dispute(job_id, job)
    with reverts("OwnableUnauthorizedAccount"):
        d.tx("requester", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), False))


def test_ruling_edge_at_the_arbitration_deadline(d: Deployment) -> None:
    job_id, job = _submitted(d)
    job = d.dispute(job_id, job)
    deadline = d.status(job_id)[1]
    other_id, other = _submitted(d)
    other = d.dispute(other_id, other)
    other_deadline = d.status(other_id)[1]
    rule = d.arbiter.functions.rule
    d.tx_at(deadline, "arbiter", rule(d.market.address, job_id, job_tuple(job), True))
    with reverts("JobMarketArbitrationClosed") as caught:
        d.tx_at(
            other_deadline + 1, "arbiter", rule(d.market.address, other_id, job_tuple(other), True)
        )
    assert caught.args == {"jobId": other_id, "deadline": other_deadline}


def test_expire_dispute_edge_pays_as_finalize_and_returns_the_bond(d: Deployment) -> None:
    job_id, job = _submitted(d)
    job = d.dispute(job_id, job)
    deadline = d.status(job_id)[1]
    stake = d.stake_of("worker")[0]
    with reverts("JobMarketArbitrationOpen"):
        d.tx_at(deadline, "outsider", d.market.functions.expireDispute(job_id, job_tuple(job)))
    receipt = d.tx_at(
        deadline + 1, "outsider", d.market.functions.expireDispute(job_id, job_tuple(job))
    )
    logs = decode_logs(d.market, receipt["logs"])
    assert [(e["event"], e["args"]["jobId"]) for e in logs] == [
        ("DisputeExpired", job_id),
        ("JobFinalized", job_id),
    ]
    finalized = logs[1]["args"]
    royalty = ETH_PRICE * ETH_ROYALTY_BPS // 10_000
    fee = ETH_PRICE * FEE_BPS // 10_000
    assert (finalized["workerAmount"], finalized["royalty"], finalized["fee"]) == (
        ETH_PRICE - royalty - fee,
        royalty,
        fee,
    )
    assert (d.balance("worker"), d.balance("provider"), d.balance(d.fees)) == (
        ETH_PRICE - royalty - fee,
        royalty,
        fee,
    )
    assert d.balance("requester") == BOND  # only the bond comes back
    assert d.stake_of("worker")[0] == stake
    assert d.exposure("worker")["locked"] == 0 and d.exposure("worker")["paid"] == 1
    assert d.status(job_id) == (SETTLED, 0)


def test_token_job_dispute_pulls_the_bond_in_the_token(d: Deployment) -> None:
    d.tx("requester", d.token.functions.approve(d.market.address, TOKEN_PRICE))
    job_id, job = _submitted(d, model=d.token_model)
    with reverts("JobMarketValueMismatch"):
        d.tx("requester", d.market.functions.dispute(job_id, job_tuple(job)), value=1)
    job = d.dispute(job_id, job)
    bond = TOKEN_PRICE * DISPUTE_BOND_BPS // 10_000
    assert d.token.functions.balanceOf(d.market.address).call() == TOKEN_PRICE + bond
    d.tx("arbiter", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), True))
    royalty = TOKEN_PRICE * TOKEN_ROYALTY_BPS // 10_000
    fee = TOKEN_PRICE * FEE_BPS // 10_000
    assert d.balance("worker", d.token.address) == TOKEN_PRICE - royalty - fee + bond


def test_dispute_bond_is_snapshotted_at_creation(d: Deployment) -> None:
    """A config change reaches only later jobs: a job created before it keeps its bond."""
    before_id, before = d.create(requestDeadline=d.now() + 3 * 86_400)
    assert before["terms"]["disputeBond"] == BOND
    d.govern(d.governor.functions.setConfig(d.market.address, (FEE_BPS, COLLATERAL_BPS, 500)))
    _, after = d.create()
    assert after["terms"]["disputeBond"] == ETH_PRICE * 500 // 10_000
    before = d.submit(before_id, before)
    with reverts("JobMarketValueMismatch"):
        call = d.market.functions.dispute(before_id, job_tuple(before))
        d.tx("requester", call, value=ETH_PRICE * 500 // 10_000)
    receipt = d.tx(
        "requester", d.market.functions.dispute(before_id, job_tuple(before)), value=BOND
    )
    disputed = event(d.market, receipt, "JobDisputed")
    assert disputed["bond"] == BOND
    assert disputed["arbitrationDeadline"] == d.now() + ARBITRATION_WINDOW


def test_each_verification_mode_has_its_own_arbiter_and_windows(d: Deployment) -> None:
    second = d.chain.sender(d.actors.owner).deploy(
        "ManualArbiter", d.addr("outsider"), 600, 2 * ARBITRATION_WINDOW
    )
    d.govern(d.governor.functions.registerMode(d.market.address, 1, second.address))
    d.govern(d.governor.functions.setModeEnabled(d.market.address, 1, True))
    job_id, job = _submitted(d, verification=1)
    assert job["terms"]["challengeWindow"] == 600
    job = d.dispute(job_id, job)
    assert d.status(job_id)[1] == d.now() + 2 * ARBITRATION_WINDOW
    # The mode-0 arbiter's ruling does not count for a mode-1 job.
    with reverts("JobMarketVerdictPending"):
        d.tx("arbiter", d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), True))
    d.tx("outsider", second.functions.rule(d.market.address, job_id, job_tuple(job), False))
    assert d.status(job_id) == (SETTLED, 0)
