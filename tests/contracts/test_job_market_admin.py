"""Who governs the market: the MarketGovernor (its only admin), owned by the timelock, with a
guardian that can only stop new jobs, and the ManualArbiter with an owner of its own.

Owner actions are scheduled through the timelock and wait its delay (`d.govern`); bounds are
the governor's; nothing here moves escrow or balances, or changes a created job.
"""

from __future__ import annotations

import pytest
from web3 import Web3

from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    CHALLENGE_WINDOW,
    COLLATERAL_BPS,
    DISPUTE_BOND_BPS,
    ETH,
    ETH_PRICE,
    FEE_BPS,
    SETTLED,
    TIMELOCK_DELAY,
    WORK_TIME,
    Deployment,
    event,
    job_tuple,
    reverts,
)

DAY = 86_400
CONFIG = (FEE_BPS, COLLATERAL_BPS, DISPUTE_BOND_BPS)


def _arbiter(d: Deployment, challenge: int = CHALLENGE_WINDOW, arbitration: int = DAY) -> str:
    """A fresh ManualArbiter owned by `outsider`, with the given windows."""
    deployed = d.chain.sender(d.actors.owner).deploy(
        "ManualArbiter", d.addr("outsider"), challenge, arbitration
    )
    return deployed.address


def test_views_report_the_deployment(d: Deployment) -> None:
    m, g, t = d.market.functions, d.governor.functions, d.timelock.functions
    assert m.governor().call() == d.governor.address
    assert m.config().call() == CONFIG
    assert m.modeOf(0).call() == (d.arbiter.address, CHALLENGE_WINDOW, ARBITRATION_WINDOW, 0, True)
    assert m.modeOf(1).call()[0] == ETH
    assert m.isTokenAllowed(ETH).call() and m.isTokenAllowed(d.token.address).call()
    assert not m.paused().call()
    assert (m.modelRegistry().call(), m.workerRegistry().call(), m.router().call()) == (
        d.models.address,
        d.workers.address,
        d.router.address,
    )
    assert (g.owner().call(), g.guardian().call()) == (d.timelock.address, d.addr("guardian"))
    assert t.getMinDelay().call() == TIMELOCK_DELAY
    assert t.hasRole(t.PROPOSER_ROLE().call(), d.addr("owner")).call()
    assert t.hasRole(t.EXECUTOR_ROLE().call(), ETH).call()  # anyone executes a ready operation
    admin = t.DEFAULT_ADMIN_ROLE().call()
    assert not t.hasRole(admin, d.addr("owner")).call() and t.hasRole(admin, t.address).call()
    assert d.arbiter.functions.owner().call() == d.addr("arbiter") != d.addr("owner")
    assert (
        d.arbiter.functions.challengeWindow().call(),
        d.arbiter.functions.arbitrationWindow().call(),
    ) == (CHALLENGE_WINDOW, ARBITRATION_WINDOW)


def test_admin_entry_points_are_governor_only(d: Deployment) -> None:
    m = d.market.functions
    for call in (
        m.applyConfig((0, 5_000, 500)),
        m.registerMode(1, d.addr("outsider"), CHALLENGE_WINDOW, DAY, 0),
        m.setModeEnabled(0, False),
        m.registerPricing(1, d.addr("outsider")),
        m.setPricingEnabled(1, True),
        m.setTokenAllowed(d.token.address, False),
        m.setPaused(True),
    ):
        for role in ("owner", "guardian"):
            with reverts("JobMarketNotGovernor") as caught:
                d.tx(role, call)
            assert caught.args == {"caller": d.addr(role)}


