"""Owner powers: bounded parameters, token allow-list, arbiters set once, pause (new jobs only),
two-step ownership. None of them can move escrow or balances."""

from __future__ import annotations

import pytest

from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    CHALLENGE_WINDOW,
    DISPUTE_BOND_BPS,
    ETH,
    ETH_PRICE,
    FEE_BPS,
    SLASH_REWARD_BPS,
    Deployment,
    event,
    job_tuple,
    reverts,
)

PARAMS = (CHALLENGE_WINDOW, ARBITRATION_WINDOW, DISPUTE_BOND_BPS, SLASH_REWARD_BPS)


def test_views_report_the_deployment(d: Deployment) -> None:
    m = d.market.functions
    assert m.treasury().call() == d.addr("treasury")
    assert m.protocolFeeBps().call() == FEE_BPS
    assert m.params().call() == PARAMS
    assert m.arbiterOf(0).call() == d.arbiter.address
    assert m.verificationEnabled(0).call() and not m.verificationEnabled(1).call()
    assert not m.verificationEnabled(8).call()
    assert (m.modelRegistry().call(), m.workerRegistry().call()) == (
        d.models.address,
        d.workers.address,
    )
    assert m.isTokenAllowed(ETH).call() and m.isTokenAllowed(d.token.address).call()
    assert not m.paused().call()


@pytest.mark.parametrize(
    ("index", "value"),
    [(0, 0), (0, 7 * 86_400 + 1), (1, 3_599), (1, 30 * 86_400 + 1), (2, 10_001), (3, 10_001)],
)
def test_params_are_bounded(d: Deployment, index: int, value: int) -> None:
    params = list(PARAMS)
    params[index] = value
    with reverts("JobMarketParameterOutOfBounds"):
        d.tx("owner", d.market.functions.setParams(tuple(params)))


def test_owner_sets_params_fee_and_treasury(d: Deployment) -> None:
    new = (60, 3_600, 0, 10_000)
    receipt = d.tx("owner", d.market.functions.setParams(new))
    assert tuple(event(d.market, receipt, "ParamsUpdated")["params"].values()) == new
    assert d.market.functions.params().call() == new
    _, job = d.create()
    assert job["terms"]["challengeWindow"] == 60
    receipt = d.tx("owner", d.market.functions.setProtocolFee(1_000))
    assert event(d.market, receipt, "ProtocolFeeUpdated")["feeBps"] == 1_000
    with reverts("JobMarketParameterOutOfBounds"):
        d.tx("owner", d.market.functions.setProtocolFee(1_001))
    receipt = d.tx("owner", d.market.functions.setTreasury(d.addr("outsider")))
    assert event(d.market, receipt, "TreasuryUpdated")["treasury"] == d.addr("outsider")
    with reverts("JobMarketZeroAddress"):
        d.tx("owner", d.market.functions.setTreasury(ETH))


def test_admin_functions_are_owner_only(d: Deployment) -> None:
    m = d.market.functions
    for call in (
        m.setParams(PARAMS),
        m.setProtocolFee(0),
        m.setTreasury(d.addr("outsider")),
        m.setTokenAllowed(d.token.address, False),
        m.setArbiter(1, d.addr("outsider")),
        m.setVerificationMode(0, False),
        m.pause(),
        m.unpause(),
    ):
        with reverts("OwnableUnauthorizedAccount"):
            d.tx("outsider", call)


def test_token_allow_list_refuses_zero(d: Deployment) -> None:
    with reverts("JobMarketZeroAddress"):
        d.tx("owner", d.market.functions.setTokenAllowed(ETH, True))


def test_arbiter_is_set_once_per_mode(d: Deployment) -> None:
    with reverts("JobMarketArbiterAlreadySet") as caught:
        d.tx("owner", d.market.functions.setArbiter(0, d.addr("outsider")))
    assert caught.args == {"mode": 0, "arbiter": d.arbiter.address}
    with reverts("JobMarketArbiterAlreadySet"):
        d.tx("owner", d.market.functions.setArbiter(8, d.addr("outsider")))
    with reverts("JobMarketZeroAddress"):
        d.tx("owner", d.market.functions.setArbiter(2, ETH))
    receipt = d.tx("owner", d.market.functions.setArbiter(2, d.addr("outsider")))
    assert dict(event(d.market, receipt, "ArbiterSet")) == {
        "mode": 2,
        "arbiter": d.addr("outsider"),
    }


