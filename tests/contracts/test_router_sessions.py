"""JobRouter session signers: capped, expiring keys a wallet lets sign requests for it.

A cap is only ever raised or lowered relative to what is left (issue 12, attack 6).
"""

from __future__ import annotations

from typing import Any

from eth_account import Account

from tests.contracts.helpers import (
    ETH,
    ETH_PRICE,
    OPEN,
    Deployment,
    event,
    events,
    reverts,
    sign_request,
)

SESSION_KEY = Account.from_key("0x" + "5e" * 32)
MAX_SESSION_TTL = 90 * 86_400


def _fund(d: Deployment, amount: int = 10 * ETH_PRICE) -> None:
    d.tx("requester", d.market.functions.deposit(ETH, amount), value=amount)


def _authorize(
    d: Deployment,
    cap: int = 3 * ETH_PRICE,
    ttl: int = 3_600,
    token: str = ETH,
    role: str = "requester",
) -> Any:
    expiry = d.now() + ttl
    receipt = d.tx(
        role, d.router.functions.increaseSignerCap(SESSION_KEY.address, token, cap, expiry)
    )
    return event(d.router, receipt, "SignerCapChanged")


def _session_signed(
    d: Deployment, nonce: int, key: str = SESSION_KEY.key.hex(), requester: str = "requester"
) -> tuple[Any, ...]:
    return sign_request(
        d,
        key,
        d.request(),
        nonce=nonce,
        expiry=d.now() + 600,
        requester=d.addr(requester),
    )


def _session(d: Deployment, requester: str = "requester", token: str = ETH) -> tuple[int, int]:
    remaining, expiry = d.router.functions.sessionOf(
        d.addr(requester), SESSION_KEY.address, token
    ).call()
    return remaining, expiry


def test_authorize_then_a_session_signed_job_is_paid_from_the_deposit_and_the_cap(
    d: Deployment,
) -> None:
    _fund(d)
    authorized = _authorize(d)
    assert dict(authorized) == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "token": ETH,
        "remaining": 3 * ETH_PRICE,
        "expiry": authorized["expiry"],
    }
    assert _session(d) == (3 * ETH_PRICE, authorized["expiry"])
    receipt = d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=1)))
    created = event(d.market, receipt, "JobCreated")
    assert created["requester"] == d.addr("requester")
    assert d.status(created["jobId"])[0] == OPEN
    spent = event(d.router, receipt, "SignerSpent")
    assert dict(spent) == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "token": ETH,
        "jobId": created["jobId"],
        "remaining": 2 * ETH_PRICE,
    }
    assert _session(d)[0] == 2 * ETH_PRICE
    assert d.balance("requester") == 9 * ETH_PRICE


def test_requester_signed_requests_leave_the_cap_alone(d: Deployment) -> None:
    _fund(d)
    _authorize(d)
    signed = sign_request(d, d.actors.requester, d.request(), nonce=5, expiry=d.now() + 60)
    receipt = d.tx("relayer", d.router.functions.createJobFor(signed))
    assert events(d.router, receipt, "SignerSpent") == []
    assert _session(d)[0] == 3 * ETH_PRICE


def test_cap_exhausted_is_refused(d: Deployment) -> None:
    _fund(d)
    _authorize(d, cap=ETH_PRICE + ETH_PRICE // 2)
    d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=1)))
    with reverts("JobRouterSessionCapExceeded") as caught:
        d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=2)))
    assert caught.args == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "remaining": ETH_PRICE // 2,
        "needed": ETH_PRICE,
    }
    assert d.balance("requester") == 9 * ETH_PRICE


def test_batch_spends_the_cap_per_job_and_skips_a_request_it_no_longer_covers(
    d: Deployment,
) -> None:
    _fund(d)
    _authorize(d, cap=2 * ETH_PRICE)
    batch = [_session_signed(d, nonce=n) for n in (1, 2)]
    receipt = d.tx("relayer", d.router.functions.createJobsFor(batch))
    assert [e["remaining"] for e in events(d.router, receipt, "SignerSpent")] == [ETH_PRICE, 0]
    receipt = d.tx("relayer", d.router.functions.createJobsFor([_session_signed(d, nonce=3)]))
    assert [e["nonce"] for e in events(d.router, receipt, "RequestSkipped")] == [3]
    assert events(d.router, receipt, "SignerSpent") == []
    with reverts("JobRouterSessionCapExceeded"):
        d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=3)))
    assert d.balance("requester") == 8 * ETH_PRICE


def test_expiry_edge(d: Deployment) -> None:
    _fund(d)
    expiry = _authorize(d, ttl=100)["expiry"]
    at_expiry, late = _session_signed(d, nonce=1), _session_signed(d, nonce=2)
    d.tx_at(expiry, "relayer", d.router.functions.createJobFor(at_expiry))
    with reverts("JobRouterSessionExpired") as caught:
        d.tx_at(expiry + 1, "relayer", d.router.functions.createJobFor(late))
    assert caught.args == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "expiry": expiry,
    }


