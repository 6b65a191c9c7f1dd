"""ReexecVerifier, the `reexec` tier's on-chain half (issue 14), as a mode of a real market on
Anvil: a committee drawn after the submission from the next block's hash (worker and requester
excluded), commit-reveal votes, the majority's verdict (the market slashes a losing worker),
the fee and the slashes of absent or minority members paid to the majority, and every deadline
enforced by an outsider. Each test ends with the module's books: its ETH equals the members'
bonds plus the balances it credited."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
from eth_abi import encode
from eth_account import Account
from web3 import Web3

from inferchain.market import MarketConfig, deploy_market
from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    FEE_BPS,
    SETTLED,
    Deployment,
    event,
    events,
    job_tuple,
    reverts,
)

MODE = 2  # 0 is the ManualArbiter; 1 is kept for ZkVerifier
PENDING, WORKER_WINS, WORKER_LOSES = range(3)
SETTLED_STAGE = 3  # IReexecVerifier.Stage.Settled
K = 3
MIN_BOND = 10**18
FEE_PER_VERIFIER = 10**14
VERIFY_FEE = K * FEE_PER_VERIFIER
SLASH_BPS = 2_000
DRAW_WINDOW, COMMIT_WINDOW, REVEAL_WINDOW = 600, 1_200, 1_200
CHALLENGE = DRAW_WINDOW + COMMIT_WINDOW + REVEAL_WINDOW  # exactly covered
LEAVE_DELAY = 86_400
MAX_POOL = 64
SHARE = ETH_PRICE - ETH_PRICE * ETH_ROYALTY_BPS // 10_000 - ETH_PRICE * FEE_BPS // 10_000
PARAMS = (K, MIN_BOND, FEE_PER_VERIFIER, SLASH_BPS, DRAW_WINDOW, COMMIT_WINDOW, REVEAL_WINDOW,
          CHALLENGE, ARBITRATION_WINDOW, LEAVE_DELAY)  # fmt: skip


def _key(i: int) -> str:
    return "0x" + Web3.keccak(text=f"reexec verifier {i}").hex().removeprefix("0x")


@dataclass
class Reexec:
    """A market with ReexecVerifier as mode MODE, five bonded verifiers, and the worker and
    the requester bonded too (so the draw must skip them)."""

    d: Deployment
    module: Any
    keys: dict[str, str]  # pool member address -> key

    def tx(self, address: str, call: Any, *, value: int = 0, block: str = "latest") -> Any:
        return self.d.chain.sender(self.keys[address]).transact(call, value=value, block=block)

    def conserved(self, dispute_rounds: tuple[int, ...] = ()) -> None:
        """The module's ETH is exactly its members' bonds plus the balances it credited, plus
        the fees of `dispute_rounds` not yet settled (paid in when opened; a submission
        round's fee waits in the market instead)."""
        f = self.module.functions
        accounts = set(self.keys) | {self.d.addr(r) for r in ("requester", "worker", "outsider")}
        bonds = sum(f.memberOf(a).call()[0] for a in f.pool().call())
        credited = sum(f.balanceOf(a).call() for a in accounts)
        rounds = [f.roundOf(job_id).call() for job_id in dispute_rounds]
        held = sum(rnd[5] for rnd in rounds if rnd[9] and rnd[3] != SETTLED_STAGE)
        assert self.d.chain.w3.eth.get_balance(self.module.address) == bonds + credited + held

    def create(self, **overrides: Any) -> tuple[int, dict]:
        return self.d.create(verification=MODE, maxPrice=ETH_PRICE + VERIFY_FEE, **overrides)

    def submitted(self) -> tuple[int, dict, int]:
        """A created and submitted job, and the submission's block."""
        job_id, job = self.create()
        job = self.d.submit(job_id, job)
        return job_id, job, self.d.chain.w3.eth.block_number

    def draw(self, job_id: int) -> list[str]:
        # The seed block (the submission's next) must be mined before the draw's; simulated in
        # the pending block, where the draw will be.
        self.d.chain.mine()
        self.d.tx("outsider", self.module.functions.draw(job_id), block="pending")
        return self.module.functions.committeeOf(job_id).call()

    def vote(self, job_id: int, member: str, agrees: bool) -> tuple[bool, bytes]:
        salt = os.urandom(32)
        commitment = self.module.functions.voteHash(job_id, member, agrees, salt).call()
        self.tx(member, self.module.functions.commit(job_id, commitment))
        return agrees, salt

    def reveal(self, job_id: int, member: str, ballot: tuple[bool, bytes]) -> Any:
        return self.tx(member, self.module.functions.reveal(job_id, *ballot))

    def settle(self, job_id: int) -> Any:
        return self.d.tx("outsider", self.module.functions.settle(job_id))

    def verdict(self, job_id: int, job: dict) -> int:
        return self.module.functions.verdict(job_id, job_tuple(job)).call()


def _fund(d: Deployment, address: str) -> None:
    d.chain.w3.provider.make_request("anvil_setBalance", [address, hex(10**22)])  # type: ignore[arg-type]


@pytest.fixture
def r(d: Deployment) -> Reexec:
    return bonded_pool(d)


def bonded_pool(d: Deployment) -> Reexec:
    """ReexecVerifier registered as mode MODE, its pool the five verifiers plus the worker and
    the requester, each bonded MIN_BOND."""
    module = d.chain.sender(d.actors.owner).deploy("ReexecVerifier", d.market.address, PARAMS)
    d.govern(d.governor.functions.registerMode(d.market.address, MODE, module.address))
    d.govern(d.governor.functions.setModeEnabled(d.market.address, MODE, True))
    keys = {Account.from_key(_key(i)).address: _key(i) for i in range(5)}
    keys |= {d.addr(role): getattr(d.actors, role) for role in ("worker", "requester")}
    reexec = Reexec(d, module, keys)
    for address in keys:
        _fund(d, address)
        reexec.tx(address, module.functions.join(), value=MIN_BOND)
    return reexec


def test_params_hooks_and_quote(r: Reexec, d: Deployment) -> None:
    f = r.module.functions
    assert f.params().call() == PARAMS
    assert f.hooks().call() == 7 and f.challengeWindow().call() == CHALLENGE
    assert d.market.functions.modeOf(MODE).call()[3] == 7
    assert f.market().call() == d.market.address
    job_id, job = r.create()
    assert job["terms"]["verifyFee"] == VERIFY_FEE
    # A token-priced job cannot use the mode: bonds and fees are ETH.
    with reverts("ReexecEthOnly"):
        d.create(model=d.token_model, verification=MODE)
    # The challenge window must cover draw + commit + reveal.
    short = (*PARAMS[:7], DRAW_WINDOW + COMMIT_WINDOW + REVEAL_WINDOW - 1, *PARAMS[8:])
    with reverts("ReexecBadParams"):
        d.chain.sender(d.actors.owner).deploy("ReexecVerifier", d.market.address, short)
    # Only the market records submissions.
    with reverts("ReexecNotMarket"):
        d.tx("outsider", f.onSubmit(job_id, job_tuple(job), b""))
    r.conserved()


def _majority_round(r: Reexec, votes: list[bool | None]) -> tuple[int, dict, list[str], Any]:
    """Submit, draw, then committee member i votes votes[i] (None: silent); returns the
    committee and the last reveal's receipt."""
    job_id, job, _ = r.submitted()
    committee = r.draw(job_id)
    ballots = {
        m: r.vote(job_id, m, v) for m, v in zip(committee, votes, strict=True) if v is not None
    }
    if len(ballots) < K:  # reveals open at the commit deadline when someone is silent
        r.d.chain.increase_time(DRAW_WINDOW + COMMIT_WINDOW + 1)
    receipt = None
    for member, ballot in ballots.items():
        receipt = r.reveal(job_id, member, ballot)
    return job_id, job, committee, receipt


def test_wrong_output_is_caught_worker_slashed_requester_refunded(r: Reexec, d: Deployment) -> None:
    before = d.balance("requester")
    job_id, job, committee, _ = _majority_round(r, [False, False, False])
    assert r.verdict(job_id, job) == WORKER_LOSES
    receipt = d.finalize(job_id, job)  # decided: no need to wait for the window
    resolved = event(d.market, receipt, "DisputeResolved")
    assert resolved["workerWins"] is False and resolved["slashed"] > 0
    assert d.balance("requester") - before == ETH_PRICE + resolved["slashed"]
    assert d.balance("worker") == 0
    # The module earned the fee; settling pays each verifier its share.
    assert d.balance(r.module.address) == VERIFY_FEE
    settled = event(r.module, r.settle(job_id), "RoundSettled")
    assert (settled["winners"], settled["paid"], settled["toRequester"]) == (K, VERIFY_FEE, 0)
    assert d.balance(r.module.address) == 0
    for member in committee:
        assert r.module.functions.balanceOf(member).call() == FEE_PER_VERIFIER
        assert r.module.functions.memberOf(member).call()[0] == MIN_BOND  # nobody slashed
    r.conserved()
    # Pull payment: a member withdraws its fee.
    paid = d.chain.w3.eth.get_balance(committee[0])
    receipt = r.tx(committee[0], r.module.functions.withdraw())
    cost = receipt["gasUsed"] * receipt["effectiveGasPrice"]
    assert d.chain.w3.eth.get_balance(committee[0]) - paid == FEE_PER_VERIFIER - cost
    with reverts("ReexecNothingToWithdraw"):
        r.tx(committee[0], r.module.functions.withdraw())
    r.conserved()


def test_honest_result_is_confirmed_and_paid(r: Reexec, d: Deployment) -> None:
    job_id, job, committee, _ = _majority_round(r, [True, True, True])
    assert r.verdict(job_id, job) == WORKER_WINS
    receipt = d.finalize(job_id, job)
    assert event(d.market, receipt, "JobFinalized")["workerAmount"] == SHARE
    assert d.status(job_id) == (SETTLED, 0)
    r.settle(job_id)
    assert [r.module.functions.balanceOf(m).call() for m in committee] == [FEE_PER_VERIFIER] * K
    r.conserved()


@pytest.mark.parametrize("third", [False, None], ids=["against", "silent"])
def test_a_minority_or_silent_member_loses_its_share_and_part_of_its_bond(
    r: Reexec, d: Deployment, third: bool | None
) -> None:
    job_id, job, committee, _ = _majority_round(r, [True, True, third])
    assert r.verdict(job_id, job) == WORKER_WINS
    d.finalize(job_id, job)
    if third is None:  # the silent member could still reveal until the deadline
        with reverts("ReexecNotYet"):
            r.settle(job_id)
        d.chain.increase_time(REVEAL_WINDOW)
    receipt = r.settle(job_id)
    slash = MIN_BOND * SLASH_BPS // 10_000
    penalised = events(r.module, receipt, "MemberPenalised")
    assert [(p["verifier"], p["slashed"]) for p in penalised] == [(committee[2], slash)]
    f = r.module.functions
    assert f.memberOf(committee[2]).call()[0] == MIN_BOND - slash
    assert f.balanceOf(committee[2]).call() == 0
    lost = FEE_PER_VERIFIER + slash
    assert [f.balanceOf(m).call() for m in committee[:2]] == [FEE_PER_VERIFIER + lost // 2] * 2
    r.conserved()
    # Its bond now below minBond, the slashed member is never drawn again.
    for _ in range(3):
        job_id, _job, _ = r.submitted()
        assert committee[2] not in r.draw(job_id)


def test_a_dispute_is_decided_by_the_committee(r: Reexec, d: Deployment) -> None:
    """The requester disputes during the round: the dispute waits for the committee's majority
    (anyone resolves it then) and the fee still reaches the verifiers."""
    before = d.balance("requester")
    job_id, job, _ = r.submitted()
    committee = r.draw(job_id)
    d.dispute(job_id, job)
    with reverts("JobMarketVerdictPending"):
        d.tx("outsider", d.market.functions.resolveDispute(job_id, job_tuple(job)))
    ballots = {m: r.vote(job_id, m, False) for m in committee}
    for member, ballot in ballots.items():
        r.reveal(job_id, member, ballot)
    receipt = d.tx("outsider", d.market.functions.resolveDispute(job_id, job_tuple(job)))
    resolved = event(d.market, receipt, "DisputeResolved")
    assert resolved["workerWins"] is False
    # Price and dispute bond back, the worker's slash on top.
    back = ETH_PRICE + job["terms"]["disputeBond"] + resolved["slashed"]
    assert d.balance("requester") - before == back
    r.settle(job_id)
    assert [r.module.functions.balanceOf(m).call() for m in committee] == [FEE_PER_VERIFIER] * K
    r.conserved()


def test_a_member_copying_another_commitment_cannot_reveal_it(r: Reexec, d: Deployment) -> None:
    """Attack: a lazy member commits an honest member's commitment and replays its reveal.
    Commitments bind the member's address, so the copy never opens and the copier is slashed
    as silent."""
    job_id, job, _ = r.submitted()
    honest, copier, third = r.draw(job_id)
    ballot = r.vote(job_id, honest, False)
    r.tx(
        copier, r.module.functions.commit(job_id, r.module.functions.voteOf(job_id, honest).call())
    )
    other = r.vote(job_id, third, False)
    r.reveal(job_id, honest, ballot)
    with reverts("ReexecBadReveal"):
        r.reveal(job_id, copier, ballot)
    r.reveal(job_id, third, other)
    assert r.verdict(job_id, job) == WORKER_LOSES
    d.finalize(job_id, job)
    d.chain.increase_time(CHALLENGE + 1)
    penalised = events(r.module, r.settle(job_id), "MemberPenalised")
    assert [p["verifier"] for p in penalised] == [copier]
    r.conserved()


def test_a_silent_committee_never_decides_against_the_worker(r: Reexec, d: Deployment) -> None:
    """Attack 1: nobody votes; an outsider finalizes after the window (the worker is paid) and
    settles (the fee and the three slashes go to the requester)."""
    job_id, job, _ = r.submitted()
    committee = r.draw(job_id)
    with reverts("JobMarketChallengeWindowOpen"):
        d.finalize(job_id, job)
    d.chain.increase_time(CHALLENGE + 1)
    assert r.verdict(job_id, job) == PENDING
    with reverts("ReexecMarketNotSettled"):
        r.settle(job_id)
    assert event(d.market, d.finalize(job_id, job), "JobFinalized")["workerAmount"] == SHARE
    settled = event(r.module, r.settle(job_id), "RoundSettled")
    slash = MIN_BOND * SLASH_BPS // 10_000
    assert (settled["winners"], settled["toRequester"]) == (0, VERIFY_FEE + K * slash)
    assert r.module.functions.balanceOf(d.addr("requester")).call() == VERIFY_FEE + K * slash
    assert all(r.module.functions.memberOf(m).call()[0] == MIN_BOND - slash for m in committee)
    with reverts("ReexecWrongStage"):  # once only
        r.settle(job_id)
    r.conserved()


def test_every_deadline_is_enforced_and_anyone_may_enforce_it(r: Reexec, d: Deployment) -> None:
    f = r.module.functions
    # Draw: too early in the submission's next block, closed after the draw window.
    job_id, job, _ = r.submitted()
    with reverts("ReexecDrawTooEarly"):
        d.tx("outsider", f.draw(job_id), block="pending")
    d.chain.increase_time(DRAW_WINDOW + 1)
    with reverts("ReexecClosed"):
        r.draw(job_id)
    # Never drawn: the worker is paid after the window, the whole fee goes back.
    d.chain.increase_time(CHALLENGE)
    d.finalize(job_id, job)
    settled = event(r.module, r.settle(job_id), "RoundSettled")
    assert settled["toRequester"] == VERIFY_FEE
    assert f.balanceOf(d.addr("requester")).call() == VERIFY_FEE

    # Commit: only members, closed at the commit deadline; reveal waits for it (or for every
    # commit), and checks the salt; closed after the reveal deadline.
    job_id, job, _ = r.submitted()
    committee = r.draw(job_id)
    with reverts("ReexecNotOnCommittee"):
        d.tx("outsider", f.commit(job_id, b"\x07" * 32))
    ballot = r.vote(job_id, committee[0], True)
    with reverts("ReexecBadCommit"):
        r.vote(job_id, committee[0], True)
    with reverts("ReexecNotYet"):
        r.reveal(job_id, committee[0], ballot)
    late = r.vote(job_id, committee[1], False)
    d.chain.increase_time(DRAW_WINDOW + COMMIT_WINDOW + 1)
    with reverts("ReexecClosed"):
        r.vote(job_id, committee[2], True)
    with reverts("ReexecBadReveal"):
        r.reveal(job_id, committee[0], (True, b"\x00" * 32))
    r.reveal(job_id, committee[0], ballot)
    with reverts("ReexecBadReveal"):  # once
        r.reveal(job_id, committee[0], ballot)
    d.chain.increase_time(REVEAL_WINDOW)
    with reverts("ReexecClosed"):
        r.reveal(job_id, committee[1], late)
    # One agree, one silent-by-lateness, one silent: no committee majority, the worker is paid.
    assert r.verdict(job_id, job) == PENDING
    d.finalize(job_id, job)
    settled = event(r.module, r.settle(job_id), "RoundSettled")
    assert settled["winners"] == 1  # the only revealer had the most revealed votes
    r.conserved()


def test_a_pool_that_cannot_seat_a_committee_leaves_the_job_unverified(
    r: Reexec, d: Deployment
) -> None:
    """Members leaving after the job was created: the draw finds too few, the worker is paid
    at the end of the window and the requester gets the whole fee back."""
    job_id, job, _ = r.submitted()
    leaving = [a for a in r.keys if a not in {d.addr("worker"), d.addr("requester")}][:3]
    for member in leaving:
        r.tx(member, r.module.functions.requestLeave())
    d.chain.mine()
    with reverts("ReexecPoolTooSmall") as caught:
        d.tx("outsider", r.module.functions.draw(job_id), block="pending")
    assert caught.args == {"have": 2, "needed": K}
    d.chain.increase_time(CHALLENGE + 1)
    assert event(d.market, d.finalize(job_id, job), "JobFinalized")["workerAmount"] == SHARE
    assert event(r.module, r.settle(job_id), "RoundSettled")["toRequester"] == VERIFY_FEE
    r.conserved()


def _expected_committee(r: Reexec, job_id: int, seed_block: int, excluded: set[str]) -> list[str]:
    """The draw recomputed off-chain: Fisher-Yates over the pool seeded by the block's hash."""
    block_hash = bytes(r.d.chain.w3.eth.get_block(seed_block)["hash"])
    seed = Web3.keccak(
        encode(["bytes32", "address", "uint256"], [block_hash, r.module.address, job_id])
    )
    pool = r.module.functions.pool().call()
    order = list(range(len(pool)))
    picked: list[str] = []
    for i in range(len(pool)):
        if len(picked) == K:
            break
        draw = int.from_bytes(Web3.keccak(encode(["bytes32", "uint256"], [seed, i])))
        j = i + draw % (len(pool) - i)
        order[i], order[j] = order[j], order[i]
        if pool[order[i]] not in excluded:
            picked.append(pool[order[i]])
    return picked


def test_committee_comes_from_the_block_after_submission_and_excludes_both_parties(
    r: Reexec, d: Deployment
) -> None:
    parties = {d.addr("worker"), d.addr("requester")}
    assert parties <= set(r.module.functions.pool().call())
    for _ in range(6):
        job_id, _job, submit_block = r.submitted()
        d.chain.mine(3)  # whenever it is drawn, the seed is the submission's next block
        r.draw(job_id)
        drawn = event(r.module, _last_receipt(d), "CommitteeDrawn")
        assert drawn["seedBlock"] == submit_block + 1
        assert list(drawn["committee"]) == _expected_committee(r, job_id, submit_block + 1, parties)
        assert not parties & set(drawn["committee"]) and len(set(drawn["committee"])) == K
    r.conserved()


def _last_receipt(d: Deployment) -> Any:
    block = d.chain.w3.eth.get_block("latest")
    return d.chain.w3.eth.get_transaction_receipt(block["transactions"][-1])


def test_pool_is_bounded_and_bonds_checked(r: Reexec, d: Deployment) -> None:
    f = r.module.functions
    extra = Account.from_key(_key(100))
    _fund(d, extra.address)
    r.keys[extra.address] = _key(100)
    with reverts("ReexecBondTooLow"):
        r.tx(extra.address, f.join(), value=MIN_BOND - 1)
    for i in range(len(f.pool().call()), MAX_POOL):
        account = Account.from_key(_key(200 + i))
        _fund(d, account.address)
        r.keys[account.address] = _key(200 + i)
        r.tx(account.address, f.join(), value=MIN_BOND)
    assert len(f.pool().call()) == MAX_POOL
    with reverts("ReexecPoolFull"):
        r.tx(extra.address, f.join(), value=MIN_BOND)
    # A member tops its bond up without taking a seat.
    member = f.pool().call()[0]
    r.tx(member, f.join(), value=5)
    assert f.memberOf(member).call()[0] == MIN_BOND + 5
    # A draw over the full pool stays bounded.
    job_id, _job, _ = r.submitted()
    r.draw(job_id)
    assert _last_receipt(d)["gasUsed"] < 400_000
    r.conserved()


def test_leave_waits_for_the_delay_and_open_committees(r: Reexec, d: Deployment) -> None:
    f = r.module.functions
    job_id, job, committee, _ = _majority_round(r, [True, True, True])
    member = committee[0]
    with reverts("ReexecLeaveState"):
        r.tx(member, f.leave())
    r.tx(member, f.requestLeave())
    with reverts("ReexecLeaveTooEarly"):
        r.tx(member, f.leave())
    d.chain.increase_time(LEAVE_DELAY)
    with reverts("ReexecStillAssigned"):
        r.tx(member, f.leave())
    # A member who asked to leave is never drawn.
    for _ in range(3):
        other, _job, _ = r.submitted()
        assert member not in r.draw(other)
    d.finalize(job_id, job)
    r.settle(job_id)
    receipt = r.tx(member, f.leave())
    assert event(r.module, receipt, "MemberLeft")["bond"] == MIN_BOND
    assert member not in f.pool().call()
    assert f.balanceOf(member).call() == MIN_BOND + FEE_PER_VERIFIER
    r.conserved()
    r.tx(member, f.withdraw())
    r.conserved()
    with reverts("ReexecNotMember"):
        r.tx(member, f.requestLeave())


def reexec_job_gas(r: Reexec) -> dict[str, int]:
    """Gas of one honest `reexec` job, step by step: create, submit, draw, k commits, k
    reveals, finalize, settle (also `scripts/bench_verification.py`'s `gas_per_job_reexec`)."""
    d = r.d
    start = d.chain.w3.eth.block_number
    job_id, job, _committee, _ = _majority_round(r, [True] * K)
    d.finalize(job_id, job)
    r.settle(job_id)
    end = d.chain.w3.eth.block_number
    receipts = [_receipts_of(d, n) for n in range(start + 1, end + 1)]
    steps = [rc["gasUsed"] for block in receipts for rc in block]
    names = ["create", "submit", "draw"] + [f"commit{i + 1}" for i in range(K)]
    names += [f"reveal{i + 1}" for i in range(K)] + ["finalize", "settle"]
    assert len(steps) == len(names)
    return {**dict(zip(names, steps, strict=True)), "total": sum(steps)}


def test_gas_per_job_reexec(r: Reexec, d: Deployment) -> None:
    """create + submit + draw + k commits + k reveals + finalize + settle, in one number."""
    steps = reexec_job_gas(r)
    gas = steps.pop("total")
    print(f"gas_per_job_reexec {gas} ({' '.join(f'{n}={g}' for n, g in steps.items())})")
    assert gas < 1_500_000


def _receipts_of(d: Deployment, number: int) -> list[Any]:
    block = d.chain.w3.eth.get_block(number)
    return [d.chain.w3.eth.get_transaction_receipt(t) for t in block["transactions"]]


def test_module_refuses_eth_from_anyone_but_the_market(r: Reexec, d: Deployment) -> None:
    held = d.chain.w3.eth.get_balance(r.module.address)
    with pytest.raises(Exception):  # noqa: B017 (a plain transfer's revert is not decoded)
        d.chain.sender(d.actors.outsider).send_value(r.module.address, 1)
    assert d.chain.w3.eth.get_balance(r.module.address) == held
    r.conserved()


def test_deploy_gives_the_module_its_market_by_prediction(d: Deployment) -> None:
    """`deploy_market` deploys ReexecVerifier just before the market, with the market's
    predicted address: the module serves exactly that market, registered as mode 2."""
    m = deploy_market(d.chain, d.actors.outsider, MarketConfig(metered_pricing=False), reexec=True)
    assert m.reexec is not None
    assert m.reexec.functions.market().call() == m.jobs.address
    assert m.jobs.functions.modeOf(2).call()[0] == m.reexec.address
