"""CommitteeArbiter, the `none` tier's court (issue 14): a disputed optimistic job is judged
by a committee drawn from the ReexecVerifier pool, not by one key. Anyone opens the dispute
round, paying its fee; the committee re-runs the job and votes; its majority resolves the
dispute (a cheating worker is slashed, a minority member loses part of its bond); no majority
in time means the result stands. Attacks by each role, and every deadline enforced by an
outsider. Each test ends with the court's books: its ETH equals its members' bonds plus the
balances it credited."""

from __future__ import annotations

from typing import Any

import pytest

from inferchain.market import Market, MarketConfig, deploy_market
from inferchain.market.deploy import ReexecConfig
from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    CHALLENGE_WINDOW,
    ETH_PRICE,
    SETTLED,
    TOKEN_PRICE,
    Deployment,
    event,
    events,
    job_tuple,
    reverts,
)
from tests.contracts.test_reexec_verifier import (
    COMMIT_WINDOW,
    DRAW_WINDOW,
    FEE_PER_VERIFIER,
    MIN_BOND,
    PARAMS,
    PENDING,
    REVEAL_WINDOW,
    SHARE,
    SLASH_BPS,
    VERIFY_FEE,
    WORKER_LOSES,
    WORKER_WINS,
    K,
    Reexec,
    bonded_pool,
)
from tests.contracts.test_reexec_verifier import (
    MODE as COURT_MODE,
)

MODE = 3  # the committee-judged optimistic mode under test (production's is mode 0)
DISPUTE_FEE = VERIFY_FEE
SLASH = MIN_BOND * SLASH_BPS // 10_000
ROUND = DRAW_WINDOW + COMMIT_WINDOW + REVEAL_WINDOW


class Court:
    """A market whose mode MODE is a CommitteeArbiter judged by `r`'s pool (mode COURT_MODE)."""

    def __init__(self, r: Reexec, arbiter: Any) -> None:
        self.r, self.d, self.arbiter = r, r.d, arbiter
        self.module = r.module
        self.opened: list[int] = []

    def disputed(self, model: int | None = None) -> tuple[int, dict]:
        """A job of mode MODE, submitted and disputed by its requester."""
        job_id, job = self.d.create(verification=MODE, **({"model": model} if model else {}))
        job = self.d.submit(job_id, job)
        self.d.dispute(job_id, job)
        return job_id, job

    def open(
        self, job_id: int, job: dict, role: str = "requester", value: int = DISPUTE_FEE
    ) -> Any:
        call = self.module.functions.openDispute(job_id, job_tuple(job))
        receipt = self.d.tx(role, call, value=value)
        self.opened.append(job_id)
        return receipt

    def conserved(self) -> None:
        self.r.conserved(tuple(self.opened))

    def judged(
        self, votes: list[bool | None], model: int | None = None
    ) -> tuple[int, dict, list[str]]:
        """A disputed job whose round was opened and drawn, member i voting votes[i]."""
        job_id, job = self.disputed(model)
        self.open(job_id, job)
        committee = self.r.draw(job_id)
        ballots = {
            m: self.r.vote(job_id, m, v)
            for m, v in zip(committee, votes, strict=True)
            if v is not None
        }
        if len(ballots) < K:
            self.d.chain.increase_time(DRAW_WINDOW + COMMIT_WINDOW + 1)
        for member, ballot in ballots.items():
            self.r.reveal(job_id, member, ballot)
        return job_id, job, committee

    def resolve(self, job_id: int, job: dict) -> Any:
        receipt = self.d.tx(
            "outsider", self.d.market.functions.resolveDispute(job_id, job_tuple(job))
        )
        return event(self.d.market, receipt, "DisputeResolved")

    def verdict(self, job_id: int, job: dict) -> int:
        return self.arbiter.functions.verdict(job_id, job_tuple(job)).call(
            {"from": self.d.market.address}
        )


def _deploy_arbiter(d: Deployment, court_mode: int = COURT_MODE) -> Any:
    owner = d.chain.sender(d.actors.owner)
    return owner.deploy("CommitteeArbiter", court_mode, CHALLENGE_WINDOW, ARBITRATION_WINDOW)


