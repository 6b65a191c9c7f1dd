"""Issue 12, attack 5: `depositWithPermit(owner, ...)` moved other people's tokens.

On v1 anyone could pull `owner`'s tokens into `owner`'s market balance: with `owner`'s own
permit copied from the mempool, or with a junk permit when `owner` had a standing allowance.
v2 pulls only from the caller, or (router-only `depositFor`) from an owner whose `Deposit`
signature for exactly that amount the router checked: a permit or an allowance moves nothing.
"""

from __future__ import annotations

from inferchain.market import NO_PERMIT
from tests.contracts.attacks.harness import (
    SESSION_KEY,
    Move,
    attack_steps,
    frontrun_into_same_block,
    grant,
    outcome,
    session_request,
    spend_until_refused,
)
from tests.contracts.helpers import (
    TOKEN_PRICE,
    Deployment,
    request_tuple,
    sign_deposit_tuple,
    sign_permit,
)

JUNK_PERMIT = (27, b"\x01" * 32, b"\x02" * 32)
JUNK_SIGNATURE = b"\x03" * 65
REFUSED = ["JobRouterInvalidSignature", "JobMarketNotRouter"]


def _unsigned_deposit(d: Deployment, owner: str, amount: int, permit: tuple) -> Move:
    """An outsider's deposit of `owner`'s tokens, with no signature of `owner`'s."""
    signed = (d.market.address, owner, d.token.address, amount, 1, d.now() + 600, JUNK_SIGNATURE)
    return Move("outsider", d.router.functions.depositWithSig(signed, permit))


def test_attack5_permit_frontrun_moves_nothing(d: Deployment) -> None:
    with attack_steps():
        victim, token = d.addr("requester"), d.token.address
        deadline = d.now() + 600
        v, r, s = sign_permit(
            d.token, d.chain.chain_id, d.actors.requester, d.market.address, TOKEN_PRICE, deadline
        )
        permit = (deadline, v, r, s)
        pushed = outcome(d, _unsigned_deposit(d, victim, TOKEN_PRICE, permit), refusals=REFUSED)
        request = request_tuple(d.request(model=d.token_model))
        copied = d.token.functions.permit(victim, d.market.address, TOKEN_PRICE, deadline, v, r, s)
        create = d.router.functions.createJobWithPermit(d.market.address, request, permit)
        _, refused = frontrun_into_same_block(
            d,
            Move("outsider", copied),
            Move("requester", create),
            refusals=["ERC20InsufficientAllowance"],
        )
        parked = d.balance("requester", token)
    assert (pushed, refused, parked) == ("JobRouterInvalidSignature", None, 0), (
        f"the unsigned deposit ended in {pushed}; the victim's createJobWithPermit was refused "
        f"with {refused}; {parked} of its tokens sit in the market without its consent"
    )


def test_attack5_standing_allowance_cannot_grow_a_deposit(d: Deployment) -> None:
    with attack_steps():
        token = d.token.address
        requester = d.addr("requester")
        d.tx("requester", d.token.functions.approve(d.market.address, 2**256 - 1))
        d.tx("requester", d.market.functions.deposit(token, TOKEN_PRICE))  # funds one job
        move = grant(d, "requester", token, 5 * TOKEN_PRICE)
        d.tx(move.role, move.call)
        # The session key's holder (or anyone) tries to push four more jobs' worth in.
        by_session_key = sign_deposit_tuple(
            d, SESSION_KEY.key.hex(), token, 4 * TOKEN_PRICE, nonce=2
        )
        attempts = [
            _unsigned_deposit(d, requester, 4 * TOKEN_PRICE, (d.now() + 600, *JUNK_PERMIT)),
            Move(
                "outsider",
                d.router.functions.depositWithSig(
                    (by_session_key[0], requester, *by_session_key[2:]), NO_PERMIT
                ),
            ),
            Move("outsider", d.market.functions.depositFor(requester, token, 4 * TOKEN_PRICE)),
        ]
        pushed = [outcome(d, attempt, refusals=REFUSED) for attempt in attempts]
        jobs = [
            Move(
                "relayer",
                d.router.functions.createJobFor(session_request(d, n, model=d.token_model)),
            )
            for n in range(1, 6)
        ]
        spent = spend_until_refused(d, jobs, refusals=["JobMarketInsufficientBalance"])
    assert None not in pushed and spent == 1, (
        f"the attacker's deposits ended in {pushed}; the session signer spent {spent} jobs; the "
        "wallet deposited for 1"
    )
