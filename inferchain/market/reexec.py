"""The `reexec` tier's pool as a client sees it: a member's bond and balance, and the
module's parameters, read from ReexecVerifier (mode `REEXEC_MODE`)."""

from __future__ import annotations

from dataclasses import dataclass

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


def read_member(chain: Chain, module: Contract, address: str) -> PoolMember:
    """`address`'s membership of `module`'s pool (zeros when it is none)."""
    bond, leave_at, open_, index = chain.call(module.functions.memberOf(address))
    balance = int(chain.call(module.functions.balanceOf(address)))
    return PoolMember(address, int(index) != 0, int(bond), int(leave_at), int(open_), balance)


def read_params(chain: Chain, module: Contract) -> PoolParams:
    return PoolParams(*(int(v) for v in chain.call(module.functions.params())))