def _register(d: Deployment, mode: int, module: str) -> None:
    d.govern(d.governor.functions.registerMode(d.market.address, mode, module))
    d.govern(d.governor.functions.setModeEnabled(d.market.address, mode, True))


@pytest.fixture
def r(d: Deployment) -> Reexec:
    return bonded_pool(d)


@pytest.fixture
def c(r: Reexec, d: Deployment) -> Court:
    return court(r)


def test_a_cheating_worker_is_voted_down_and_slashed(c: Court, d: Deployment) -> None:
    before = d.balance("requester")
    job_id, job = c.disputed()
    assert job["terms"]["verifyFee"] == 0  # the optimistic tier costs nothing unless disputed
    with reverts("JobMarketVerdictPending"):  # no key decides: nothing before the committee
        c.resolve(job_id, job)
    opened = event(c.module, c.open(job_id, job), "DisputeRoundOpened")
    assert (opened["opener"], opened["fee"]) == (d.addr("requester"), DISPUTE_FEE)
    committee = c.r.draw(job_id)
    assert not {d.addr("worker"), d.addr("requester")} & set(committee)
    ballots = {m: c.r.vote(job_id, m, False) for m in committee}
    assert c.verdict(job_id, job) == PENDING  # commitments hide the votes
    for member, ballot in ballots.items():
        c.r.reveal(job_id, member, ballot)
    assert c.verdict(job_id, job) == WORKER_LOSES
    # The same round's verdict is not a reexec-mode verdict: it cannot finalize anything else.
    assert c.module.functions.verdict(job_id, job_tuple(job)).call() == PENDING
    resolved = c.resolve(job_id, job)
    assert resolved["workerWins"] is False and resolved["slashed"] > 0
    back = ETH_PRICE + job["terms"]["disputeBond"] + resolved["slashed"]
    assert d.balance("requester") - before == back
    assert d.status(job_id)[0] == SETTLED
    settled = event(c.module, c.r.settle(job_id), "RoundSettled")
    assert (settled["winners"], settled["paid"], settled["toRequester"]) == (K, DISPUTE_FEE, 0)
    assert [c.module.functions.balanceOf(m).call() for m in committee] == [FEE_PER_VERIFIER] * K
    c.conserved()


def test_an_honest_worker_wins_and_a_minority_member_pays(c: Court, d: Deployment) -> None:
    job_id, job, committee = c.judged([True, True, False])
    assert c.verdict(job_id, job) == WORKER_WINS
    worker_before = d.balance("worker")
    resolved = c.resolve(job_id, job)
    assert resolved["workerWins"] is True
    # Its share, and the requester's dispute bond for the dispute it won.
    assert d.balance("worker") - worker_before == SHARE + job["terms"]["disputeBond"]
    penalised = events(c.module, c.r.settle(job_id), "MemberPenalised")
    assert [p["verifier"] for p in penalised] == [committee[2]]
    assert c.module.functions.memberOf(committee[2]).call()[0] == MIN_BOND - SLASH
    share = FEE_PER_VERIFIER * K // 2 + SLASH // 2
    assert [c.module.functions.balanceOf(m).call() for m in committee[:2]] == [share] * 2
    c.conserved()


@pytest.mark.parametrize("votes", [[None, None, None], [True, False, None]])
def test_no_majority_lets_the_result_stand(c: Court, d: Deployment, votes: list) -> None:
    """Attack 1 again: a silent or split committee must not hand the disputer a free result.
    After the arbitration deadline an outsider expires the dispute (the worker is paid, the
    bond goes back) and settles the round (unearned fee and slashes to the requester)."""
    job_id, job, _committee = c.judged(votes)
    d.chain.increase_time(ROUND + 1)
    assert c.verdict(job_id, job) == PENDING
    with reverts("JobMarketVerdictPending"):
        c.resolve(job_id, job)
    with reverts("ReexecMarketNotSettled"):  # the market's dispute is still open
        c.r.settle(job_id)
    d.chain.increase_time(ARBITRATION_WINDOW)
    worker_before = d.balance("worker")
    receipt = d.tx("outsider", d.market.functions.expireDispute(job_id, job_tuple(job)))
    assert event(d.market, receipt, "JobFinalized")["workerAmount"] == SHARE
    assert d.balance("worker") - worker_before == SHARE
    settled = event(c.module, c.r.settle(job_id), "RoundSettled")
    # Silent: the whole fee and three slashes; split: the revealers keep their shares (a
    # tie), the silent member's share and slash go to the requester.
    silent = votes.count(None)
    forfeited = DISPUTE_FEE if silent == K else silent * FEE_PER_VERIFIER
    assert settled["toRequester"] == forfeited + silent * SLASH
    c.conserved()


