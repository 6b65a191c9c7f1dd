"""Stateful property test: random lifecycles across several actors, both payment kinds and
two markets sharing one worker registry and one router, with the first market's verification
modules: a ReexecVerifier (mode REEXEC, a bonded pool of seven) and a CommitteeArbiter (mode
COURT) whose disputes that pool judges.

Rules create jobs (paid directly or from a deposit by signed request, in ETH or the token, of
mode 0, REEXEC (ETH only, its verification fee escrowed) or COURT), move a random live job
along a random edge of the state machine (claim, submit, report failure, timeout, cancel,
expire, dispute, resolve either way, expire a dispute, finalize, and the too-early variants
that must revert), move a module's round (draw, commit and reveal random votes, some members
silent, settle; a COURT job's dispute round opened and paid; late, early and repeated moves
must revert), withdraw balances (the market's and the module's), top up slashed bonds, and
move workers' stakes (stake and allocate, deallocate, unstake, leave and return). After every
step, for each token and each market: what the market holds == escrowed prices and
verification fees of live jobs + dispute bonds + owed balances (the module's among them: it
earns a fee at the job's settlement after a submission, the requester gets it back before
one, and the round's settlement withdraws it); what the module holds == its members' bonds +
the balances it credited + the fees of open dispute rounds; what the registry holds == the
sum of stakes == totalStaked; each worker's allocations <= its stake, and its `lockedOf` in
each market == the collateral of its Claimed, Submitted and Disputed jobs there <= its
allocation to that market; and the balances, stakes, allocations, locks, records, job
statuses, rounds, committees (the draw recomputed off-chain), bonds and seats the model
predicts are the chain's, slashes included (a worker's to the requester, a silent or
minority member's to the majority, or to the requester when no side won). CI runs >= 300
steps (seeded); `test_books_always_balance_long` runs 10,000 random ones
(`.venv/bin/pytest -m slow tests/contracts/test_invariants.py`), and any size can be asked
for:

    INFERCHAIN_PROPERTY_EXAMPLES=100 INFERCHAIN_PROPERTY_STEPS=100 \\
        .venv/bin/pytest tests/contracts/test_invariants.py
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from web3.contract import Contract
from web3.types import TxReceipt

from inferchain.chain import ContractReverted
from tests.contracts.court_model import (
    DRAWN_STAGE,
    SETTLED_STAGE,
    SUBMITTED_STAGE,
    ModelPool,
    ModelRound,
    vote_hash,
)
from tests.contracts.helpers import (
    CLAIMED,
    DISPUTE_BOND_BPS,
    DISPUTED,
    ETH,
    OPEN,
    SETTLED,
    STAKE,
    SUBMITTED,
    TOKEN_STAKE,
    Deployment,
    cid,
    event,
    events,
    job_from_created,
    job_tuple,
    request_tuple,
    result_tuple,
    sign_request,
)
from tests.contracts.test_committee_arbiter import DISPUTE_FEE, _deploy_arbiter, _register
from tests.contracts.test_reexec_verifier import (
    COMMIT_WINDOW,
    DRAW_WINDOW,
    FEE_PER_VERIFIER,
    MIN_BOND,
    PENDING,
    REVEAL_WINDOW,
    WORKER_LOSES,
    WORKER_WINS,
    K,
    Reexec,
    bonded_pool,
)
from tests.contracts.test_reexec_verifier import MODE as REEXEC

EXAMPLES = int(os.environ.get("INFERCHAIN_PROPERTY_EXAMPLES", "10"))
STEPS = int(os.environ.get("INFERCHAIN_PROPERTY_STEPS", "30"))
REQUESTERS = ("requester", "requester2")
WORKERS = ("worker", "worker2")
MARGIN = 30  # seconds kept before a deadline, so that the next block cannot cross it
# What one step does, weighted by repetition.
COURT = 3  # the CommitteeArbiter's mode on the first market, judged by the REEXEC pool
OPERATIONS = ("advance",) * 5 + ("create",) * 2 + ("round",) * 4
OPERATIONS += ("withdraw", "withdraw", "worker", "wait", "bond")
# Verification modes of new jobs on the first market (the second has mode 0 only).
MODES = (0, REEXEC, REEXEC, COURT, COURT)
# Edges out of each status, weighted the same way; the "early_" ones must revert.
EDGES = {
    OPEN: ("claim", "claim", "submit_open", "submit_open", "cancel", "expire", "early_expire"),
    CLAIMED: ("submit", "submit", "submit", "report_failure", "timeout", "early_timeout"),
    SUBMITTED: ("finalize", "finalize", "dispute", "dispute", "early_finalize"),
    DISPUTED: ("resolve_win", "resolve_lose", "expire_dispute", "early_expire_dispute"),
}
# A disputed job of a module's mode is resolved by anyone once the committee decided; a
# committee-judged one first needs its dispute round opened (and paid), so such jobs are
# disputed more often.
_JUDGED = ("resolve", "expire_dispute", "early_expire_dispute")
MODE_EDGES = {
    0: EDGES,
    REEXEC: {**EDGES, DISPUTED: ("resolve", *_JUDGED)},
    COURT: {
        **EDGES,
        SUBMITTED: ("finalize", "dispute", "dispute", "dispute", "early_finalize"),
        DISPUTED: ("open_dispute", "open_dispute", "open_dispute", *_JUDGED),
    },
}
# Steps of a round by stage; each turns into its must-revert variant when too early or late.
ROUND_EDGES = {
    SUBMITTED_STAGE: ("draw", "draw", "settle"),
    DRAWN_STAGE: ("commit", "commit", "reveal", "reveal", "settle"),
}


@dataclass
class ModelJob:
    market: Contract
    job_id: int
    job: dict[str, Any]
    status: int
    deadline: int
    requester: str
    worker: str | None = None

    @property
    def key(self) -> tuple[str, int]:
        return self.market.address, self.job_id

    @property
    def mode(self) -> int:
        return self.job["terms"]["verification"]


@dataclass
class ModelStake:
    """A worker's stake in one token, its allocation to each market and what is locked in
    each (both keyed by the market's address)."""

    stake: int
    allocations: dict[str, int]
    locked: dict[str, int]

    @property
    def allocated(self) -> int:
        return sum(self.allocations.values())


@dataclass
class ModelWorker:
    stakes: dict[str, ModelStake]
    registered: bool = True
    #: Exposure counters by market: paid, failed, timedOut, disputesLost, disputesWon (all
    #: tokens together).
    records: dict[str, Counter[str]] = field(default_factory=dict)


@dataclass
class Model:
    jobs: dict[tuple[str, int], ModelJob] = field(default_factory=dict)
    #: Balances by (market, account, token).
    owed: dict[tuple[str, str, str], int] = field(default_factory=dict)
    workers: dict[str, ModelWorker] = field(default_factory=dict)
    #: The verification module's rounds, by job key (first market only).
    rounds: dict[tuple[str, int], ModelRound] = field(default_factory=dict)


class MarketMachine(RuleBasedStateMachine):
    d: Deployment  # set by the test before running
    second: Contract  # the second market on the same registry and router, likewise
    court: Reexec  # the first market's REEXEC module and its pool's keys, likewise
    seen: ClassVar[Counter[str]] = Counter()  # edges taken over the whole run

    def __init__(self) -> None:
        super().__init__()
        d = self.d
        self.snapshot = d.chain.snapshot()
        self.model = Model()
        self.markets = (d.market, self.second)
        token, m1, m2 = d.token.address, d.market.address, self.second.address
        # Deployed with its stakes allocated to the first market; it allocates to the second
        # here, the same again.
        self.model.workers = {}
        for role, eth in (("worker", 2 * STAKE), ("worker2", STAKE)):
            d.stake_and_allocate(role, ETH, eth, venue=m2)
            d.stake_and_allocate(role, token, TOKEN_STAKE, venue=m2)
            self.model.workers[role] = ModelWorker(
                {
                    t: ModelStake(2 * amount, {m1: amount, m2: amount}, {m1: 0, m2: 0})
                    for t, amount in ((ETH, eth), (token, TOKEN_STAKE))
                },
                records={m1: Counter(), m2: Counter()},
            )
        self.touched_accounts: set[tuple[str, str, str]] = set()
        self.touched_jobs: set[tuple[str, int]] = set()
        self.touched_rounds: set[tuple[str, int]] = set()
        self.pool = ModelPool.bonded(self.court.module.functions.pool().call())
        self.module = self.court.module
        self.nonce = 0
        for role in REQUESTERS:
            for market in self.markets:
                d.tx(role, d.token.functions.approve(market.address, 2**255))

    def teardown(self) -> None:
        for key in self.model.jobs:
            self._check_job(key)
        for key in self.model.rounds:
            self._check_round(key)
        self.d.chain.revert(self.snapshot)

    # -- creation ----------------------------------------------------------------------

    # Hypothesis' stateful runs switch random subsets of rules off per example (swarm
    # testing); with one rule drawing weighted operations, every run goes deep enough.
    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        # Choices come from a Hypothesis-driven Random: sampled_from would favour first entries.
        self.rnd = data.draw(st.randoms(use_true_random=False), label="choices")
        operation = self.rnd.choice(OPERATIONS)
        module_jobs = sorted(
            k for k, m in self.model.jobs.items() if m.status != SETTLED and m.mode != 0
        )
        if operation == "round" and not self._open_rounds():
            # No round yet: move a module's job towards one (a submission or a dispute).
            operation = "module job" if module_jobs else "advance"
        if operation == "advance" and not any(
            m.status != SETTLED for m in self.model.jobs.values()
        ):
            operation = "create"
        if operation == "create":
            rnd = self.rnd
            market = rnd.choice((*self.markets, self.d.market))  # the modules' market first
            mode = rnd.choice(MODES) if market == self.d.market else 0
            self.create(
                market,
                rnd.choice(REQUESTERS),
                mode != REEXEC and rnd.random() < 0.5,  # the module's fees are ETH only
                rnd.random() < 0.5,
                rnd.randint(0, 3),
                mode,
            )
        elif operation == "advance":
            self.advance(data)
        elif operation == "module job":
            self.advance_job(self.model.jobs[self.rnd.choice(module_jobs)], data)
        elif operation == "round":
            # Rounds whose committee may still act first: time moves on in other steps.
            keys = [k for k in self._open_rounds() if self._voting(self.model.rounds[k])]
            key = self.rnd.choice(keys or self._open_rounds())
            self.round_step(self.model.rounds[key], data)
        elif operation == "bond":
            self.bond()
        elif operation == "withdraw":
            roles = (*REQUESTERS, *WORKERS, "provider")
            self.withdraw(
                self.rnd.choice(self.markets),
                self.rnd.choice(roles),
                self.rnd.random() < 0.5,
                self.rnd.choice((1, 2, 10)),
            )
        elif operation == "worker":
            actions = ("stake", "deallocate", "unstake", "leave_or_return")
            self.worker_churn(self.rnd.choice(WORKERS), self.rnd.choice(actions))
        elif self.rnd.random() < 0.1:
            self.govern_fee(self.rnd.choice((0, 100, 1_000)))
        else:
            self.d.chain.increase_time(self.rnd.choice((5, 120, 900)))

    def create(
        self,
        market: Contract,
        requester: str,
        token_job: bool,
        signed: bool,
        excess: int,
        mode: int = 0,
    ) -> None:
        """A job of verification `mode`; a REEXEC one escrows its verification fee (k times
        feePerVerifier) with its price, and the caller's maxPrice covers both."""
        d = self.d
        request = d.request(model=d.token_model) if token_job else d.request()
        request["verification"] = mode
        if mode == REEXEC:
            request["maxPrice"] += K * FEE_PER_VERIFIER
        token, price = (d.token.address if token_job else ETH), request["maxPrice"]
        if signed:  # paid from a deposit, relayed by someone else
            d.tx(requester, market.functions.deposit(token, price), value=0 if token_job else price)
            self.nonce += 1
            signed_request = sign_request(
                d,
                getattr(d.actors, requester),
                request,
                nonce=self.nonce,
                expiry=d.now() + 600,
                market=market.address,
            )
            if self.rnd.random() < 0.3:
                receipt = self._relay_batch(market, requester, request, signed_request)
            else:
                receipt = d.tx("relayer", d.router.functions.createJobFor(signed_request))
                self.seen["createJobFor"] += 1
        else:
            if not token_job:
                request["maxPrice"] = price + excess
                self._credit(market, d.addr(requester), ETH, excess)
            value = 0 if token_job else price + excess
            receipt = d.tx(
                requester,
                market.functions.createJob(d.addr(requester), request_tuple(request)),
                value=value,
            )
            self.seen["createJob"] += 1
        created = event(market, receipt, "JobCreated")
        job = ModelJob(
            market,
            created["jobId"],
            job_from_created(created),
            OPEN,
            created["requestDeadline"],
            requester,
        )
        assert job.job["terms"]["verifyFee"] == (K * FEE_PER_VERIFIER if mode == REEXEC else 0)
        self.model.jobs[job.key] = job
        self.touched_jobs.add(job.key)
        self.seen[f"created in market {self.markets.index(market) + 1}"] += 1
        self.seen[f"created in mode {mode}"] += 1

    def _relay_batch(
        self, market: Contract, requester: str, request: dict, signed_request: tuple
    ) -> TxReceipt:
        """Relay `signed_request` in a batch beside two stale items, which must be skipped
        without moving a wei: itself again (its nonce used by then) and a request priced
        under the model's price."""
        d = self.d
        self.nonce += 1
        too_cheap = sign_request(
            d,
            getattr(d.actors, requester),
            {**request, "maxPrice": request["maxPrice"] - 1},
            nonce=self.nonce,
            expiry=d.now() + 600,
            market=market.address,
        )
        batch = [signed_request, signed_request, too_cheap]
        receipt = d.tx("relayer", d.router.functions.createJobsFor(batch))
        assert [e["nonce"] for e in events(d.router, receipt, "RequestSkipped")] == [
            self.nonce - 1,
            self.nonce,
        ]
        assert not d.router.functions.nonceUsed(d.addr(requester), self.nonce).call()
        self.seen["createJobsFor"] += 1
        return receipt

    # -- one step of one job -----------------------------------------------------------

    def advance(self, data: st.DataObject) -> None:
        live = sorted(k for k, m in self.model.jobs.items() if m.status != SETTLED)
        m = self.model.jobs[self.rnd.choice(live)]
        r = self.model.rounds.get(m.key)
        if r is not None and self._voting(r) and self.rnd.random() < 0.7:
            # Its committee at work: the job's own timed edges would mostly end the round.
            self.round_step(r, data)
            return
        self.advance_job(m, data)

    def advance_job(self, m: ModelJob, data: st.DataObject, edge: str | None = None) -> None:
        """Take `edge` (by default a random one) out of `m`'s status."""
        edge = edge or self.rnd.choice(MODE_EDGES[m.mode][m.status])
        # A REEXEC job whose committee decided is final at once, either way.
        decided = edge.endswith("finalize") and self._verdict(m) != PENDING
        phase = self._phase(m.deadline)
        if edge.startswith("early_"):
            if phase == "before" and not decided:
                self._early(m, edge)
            return
        needs_time = edge in ("expire", "timeout", "finalize", "expire_dispute") and not decided
        if needs_time and phase != "after":
            self.d.chain.increase_time(m.deadline - self.d.now() + 1)
        elif not needs_time and edge != "cancel" and not decided and phase != "before":
            return  # too close to (or past) the deadline to try a before-deadline edge
        getattr(self, f"_{edge}")(m, data)
        self.seen[edge] += 1

    def _early(self, m: ModelJob, edge: str) -> None:
        fns, t = m.market.functions, job_tuple(m.job)
        call, error = {
            "early_expire": (fns.expire(m.job_id, t), "JobMarketRequestNotExpired"),
            "early_timeout": (fns.timeout(m.job_id, t), "JobMarketClaimNotExpired"),
            "early_finalize": (fns.finalize(m.job_id, t), "JobMarketChallengeWindowOpen"),
            "early_expire_dispute": (fns.expireDispute(m.job_id, t), "JobMarketArbitrationOpen"),
        }[edge]
        with pytest.raises(ContractReverted, match=error):
            self.d.tx("outsider", call)
        self.seen[edge] += 1

    def _claim(self, m: ModelJob, data: st.DataObject) -> None:
        d = self.d
        call = m.market.functions.claim(m.job_id, job_tuple(m.job))
        eligible = [w for w in WORKERS if self._eligible(w, m)]
        if not eligible:  # no allocation covers the collateral now
            with pytest.raises(ContractReverted, match="JobMarketAllocationExceeded"):
                d.tx(self.rnd.choice(WORKERS), call)
            self.seen["claim refused"] += 1
            return
        worker = self.rnd.choice(eligible)
        receipt = d.tx(worker, call)
        m.status, m.worker = CLAIMED, worker
        m.deadline = event(m.market, receipt, "JobClaimed")["deadline"]
        m.job = {**m.job, "worker": d.addr(worker)}
        self._lock(m, 1)
        self.touched_jobs.add(m.key)

    def _submit_open(self, m: ModelJob, data: st.DataObject) -> None:
        """Claim and submit an Open job in one transaction."""
        d = self.d
        eligible = [w for w in WORKERS if self._eligible(w, m)]
        if not eligible:  # no allocation covers the collateral now
            call = m.market.functions.submitResult(
                m.job_id, job_tuple(m.job), result_tuple(cid(f"out {m.job_id}"))
            )
            with pytest.raises(ContractReverted, match="JobMarketAllocationExceeded"):
                d.tx(self.rnd.choice(WORKERS), call)
            self.seen["claim refused"] += 1
            return
        worker = self.rnd.choice(eligible)
        m.job = d.submit(m.job_id, m.job, worker, output=cid(f"out {m.job_id}"), market=m.market)
        m.status, m.worker = SUBMITTED, worker
        m.deadline = d.status(m.job_id, m.market)[1]
        self._lock(m, 1)
        self.touched_jobs.add(m.key)
        self._submitted(m)

    def _cancel(self, m: ModelJob, data: st.DataObject) -> None:
        self.d.tx(m.requester, m.market.functions.cancel(m.job_id, job_tuple(m.job)))
        self._settle(m, pay=False)

    def _expire(self, m: ModelJob, data: st.DataObject) -> None:
        self.d.tx("outsider", m.market.functions.expire(m.job_id, job_tuple(m.job)))
        self._settle(m, pay=False)

    def _submit(self, m: ModelJob, data: st.DataObject) -> None:
        d = self.d
        output = cid(f"out {m.job_id}")
        m.job = d.submit(m.job_id, m.job, m.worker, output=output, market=m.market)
        m.status, m.deadline = SUBMITTED, d.status(m.job_id, m.market)[1]
        self.touched_jobs.add(m.key)
        self._submitted(m)

    def _submitted(self, m: ModelJob) -> None:
        """A REEXEC job's submission opens its round in the module (the submission's block
        and time, which the challenge deadline counts from)."""
        if m.mode == REEXEC:
            submitted_at = m.deadline - m.job["terms"]["challengeWindow"]
            fee = m.job["terms"]["verifyFee"]
            self._start_round(m, fee, False, submitted_at, self.d.chain.w3.eth.block_number)

    def _report_failure(self, m: ModelJob, data: st.DataObject) -> None:
        d = self.d
        fn = m.market.functions.reportFailure(m.job_id, job_tuple(m.job), cid("bad input"))
        receipt = d.tx(m.worker, fn)
        # The fee: the share of the work time held (at least 1 %) of the collateral.
        terms = m.job["terms"]
        now = d.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"]
        held = now - (m.deadline - terms["workTime"])
        bps = max(100, held * 10_000 // terms["workTime"])
        fee = terms["collateral"] * bps // 10_000
        assert event(m.market, receipt, "JobFailed")["fee"] == fee
        self._settle(m, pay=False, slash=fee, outcome="failed")

    def _timeout(self, m: ModelJob, data: st.DataObject) -> None:
        self.d.tx("outsider", m.market.functions.timeout(m.job_id, job_tuple(m.job)))
        self._settle(m, pay=False, slash=m.job["terms"]["collateral"], outcome="timedOut")

    def _finalize(self, m: ModelJob, data: st.DataObject) -> None:
        """Pay the result; a REEXEC committee's majority against it refunds the requester
        and slashes the worker instead, before the window ends if need be."""
        receipt = self.d.finalize(m.job_id, m.job, market=m.market)
        if self._verdict(m) == WORKER_LOSES:
            slashed = self._settle(
                m, pay=False, slash=m.job["terms"]["collateral"], outcome="disputesLost"
            )
            resolved = event(m.market, receipt, "DisputeResolved")
            assert (resolved["workerWins"], resolved["slashed"]) == (False, slashed)
            self.seen["finalize rejected"] += 1
        else:
            self._settle(m, pay=True, outcome="paid")

    def _dispute(self, m: ModelJob, data: st.DataObject) -> None:
        d = self.d
        m.job = d.dispute(m.job_id, m.job, m.requester, market=m.market)
        assert m.job["terms"]["disputeBond"] == m.job["terms"]["price"] * DISPUTE_BOND_BPS // 10_000
        m.status, m.deadline = DISPUTED, d.status(m.job_id, m.market)[1]
        self.touched_jobs.add(m.key)

    def _rule(self, m: ModelJob, worker_wins: bool) -> None:
        d = self.d
        d.tx(
            "arbiter",
            d.arbiter.functions.rule(m.market.address, m.job_id, job_tuple(m.job), worker_wins),
        )
        if worker_wins:
            self._settle(m, pay=True, outcome="disputesWon")
        else:
            slash = m.job["terms"]["collateral"]
            self._settle(m, pay=False, slash=slash, outcome="disputesLost")

    def _resolve_win(self, m: ModelJob, data: st.DataObject) -> None:
        self._rule(m, True)

    def _resolve_lose(self, m: ModelJob, data: st.DataObject) -> None:
        self._rule(m, False)

    def _resolve(self, m: ModelJob, data: st.DataObject) -> None:
        """Anyone resolves a module-judged dispute once the committee has a majority (the
        REEXEC job's own round, or the COURT job's dispute round); none yet must revert."""
        call = m.market.functions.resolveDispute(m.job_id, job_tuple(m.job))
        verdict = self._verdict(m)
        if verdict == PENDING:
            with pytest.raises(ContractReverted, match="JobMarketVerdictPending"):
                self.d.tx("outsider", call)
            self.seen["resolve pending"] += 1
            return
        receipt = self.d.tx("outsider", call)
        resolved = event(m.market, receipt, "DisputeResolved")
        if verdict == WORKER_WINS:
            self._settle(m, pay=True, outcome="disputesWon")
            assert (resolved["workerWins"], resolved["slashed"]) == (True, 0)
        else:
            slashed = self._settle(
                m, pay=False, slash=m.job["terms"]["collateral"], outcome="disputesLost"
            )
            assert (resolved["workerWins"], resolved["slashed"]) == (False, slashed)
        self.seen[f"resolved in mode {m.mode}"] += 1

    def _open_dispute(self, m: ModelJob, data: st.DataObject) -> None:
        """Open (and pay) a COURT job's dispute round in the module, as its requester or a
        stranger; once only, and no later than leaves the round time to end."""
        d, fns = self.d, self.module.functions
        call = fns.openDispute(m.job_id, job_tuple(m.job))
        latest = m.deadline - DRAW_WINDOW - COMMIT_WINDOW - 2 * REVEAL_WINDOW
        if m.key in self.model.rounds:
            with pytest.raises(ContractReverted, match="ReexecWrongStage"):
                d.tx("outsider", call, value=DISPUTE_FEE)
            self.seen["open_dispute again"] += 1
            return
        phase = self._phase(latest)
        if phase == "after":
            with pytest.raises(ContractReverted, match="ReexecDisputeTooLate"):
                d.tx("outsider", call, value=DISPUTE_FEE)
            self.seen["open_dispute too late"] += 1
            return
        if phase == "near":
            return
        opener = self.rnd.choice((m.requester, "outsider"))
        receipt = d.tx(opener, call, value=DISPUTE_FEE)
        opened = event(self.module, receipt, "DisputeRoundOpened")
        assert (opened["opener"], opened["fee"]) == (d.addr(opener), DISPUTE_FEE)
        block = receipt["blockNumber"]
        self._start_round(m, DISPUTE_FEE, True, d.chain.block_timestamp(block), block)

    def _expire_dispute(self, m: ModelJob, data: st.DataObject) -> None:
        self.d.tx("outsider", m.market.functions.expireDispute(m.job_id, job_tuple(m.job)))
        # Attack 1: the result stands.
        self._settle(m, pay=True, bond_to_requester=True, outcome="paid")

    # -- the verification module's rounds ---------------------------------------------

    def _start_round(
        self, m: ModelJob, fee: int, dispute: bool, submitted_at: int, block: int
    ) -> None:
        r = ModelRound(
            m.job_id, m.job["worker"], m.job["requester"], fee, dispute, submitted_at, block
        )
        self.model.rounds[m.key] = r
        self.touched_rounds.add(m.key)
        self.seen["dispute round" if dispute else "submission round"] += 1

    def _open_rounds(self) -> list[tuple[str, int]]:
        return sorted(k for k, r in self.model.rounds.items() if r.stage != SETTLED_STAGE)

    def _voting(self, r: ModelRound) -> bool:
        """Whether `r`'s committee still has a draw, commits or reveals to come well before
        they close."""
        now = self.d.now() + MARGIN
        if r.stage == SUBMITTED_STAGE:
            return now < r.draw_deadline
        if r.stage != DRAWN_STAGE or now >= r.reveal_deadline:
            return False
        if now < r.commit_deadline and len(r.ballots) < K:
            return True
        return len(r.revealed) < len(r.ballots)

    def _verdict(self, m: ModelJob) -> int:
        """The job's module's verdict: a REEXEC job's from its submission round, a COURT
        job's from its dispute round (each module ignores the other kind)."""
        r = self.model.rounds.get(m.key)
        if r is None or r.dispute != (m.mode == COURT):
            return PENDING
        return r.majority

    def round_step(self, r: ModelRound, data: st.DataObject) -> None:
        """One to three moves of a round, each mostly the natural next one (time runs out
        between steps): while the committee may act, the draw, commits or reveals; once it
        cannot, its job's edge towards settlement (the round waits for the market), then the
        round's settlement. Else a random move of its stage, late or early ones reverting."""
        m = self.model.jobs[(self.d.market.address, r.job_id)]
        for _ in range(self.rnd.randint(1, 3)):
            if r.stage == SETTLED_STAGE:
                return
            natural = self.rnd.random() < 0.8
            if self._voting(r):
                if not natural:
                    edge = self.rnd.choice(ROUND_EDGES[r.stage])
                elif r.stage == SUBMITTED_STAGE:
                    edge = "draw"
                elif (
                    len(r.ballots) < K
                    and self._phase(r.commit_deadline) == "before"
                    and (not r.ballots or self.rnd.random() < 0.5)
                ):
                    edge = "commit"
                else:
                    edge = "reveal"
                getattr(self, f"_round_{edge}")(r)
            elif m.status == SETTLED:
                if natural:
                    self._round_settle(r)
                else:
                    getattr(self, f"_round_{self.rnd.choice(ROUND_EDGES[r.stage])}")(r)
            elif natural and m.status in (SUBMITTED, DISPUTED):
                self.advance_job(m, data, "finalize" if m.status == SUBMITTED else "resolve")
            else:
                self.advance_job(m, data)

    def _round_draw(self, r: ModelRound) -> None:
        """Draw the committee (its seed the submission's next block, so that block is mined
        first), predicted off-chain; refused too early, too late, or from too few members."""
        d, call = self.d, self.module.functions.draw(r.job_id)
        phase = self._phase(r.draw_deadline)
        if phase == "near":
            return
        if d.chain.w3.eth.block_number == r.submit_block:
            with pytest.raises(ContractReverted, match="ReexecDrawTooEarly"):
                d.tx("outsider", call)
            self.seen["early_draw"] += 1
            d.chain.mine()
        if phase == "after":
            with pytest.raises(ContractReverted, match="ReexecClosed"):
                d.tx("outsider", call, block="pending")
            self.seen["late_draw"] += 1
            return
        if len(self.pool.eligible(r)) < K:
            with pytest.raises(ContractReverted, match="ReexecPoolTooSmall"):
                d.tx("outsider", call, block="pending")
            self.seen["draw refused"] += 1
            return
        receipt = d.tx("outsider", call, block="pending")
        drawn = event(self.module, receipt, "CommitteeDrawn")
        seed_block = r.submit_block + 1
        if receipt["blockNumber"] - seed_block > 256:  # its hash is gone: the previous block's
            seed_block = receipt["blockNumber"] - 1
        assert drawn["seedBlock"] == seed_block
        seed_hash = bytes(d.chain.w3.eth.get_block(seed_block)["hash"])
        expected = self.pool.draw(r, self.module.address, seed_hash)
        assert list(drawn["committee"]) == expected, (drawn["committee"], expected)
        self.touched_rounds.add((d.market.address, r.job_id))
        self.seen["draw"] += 1

    def _round_commit(self, r: ModelRound) -> None:
        """Members commit random votes; some stay silent (for now, or for good)."""
        waiting = [m for m in r.committee if m not in r.ballots]
        if not waiting:
            return
        phase, fns = self._phase(r.commit_deadline), self.module.functions
        if phase == "after":
            with pytest.raises(ContractReverted, match="ReexecClosed"):
                self.court.tx(waiting[0], fns.commit(r.job_id, b"\x07" * 32))
            self.seen["late_commit"] += 1
        elif phase == "before":
            for member in waiting:
                if self.rnd.random() < 0.2:
                    continue
                agrees = self.rnd.random() < 0.6
                salt = self.rnd.getrandbits(256).to_bytes(32, "big")
                commitment = vote_hash(self.module.address, r.job_id, member, agrees, salt)
                self.court.tx(member, fns.commit(r.job_id, commitment))
                r.ballots[member] = (agrees, salt)
                self.seen["commit"] += 1
            self.touched_rounds.add((self.d.market.address, r.job_id))

    def _round_reveal(self, r: ModelRound) -> None:
        """Committed members reveal (some never do), once every member committed or the
        commit deadline passed, until the reveal deadline."""
        waiting = [m for m in r.ballots if m not in r.revealed]
        if not waiting:
            return
        fns = self.module.functions
        if len(r.ballots) < K and self.d.now() <= r.commit_deadline:
            phase = self._phase(r.commit_deadline)
            if phase == "before" and self.rnd.random() < 0.3:
                with pytest.raises(ContractReverted, match="ReexecNotYet"):
                    self.court.tx(waiting[0], fns.reveal(r.job_id, *r.ballots[waiting[0]]))
                self.seen["early_reveal"] += 1
                return
            # Silence holds the reveals until the commit deadline: wait for it.
            self.d.chain.increase_time(r.commit_deadline - self.d.now() + 1)
        phase = self._phase(r.reveal_deadline)
        if phase == "after":
            with pytest.raises(ContractReverted, match="ReexecClosed"):
                self.court.tx(waiting[0], fns.reveal(r.job_id, *r.ballots[waiting[0]]))
            self.seen["late_reveal"] += 1
        elif phase == "before":
            for member in waiting:
                if self.rnd.random() < 0.15:
                    continue
                self.court.tx(member, fns.reveal(r.job_id, *r.ballots[member]))
                r.revealed[member] = r.ballots[member][0]
                self.seen["reveal"] += 1
            self.touched_rounds.add((self.d.market.address, r.job_id))

    def _round_settle(self, r: ModelRound) -> None:
        """Settle the round once its job is settled in the market and its votes are all in
        or closed (waiting for the reveal deadline if need be): the fee and the slashes land
        where the model says; a submission round's fee comes out of the market here."""
        d, key = self.d, (self.d.market.address, r.job_id)
        call = self.module.functions.settle(r.job_id)
        phase = self._phase(r.reveal_deadline)
        done = len(r.revealed) == K or phase == "after"
        if self.model.jobs[key].status != SETTLED or (not done and self.rnd.random() < 0.3):
            if not done and phase == "near":
                return
            error = "ReexecNotYet" if not done else "ReexecMarketNotSettled"
            with pytest.raises(ContractReverted, match=error):
                d.tx("outsider", call)
            self.seen["early_settle"] += 1
            return
        if not done:
            d.chain.increase_time(r.reveal_deadline - d.now() + 1)
        receipt = d.tx("outsider", call)
        winners, paid, to_requester, slashes = self.pool.settle(r)
        settled = event(self.module, receipt, "RoundSettled")
        assert (settled["winners"], settled["paid"], settled["toRequester"]) == (
            winners,
            paid,
            to_requester,
        )
        penalised = events(self.module, receipt, "MemberPenalised")
        assert [(p["verifier"], p["slashed"]) for p in penalised] == slashes
        if not r.dispute:  # the fee the market credited the module at the job's settlement
            self._credit(d.market, self.module.address, ETH, -r.fee)
        self.touched_rounds.add(key)
        self.seen["settle dispute round" if r.dispute else "settle submission round"] += 1
        if slashes:
            self.seen["members slashed"] += 1

    def bond(self) -> None:
        """A slashed member tops its bond back up to `minBond`; else, at times, a member adds
        a little (so that later slashes are not all alike)."""
        low = [m for m in self.pool.members if self.pool.bonds[m] < MIN_BOND]
        if not low and self.rnd.random() < 0.7:
            return
        member = self.rnd.choice(low or self.pool.members)
        deficit = MIN_BOND - self.pool.bonds[member]
        amount = deficit if deficit > 0 else self.rnd.choice((1, 10**15))
        self.court.tx(member, self.module.functions.join(), value=amount)
        self.pool.bonds[member] += amount
        self.pool.touched.add(member)
        self.seen["bond top-up" if deficit > 0 else "bond"] += 1

    def withdraw_court(self) -> None:
        """An account withdraws its whole balance from the module (none: must revert)."""
        owed = sorted(a for a, v in self.pool.balances.items() if v)
        if not owed:
            account = self.rnd.choice(self.pool.members)
            with pytest.raises(ContractReverted, match="ReexecNothingToWithdraw"):
                self.court.tx(account, self.module.functions.withdraw())
            return
        account = self.rnd.choice(owed)
        receipt = self.court.tx(account, self.module.functions.withdraw())
        assert event(self.module, receipt, "Withdrawn")["amount"] == self.pool.balances[account]
        self.pool.balances[account] = 0
        self.pool.touched.add(account)
        self.seen["withdraw from module"] += 1

    # -- balances, workers, time -------------------------------------------------------

    def govern_fee(self, fee_bps: int) -> None:
        """A config change through the timelock (2 days pass): new jobs only, which the
        model sees through each job's snapshotted `feeBps` and `collateral`."""
        d = self.d
        collateral_bps = self.rnd.choice((5_000, 10_000, 30_000))
        config = (fee_bps, collateral_bps, DISPUTE_BOND_BPS)
        market = self.rnd.choice(self.markets)
        d.govern(d.governor.functions.setConfig(market.address, config))
        self.seen["config changes"] += 1

    def withdraw(self, market: Contract, role: str, token_kind: bool, fraction: int) -> None:
        d = self.d
        if self.rnd.random() < 0.3 and (
            any(self.pool.balances.values()) or self.rnd.random() < 0.2
        ):
            self.withdraw_court()
            return
        token = d.token.address if token_kind else ETH
        amount = self.model.owed.get((market.address, d.addr(role), token), 0) // fraction
        if amount == 0:
            return
        d.tx(role, market.functions.withdraw(token, d.addr(role), amount))
        self._credit(market, d.addr(role), token, -amount)
        self.seen["withdraw"] += 1

    def worker_churn(self, worker: str, action: str) -> None:
        """One step of a worker's stake in a random token, with a random market; each action
        is tried only where it applies, and deallocating into locked collateral must
        revert."""
        d, w = self.d, self.model.workers[worker]
        token = self.rnd.choice((ETH, d.token.address))
        venue = self.rnd.choice(self.markets).address
        s = w.stakes[token]
        unit = STAKE if token == ETH else TOKEN_STAKE
        if action == "stake":
            amount = self.rnd.choice((unit // 100, unit // 10, unit))
            d.stake_and_allocate(worker, token, amount, venue=venue)
            s.stake += amount
            s.allocations[venue] += amount
        elif action == "deallocate" and s.allocations[venue]:
            free = s.allocations[venue] - s.locked[venue]
            if s.locked[venue] and self.rnd.random() < 0.3:
                with pytest.raises(ContractReverted, match="WorkerRegistryAllocationLocked"):
                    d.tx(worker, d.workers.functions.deallocate(venue, token, free + 1))
                self.seen["deallocate refused"] += 1
                return
            amount = free // self.rnd.choice((1, 2, 10))
            if amount == 0:
                return
            d.tx(worker, d.workers.functions.deallocate(venue, token, amount))
            s.allocations[venue] -= amount
        elif action == "unstake" and s.stake > s.allocated:
            amount = s.stake - s.allocated
            d.tx(worker, d.workers.functions.unstake(token, amount, d.addr(worker)))
            s.stake -= amount
        elif action == "leave_or_return":
            if w.registered:
                d.tx(worker, d.workers.functions.leave())
            else:
                d.tx(worker, d.workers.functions.register(cid(f"back {worker}"), []))
            w.registered = not w.registered
        else:
            return
        self.seen[f"worker {action}"] += 1

    # -- model ---------------------------------------------------------------------------

    def _phase(self, deadline: int) -> str:
        """'after' once the deadline passed, 'before' well ahead of it, else 'near' (the
        next block's time is not known to the second)."""
        now = self.d.now()
        if now > deadline:
            return "after"
        return "before" if now + MARGIN < deadline else "near"

    def _eligible(self, role: str, m: ModelJob) -> bool:
        """Whether `role`'s allocation covers `m`'s collateral on top of its lock (served
        models and registration do not matter: discovery only)."""
        terms, venue = m.job["terms"], m.market.address
        s = self.model.workers[role].stakes[terms["token"]]
        return s.locked[venue] + terms["collateral"] <= s.allocations[venue]

    def _lock(self, m: ModelJob, sign: int) -> None:
        terms = m.job["terms"]
        stake = self.model.workers[m.worker].stakes[terms["token"]]
        stake.locked[m.market.address] += sign * terms["collateral"]

    def _credit(self, market: Contract, account: str, token: str, amount: int) -> None:
        if amount:
            key = (market.address, account, token)
            self.model.owed[key] = self.model.owed.get(key, 0) + amount
            self.touched_accounts.add(key)

    def _settle(
        self,
        m: ModelJob,
        *,
        pay: bool,
        slash: int = 0,
        bond_to_requester: bool = False,
        outcome: str = "",
    ) -> int:
        """Credit a job's outcome; a claimed job's collateral is unlocked, `slash` of it taken
        from the worker's allocation (and stake) and credited to the requester in the job's
        token, and `outcome` counted in the worker's record. The verification fee goes back
        to the requester before a submission; after one the module earned it, credited to
        its balance here until its round's settlement withdraws it. Returns the slash."""
        d, terms = self.d, m.job["terms"]
        token, price = terms["token"], terms["price"]
        bond = terms["disputeBond"] if m.status == DISPUTED else 0
        submitted = m.status in (SUBMITTED, DISPUTED)
        earner = self.module.address if submitted else d.addr(m.requester)
        self._credit(m.market, earner, token, terms["verifyFee"])
        slashed = 0
        if pay:
            royalty = price * terms["royaltyBps"] // 10_000
            fee = price * terms["feeBps"] // 10_000
            if bond_to_requester:
                self._credit(m.market, d.addr(m.requester), token, bond)
                bond = 0
            self._credit(m.market, d.addr(m.worker), token, price - royalty - fee + bond)
            self._credit(m.market, terms["provider"], token, royalty)
            self._credit(m.market, d.fees, token, fee)
        else:
            self._credit(m.market, d.addr(m.requester), token, price + bond)
        if m.worker:
            w, venue = self.model.workers[m.worker], m.market.address
            self._lock(m, -1)
            w.records[venue][outcome] += 1
            if outcome == "disputesWon":
                w.records[venue]["paid"] += 1
            s = w.stakes[token]
            slashed = min(slash, s.allocations[venue])
            s.stake -= slashed
            s.allocations[venue] -= slashed
            self._credit(m.market, d.addr(m.requester), token, slashed)  # all of it
        m.status, m.deadline = SETTLED, 0
        self.touched_jobs.add(m.key)
        return slashed

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        d, model = self.d, self.model
        self.seen["steps checked"] += 1
        live = [m for m in model.jobs.values() if m.status != SETTLED]
        for market in self.markets:
            for token in (ETH, d.token.address):
                mine = [m for m in live if m.market == market and m.job["terms"]["token"] == token]
                escrow = sum(m.job["terms"]["price"] + m.job["terms"]["verifyFee"] for m in mine)
                bonds = sum(m.job["terms"]["disputeBond"] for m in mine if m.status == DISPUTED)
                owed = sum(
                    v for (a, _, t), v in model.owed.items() if a == market.address and t == token
                )
                if token == ETH:
                    held = d.chain.balance(market.address)
                else:
                    held = d.token.functions.balanceOf(market.address).call()
                assert held == escrow + bonds + owed, (market.address, token, held, escrow, owed)
        # The router never holds money.
        assert d.chain.balance(d.router.address) == 0
        assert d.token.functions.balanceOf(d.router.address).call() == 0
        for token in (ETH, d.token.address):
            stakes = sum(w.stakes[token].stake for w in model.workers.values())
            if token == ETH:
                held = d.chain.balance(d.workers.address)
            else:
                held = d.token.functions.balanceOf(d.workers.address).call()
            assert held == stakes == d.workers.functions.totalStaked(token).call(), token
        for address, account, token in self.touched_accounts:
            expected = model.owed.get((address, account, token), 0)
            market = next(m for m in self.markets if m.address == address)
            on_chain = market.functions.balanceOf(account, token).call()
            assert on_chain == expected, (address, account, token)
        names = ("paid", "failed", "timedOut", "disputesLost", "disputesWon")
        for role, w in model.workers.items():
            assert d.workers.functions.worker(d.addr(role)).call()[0] == w.registered, role
            records = {market.address: Counter() for market in self.markets}
            for token, s in w.stakes.items():
                assert s.allocated <= s.stake, (role, token)
                assert d.stake_of(role, token) == (s.stake, s.allocated), (role, token)
                for market in self.markets:
                    venue = market.address
                    live_collateral = sum(
                        m.job["terms"]["collateral"]
                        for m in model.jobs.values()
                        if m.worker == role
                        and m.market == market
                        and m.job["terms"]["token"] == token
                        and m.status in (CLAIMED, SUBMITTED, DISPUTED)
                    )
                    assert s.locked[venue] == live_collateral <= s.allocations[venue], (
                        role,
                        token,
                        venue,
                    )
                    assert d.allocation(role, token, venue) == s.allocations[venue]
                    exposure = d.exposure(role, token, market)
                    assert exposure["locked"] == s.locked[venue], (role, token, venue)
                    records[venue].update({n: exposure[n] for n in names})
            for venue, record in records.items():
                assert +record == +w.records[venue], (role, venue)
        for key in self.touched_jobs:
            self._check_job(key)
        self.touched_accounts.clear()
        self.touched_jobs.clear()
        self._court_books_balance()

    def _court_books_balance(self) -> None:
        """The module holds its members' bonds, the balances it credited and the fees of
        dispute rounds not settled yet (a submission round's fee waits in the market, in
        the module's balance there, checked with the market's books); each member's bond and
        seats, each balance and each round are the model's."""
        pool, fns = self.pool, self.module.functions
        open_fees = sum(
            r.fee for r in self.model.rounds.values() if r.dispute and r.stage != SETTLED_STAGE
        )
        held = self.d.chain.balance(self.module.address)
        assert held == pool.held() + open_fees, (held, pool.held(), open_fees)
        for account in pool.touched:
            assert fns.balanceOf(account).call() == pool.balances.get(account, 0), account
            if account in pool.bonds:
                bond, _leave_at, seats, _index = fns.memberOf(account).call()
                assert (bond, seats) == (pool.bonds[account], pool.seats[account]), account
        for key in self.touched_rounds:
            self._check_round(key)
        pool.touched.clear()
        self.touched_rounds.clear()

    def _check_job(self, key: tuple[str, int]) -> None:
        m = self.model.jobs[key]
        assert self.d.status(m.job_id, m.market) == (m.status, m.deadline), key

    def _check_round(self, key: tuple[str, int]) -> None:
        r = self.model.rounds[key]
        assert list(self.module.functions.roundOf(r.job_id).call()) == r.as_chain(), key


def _run_machine(deployed: Deployment, examples: int, steps: int, *, seeded: bool) -> Counter:
    """Run the machine on `deployed` plus a second market and, on the first, a ReexecVerifier
    (mode REEXEC, its pool of seven bonded) and a CommitteeArbiter (mode COURT) judged by it:
    set up once, as their registration takes the timelock's days, before the snapshot each
    example starts from (the test's `chain_snapshot` undoes it)."""
    MarketMachine.d = deployed
    MarketMachine.second = deployed.another_market()
    court = bonded_pool(deployed)
    court.keys[deployed.addr("requester2")] = deployed.actors.requester2  # refunds to withdraw
    _register(deployed, COURT, _deploy_arbiter(deployed).address)
    MarketMachine.court = court
    MarketMachine.seen = Counter()
    run_state_machine_as_test(
        MarketMachine,
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            derandomize=seeded,
            database=None,
        ),
    )
    print("transitions seen:", dict(MarketMachine.seen))
    return MarketMachine.seen


@pytest.mark.slow
@pytest.mark.timeout(0)
def test_books_always_balance_long(deployed: Deployment, chain_snapshot: object) -> None:
    """100 random runs of 100 steps (issue 12: at least 10,000); `pytest -m slow`."""
    seen = _run_machine(deployed, 100, 100, seeded=False)
    assert seen["steps checked"] >= 100 * 100 * 0.9


# Sized by the run: a longer one (the environment variables above) would otherwise hit the
# suite's 300 s timeout mid-example, which Hypothesis then reports as flaky data generation.
@pytest.mark.timeout(max(600, 2 * EXAMPLES * STEPS))
def test_books_always_balance(deployed: Deployment, chain_snapshot: object) -> None:
    # The CI-sized run is seeded, so the coverage asserted below is stable; a longer run
    # (the environment variables above, or the slow test) explores at random.
    seeded = "INFERCHAIN_PROPERTY_EXAMPLES" not in os.environ
    seen = _run_machine(deployed, EXAMPLES, STEPS, seeded=seeded)
    assert seen["steps checked"] >= EXAMPLES * STEPS * 0.9  # Hypothesis may end a run early
    for edge in (
        "createJob",
        "createJobFor",
        "createJobsFor",
        "claim",
        "submit",
        "submit_open",
        "finalize",
        "dispute",
        "withdraw",
        "submission round",
        "draw",
        "commit",
        "reveal",
        "settle submission round",
        "members slashed",
    ):
        assert seen[edge] > 0, f"no {edge} in {dict(seen)}"
