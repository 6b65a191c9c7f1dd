"""Stateful property test: random lifecycles across several actors, both payment kinds and
two markets sharing one worker registry and one router.

Rules create jobs (paid directly or from a deposit by signed request, in ETH or the token),
move a random live job along a random edge of the state machine (claim, submit, report
failure, timeout, cancel, expire, dispute, resolve either way, expire a dispute, finalize,
and the too-early variants that must revert), withdraw balances, and move workers' stakes
(stake and allocate, deallocate, unstake, leave and return). After every step, for each
token and each market: what the market holds == escrowed prices + dispute bonds + owed
balances; what the registry holds == the sum of stakes == totalStaked; each worker's
allocations <= its stake, and its `lockedOf` in each market == the collateral of its
Claimed, Submitted and Disputed jobs there <= its allocation to that market; and the
balances, stakes, allocations, locks, records and job statuses the model
predicts are the chain's. CI runs >= 300 steps (seeded); `test_books_always_balance_long`
runs 10,000 random ones (`.venv/bin/pytest -m slow tests/contracts/test_invariants.py`), and
any size can be asked for:

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

EXAMPLES = int(os.environ.get("INFERCHAIN_PROPERTY_EXAMPLES", "10"))
STEPS = int(os.environ.get("INFERCHAIN_PROPERTY_STEPS", "30"))
REQUESTERS = ("requester", "requester2")
WORKERS = ("worker", "worker2")
MARGIN = 30  # seconds kept before a deadline, so that the next block cannot cross it
# What one step does, weighted by repetition.
OPERATIONS = ("advance",) * 5 + ("create",) * 2 + ("withdraw", "worker", "wait")
# Edges out of each status, weighted the same way; the "early_" ones must revert.
EDGES = {
    OPEN: ("claim", "claim", "submit_open", "submit_open", "cancel", "expire", "early_expire"),
    CLAIMED: ("submit", "submit", "submit", "report_failure", "timeout", "early_timeout"),
    SUBMITTED: ("finalize", "finalize", "dispute", "dispute", "early_finalize"),
    DISPUTED: ("resolve_win", "resolve_lose", "expire_dispute", "early_expire_dispute"),
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


class MarketMachine(RuleBasedStateMachine):
    d: Deployment  # set by the test before running
    second: Contract  # the second market on the same registry and router, likewise
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
        self.nonce = 0
        for role in REQUESTERS:
            for market in self.markets:
                d.tx(role, d.token.functions.approve(market.address, 2**255))

    def teardown(self) -> None:
        for key in self.model.jobs:
            self._check_job(key)
        self.d.chain.revert(self.snapshot)

    # -- creation ----------------------------------------------------------------------

    # Hypothesis' stateful runs switch random subsets of rules off per example (swarm
    # testing); with one rule drawing weighted operations, every run goes deep enough.
    @rule(data=st.data())
    def step(self, data: st.DataObject) -> None:
        # Choices come from a Hypothesis-driven Random: sampled_from would favour first entries.
        self.rnd = data.draw(st.randoms(use_true_random=False), label="choices")
        operation = self.rnd.choice(OPERATIONS)
        if operation == "advance" and not any(
            m.status != SETTLED for m in self.model.jobs.values()
        ):
            operation = "create"
        if operation == "create":
            rnd = self.rnd
            self.create(
                rnd.choice(self.markets),
                rnd.choice(REQUESTERS),
                rnd.random() < 0.5,
                rnd.random() < 0.5,
                rnd.randint(0, 3),
            )
        elif operation == "advance":
            self.advance(data)
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
        self, market: Contract, requester: str, token_job: bool, signed: bool, excess: int
    ) -> None:
        d = self.d
        request = d.request(model=d.token_model) if token_job else d.request()
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
        self.model.jobs[job.key] = job
        self.touched_jobs.add(job.key)
        self.seen[f"created in market {self.markets.index(market) + 1}"] += 1

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
        edge = self.rnd.choice(EDGES[m.status])
        phase = self._phase(m.deadline)
        if edge.startswith("early_"):
            if phase == "before":
                self._early(m, edge)
            return
        needs_time = edge in ("expire", "timeout", "finalize", "expire_dispute")
        if needs_time and phase != "after":
            self.d.chain.increase_time(m.deadline - self.d.now() + 1)
        elif not needs_time and edge != "cancel" and phase != "before":
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
        self.d.finalize(m.job_id, m.job, market=m.market)
        self._settle(m, pay=True, outcome="paid")

    def _dispute(self, m: ModelJob, data: st.DataObject) -> None:
        d = self.d
        m.job = d.dispute(m.job_id, m.job, m.requester, market=m.market)
        assert m.job["terms"]["disputeBond"] == m.job["terms"]["price"] * DISPUTE_BOND_BPS // 10_000
        m.status, m.deadline = DISPUTED, d.status(m.job_id, m.market)[1]
        self.touched_jobs.add(m.key)

    def _resolve(self, m: ModelJob, worker_wins: bool) -> None:
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
        self._resolve(m, True)

    def _resolve_lose(self, m: ModelJob, data: st.DataObject) -> None:
        self._resolve(m, False)

    def _expire_dispute(self, m: ModelJob, data: st.DataObject) -> None:
        self.d.tx("outsider", m.market.functions.expireDispute(m.job_id, job_tuple(m.job)))
        # Attack 1: the result stands.
        self._settle(m, pay=True, bond_to_requester=True, outcome="paid")

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
    ) -> None:
        """Credit a job's outcome; a claimed job's collateral is unlocked, `slash` of it taken
        from the worker's allocation (and stake) and credited to the requester in the job's
        token, and `outcome` counted in the worker's record."""
        d, terms = self.d, m.job["terms"]
        token, price = terms["token"], terms["price"]
        bond = terms["disputeBond"] if m.status == DISPUTED else 0
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

    # -- invariants --------------------------------------------------------------------

    @invariant()
    def books_balance(self) -> None:
        d, model = self.d, self.model
        self.seen["steps checked"] += 1
        live = [m for m in model.jobs.values() if m.status != SETTLED]
        for market in self.markets:
            for token in (ETH, d.token.address):
                mine = [m for m in live if m.market == market and m.job["terms"]["token"] == token]
                escrow = sum(m.job["terms"]["price"] for m in mine)
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

    def _check_job(self, key: tuple[str, int]) -> None:
        m = self.model.jobs[key]
        assert self.d.status(m.job_id, m.market) == (m.status, m.deadline), key


def _run_machine(deployed: Deployment, examples: int, steps: int, *, seeded: bool) -> Counter:
    MarketMachine.d = deployed
    MarketMachine.second = deployed.another_market()
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
    ):
        assert seen[edge] > 0, f"no {edge} in {dict(seen)}"
