"""Issue 12, attack 5: `depositWithPermit(owner, ...)` moves other people's tokens.

On v1 anyone may pull `owner`'s tokens into `owner`'s market balance: with `owner`'s own
permit copied from the mempool, or with a junk permit when `owner` has a standing allowance
(the failed permit is ignored and the allowance pays).
"""

from __future__ import annotations

import pytest

from tests.contracts.attacks.harness import (
    SESSION_KEY,
    Move,
    attack_steps,
    frontrun_into_same_block,
    session_request,
    spend_until_refused,
)
from tests.contracts.helpers import TOKEN_PRICE, Deployment, request_tuple, sign_permit

JUNK_PERMIT = (27, b"\x01" * 32, b"\x02" * 32)


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 5 works on contracts v1: a copied permit parks the victim's tokens "
    "and reverts its createJobWithPermit",
)
def test_attack5_permit_frontrun_moves_nothing(d: Deployment) -> None:
    with attack_steps():
        victim, token = d.addr("requester"), d.token.address
        deadline = d.now() + 600
        v, r, s = sign_permit(
            d.token, d.chain.chain_id, d.actors.requester, d.market.address, TOKEN_PRICE, deadline
        )
        request = request_tuple(d.request(model=d.token_model))
        copied = d.market.functions.depositWithPermit(victim, token, TOKEN_PRICE, deadline, v, r, s)
        _, refused = frontrun_into_same_block(
            d,
            Move("outsider", copied),
            Move("requester", d.market.functions.createJobWithPermit(request, deadline, v, r, s)),
            refusals=["ERC20InsufficientAllowance"],
        )
        parked = d.balance("requester", token)
    assert (refused, parked) == (None, 0), (
        f"the victim's createJobWithPermit was refused with {refused}; "
        f"{parked} of its tokens sit in the market without its consent"
    )


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 5 works on contracts v1: a junk permit and a standing allowance "
    "grow the deposit that bounds a session signer",
)
def test_attack5_standing_allowance_cannot_grow_a_deposit(d: Deployment) -> None:
    with attack_steps():
        token, market = d.token.address, d.market.functions
        d.tx("requester", d.token.functions.approve(d.market.address, 2**256 - 1))
        d.tx("requester", market.deposit(token, TOKEN_PRICE))  # the wallet funds one job
        d.tx(
            "requester",
            market.authorizeSigner(SESSION_KEY.address, token, 5 * TOKEN_PRICE, d.now() + 3_600),
        )
        # The session key's holder (or anyone) pushes four more jobs' worth into the market.
        push = market.depositWithPermit(
            d.addr("requester"), token, 4 * TOKEN_PRICE, d.now() + 600, *JUNK_PERMIT
        )
        d.tx("outsider", push)
        jobs = [
            Move("relayer", market.createJobFor(session_request(d, n, model=d.token_model)))
            for n in range(1, 6)
        ]
        spent = spend_until_refused(d, jobs, refusals=["JobMarketInsufficientBalance"])
    assert spent <= 1, f"the session signer spent {spent} jobs; the wallet deposited for 1"
