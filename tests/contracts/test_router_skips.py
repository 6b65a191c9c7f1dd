"""JobRouter.createJobsFor skips and reports a request a third party made ineligible.

Issue 12, attack 7 (router half): each such request emits `RequestSkipped(requester, nonce,
reason)`, gets job id 0 and keeps its nonce and its session's cap; the others are created.
What only the relayer controls (the batch's size, a paused market) still reverts it all.
"""

from __future__ import annotations

from typing import Any

from eth_utils import function_abi_to_4byte_selector
from web3.contract import Contract

from tests.contracts.attacks.harness import SESSION_KEY, grant, session_request
from tests.contracts.helpers import (
    ETH,
    ETH_PRICE,
    Deployment,
    cid,
    events,
    reverts,
    sign_request,
)


def _selector(contract: Contract, error: str) -> bytes:
    (item,) = (e for e in contract.abi if e["type"] == "error" and e["name"] == error)
    return function_abi_to_4byte_selector(item)


def _fund(d: Deployment, role: str = "requester", amount: int = 10 * ETH_PRICE) -> None:
    d.tx(role, d.market.functions.deposit(ETH, amount), value=amount)


def _signed(
    d: Deployment,
    nonce: int,
    role: str = "requester",
    *,
    expiry: int | None = None,
    **overrides: Any,
) -> tuple[Any, ...]:
    expiry = d.now() + 600 if expiry is None else expiry
    request = d.request(**{"inputCid": cid(f"{role} {nonce}"), **overrides})
    return sign_request(d, getattr(d.actors, role), request, nonce=nonce, expiry=expiry)


def _relay(d: Deployment, batch: list[tuple[Any, ...]]) -> tuple[list[int], list[tuple]]:
    """Relay `batch`: the job ids it returns (0 = skipped) and its (requester, nonce, reason)
    skip reports, checking that the ids match the JobCreated events."""
    ids = d.router.functions.createJobsFor(batch).call({"from": d.addr("relayer")})
    receipt = d.tx("relayer", d.router.functions.createJobsFor(batch))
    created = [e["jobId"] for e in events(d.market, receipt, "JobCreated")]
    assert created == [i for i in ids if i != 0]
    skipped = events(d.router, receipt, "RequestSkipped")
    return ids, [(e["requester"], e["nonce"], e["reason"]) for e in skipped]


def _used(d: Deployment, nonce: int, role: str = "requester") -> bool:
    return d.router.functions.nonceUsed(d.addr(role), nonce).call()


def test_expired_and_forged_requests_are_skipped_and_keep_their_nonces(d: Deployment) -> None:
    _fund(d)
    late = _signed(d, 2, expiry=d.now() + 5)
    forged = sign_request(
        d,
        d.actors.requester2,
        d.request(),
        nonce=3,
        expiry=d.now() + 600,
        requester=d.addr("requester"),
    )
    batch = [_signed(d, 1), late, forged, _signed(d, 4)]
    d.chain.increase_time(10)
    ids, skipped = _relay(d, batch)
    assert ids[1:3] == [0, 0] and 0 not in (ids[0], ids[3])
    me = d.addr("requester")
    assert skipped == [
        (me, 2, _selector(d.router, "JobRouterSignatureExpired")),
        (me, 3, _selector(d.router, "JobRouterInvalidSignature")),
    ]
    assert [_used(d, n) for n in (1, 2, 3, 4)] == [True, False, False, True]
    assert d.balance("requester") == 8 * ETH_PRICE


def test_a_nonce_twice_in_one_batch_creates_one_job(d: Deployment) -> None:
    _fund(d)
    once = _signed(d, 5)
    ids, skipped = _relay(d, [once, _signed(d, 5, inputCid=cid("again"))])
    assert ids[0] != 0 and ids[1] == 0
    assert skipped == [(d.addr("requester"), 5, _selector(d.router, "JobRouterNonceUsed"))]
    assert d.balance("requester") == 9 * ETH_PRICE


