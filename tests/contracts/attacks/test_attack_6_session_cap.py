"""Issue 12, attack 6: lowering a session signer's cap can be front-run.

On v1 `authorizeSigner` replaced the remaining cap, like ERC-20's `approve`: a signer that saw
the wallet lower its cap spent the old cap first, then the new one. The router's
`decreaseSignerCap` subtracts from what is left, so a signer never spends more than the total
it was granted, whatever the order.
"""

from __future__ import annotations

from tests.contracts.attacks.harness import (
    SESSION_KEY,
    Move,
    attack_steps,
    frontrun_into_same_block,
    grant,
    lower_cap,
    session_request,
    spend_until_refused,
)
from tests.contracts.helpers import ETH, ETH_PRICE, Deployment

DEPOSIT = 10 * ETH_PRICE
GRANTED = 5 * ETH_PRICE
LOWERED_BY = 3 * ETH_PRICE
REFUSED = ["JobRouterSessionCapExceeded"]


def _setup(d: Deployment) -> None:
    d.tx("requester", d.market.functions.deposit(ETH, DEPOSIT), value=DEPOSIT)
    move = grant(d, "requester", ETH, GRANTED)
    d.tx(move.role, move.call)


def _remaining(d: Deployment) -> int:
    return d.router.functions.sessionOf(d.addr("requester"), SESSION_KEY.address, ETH).call()[0]


def _spend_the_rest(d: Deployment, nonces: range) -> None:
    later = [
        Move("relayer", d.router.functions.createJobFor(session_request(d, n))) for n in nonces
    ]
    spend_until_refused(d, later, refusals=REFUSED)


def test_attack6_lowering_a_cap_cannot_be_frontrun(d: Deployment) -> None:
    with attack_steps():
        _setup(d)
        # The wallet lowers the cap by 3 jobs; the signer drains 5 jobs in front of it.
        drain = [session_request(d, n) for n in range(1, 6)]
        frontrun_into_same_block(
            d,
            Move("relayer", d.router.functions.createJobsFor(drain)),
            lower_cap(d, "requester", ETH, LOWERED_BY),
            refusals=[],
        )
        _spend_the_rest(d, range(6, 11))
        spent, remaining = DEPOSIT - d.balance("requester"), _remaining(d)
    assert (spent, remaining) == (GRANTED, 0), (
        f"the signer spent {spent // ETH_PRICE} jobs and has {remaining} left; the wallet "
        f"never granted more than {GRANTED // ETH_PRICE}"
    )


def test_attack6_lowering_first_leaves_only_the_rest(d: Deployment) -> None:
    with attack_steps():
        _setup(d)
        lowered = lower_cap(d, "requester", ETH, LOWERED_BY)
        d.tx(lowered.role, lowered.call)
        _spend_the_rest(d, range(1, 6))
        spent = DEPOSIT - d.balance("requester")
    assert spent <= GRANTED - LOWERED_BY, (
        f"the cap was lowered to {(GRANTED - LOWERED_BY) // ETH_PRICE} jobs before any spending; "
        f"the signer spent {spent // ETH_PRICE}"
    )
