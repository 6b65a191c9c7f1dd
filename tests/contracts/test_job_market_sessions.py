"""Session signers: capped, expiring keys a wallet authorises to sign job requests for it."""

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
        role, d.market.functions.authorizeSigner(SESSION_KEY.address, token, cap, expiry)
    )
    return event(d.market, receipt, "SignerAuthorized")


def _session_signed(
    d: Deployment, nonce: int, key: str = SESSION_KEY.key.hex(), requester: str = "requester"
) -> tuple[Any, ...]:
    return sign_request(
        d.market,
        d.chain.chain_id,
        key,
        d.request(),
        nonce=nonce,
        expiry=d.now() + 600,
        requester=d.addr(requester),
    )


def _session(d: Deployment, requester: str = "requester", token: str = ETH) -> tuple[int, int]:
    remaining, expiry = d.market.functions.sessionOf(
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
        "cap": 3 * ETH_PRICE,
        "expiry": authorized["expiry"],
    }
    assert _session(d) == (3 * ETH_PRICE, authorized["expiry"])
    receipt = d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=1)))
    created = event(d.market, receipt, "JobCreated")
    assert created["requester"] == d.addr("requester")
    assert d.status(created["jobId"])[0] == OPEN
    spent = event(d.market, receipt, "SignerSpent")
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
    signed = sign_request(
        d.market, d.chain.chain_id, d.actors.requester, d.request(), nonce=5, expiry=d.now() + 60
    )
    receipt = d.tx("relayer", d.market.functions.createJobFor(signed))
    assert events(d.market, receipt, "SignerSpent") == []
    assert _session(d)[0] == 3 * ETH_PRICE


def test_cap_exhausted_is_refused(d: Deployment) -> None:
    _fund(d)
    _authorize(d, cap=ETH_PRICE + ETH_PRICE // 2)
    d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=1)))
    with reverts("JobMarketSessionCapExceeded") as caught:
        d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=2)))
    assert caught.args == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "remaining": ETH_PRICE // 2,
        "price": ETH_PRICE,
    }
    assert d.balance("requester") == 9 * ETH_PRICE


def test_batch_spends_the_cap_per_job_and_fails_whole_when_it_runs_out(d: Deployment) -> None:
    _fund(d)
    _authorize(d, cap=2 * ETH_PRICE)
    batch = [_session_signed(d, nonce=n) for n in (1, 2)]
    receipt = d.tx("relayer", d.market.functions.createJobsFor(batch))
    assert [e["remaining"] for e in events(d.market, receipt, "SignerSpent")] == [ETH_PRICE, 0]
    with reverts("JobMarketSessionCapExceeded"):
        d.tx("relayer", d.market.functions.createJobsFor([_session_signed(d, nonce=3)]))
    assert d.balance("requester") == 8 * ETH_PRICE


def test_expiry_edge(d: Deployment) -> None:
    _fund(d)
    expiry = _authorize(d, ttl=100)["expiry"]
    at_expiry, late = _session_signed(d, nonce=1), _session_signed(d, nonce=2)
    d.tx_at(expiry, "relayer", d.market.functions.createJobFor(at_expiry))
    with reverts("JobMarketSessionExpired") as caught:
        d.tx_at(expiry + 1, "relayer", d.market.functions.createJobFor(late))
    assert caught.args == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "expiry": expiry,
    }


def test_revoked_signer_is_refused_and_revoking_twice_is_an_error(d: Deployment) -> None:
    _fund(d)
    _authorize(d)
    receipt = d.tx("requester", d.market.functions.revokeSigner(SESSION_KEY.address, ETH))
    assert dict(event(d.market, receipt, "SignerRevoked")) == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "token": ETH,
    }
    assert _session(d) == (0, 0)
    with reverts("JobMarketInvalidSignature") as caught:
        d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=1)))
    assert caught.args == {"requester": d.addr("requester")}
    with reverts("JobMarketSignerNotAuthorized") as again:
        d.tx("requester", d.market.functions.revokeSigner(SESSION_KEY.address, ETH))
    assert again.args == {
        "requester": d.addr("requester"),
        "signer": SESSION_KEY.address,
        "token": ETH,
    }


def test_wrong_signers_are_refused(d: Deployment) -> None:
    _fund(d)
    _authorize(d, role="requester2")  # authorised by someone else
    with reverts("JobMarketInvalidSignature"):
        d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=1)))
    _authorize(d, token=d.token.address)  # authorised, but for another token than the job's
    with reverts("JobMarketInvalidSignature"):
        d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=2)))
    stranger = Account.from_key("0x" + "77" * 32)
    with reverts("JobMarketInvalidSignature"):
        d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, 3, stranger.key.hex())))
    request, requester, nonce, expiry, signature = _session_signed(d, nonce=4)
    with reverts("JobMarketInvalidSignature"):  # not a signature at all
        d.tx(
            "relayer",
            d.market.functions.createJobFor((request, requester, nonce, expiry, signature[:10])),
        )


def test_replay_is_refused(d: Deployment) -> None:
    _fund(d)
    _authorize(d)
    signed = _session_signed(d, nonce=9)
    d.tx("relayer", d.market.functions.createJobFor(signed))
    with reverts("JobMarketNonceUsed") as caught:
        d.tx("relayer", d.market.functions.createJobFor(signed))
    assert caught.args == {"requester": d.addr("requester"), "nonce": 9}
    assert _session(d)[0] == 2 * ETH_PRICE


def test_the_deposit_still_bounds_a_session_signer(d: Deployment) -> None:
    _fund(d, amount=ETH_PRICE // 2)
    _authorize(d)
    with reverts("JobMarketInsufficientBalance"):
        d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=1)))


def test_reauthorizing_replaces_cap_and_expiry(d: Deployment) -> None:
    _fund(d)
    _authorize(d, cap=ETH_PRICE)
    d.tx("relayer", d.market.functions.createJobFor(_session_signed(d, nonce=1)))
    assert _session(d)[0] == 0
    expiry = _authorize(d, cap=5 * ETH_PRICE, ttl=7_200)["expiry"]
    assert _session(d) == (5 * ETH_PRICE, expiry)


def test_authorization_parameters_are_bounded(d: Deployment) -> None:
    f = d.market.functions
    now = d.now()
    with reverts("JobMarketZeroAddress"):
        d.tx("requester", f.authorizeSigner(ETH, ETH, ETH_PRICE, now + 60))
    with reverts("JobMarketZeroAmount"):
        d.tx("requester", f.authorizeSigner(SESSION_KEY.address, ETH, 0, now + 60))
    with reverts("JobMarketParameterOutOfBounds") as past:
        d.tx_at(
            now + 10, "requester", f.authorizeSigner(SESSION_KEY.address, ETH, ETH_PRICE, now + 10)
        )
    assert past.args == {"value": now + 10, "min": now + 11, "max": now + 10 + MAX_SESSION_TTL}
    at_max = d.now() + 10 + MAX_SESSION_TTL
    d.tx_at(d.now() + 10, "requester", f.authorizeSigner(SESSION_KEY.address, ETH, 1, at_max))
    with reverts("JobMarketParameterOutOfBounds"):
        d.tx_at(
            d.now() + 1,
            "requester",
            f.authorizeSigner(SESSION_KEY.address, ETH, 1, d.now() + 2 + MAX_SESSION_TTL),
        )
    assert d.market.functions.MAX_SESSION_TTL().call() == MAX_SESSION_TTL
