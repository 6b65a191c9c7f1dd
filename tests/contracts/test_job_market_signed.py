"""Deposits + EIP-712 signed job requests relayed by someone else (createJobFor / createJobsFor)."""

from __future__ import annotations

from eth_account import Account

from tests.contracts.helpers import (
    ETH,
    ETH_PRICE,
    OPEN,
    Deployment,
    cid,
    event,
    events,
    reverts,
    sign_request,
)


def _fund(d: Deployment, role: str = "requester", amount: int = 10 * ETH_PRICE) -> None:
    d.tx(role, d.market.functions.deposit(ETH, amount), value=amount)


def _signed(
    d: Deployment,
    *,
    key_role: str = "requester",
    nonce: int = 1,
    expiry: int | None = None,
    requester: str | None = None,
    **overrides,
) -> tuple:  # type: ignore[no-untyped-def]
    expiry = d.now() + 600 if expiry is None else expiry
    return sign_request(
        d.market,
        d.chain.chain_id,
        getattr(d.actors, key_role),
        d.request(**overrides),
        nonce=nonce,
        expiry=expiry,
        requester=requester,
    )


def test_relayer_creates_a_job_paid_from_the_deposit(d: Deployment) -> None:
    _fund(d)
    signed = _signed(d, nonce=7)
    digest = d.market.functions.requestDigest(signed).call()
    assert Account._recover_hash(digest, signature=signed[4]) == d.addr("requester")
    relayer_before = d.chain.balance(d.addr("relayer"))
    receipt = d.tx("relayer", d.market.functions.createJobFor(signed))
    created = event(d.market, receipt, "JobCreated")
    assert created["requester"] == d.addr("requester")
    assert d.status(created["jobId"])[0] == OPEN
    assert d.balance("requester") == 9 * ETH_PRICE
    assert d.market.functions.nonceUsed(d.addr("requester"), 7).call()
    assert not d.market.functions.nonceUsed(d.addr("requester"), 8).call()
    # The relayer paid gas only.
    assert (
        d.chain.balance(d.addr("relayer"))
        == relayer_before - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    )


def test_wrong_signer_is_refused(d: Deployment) -> None:
    _fund(d)
    forged = _signed(d, key_role="requester2", requester=d.addr("requester"))
    with reverts("JobMarketInvalidSignature") as caught:
        d.tx("relayer", d.market.functions.createJobFor(forged))
    assert caught.args == {"requester": d.addr("requester")}


def test_tampered_request_is_refused(d: Deployment) -> None:
    _fund(d)
    request, requester, nonce, expiry, signature = _signed(d)
    tampered = ((*request[:2], 2 * ETH_PRICE, *request[3:]), requester, nonce, expiry, signature)
    with reverts("JobMarketInvalidSignature"):
        d.tx("relayer", d.market.functions.createJobFor(tampered))
    with reverts("JobMarketInvalidSignature"):
        d.tx(
            "relayer",
            d.market.functions.createJobFor((request, requester, nonce, expiry, signature[:64])),
        )


def test_replayed_nonce_is_refused(d: Deployment) -> None:
    _fund(d)
    signed = _signed(d, nonce=3)
    d.tx("relayer", d.market.functions.createJobFor(signed))
    with reverts("JobMarketNonceUsed") as caught:
        d.tx("relayer", d.market.functions.createJobFor(signed))
    assert caught.args == {"requester": d.addr("requester"), "nonce": 3}


def test_invalidated_nonce_is_refused(d: Deployment) -> None:
    _fund(d)
    signed = _signed(d, nonce=2**255 + 9)
    receipt = d.tx("requester", d.market.functions.invalidateNonce(2**255 + 9))
    assert event(d.market, receipt, "NonceInvalidated")["nonce"] == 2**255 + 9
    with reverts("JobMarketNonceUsed"):
        d.tx("relayer", d.market.functions.createJobFor(signed))
    with reverts("JobMarketNonceUsed"):
        d.tx("requester", d.market.functions.invalidateNonce(2**255 + 9))


def test_expiry_edge(d: Deployment) -> None:
    _fund(d)
    expiry = d.now() + 100
    at_expiry = _signed(d, nonce=1, expiry=expiry)
    late = _signed(d, nonce=2, expiry=expiry)
    d.tx_at(expiry, "relayer", d.market.functions.createJobFor(at_expiry))
    with reverts("JobMarketSignatureExpired") as caught:
        d.tx_at(expiry + 1, "relayer", d.market.functions.createJobFor(late))
    assert caught.args == {"expiry": expiry}


