"""The committee court as a client sees it: which modes' disputes a ReexecVerifier pool
judges (their module is a CommitteeArbiter), what a dispute there costs, and where a job's
dispute round stands.

A dispute of such a mode is two transactions: `JobMarket.dispute` (the bond, fixed at the
job's creation) and `ReexecVerifier.openDispute` (the court's `disputeFee`, paid by whoever
opens the round). Without a round, or without a majority, nothing is decided by the
arbitration deadline and the result stands (`expireDispute`: the worker is paid, the bond
goes back), so a client checks that the round can be opened before it disputes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from web3.contract import Contract
from web3.exceptions import BadFunctionCallOutput

from inferchain.chain import Chain, ChainError
from inferchain.market.reexec import (
    PoolParams,
    Round,
    Stage,
    dispute_round_s,
    read_params,
    read_round,
)

#: openDispute seats a committee only from a pool of k + 2 (the worker and the requester may
#: be members, and are skipped by the draw).
POOL_SLACK = 2
#: Gas a client budgets per transaction of a dispute when it checks the wallet can pay (the
#: market's dispute takes ~42k, openDispute ~120k; the surplus covers estimate headroom).
DISPUTE_GAS = 100_000
OPEN_ROUND_GAS = 200_000


class Verdict(IntEnum):
    """IVerifier.Verdict."""

    PENDING = 0
    WORKER_WINS = 1
    WORKER_LOSES = 2


@dataclass(frozen=True)
class Court:
    """The ReexecVerifier whose pool judges a mode's disputes, and what a round there needs."""

    module: Contract
    params: PoolParams
    #: What opening a dispute round costs (ETH): k times the fee per verifier.
    fee: int
    pool_size: int

    @property
    def seats_needed(self) -> int:
        return self.params.committee_size + POOL_SLACK

    @property
    def can_seat(self) -> bool:
        return self.pool_size >= self.seats_needed

    @property
    def round_s(self) -> int:
        """Seconds from opening a round to its verdict at the latest, plus one reveal window
        for anyone to resolve it (what openDispute requires before the arbitration deadline)."""
        p = self.params
        return dispute_round_s(p.draw_window, p.commit_window, p.reveal_window)

    def latest_opening(self, arbitration_deadline: int) -> int:
        """The last second a round for a dispute ending at `arbitration_deadline` may open."""
        return arbitration_deadline - self.round_s


def is_committee_arbiter(chain: Chain, address: str) -> bool:
    """Whether the contract at `address` is a CommitteeArbiter: it answers `courtMode()`,
    which a ManualArbiter or a verifier module does not have."""
    if int(address, 16) == 0:
        return False
    try:
        chain.call(chain.contract("CommitteeArbiter", address).functions.courtMode())
    except (ChainError, BadFunctionCallOutput):
        return False
    return True


def court_of(chain: Chain, market: str, module: str) -> Court | None:
    """The court judging the disputes of a mode of `market` whose module is `module`: None
    when that is no CommitteeArbiter (a ManualArbiter's key rules them; a proof mode never
    reaches one) or when the market has no module under its court mode."""
    if not is_committee_arbiter(chain, module):
        return None
    arbiter = chain.contract("CommitteeArbiter", module)
    address = str(chain.call(arbiter.functions.courtOf(market)))
    if int(address, 16) == 0:
        return None
    module = chain.contract("ReexecVerifier", address)
    return Court(
        module=module,
        params=read_params(chain, module),
        fee=int(chain.call(module.functions.disputeFee())),
        pool_size=len(chain.call(module.functions.pool())),
    )


@dataclass(frozen=True)
class DisputeRound:
    """A job's dispute round in its court, for `job status`."""

    stage: Stage
    opened_at: int
    fee: int
    committee: list[str]
    committed: int
    agrees: int
    disagrees: int
    verdict: Verdict
    #: When the committee must be drawn, commit, and reveal by.
    draw_deadline: int
    commit_deadline: int
    reveal_deadline: int

    @property
    def revealed(self) -> int:
        return self.agrees + self.disagrees

    def as_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage.name.lower(),
            "opened_at": self.opened_at,
            "fee": self.fee,
            "committee": self.committee,
            "committed": self.committed,
            "revealed": self.revealed,
            "agrees": self.agrees,
            "disagrees": self.disagrees,
            "verdict": self.verdict.name.lower(),
            "draw_deadline": self.draw_deadline,
            "commit_deadline": self.commit_deadline,
            "reveal_deadline": self.reveal_deadline,
        }


def read_dispute_round(chain: Chain, court: Court, job_id: int) -> DisputeRound | None:
    """`job_id`'s dispute round in `court`; None when none was opened."""
    r: Round = read_round(chain, court.module, job_id)
    if r.stage is Stage.NONE or not r.dispute:
        return None
    committee = [str(a) for a in chain.call(court.module.functions.committeeOf(job_id))]
    verdict = Verdict(int(chain.call(court.module.functions.disputeVerdict(job_id))))
    return DisputeRound(
        stage=r.stage,
        opened_at=r.submitted_at,
        fee=r.fee,
        committee=committee,
        committed=r.commits,
        agrees=r.agrees,
        disagrees=r.disagrees,
        verdict=verdict,
        draw_deadline=r.submitted_at + court.params.draw_window,
        commit_deadline=r.commit_deadline(court.params),
        reveal_deadline=r.reveal_deadline(court.params),
    )