def test_owner_actions_wait_for_the_delay(d: Deployment) -> None:
    g = d.governor.functions
    new = (1_000, 30_000, 5_000)
    # The proposer itself cannot skip the timelock.
    with reverts("OwnableUnauthorizedAccount"):
        d.tx("owner", g.setConfig(d.market.address, new))
    # Nobody but a proposer schedules, and not under the minimum delay.
    with reverts("AccessControlUnauthorizedAccount"):
        d.tx("outsider", d.timelock.functions.schedule(d.governor.address, 0, b"", b"\0" * 32,
                                                       b"\0" * 32, TIMELOCK_DELAY))  # fmt: skip
    with reverts("TimelockInsufficientDelay"):
        d.schedule(g.setConfig(d.market.address, new), delay=TIMELOCK_DELAY - 1)
    operation = d.schedule(g.setConfig(d.market.address, new))
    scheduled_at = d.now()
    with reverts("TimelockUnexpectedOperationState"):
        d.tx("outsider", operation.execute(d.timelock))
    with reverts("TimelockUnexpectedOperationState"):
        d.tx_at(scheduled_at + TIMELOCK_DELAY - 1, "outsider", operation.execute(d.timelock))
    assert d.market.functions.config().call() == CONFIG
    receipt = d.tx_at(scheduled_at + TIMELOCK_DELAY, "outsider", operation.execute(d.timelock))
    assert tuple(event(d.market, receipt, "ConfigUpdated")["config"].values()) == new
    assert d.market.functions.config().call() == new
    # A proposer may cancel while it waits.
    cancelled = d.schedule(g.setConfig(d.market.address, CONFIG))
    d.tx("owner", cancelled.cancel(d.timelock))
    d.chain.increase_time(TIMELOCK_DELAY)
    with reverts("TimelockUnexpectedOperationState"):
        d.tx("outsider", cancelled.execute(d.timelock))


@pytest.mark.parametrize(
    ("config", "bounds"),
    [
        ((1_001, 10_000, 1_000), (0, 1_000)),
        ((250, 4_999, 1_000), (5_000, 30_000)),
        ((250, 30_001, 1_000), (5_000, 30_000)),
        ((250, 10_000, 499), (500, 5_000)),
        ((250, 10_000, 5_001), (500, 5_000)),
    ],
)
def test_governor_bounds_the_config(
    d: Deployment, config: tuple[int, int, int], bounds: tuple[int, int]
) -> None:
    with reverts("MarketGovernorParameterOutOfBounds") as caught:
        d.govern(d.governor.functions.setConfig(d.market.address, config))
    assert (caught.args["min"], caught.args["max"]) == bounds


@pytest.mark.parametrize(
    ("windows", "value"),
    [
        ((599, DAY), 599),  # a 1-second (or 9-minute) challenge window is not valid
        ((7 * DAY + 1, DAY), 7 * DAY + 1),
        ((CHALLENGE_WINDOW, DAY - 1), DAY - 1),
        ((CHALLENGE_WINDOW, 14 * DAY + 1), 14 * DAY + 1),
    ],
)
def test_governor_bounds_a_modes_windows(
    d: Deployment, windows: tuple[int, int], value: int
) -> None:
    module = _arbiter(d, *windows)
    with reverts("MarketGovernorParameterOutOfBounds") as caught:
        d.govern(d.governor.functions.registerMode(d.market.address, 1, module))
    assert caught.args["value"] == value


def test_governor_bounds_accept_the_edges(d: Deployment) -> None:
    g = d.governor.functions
    for config in ((0, 5_000, 500), (1_000, 30_000, 5_000)):
        d.govern(g.setConfig(d.market.address, config))
        assert d.market.functions.config().call() == config
    for mode, windows in ((1, (600, DAY)), (2, (7 * DAY, 14 * DAY))):
        module = _arbiter(d, *windows)
        receipt = d.govern(g.registerMode(d.market.address, mode, module))
        assert dict(event(d.market, receipt, "ModeRegistered")) == {
            "id": mode,
            "module": module,
            "challengeWindow": windows[0],
            "arbitrationWindow": windows[1],
            "hooks": 0,
        }
        assert d.market.functions.modeOf(mode).call() == (module, *windows, 0, False)


def test_a_mode_is_registered_once_and_enabled_only_when_registered(d: Deployment) -> None:
    g = d.governor.functions
    with reverts("MarketGovernorModeTaken") as caught:
        d.govern(g.registerMode(d.market.address, 0, _arbiter(d)))
    assert caught.args == {"id": 0, "module": d.arbiter.address}
    with reverts("MarketGovernorZeroAddress"):
        d.govern(g.registerMode(d.market.address, 3, ETH))
    with reverts("JobMarketModeUnknown"):
        d.govern(g.setModeEnabled(d.market.address, 3, True))
    with reverts("JobMarketVerificationDisabled"):
        d.create(verification=3)
    module = _arbiter(d)
    d.govern(g.registerMode(d.market.address, 3, module))
    with reverts("JobMarketVerificationDisabled"):  # registered, not yet enabled
        d.create(verification=3)
    receipt = d.govern(g.setModeEnabled(d.market.address, 3, True))
    assert dict(event(d.market, receipt, "ModeEnabled")) == {"id": 3, "enabled": True}
    d.create(verification=3)


