"""Issue 12, attack 6: lowering a session signer's cap can be front-run.

On v1 `authorizeSigner` replaces the remaining cap, like ERC-20's `approve`: a signer that
sees the wallet lower its cap spends the old cap first, then the new one.
"""

from __future__ import annotations

import pytest

from tests.contracts.attacks.harness import (
    SESSION_KEY,
    Move,
    attack_steps,
    frontrun_into_same_block,
    lower_cap,
    session_request,
    spend_until_refused,
)
from tests.contracts.helpers import ETH, ETH_PRICE, Deployment

DEPOSIT = 10 * ETH_PRICE
GRANTED = 5 * ETH_PRICE


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 6 works on contracts v1: the signer spends the old cap, then the "
    "new one",
)
def test_attack6_lowering_a_cap_cannot_be_frontrun(d: Deployment) -> None:
    with attack_steps():
        market = d.market.functions
        d.tx("requester", market.deposit(ETH, DEPOSIT), value=DEPOSIT)
        d.tx(
            "requester", market.authorizeSigner(SESSION_KEY.address, ETH, GRANTED, d.now() + 3_600)
        )
        # The wallet lowers the cap to 2 jobs; the signer drains 5 jobs in front of it.
        drain = [session_request(d, n) for n in range(1, 6)]
        frontrun_into_same_block(
            d,
            Move("relayer", market.createJobsFor(drain)),
            lower_cap(d, "requester", ETH, 2 * ETH_PRICE),
            refusals=[],
        )
        later = [Move("relayer", market.createJobFor(session_request(d, n))) for n in range(6, 11)]
        spend_until_refused(d, later, refusals=["JobMarketSessionCapExceeded"])
        spent = DEPOSIT - d.balance("requester")
    assert spent <= GRANTED, (
        f"the signer spent {spent // ETH_PRICE} jobs; the wallet never granted more than "
        f"{GRANTED // ETH_PRICE}"
    )