def test_revoked_signer_is_refused_and_revoking_twice_is_an_error(d: Deployment) -> None:
    _fund(d)
    _authorize(d)
    receipt = d.tx("requester", d.router.functions.revokeSigner(SESSION_KEY.address, ETH))
    assert dict(event(d.router, receipt, "SignerRevoked")) == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "token": ETH,
    }
    assert _session(d) == (0, 0)
    with reverts("JobRouterInvalidSignature") as caught:
        d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=1)))
    assert caught.args == {"account": d.addr("requester")}
    with reverts("JobRouterSignerNotAuthorized") as again:
        d.tx("requester", d.router.functions.revokeSigner(SESSION_KEY.address, ETH))
    assert again.args == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "token": ETH,
    }


def test_wrong_signers_are_refused(d: Deployment) -> None:
    _fund(d)
    _authorize(d, role="requester2")  # authorised by someone else
    with reverts("JobRouterInvalidSignature"):
        d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=1)))
    _authorize(d, token=d.token.address)  # authorised, but for another token than the job's
    with reverts("JobRouterInvalidSignature"):
        d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=2)))
    stranger = Account.from_key("0x" + "77" * 32)
    with reverts("JobRouterInvalidSignature"):
        d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, 3, stranger.key.hex())))
    *fields, signature = _session_signed(d, nonce=4)
    with reverts("JobRouterInvalidSignature"):  # not a signature at all
        d.tx("relayer", d.router.functions.createJobFor((*fields, signature[:10])))


def test_replay_is_refused(d: Deployment) -> None:
    _fund(d)
    _authorize(d)
    signed = _session_signed(d, nonce=9)
    d.tx("relayer", d.router.functions.createJobFor(signed))
    with reverts("JobRouterNonceUsed") as caught:
        d.tx("relayer", d.router.functions.createJobFor(signed))
    assert caught.args == {"account": d.addr("requester"), "nonce": 9}
    assert _session(d)[0] == 2 * ETH_PRICE


def test_the_deposit_still_bounds_a_session_signer(d: Deployment) -> None:
    _fund(d, amount=ETH_PRICE // 2)
    _authorize(d)
    with reverts("JobMarketInsufficientBalance"):
        d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=1)))


def test_increase_adds_to_what_is_left_and_sets_the_expiry(d: Deployment) -> None:
    _fund(d)
    _authorize(d, cap=ETH_PRICE)
    d.tx("relayer", d.router.functions.createJobFor(_session_signed(d, nonce=1)))
    assert _session(d)[0] == 0
    expiry = _authorize(d, cap=5 * ETH_PRICE, ttl=7_200)["expiry"]
    assert _session(d) == (5 * ETH_PRICE, expiry)
    assert _authorize(d, cap=ETH_PRICE, ttl=60)["remaining"] == 6 * ETH_PRICE


def test_decrease_subtracts_from_what_is_left_and_stops_at_zero(d: Deployment) -> None:
    f = d.router.functions
    with reverts("JobRouterSignerNotAuthorized"):
        d.tx("requester", f.decreaseSignerCap(SESSION_KEY.address, ETH, 1))
    expiry = _authorize(d, cap=3 * ETH_PRICE)["expiry"]
    receipt = d.tx("requester", f.decreaseSignerCap(SESSION_KEY.address, ETH, ETH_PRICE))
    assert event(d.router, receipt, "SignerCapChanged")["remaining"] == 2 * ETH_PRICE
    d.tx("requester", f.decreaseSignerCap(SESSION_KEY.address, ETH, 10 * ETH_PRICE))
    assert _session(d) == (0, expiry)
    _fund(d)
    with reverts("JobRouterSessionCapExceeded"):
        d.tx("relayer", f.createJobFor(_session_signed(d, nonce=1)))


def test_session_parameters_are_bounded(d: Deployment) -> None:
    f = d.router.functions
    now = d.now()
    with reverts("JobRouterZeroAddress"):
        d.tx("requester", f.increaseSignerCap(ETH, ETH, ETH_PRICE, now + 60))
    with reverts("JobRouterZeroAmount"):
        d.tx("requester", f.increaseSignerCap(SESSION_KEY.address, ETH, 0, now + 60))
    with reverts("JobRouterInvalidExpiry") as past:
        d.tx_at(
            now + 10,
            "requester",
            f.increaseSignerCap(SESSION_KEY.address, ETH, ETH_PRICE, now + 10),
        )
    assert past.args == {"expiry": now + 10, "min": now + 11, "max": now + 10 + MAX_SESSION_TTL}
    at_max = d.now() + 10 + MAX_SESSION_TTL
    d.tx_at(d.now() + 10, "requester", f.increaseSignerCap(SESSION_KEY.address, ETH, 1, at_max))
    with reverts("JobRouterInvalidExpiry"):
        d.tx_at(
            d.now() + 1,
            "requester",
            f.increaseSignerCap(SESSION_KEY.address, ETH, 1, d.now() + 2 + MAX_SESSION_TTL),
        )
    with reverts("JobRouterCapOverflow"):
        d.tx("requester", f.increaseSignerCap(SESSION_KEY.address, ETH, 2**96 - 1, d.now() + 60))
    assert f.MAX_SESSION_TTL().call() == MAX_SESSION_TTL