def test_market_refusals_are_skipped_and_their_nonces_stay_unused(d: Deployment) -> None:
    """An unfunded requester, a price over its max and an inactive model: the market refuses
    the run, the router opens each request alone and skips the refused ones."""
    _fund(d)
    market_eth = d.chain.w3.eth.get_balance(d.market.address)
    unfunded = _signed(d, 1, "requester2")
    too_cheap = _signed(d, 2, maxPrice=ETH_PRICE - 1)
    batch = [_signed(d, 1), unfunded, too_cheap, _signed(d, 3)]
    ids, skipped = _relay(d, batch)
    assert ids[1:3] == [0, 0] and 0 not in (ids[0], ids[3])
    assert skipped == [
        (d.addr("requester2"), 1, _selector(d.market, "JobMarketInsufficientBalance")),
        (d.addr("requester"), 2, _selector(d.market, "JobMarketPriceAboveMax")),
    ]
    assert not _used(d, 1, "requester2") and not _used(d, 2)
    # Funds: only the two created jobs were paid, nothing entered or left the market.
    assert (d.balance("requester"), d.balance("requester2")) == (8 * ETH_PRICE, 0)
    assert d.chain.w3.eth.get_balance(d.market.address) == market_eth
    # The skipped request can be relayed again once its wallet is funded.
    _fund(d, "requester2")
    ids, skipped = _relay(d, [unfunded])
    assert ids[0] != 0 and skipped == []


def test_inactive_model_is_skipped(d: Deployment) -> None:
    _fund(d)
    other = _signed(d, 1, model=d.token_model)
    d.tx("provider", d.models.functions.setActive(d.token_model, False))
    ids, skipped = _relay(d, [_signed(d, 2), other])
    assert ids[0] != 0 and ids[1] == 0
    assert skipped == [(d.addr("requester"), 1, _selector(d.models, "ModelRegistryModelInactive"))]


def test_session_cap_short_skips_the_requests_it_cannot_cover(d: Deployment) -> None:
    """A cap covering two jobs: the third request is skipped, the cap spent exactly twice."""
    _fund(d)
    d.tx("requester", grant(d, "requester", ETH, 2 * ETH_PRICE).call)
    batch = [session_request(d, n) for n in (1, 2, 3)]
    ids, skipped = _relay(d, batch)
    assert ids[2] == 0 and 0 not in ids[:2]
    assert skipped == [(d.addr("requester"), 3, _selector(d.router, "JobRouterSessionCapExceeded"))]
    remaining, _ = d.router.functions.sessionOf(
        d.addr("requester"), SESSION_KEY.address, ETH
    ).call()
    assert remaining == 0 and d.balance("requester") == 8 * ETH_PRICE
    assert not _used(d, 3)


def test_market_refusal_gives_a_session_its_reservation_back(d: Deployment) -> None:
    """A session request the market refuses (requester unfunded) spends nothing of the cap."""
    d.tx("requester", grant(d, "requester", ETH, 3 * ETH_PRICE).call)
    _fund(d, amount=ETH_PRICE)
    ids, skipped = _relay(d, [session_request(d, n) for n in (1, 2)])
    assert ids[0] != 0 and ids[1] == 0
    assert [s[2] for s in skipped] == [_selector(d.market, "JobMarketInsufficientBalance")]
    remaining, _ = d.router.functions.sessionOf(
        d.addr("requester"), SESSION_KEY.address, ETH
    ).call()
    assert remaining == 2 * ETH_PRICE
    assert not _used(d, 2)


def test_single_request_still_reverts_with_its_error(d: Deployment) -> None:
    _fund(d)
    d.tx("requester", grant(d, "requester", ETH, ETH_PRICE - 1).call)
    with reverts("JobRouterSessionCapExceeded") as caught:
        d.tx("relayer", d.router.functions.createJobFor(session_request(d, 1)))
    assert caught.args["remaining"] == ETH_PRICE - 1 and caught.args["needed"] == ETH_PRICE


def test_paused_market_still_reverts_the_batch(d: Deployment) -> None:
    _fund(d)
    d.tx("guardian", d.governor.functions.pause(d.market.address))
    with reverts("JobMarketPaused"):
        d.tx("relayer", d.router.functions.createJobsFor([_signed(d, 1), _signed(d, 2)]))
    assert not _used(d, 1)


def test_all_skipped_calls_no_market(d: Deployment) -> None:
    ids, skipped = _relay(d, [_signed(d, 1, expiry=d.now() - 1)])
    assert ids == [0] and [s[1] for s in skipped] == [1]