def test_opening_a_round_is_checked(c: Court, r: Reexec, d: Deployment) -> None:
    f = c.module.functions
    job_id, job = c.disputed()
    with reverts("ReexecWrongFee"):
        c.open(job_id, job, value=DISPUTE_FEE - 1)
    with reverts("ReexecWrongFee"):
        c.open(job_id, job, value=DISPUTE_FEE + 1)
    with reverts("ReexecJobMismatch"):  # a forged tuple (another worker) cannot be judged
        c.open(job_id, {**job, "worker": d.addr("worker2")})
    with reverts("ReexecJobMismatch"):
        c.open(job_id + 1_000, job)
    # Not disputed: submitted only.
    undisputed, ujob = d.create(verification=MODE)
    ujob = d.submit(undisputed, ujob)
    with reverts("ReexecNotDisputed"):
        c.open(undisputed, ujob)
    # A ManualArbiter job (mode 0 here) is not this court's to judge.
    manual, mjob = d.create()
    mjob = d.submit(manual, mjob)
    d.dispute(manual, mjob)
    with reverts("ReexecNotCourtOf"):
        c.open(manual, mjob)
    # A reexec-mode job has its own round already.
    reexec_id, _rjob, _ = r.submitted()
    with reverts("ReexecWrongStage"):
        d.tx("outsider", f.openDispute(reexec_id, job_tuple(_rjob)), value=DISPUTE_FEE)
    # Anyone may open (a stranger paying for the requester's dispute); only once.
    c.open(job_id, job, role="outsider")
    with reverts("ReexecWrongStage"):
        c.open(job_id, job)
    c.conserved()


def test_a_round_that_could_not_end_in_time_is_refused(c: Court, d: Deployment) -> None:
    job_id, job = c.disputed()
    _status, deadline = d.status(job_id)
    latest = deadline - DRAW_WINDOW - COMMIT_WINDOW - 2 * REVEAL_WINDOW
    d.at(latest + 1)
    with reverts("ReexecDisputeTooLate"):
        c.d.tx(
            "requester",
            c.module.functions.openDispute(job_id, job_tuple(job)),
            value=DISPUTE_FEE,
            block="pending",
        )
    d.chain.mine()  # the refused open's block time, so new jobs are created from there
    # The last second still works, and the whole round, plus a reveal window to resolve,
    # ends before the market's deadline.
    job_id, job = c.disputed()
    _status, deadline = d.status(job_id)
    latest = deadline - DRAW_WINDOW - COMMIT_WINDOW - 2 * REVEAL_WINDOW
    d.at(latest)
    c.open(job_id, job)
    committee = c.r.draw(job_id)
    ballots = {m: c.r.vote(job_id, m, False) for m in committee}
    d.chain.increase_time(DRAW_WINDOW + COMMIT_WINDOW)
    for member, ballot in ballots.items():
        c.r.reveal(job_id, member, ballot)
    assert d.now() < deadline
    assert c.resolve(job_id, job)["workerWins"] is False
    c.conserved()


def test_a_pool_too_small_for_a_committee_is_refused(d: Deployment) -> None:
    """A court whose pool cannot seat k members plus the two parties opens no round; the
    dispute then expires like a silent one (tested above)."""
    empty = d.chain.sender(d.actors.owner).deploy("ReexecVerifier", d.market.address, PARAMS)
    _register(d, 4, empty.address)
    arbiter = _deploy_arbiter(d, court_mode=4)
    _register(d, 5, arbiter.address)
    job_id, job = d.create(verification=5)
    job = d.submit(job_id, job)
    d.dispute(job_id, job)
    with reverts("ReexecPoolTooSmall"):
        d.tx("requester", empty.functions.openDispute(job_id, job_tuple(job)), value=DISPUTE_FEE)