def test_verification_modes_need_an_arbiter_and_gate_new_jobs(d: Deployment) -> None:
    with reverts("JobMarketNoArbiter"):
        d.tx("owner", d.market.functions.setVerificationMode(3, True))
    with reverts("JobMarketNoArbiter"):
        d.tx("owner", d.market.functions.setVerificationMode(8, True))
    job_id, job = d.create()
    receipt = d.tx("owner", d.market.functions.setVerificationMode(0, False))
    assert dict(event(d.market, receipt, "VerificationModeSet")) == {"mode": 0, "enabled": False}
    with reverts("JobMarketVerificationDisabled"):
        d.create()
    d.claim(job_id, job)  # existing jobs carry on


def test_pause_stops_new_jobs_only(d: Deployment) -> None:
    job_id, job = d.create()
    other_id, other = d.create()
    d.tx("requester", d.market.functions.deposit(ETH, ETH_PRICE), value=ETH_PRICE)
    receipt = d.tx("owner", d.market.functions.pause())
    assert event(d.market, receipt, "Paused")["account"] == d.addr("owner")
    assert d.market.functions.paused().call()
    with reverts("JobMarketPauseUnchanged"):
        d.tx("owner", d.market.functions.pause())
    with reverts("JobMarketPaused"):
        d.create()
    # Everything else works: claim, submit, finalize, cancel, deposits and withdrawals.
    job = d.submit(job_id, d.claim(job_id, job))
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    d.tx("requester", d.market.functions.cancel(other_id, job_tuple(other)))
    d.tx("requester", d.market.functions.deposit(ETH, 1), value=1)
    d.tx("requester", d.market.functions.withdraw(ETH, d.addr("requester"), 2 * ETH_PRICE + 1))
    d.tx("worker", d.workers.functions.requestExit())
    receipt = d.tx("owner", d.market.functions.unpause())
    assert event(d.market, receipt, "Unpaused")["account"] == d.addr("owner")
    with reverts("JobMarketPauseUnchanged"):
        d.tx("owner", d.market.functions.unpause())
    d.create()


def test_ownership_moves_in_two_steps(d: Deployment) -> None:
    d.tx("owner", d.market.functions.transferOwnership(d.addr("outsider")))
    assert d.market.functions.owner().call() == d.addr("owner")
    assert d.market.functions.pendingOwner().call() == d.addr("outsider")
    with reverts("OwnableUnauthorizedAccount"):
        d.tx("requester", d.market.functions.acceptOwnership())
    d.tx("outsider", d.market.functions.acceptOwnership())
    assert d.market.functions.owner().call() == d.addr("outsider")
    with reverts("OwnableUnauthorizedAccount"):
        d.tx("owner", d.market.functions.pause())


def test_constructor_bounds_its_parameters(d: Deployment) -> None:
    sender = d.chain.sender(d.actors.owner)
    args = (d.addr("owner"), d.models.address, d.workers.address, d.router.address)
    with reverts("JobMarketZeroAddress"):  # no router
        sender.deploy("JobMarket", *args[:3], ETH, d.addr("treasury"), FEE_BPS, PARAMS)
    with reverts("JobMarketParameterOutOfBounds"):
        sender.deploy("JobMarket", *args, d.addr("treasury"), 1_001, PARAMS)
    with reverts("JobMarketZeroAddress"):
        sender.deploy("JobMarket", *args, ETH, FEE_BPS, PARAMS)
    with reverts("JobMarketParameterOutOfBounds"):
        sender.deploy("JobMarket", *args, d.addr("treasury"), FEE_BPS, (0, *PARAMS[1:]))