def test_guardian_only_stops_new_jobs(d: Deployment) -> None:
    g, market = d.governor.functions, d.market.address
    job_id, job = d.create()
    other_id, other = d.create()
    d.tx("requester", d.market.functions.deposit(ETH, ETH_PRICE), value=ETH_PRICE)
    # Brakes act at once, for the guardian and for nobody else.
    with reverts("MarketGovernorNotGuardian") as caught:
        d.tx("outsider", g.pause(market))
    assert caught.args == {"caller": d.addr("outsider")}
    receipt = d.tx("guardian", g.pause(market))
    assert event(d.market, receipt, "Paused")["paused"] is True
    assert d.market.functions.paused().call()
    with reverts("JobMarketPaused"):
        d.create()
    # The guardian cannot turn anything on or change terms.
    for call in (
        g.unpause(market),
        g.setModeEnabled(market, 0, True),
        g.setTokenAllowed(market, d.token.address, True),
        g.setConfig(market, CONFIG),
        g.registerMode(market, 1, _arbiter(d)),
        g.setGuardian(d.addr("guardian")),
        g.withdrawFees(market, ETH, d.addr("guardian"), 1),
    ):
        with reverts("OwnableUnauthorizedAccount"):
            d.tx("guardian", call)
    # Everything but new jobs works: claim, submit, finalize, cancel, deposits, withdrawals.
    job = d.submit(job_id, d.claim(job_id, job))
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    d.tx("requester", d.market.functions.cancel(other_id, job_tuple(other)))
    d.tx("requester", d.market.functions.deposit(ETH, 1), value=1)
    d.tx("requester", d.market.functions.withdraw(ETH, d.addr("requester"), 2 * ETH_PRICE + 1))
    # The guardian also withdraws a mode or a token from new jobs; only the owner restores.
    receipt = d.tx("guardian", g.setModeEnabled(market, 0, False))
    assert dict(event(d.market, receipt, "ModeEnabled")) == {"id": 0, "enabled": False}
    receipt = d.tx("guardian", g.setTokenAllowed(market, d.token.address, False))
    assert dict(event(d.market, receipt, "TokenAllowed")) == {
        "token": d.token.address,
        "allowed": False,
    }
    for call in (g.unpause(market), g.setModeEnabled(market, 0, True)):
        d.govern(call)
    assert not d.market.functions.paused().call()
    d.create()


def test_the_owner_replaces_the_guardian(d: Deployment) -> None:
    g = d.governor.functions
    receipt = d.govern(g.setGuardian(d.addr("outsider")))
    assert dict(event(d.governor, receipt, "GuardianSet")) == {
        "previous": d.addr("guardian"),
        "guardian": d.addr("outsider"),
    }
    with reverts("MarketGovernorNotGuardian"):
        d.tx("guardian", g.pause(d.market.address))
    d.tx("outsider", g.pause(d.market.address))


def test_fees_leave_only_through_the_timelock(d: Deployment) -> None:
    job_id, job = d.create()
    job = d.submit(job_id, d.claim(job_id, job))
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    fee = ETH_PRICE * FEE_BPS // 10_000
    assert d.balance(d.fees) == fee
    g = d.governor.functions
    to = d.addr("relayer")
    for role in ("owner", "guardian", "outsider"):
        with reverts("OwnableUnauthorizedAccount"):
            d.tx(role, g.withdrawFees(d.market.address, ETH, to, fee))
    with reverts("MarketGovernorZeroAddress"):
        d.govern(g.withdrawFees(d.market.address, ETH, ETH, fee))
    before = d.chain.balance(to)
    receipt = d.govern(g.withdrawFees(d.market.address, ETH, to, fee))
    assert dict(event(d.governor, receipt, "FeesWithdrawn")) == {
        "market": d.market.address,
        "token": ETH,
        "to": to,
        "amount": fee,
    }
    assert d.chain.balance(to) == before + fee
    assert d.balance(d.fees) == 0 and d.chain.balance(d.governor.address) == 0
    with reverts("JobMarketInsufficientBalance"):  # only its own account, never escrow
        d.govern(g.withdrawFees(d.market.address, ETH, to, 1))