def test_token_jobs_are_judged_too(c: Court, d: Deployment) -> None:
    """The job's money is tokens; the round's fee and the bonds are ETH."""
    d.tx("requester", d.token.functions.approve(d.market.address, TOKEN_PRICE))
    before = d.balance("requester", d.token.address)
    job_id, job, _committee = c.judged([False, False, False], model=d.token_model)
    resolved = c.resolve(job_id, job)
    assert resolved["workerWins"] is False
    back = TOKEN_PRICE + job["terms"]["disputeBond"] + resolved["slashed"]
    assert d.balance("requester", d.token.address) - before == back
    c.r.settle(job_id)
    c.conserved()


def test_the_arbiter_answers_only_for_its_own_court(c: Court, d: Deployment) -> None:
    """Stateless and shareable: it asks the calling market's court, and a court serving
    another market never rules here (a job id means another job there)."""
    a = c.arbiter.functions
    assert a.courtMode().call() == COURT_MODE
    assert a.courtOf(d.market.address).call() == c.module.address
    assert (a.hooks().call(), a.challengeWindow().call(), a.arbitrationWindow().call()) == (
        0, CHALLENGE_WINDOW, ARBITRATION_WINDOW,
    )  # fmt: skip
    job_id, _job, _ = c.judged([False, False, False])
    assert a.verdictOf(d.market.address, job_id).call() == WORKER_LOSES
    other = d.another_market()
    assert a.courtOf(other.address).call() == "0x" + "00" * 20
    assert a.verdictOf(other.address, job_id).call() == PENDING
    # A court mode holding a module that serves another market: never a verdict here.
    foreign = d.chain.sender(d.actors.owner).deploy("ReexecVerifier", other.address, PARAMS)
    _register(d, 6, foreign.address)
    misled = _deploy_arbiter(d, court_mode=6)
    assert misled.functions.courtOf(d.market.address).call() == foreign.address
    assert misled.functions.verdictOf(d.market.address, job_id).call() == PENDING
    # Bounds: windows outside the governor's are refused at deployment.
    with reverts("MarketGovernorParameterOutOfBounds"):
        d.chain.sender(d.actors.owner).deploy(
            "CommitteeArbiter", COURT_MODE, 60, ARBITRATION_WINDOW
        )
    with reverts("MarketGovernorParameterOutOfBounds"):
        d.chain.sender(d.actors.owner).deploy("CommitteeArbiter", COURT_MODE, CHALLENGE_WINDOW, 60)
    c.conserved()


def test_a_default_deployment_has_no_dispute_key(d: Deployment) -> None:
    """`deploy_market`'s default mode 0 is a CommitteeArbiter whose court is the deployment's
    own ReexecVerifier; the one-key ManualArbiter is opt-in, and a committee without a pool,
    or with an arbitration window no round fits, is refused before anything is sent."""
    m = deploy_market(d.chain, d.actors.outsider, MarketConfig(metered_pricing=False), reexec=True)
    assert m.reexec is not None
    assert m.jobs.functions.modeOf(0).call()[0] == m.arbiter.address
    assert m.arbiter.functions.courtOf(m.jobs.address).call() == m.reexec.address
    assert Market.at(d.chain, m.jobs.address).arbiter.functions.courtMode().call() == 2
    with pytest.raises(ValueError, match="needs the reexec mode"):
        deploy_market(d.chain, d.actors.outsider, MarketConfig())
    slow = ReexecConfig(draw_window=40_000, commit_window=40_000, reveal_window=5_000,
                        challenge_window=90_000)  # fmt: skip
    tight = MarketConfig(reexec=slow)
    with pytest.raises(ValueError, match="cannot fit a dispute round"):
        deploy_market(d.chain, d.actors.outsider, tight, reexec=True)
    manual = deploy_market(d.chain, d.actors.outsider, MarketConfig(disputes="manual"))
    assert Market.at(d.chain, manual.jobs.address).arbiter.functions.owner().call()