def test_spend_limit_and_deposit_are_enforced(d: Deployment) -> None:
    over_limit = _signed(d, nonce=1, maxPrice=ETH_PRICE - 1)
    with reverts("JobMarketPriceAboveMax") as caught:
        d.tx("relayer", d.market.functions.createJobFor(over_limit))
    assert caught.args == {"price": ETH_PRICE, "maxPrice": ETH_PRICE - 1}
    unfunded = _signed(d, nonce=2)
    with reverts("JobMarketInsufficientBalance") as caught:
        d.tx("relayer", d.market.functions.createJobFor(unfunded))
    assert caught.args["needed"] == ETH_PRICE and caught.args["balance"] == 0


def test_token_job_from_a_token_deposit(d: Deployment) -> None:
    price = d.models.functions.model(d.token_model).call()[1]
    d.tx("requester", d.token.functions.approve(d.market.address, price))
    d.tx("requester", d.market.functions.deposit(d.token.address, price))
    signed = _signed(d, model=d.token_model)
    d.tx("relayer", d.market.functions.createJobFor(signed))
    assert d.balance("requester", d.token.address) == 0
    assert d.token.functions.balanceOf(d.market.address).call() == price


def test_batched_signed_requests_from_several_wallets(d: Deployment) -> None:
    _fund(d, "requester")
    _fund(d, "requester2")
    batch = [
        _signed(d, key_role="requester", nonce=1, inputCid=cid("a")),
        _signed(d, key_role="requester2", nonce=1, inputCid=cid("b")),
        _signed(d, key_role="requester", nonce=2, inputCid=cid("c"), model=d.eth_model),
    ]
    first = d.market.functions.createJobsFor(batch).call({"from": d.addr("relayer")})
    receipt = d.tx("relayer", d.market.functions.createJobsFor(batch))
    created = events(d.market, receipt, "JobCreated")
    assert [c["jobId"] for c in created] == [first, first + 1, first + 2]
    assert [c["requester"] for c in created] == [
        d.addr(r) for r in ("requester", "requester2", "requester")
    ]
    assert [c["inputCid"] for c in created] == [cid("a"), cid("b"), cid("c")]
    assert (d.balance("requester"), d.balance("requester2")) == (8 * ETH_PRICE, 9 * ETH_PRICE)


def test_one_bad_request_reverts_the_whole_batch(d: Deployment) -> None:
    _fund(d)
    good = _signed(d, nonce=1)
    bad = _signed(d, key_role="requester2", nonce=2, requester=d.addr("requester"))
    with reverts("JobMarketInvalidSignature"):
        d.tx("relayer", d.market.functions.createJobsFor([good, bad]))
    assert not d.market.functions.nonceUsed(d.addr("requester"), 1).call()
    assert d.balance("requester") == 10 * ETH_PRICE


def test_batch_length_is_bounded(d: Deployment) -> None:
    with reverts("JobMarketInvalidBatchLength") as caught:
        d.tx("relayer", d.market.functions.createJobsFor([]))
    assert caught.args == {"length": 0, "max": 50}
    signed = _signed(d)
    with reverts("JobMarketInvalidBatchLength"):
        d.tx("relayer", d.market.functions.createJobsFor([signed] * 51))


def test_paused_market_refuses_signed_jobs(d: Deployment) -> None:
    _fund(d)
    d.tx("owner", d.market.functions.pause())
    with reverts("JobMarketPaused"):
        d.tx("relayer", d.market.functions.createJobFor(_signed(d)))


def test_contract_wallet_signs_through_erc1271(d: Deployment) -> None:
    wallet = d.chain.sender(d.actors.owner).deploy(
        "MockSmartWallet", d.addr("requester2"), d.market.address
    )
    d.tx("requester2", wallet.functions.depositToMarket(), value=ETH_PRICE)
    by_owner = _signed(d, key_role="requester2", nonce=1, requester=wallet.address)
    created = event(
        d.market, d.tx("relayer", d.market.functions.createJobFor(by_owner)), "JobCreated"
    )
    assert created["requester"] == wallet.address
    assert d.balance(wallet.address) == 0
    by_stranger = _signed(d, key_role="requester", nonce=2, requester=wallet.address)
    with reverts("JobMarketInvalidSignature"):
        d.tx("relayer", d.market.functions.createJobFor(by_stranger))
