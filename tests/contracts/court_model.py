"""ReexecVerifier's books in Python, for the stateful test (`test_invariants.py`): the pool's
bonds, seats and credited balances, and each round (a reexec job's submission round or a
committee-judged job's dispute round) with its draw recomputed off-chain, its votes, its
verdict and its settlement, which pays the majority, slashes absent and minority members
and refunds the requester to the wei, as `ReexecVerifier.settle` does. Pure Python: the
machine sends the transactions and compares."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_abi import encode
from web3 import Web3

from tests.contracts.test_reexec_verifier import (
    COMMIT_WINDOW,
    DRAW_WINDOW,
    MIN_BOND,
    PENDING,
    REVEAL_WINDOW,
    SLASH_BPS,
    WORKER_LOSES,
    WORKER_WINS,
    K,
)

# IReexecVerifier.Stage (None is 0: no round)
SUBMITTED_STAGE, DRAWN_STAGE, SETTLED_STAGE = 1, 2, 3


@dataclass
class ModelRound:
    """One round of job `job_id`; `ballots` are the committed votes (and salts), `revealed`
    the revealed ones, by member address."""

    job_id: int
    worker: str
    requester: str
    fee: int
    dispute: bool
    submitted_at: int
    submit_block: int
    stage: int = SUBMITTED_STAGE
    committee: list[str] = field(default_factory=list)
    ballots: dict[str, tuple[bool, bytes]] = field(default_factory=dict)
    revealed: dict[str, bool] = field(default_factory=dict)

    @property
    def draw_deadline(self) -> int:
        return self.submitted_at + DRAW_WINDOW

    @property
    def commit_deadline(self) -> int:
        return self.draw_deadline + COMMIT_WINDOW

    @property
    def reveal_deadline(self) -> int:
        return self.commit_deadline + REVEAL_WINDOW

    @property
    def agrees(self) -> int:
        return sum(self.revealed.values())

    @property
    def disagrees(self) -> int:
        return len(self.revealed) - self.agrees

    @property
    def majority(self) -> int:
        """A majority of the whole committee, else pending (attack 1: silence never decides
        against the worker)."""
        if self.disagrees * 2 > K:
            return WORKER_LOSES
        return WORKER_WINS if self.agrees * 2 > K else PENDING

    def as_chain(self) -> list:
        """What `roundOf` returns."""
        return [
            self.worker,
            self.submitted_at,
            self.submit_block,
            self.stage,
            self.requester,
            self.fee,
            len(self.ballots),
            self.agrees,
            self.disagrees,
            self.dispute,
        ]


def vote_hash(module: str, job_id: int, member: str, agrees: bool, salt: bytes) -> bytes:
    """The commitment `ReexecVerifier.voteHash` computes."""
    types = ["address", "uint256", "address", "bool", "bytes32"]
    return Web3.keccak(encode(types, [module, job_id, member, agrees, salt]))


@dataclass
class ModelPool:
    """The pool in storage order (nobody leaves here), each member's bond and open seats, and
    the balances the module credited; `touched` collects the accounts to compare next."""

    members: list[str]
    bonds: dict[str, int]
    seats: dict[str, int]
    balances: dict[str, int] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)

    @classmethod
    def bonded(cls, members: list[str]) -> ModelPool:
        return cls(members, dict.fromkeys(members, MIN_BOND), dict.fromkeys(members, 0))

    def credit(self, account: str, amount: int) -> None:
        if amount:
            self.balances[account] = self.balances.get(account, 0) + amount
            self.touched.add(account)

    def held(self) -> int:
        """Bonds plus credited balances: the module's ETH besides open dispute rounds' fees."""
        return sum(self.bonds.values()) + sum(self.balances.values())

    def eligible(self, r: ModelRound) -> list[str]:
        """Members a draw for `r` may seat: not a party, bonded at least `minBond`."""
        return [
            m
            for m in self.members
            if m not in (r.worker, r.requester) and self.bonds[m] >= MIN_BOND
        ]

    def draw(self, r: ModelRound, module: str, seed_hash: bytes) -> list[str]:
        """The committee `draw` seats from the seed block's hash (Fisher-Yates over the pool,
        stopping at k eligible members), seats taken."""
        seed = Web3.keccak(encode(["bytes32", "address", "uint256"], [seed_hash, module, r.job_id]))
        eligible = set(self.eligible(r))
        order = list(range(len(self.members)))
        picked: list[str] = []
        for i in range(len(order)):
            if len(picked) == K:
                break
            step = int.from_bytes(Web3.keccak(encode(["bytes32", "uint256"], [seed, i])))
            j = i + step % (len(order) - i)
            order[i], order[j] = order[j], order[i]
            if (candidate := self.members[order[i]]) in eligible:
                picked.append(candidate)
        for member in picked:
            self.seats[member] += 1
            self.touched.add(member)
        r.committee, r.stage = picked, DRAWN_STAGE
        return picked

    def settle(self, r: ModelRound) -> tuple[int, int, int, list[tuple[str, int]]]:
        """Settle `r` as `ReexecVerifier.settle` does: (winners, paid, toRequester) as its
        RoundSettled event reports them, and the (member, slash) of each penalised member.

        The side with more revealed votes wins and splits the lost shares and slashes of the
        silent and the minority (the division's remainder to the first winner); on a tie each
        revealer keeps its share; with no winner (or no committee) the requester gets all."""
        fee, slashes = r.fee, []
        winners = paid = to_requester = 0
        if r.stage == SUBMITTED_STAGE:
            to_requester = fee
        else:
            side = r.agrees > r.disagrees if r.agrees != r.disagrees else None
            share = fee // K
            lost = fee - share * K
            won: list[str] = []
            for member in r.committee:
                self.seats[member] -= 1
                self.touched.add(member)
                vote = r.revealed.get(member)
                if side is not None and vote is side:
                    won.append(member)
                elif side is None and vote is not None:
                    self.credit(member, share)
                    paid += share
                else:
                    slashed = self.bonds[member] * SLASH_BPS // 10_000
                    self.bonds[member] -= slashed
                    slashes.append((member, slashed))
                    lost += share + slashed
            if won:
                each = lost // len(won)
                for i, member in enumerate(won):
                    self.credit(member, share + each + (lost - each * len(won) if i == 0 else 0))
                winners, paid = len(won), paid + share * len(won) + lost
            else:
                to_requester = lost
        self.credit(r.requester, to_requester)
        r.stage = SETTLED_STAGE
        return winners, paid, to_requester, slashes
