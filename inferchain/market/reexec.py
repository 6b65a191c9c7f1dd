"""The `reexec` tier's pool as a client sees it: a member's bond and balance, and the
module's parameters, read from ReexecVerifier (mode `REEXEC_MODE`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from web3.contract import Contract

from inferchain.chain import Chain


@dataclass(frozen=True)
class PoolMember:
    """One account in ReexecVerifier's pool (IReexecVerifier.Member) and its balance there."""

    address: str
    member: bool
    bond: int
    #: When it may leave (0: it has not asked to).
    leave_at: int
    #: Committees it sits on that are not settled yet (it cannot leave before they are).
    open_committees: int
    #: Withdrawable here: fees, slashes won, and the bond once it left.
    balance: int


@dataclass(frozen=True)
class PoolParams:
    """IReexecVerifier.Params, the module's fixed parameters."""

    committee_size: int
    min_bond: int
    fee_per_verifier: int
    slash_bps: int
    draw_window: int
    commit_window: int
    reveal_window: int
    challenge_window: int
    arbitration_window: int
    leave_delay: int


class Stage(IntEnum):
    """IReexecVerifier.Stage: where a job's round is."""

    NONE = 0
    SUBMITTED = 1
    DRAWN = 2
    SETTLED = 3


@dataclass(frozen=True)
class Round:
    """IReexecVerifier.Round: one job's re-execution round."""

    worker: str
    submitted_at: int
    submit_block: int
    stage: Stage
    requester: str
    fee: int
    commits: int
    agrees: int
    disagrees: int
    #: A dispute round of the committee court (opened by `openDispute` for a disputed
    #: optimistic job, its fee paid in then), not a `reexec` job's submission round.
    dispute: bool = False

    def commit_deadline(self, params: PoolParams) -> int:
        return self.submitted_at + params.draw_window + params.commit_window

    def reveal_deadline(self, params: PoolParams) -> int:
        return self.commit_deadline(params) + params.reveal_window

    def all_revealed(self, params: PoolParams) -> bool:
        return self.agrees + self.disagrees == params.committee_size


def dispute_round_s(draw_window: int, commit_window: int, reveal_window: int) -> int:
    """Seconds ReexecVerifier.openDispute requires before the market's arbitration deadline:
    the round's draw, commit and reveal windows, then one more reveal window for anyone to
    resolve the dispute once the votes are in. The one place this rule is written off-chain."""
    return draw_window + commit_window + 2 * reveal_window


def read_round(chain: Chain, module: Contract, job_id: int) -> Round:
    """`job_id`'s round in `module` (stage NONE when the job has none)."""
    worker, at, block, stage, requester, fee, commits, agrees, disagrees, dispute = chain.call(
        module.functions.roundOf(job_id)
    )
    return Round(str(worker), int(at), int(block), Stage(int(stage)), str(requester), int(fee),
                 int(commits), int(agrees), int(disagrees), bool(dispute))  # fmt: skip


def read_member(chain: Chain, module: Contract, address: str) -> PoolMember:
    """`address`'s membership of `module`'s pool (zeros when it is none)."""
    bond, leave_at, open_, index = chain.call(module.functions.memberOf(address))
    balance = int(chain.call(module.functions.balanceOf(address)))
    return PoolMember(address, int(index) != 0, int(bond), int(leave_at), int(open_), balance)


def read_params(chain: Chain, module: Contract) -> PoolParams:
    return PoolParams(*(int(v) for v in chain.call(module.functions.params())))