def test_terms_change_new_jobs_only(d: Deployment) -> None:
    old_id, old = d.create(requestDeadline=d.now() + 3 * DAY)  # still open after the delay
    d.govern(d.governor.functions.setConfig(d.market.address, (1_000, 20_000, 2_000)))
    _, new = d.create()
    assert [
        (j["terms"]["feeBps"], j["terms"]["collateral"], j["terms"]["disputeBond"])
        for j in (old, new)
    ] == [
        (FEE_BPS, ETH_PRICE * COLLATERAL_BPS // 10_000, ETH_PRICE * DISPUTE_BOND_BPS // 10_000),
        (1_000, 2 * ETH_PRICE, ETH_PRICE // 5),
    ]
    old = d.claim(old_id, old)
    assert d.locked("worker") == old["terms"]["collateral"]  # the old job's, as created
    old = d.submit(old_id, old)
    assert d.status(old_id)[1] == d.now() + CHALLENGE_WINDOW  # the mode's window, as created
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    finalized = event(d.market, d.finalize(old_id, old), "JobFinalized")
    assert finalized["fee"] == ETH_PRICE * FEE_BPS // 10_000 == d.balance(d.fees)
    assert d.status(old_id) == (SETTLED, 0)


def test_arbiter_rules_only_its_disputes_in_time(d: Deployment) -> None:
    rule = d.arbiter.functions.rule
    job_id, job = d.create()
    job = d.submit(job_id, d.claim(job_id, job))
    # Not disputed: nothing to rule.
    with reverts("JobMarketInvalidStatus"):
        d.tx("arbiter", rule(d.market.address, job_id, job_tuple(job), False))
    job = d.dispute(job_id, job)
    # Only its owner rules: not the protocol's proposer, not the guardian.
    for role in ("owner", "guardian"):
        with reverts("OwnableUnauthorizedAccount"):
            d.tx(role, rule(d.market.address, job_id, job_tuple(job), False))
    deadline = d.status(job_id)[1]
    with reverts("JobMarketArbitrationClosed"):
        d.tx_at(deadline + 1, "arbiter", rule(d.market.address, job_id, job_tuple(job), False))
    # Another mode's job is not its to decide.
    other = _arbiter(d)
    d.govern(d.governor.functions.registerMode(d.market.address, 1, other))
    d.govern(d.governor.functions.setModeEnabled(d.market.address, 1, True))
    other_id, other_job = d.create(verification=1, workTime=WORK_TIME)
    other_job = d.dispute(other_id, d.submit(other_id, d.claim(other_id, other_job)))
    with reverts("JobMarketVerdictPending"):
        d.tx("arbiter", rule(d.market.address, other_id, job_tuple(other_job), False))


def test_constructor_checks_initial_values(d: Deployment) -> None:
    sender = d.chain.sender(d.actors.owner)
    base = [
        d.governor.address,
        d.router.address,
        d.models.address,
        d.workers.address,
        CONFIG,
        [(0, d.arbiter.address)],
        [],
    ]

    def deploy(**changes: object) -> None:
        names = ("governor", "router", "models", "workers", "config", "modes", "tokens")
        args = [changes.get(n, v) for n, v in zip(names, base, strict=True)]
        sender.deploy("JobMarket", *args)

    with reverts("JobMarketZeroAddress"):
        deploy(governor=ETH)
    with reverts("JobMarketZeroAddress"):
        deploy(router=ETH)
    with reverts("MarketGovernorParameterOutOfBounds"):
        deploy(config=(1_001, COLLATERAL_BPS, DISPUTE_BOND_BPS))
    with reverts("MarketGovernorParameterOutOfBounds"):
        deploy(config=(FEE_BPS, 0, DISPUTE_BOND_BPS))
    with reverts("MarketGovernorParameterOutOfBounds"):
        deploy(config=(FEE_BPS, COLLATERAL_BPS, 0))
    with reverts("MarketGovernorParameterOutOfBounds"):
        deploy(modes=[(0, _arbiter(d, 1, DAY))])
    with reverts("JobMarketModeTaken"):
        deploy(modes=[(0, d.arbiter.address), (0, d.arbiter.address)])
    with reverts("JobMarketZeroAddress"):
        deploy(tokens=[ETH])
    market = sender.deploy("JobMarket", *base)
    assert Web3.to_checksum_address(market.functions.governor().call()) == d.governor.address