def committee_dispute_gas(c: Court) -> dict[str, int]:
    """Gas of one judged dispute of an optimistic job, step by step: dispute, openDispute,
    draw, k commits, k reveals, resolveDispute, settle (also `scripts/bench_verification.py`'s
    `gas_committee_dispute`)."""
    d = c.d
    job_id, job = d.create(verification=MODE)
    job = d.submit(job_id, job)
    start = d.chain.w3.eth.block_number
    d.dispute(job_id, job)
    c.open(job_id, job)
    committee = c.r.draw(job_id)  # mines the seed block first: an empty block
    ballots = {m: c.r.vote(job_id, m, False) for m in committee}
    for member, ballot in ballots.items():
        c.r.reveal(job_id, member, ballot)
    c.resolve(job_id, job)
    c.r.settle(job_id)
    end = d.chain.w3.eth.block_number
    w3 = d.chain.w3
    hashes = [t for n in range(start + 1, end + 1) for t in w3.eth.get_block(n)["transactions"]]
    steps = [w3.eth.get_transaction_receipt(t)["gasUsed"] for t in hashes]
    names = ["dispute", "openDispute", "draw"] + [f"commit{i + 1}" for i in range(K)]
    names += [f"reveal{i + 1}" for i in range(K)] + ["resolveDispute", "settle"]
    assert len(steps) == len(names)
    return {**dict(zip(names, steps, strict=True)), "total": sum(steps)}


def court(r: Reexec) -> Court:
    """A CommitteeArbiter judged by `r`'s pool, registered as mode MODE of `r`'s market."""
    arbiter = _deploy_arbiter(r.d)
    _register(r.d, MODE, arbiter.address)
    return Court(r, arbiter)


def test_gas_of_a_committee_dispute(c: Court, d: Deployment) -> None:
    """What a disputed optimistic job costs on top of its lifecycle, all parties together."""
    steps = committee_dispute_gas(c)
    gas = steps.pop("total")
    print(f"gas_committee_dispute {gas} ({' '.join(f'{n}={g}' for n, g in steps.items())})")
    assert gas < 1_500_000


def _escrow(d: Deployment, *extra: str) -> int:
    """ETH the market holds beyond what it credited to the parties (the live escrow)."""
    held = d.chain.w3.eth.get_balance(d.market.address)
    roles = ("requester", "worker", "worker2", "provider", "outsider")
    accounts = [d.addr(role) for role in roles] + [d.fees, *extra]
    return held - sum(d.balance(a) for a in accounts)


def test_a_dispute_nobody_takes_to_the_court_expires_for_the_worker(
    c: Court, d: Deployment
) -> None:
    """Attack: the requester disputes to hold the worker's pay and never opens a round. The
    pay is only delayed to the arbitration deadline; anyone then expires the dispute, the
    market's escrow for the job goes out to the letter, and the court holds nothing."""
    base = _escrow(d, c.module.address)
    job_id, job = c.disputed()
    assert _escrow(d, c.module.address) == base + ETH_PRICE + job["terms"]["disputeBond"]
    _status, deadline = d.status(job_id)
    d.chain.increase_time(deadline - d.now() + 1)
    with reverts("ReexecDisputeTooLate"):  # too late for a round now
        c.open(job_id, job)
    worker_before = d.balance("worker")
    d.tx("outsider", d.market.functions.expireDispute(job_id, job_tuple(job)))
    assert d.balance("worker") - worker_before == SHARE
    assert _escrow(d, c.module.address) == base
    assert c.module.functions.roundOf(job_id).call()[3] == 0  # Stage.None: no round, no fee
    c.conserved()


def test_the_guardian_stopping_reexec_jobs_does_not_stop_the_court(c: Court, d: Deployment) -> None:
    """Disabling mode 2 stops new `reexec` jobs only; the pool still judges disputes (the
    guardian cannot silence the court to favour either side)."""
    d.tx("guardian", d.governor.functions.setModeEnabled(d.market.address, COURT_MODE, False))
    with reverts("JobMarketVerificationDisabled"):
        c.r.create()
    job_id, job, _committee = c.judged([False, False, False])
    assert c.resolve(job_id, job)["workerWins"] is False
    c.r.settle(job_id)
    c.conserved()
