"""JobRouter: EIP-712 signed requests, disputes and deposits relayed by someone else."""

from __future__ import annotations

from eth_account import Account
from web3.contract import Contract

from inferchain.market import NO_PERMIT
from tests.contracts.helpers import (
    DISPUTE_BOND_BPS,
    DISPUTED,
    ETH,
    ETH_PRICE,
    ETHER,
    OPEN,
    TOKEN_PRICE,
    Deployment,
    cid,
    event,
    events,
    job_tuple,
    request_tuple,
    reverts,
    sign_deposit_tuple,
    sign_dispute_tuple,
    sign_permit,
    sign_request,
)

BOND = ETH_PRICE * DISPUTE_BOND_BPS // 10_000


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
        d,
        getattr(d.actors, key_role),
        d.request(**overrides),
        nonce=nonce,
        expiry=expiry,
        requester=requester,
    )


def test_relayer_creates_a_job_paid_from_the_deposit(d: Deployment) -> None:
    _fund(d)
    signed = _signed(d, nonce=7)
    digest = d.router.functions.requestDigest(signed).call()
    assert Account._recover_hash(digest, signature=signed[5]) == d.addr("requester")
    relayer_before = d.chain.balance(d.addr("relayer"))
    receipt = d.tx("relayer", d.router.functions.createJobFor(signed))
    created = event(d.market, receipt, "JobCreated")
    assert created["requester"] == d.addr("requester")
    assert d.status(created["jobId"])[0] == OPEN
    assert d.balance("requester") == 9 * ETH_PRICE
    assert d.router.functions.nonceUsed(d.addr("requester"), 7).call()
    assert not d.router.functions.nonceUsed(d.addr("requester"), 8).call()
    # The relayer paid gas only.
    assert (
        d.chain.balance(d.addr("relayer"))
        == relayer_before - receipt["gasUsed"] * receipt["effectiveGasPrice"]
    )


def test_wrong_signer_is_refused(d: Deployment) -> None:
    _fund(d)
    forged = _signed(d, key_role="requester2", requester=d.addr("requester"))
    with reverts("JobRouterInvalidSignature") as caught:
        d.tx("relayer", d.router.functions.createJobFor(forged))
    assert caught.args == {"account": d.addr("requester")}


def test_tampered_request_is_refused(d: Deployment) -> None:
    _fund(d)
    market, request, requester, nonce, expiry, signature = _signed(d)
    tampered = (
        market,
        (*request[:2], 2 * ETH_PRICE, *request[3:]),
        requester,
        nonce,
        expiry,
        signature,
    )
    with reverts("JobRouterInvalidSignature"):
        d.tx("relayer", d.router.functions.createJobFor(tampered))
    with reverts("JobRouterInvalidSignature"):
        d.tx(
            "relayer",
            d.router.functions.createJobFor(
                (market, request, requester, nonce, expiry, signature[:64])
            ),
        )


def test_replayed_nonce_is_refused(d: Deployment) -> None:
    _fund(d)
    signed = _signed(d, nonce=3)
    d.tx("relayer", d.router.functions.createJobFor(signed))
    with reverts("JobRouterNonceUsed") as caught:
        d.tx("relayer", d.router.functions.createJobFor(signed))
    assert caught.args == {"account": d.addr("requester"), "nonce": 3}


def test_invalidated_nonce_is_refused(d: Deployment) -> None:
    _fund(d)
    signed = _signed(d, nonce=2**255 + 9)
    receipt = d.tx("requester", d.router.functions.invalidateNonce(2**255 + 9))
    assert event(d.router, receipt, "NonceInvalidated")["nonce"] == 2**255 + 9
    with reverts("JobRouterNonceUsed"):
        d.tx("relayer", d.router.functions.createJobFor(signed))
    with reverts("JobRouterNonceUsed"):
        d.tx("requester", d.router.functions.invalidateNonce(2**255 + 9))


def test_expiry_edge(d: Deployment) -> None:
    _fund(d)
    expiry = d.now() + 100
    at_expiry = _signed(d, nonce=1, expiry=expiry)
    late = _signed(d, nonce=2, expiry=expiry)
    d.tx_at(expiry, "relayer", d.router.functions.createJobFor(at_expiry))
    with reverts("JobRouterSignatureExpired") as caught:
        d.tx_at(expiry + 1, "relayer", d.router.functions.createJobFor(late))
    assert caught.args == {"expiry": expiry}


def test_spend_limit_and_deposit_are_enforced(d: Deployment) -> None:
    over_limit = _signed(d, nonce=1, maxPrice=ETH_PRICE - 1)
    with reverts("JobMarketPriceAboveMax") as caught:
        d.tx("relayer", d.router.functions.createJobFor(over_limit))
    assert caught.args == {"price": ETH_PRICE, "maxPrice": ETH_PRICE - 1}
    unfunded = _signed(d, nonce=2)
    with reverts("JobMarketInsufficientBalance") as caught:
        d.tx("relayer", d.router.functions.createJobFor(unfunded))
    assert caught.args["needed"] == ETH_PRICE and caught.args["balance"] == 0


def test_token_job_from_a_token_deposit(d: Deployment) -> None:
    price = d.models.functions.model(d.token_model).call()[1]
    d.tx("requester", d.token.functions.approve(d.market.address, price))
    d.tx("requester", d.market.functions.deposit(d.token.address, price))
    signed = _signed(d, model=d.token_model)
    d.tx("relayer", d.router.functions.createJobFor(signed))
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
    ids = d.router.functions.createJobsFor(batch).call({"from": d.addr("relayer")})
    receipt = d.tx("relayer", d.router.functions.createJobsFor(batch))
    created = events(d.market, receipt, "JobCreated")
    assert [c["jobId"] for c in created] == ids == [ids[0], ids[0] + 1, ids[0] + 2]
    assert [c["requester"] for c in created] == [
        d.addr(r) for r in ("requester", "requester2", "requester")
    ]
    assert [c["inputCid"] for c in created] == [cid("a"), cid("b"), cid("c")]
    assert (d.balance("requester"), d.balance("requester2")) == (8 * ETH_PRICE, 9 * ETH_PRICE)


def test_one_bad_request_is_skipped_not_the_batch(d: Deployment) -> None:
    """Attack 7, router half; tests/contracts/test_router_skips.py covers every reason."""
    _fund(d)
    good = _signed(d, nonce=1)
    bad = _signed(d, key_role="requester2", nonce=2, requester=d.addr("requester"))
    receipt = d.tx("relayer", d.router.functions.createJobsFor([good, bad]))
    assert len(events(d.market, receipt, "JobCreated")) == 1
    assert [e["nonce"] for e in events(d.router, receipt, "RequestSkipped")] == [2]
    assert not d.router.functions.nonceUsed(d.addr("requester"), 2).call()
    assert d.balance("requester") == 9 * ETH_PRICE


def test_batch_length_is_bounded(d: Deployment) -> None:
    with reverts("JobRouterInvalidBatchLength") as caught:
        d.tx("relayer", d.router.functions.createJobsFor([]))
    assert caught.args == {"length": 0, "max": 50}
    signed = _signed(d)
    with reverts("JobRouterInvalidBatchLength"):
        d.tx("relayer", d.router.functions.createJobsFor([signed] * 51))


def test_paused_market_refuses_signed_jobs(d: Deployment) -> None:
    _fund(d)
    d.tx("guardian", d.governor.functions.pause(d.market.address))
    with reverts("JobMarketPaused"):
        d.tx("relayer", d.router.functions.createJobFor(_signed(d)))


def test_contract_wallet_signs_through_erc1271(d: Deployment) -> None:
    wallet = d.chain.sender(d.actors.owner).deploy(
        "MockSmartWallet", d.addr("requester2"), d.market.address
    )
    d.tx("requester2", wallet.functions.depositToMarket(), value=ETH_PRICE)
    by_owner = _signed(d, key_role="requester2", nonce=1, requester=wallet.address)
    created = event(
        d.market, d.tx("relayer", d.router.functions.createJobFor(by_owner)), "JobCreated"
    )
    assert created["requester"] == wallet.address
    assert d.balance(wallet.address) == 0
    by_stranger = _signed(d, key_role="requester", nonce=2, requester=wallet.address)
    with reverts("JobRouterInvalidSignature"):
        d.tx("relayer", d.router.functions.createJobFor(by_stranger))


def _second_market(d: Deployment) -> Contract:
    """Another market on the same registries and router, taking ETH jobs in mode 0."""
    return d.another_market()


def test_relayer_cannot_change_market_or_replay(d: Deployment) -> None:
    _fund(d)
    other_market = _second_market(d)
    _, *rest = _signed(d, nonce=1)
    with reverts("JobRouterInvalidSignature"):
        d.tx("relayer", d.router.functions.createJobFor((other_market.address, *rest)))
    d.tx("relayer", d.router.functions.createJobFor((d.market.address, *rest)))
    with reverts("JobRouterNonceUsed"):
        d.tx("relayer", d.router.functions.createJobFor((d.market.address, *rest)))


def test_batch_across_two_markets_opens_each_in_its_own_market(d: Deployment) -> None:
    _fund(d)
    other = _second_market(d)
    d.tx("requester", other.functions.deposit(ETH, ETH_PRICE), value=ETH_PRICE)
    batch = [
        _signed(d, nonce=1, inputCid=cid("first")),
        sign_request(
            d, d.actors.requester, d.request(inputCid=cid("second")), nonce=2,
            expiry=d.now() + 600, market=other.address,
        ),
        _signed(d, nonce=3, inputCid=cid("third")),
    ]  # fmt: skip
    ids = d.router.functions.createJobsFor(batch).call({"from": d.addr("relayer")})
    receipt = d.tx("relayer", d.router.functions.createJobsFor(batch))
    created = d.market.events.JobCreated().process_receipt(receipt)
    by_market = [(log["address"], log["args"]["inputCid"]) for log in created]
    assert by_market == [
        (d.market.address, cid("first")),
        (other.address, cid("second")),
        (d.market.address, cid("third")),
    ]  # one market call per run of the same market, in order
    assert ids == [ids[0], 1, ids[0] + 1]
    assert (d.balance("requester"), other.functions.balanceOf(d.addr("requester"), ETH).call()) == (
        8 * ETH_PRICE,
        0,
    )


def test_router_only_entry_points(d: Deployment) -> None:
    _fund(d)
    f = d.market.functions
    job_id, job = d.create()
    calls = [
        f.openFor([_signed(d)]),
        f.disputeFor(job_id, job_tuple(job), d.addr("requester")),
        f.depositFor(d.addr("requester"), d.token.address, 1),
    ]
    for call in calls:
        with reverts("JobMarketNotRouter") as caught:
            d.tx("outsider", call)
        assert caught.args == {"caller": d.addr("outsider")}
    assert f.router().call() == d.router.address


def test_create_with_permit(d: Deployment) -> None:
    request = d.request(model=d.token_model)
    deadline = d.now() + 600
    v, r, s = sign_permit(
        d.token, d.chain.chain_id, d.actors.requester, d.market.address, TOKEN_PRICE, deadline
    )
    call = d.router.functions.createJobWithPermit(
        d.market.address, request_tuple(request), (deadline, v, r, s)
    )
    receipt = d.tx("requester", call)
    created = event(d.market, receipt, "JobCreated")
    assert (created["requester"], created["terms"]["price"]) == (d.addr("requester"), TOKEN_PRICE)
    assert d.token.functions.balanceOf(d.market.address).call() == TOKEN_PRICE
    assert d.balance("requester", d.token.address) == 0


def test_create_with_a_permit_someone_already_used(d: Deployment) -> None:
    request = d.request(model=d.token_model)
    deadline = d.now() + 600
    v, r, s = sign_permit(
        d.token, d.chain.chain_id, d.actors.requester, d.market.address, TOKEN_PRICE, deadline
    )
    # A front-runner submits the permit first; the allowance exists, so creation goes on.
    d.tx(
        "outsider",
        d.token.functions.permit(
            d.addr("requester"), d.market.address, TOKEN_PRICE, deadline, v, r, s
        ),
    )
    call = d.router.functions.createJobWithPermit(
        d.market.address, request_tuple(request), (deadline, v, r, s)
    )
    d.tx("requester", call)
    assert d.token.functions.balanceOf(d.market.address).call() == TOKEN_PRICE


def test_create_with_a_bad_permit_is_refused(d: Deployment) -> None:
    request = d.request(model=d.token_model)
    deadline = d.now() + 600
    permit = (deadline, *sign_permit(
        d.token, d.chain.chain_id, d.actors.requester2, d.market.address, TOKEN_PRICE, deadline
    ))  # fmt: skip
    create = d.router.functions.createJobWithPermit
    with reverts("ERC20InsufficientAllowance"):
        d.tx("requester", create(d.market.address, request_tuple(request), permit))
    with reverts("JobRouterNotAToken") as caught:  # an ETH model cannot be paid by permit
        d.tx("requester", create(d.market.address, request_tuple(d.request()), permit))
    assert caught.args == {"modelId": d.eth_model}


def test_deposit_with_sig_by_a_relayer(d: Deployment) -> None:
    deadline = d.now() + 600
    permit = (deadline, *sign_permit(
        d.token, d.chain.chain_id, d.actors.requester, d.market.address, ETHER, deadline
    ))  # fmt: skip
    deposit = d.router.functions.depositWithSig
    signed = sign_deposit_tuple(d, d.actors.requester, d.token.address, ETHER, nonce=1)
    receipt = d.tx("relayer", deposit(signed, permit))
    assert dict(event(d.market, receipt, "Deposited")) == {
        "account": d.addr("requester"),
        "token": d.token.address,
        "amount": ETHER,
    }
    assert (d.balance("requester", d.token.address), d.balance("relayer", d.token.address)) == (
        ETHER,
        0,
    )
    with reverts("JobRouterNonceUsed"):
        d.tx("relayer", deposit(signed, NO_PERMIT))
    zero = sign_deposit_tuple(d, d.actors.requester, d.token.address, 0, nonce=2)
    with reverts("JobMarketZeroAmount"):
        d.tx("relayer", deposit(zero, NO_PERMIT))
    eth = sign_deposit_tuple(d, d.actors.requester, ETH, ETHER, nonce=3)
    with reverts("JobMarketTokenNotAllowed"):
        d.tx("relayer", deposit(eth, NO_PERMIT))
    late = sign_deposit_tuple(d, d.actors.requester, d.token.address, 1, nonce=4, expiry=1)
    with reverts("JobRouterSignatureExpired"):
        d.tx("relayer", deposit(late, NO_PERMIT))


def test_deposit_needs_the_owners_own_signature(d: Deployment) -> None:
    d.tx("requester", d.token.functions.approve(d.market.address, 2**256 - 1))
    market, _signer, *rest = sign_deposit_tuple(
        d, d.actors.requester2, d.token.address, ETHER, nonce=1
    )
    with reverts("JobRouterInvalidSignature") as caught:
        d.tx(
            "outsider",
            d.router.functions.depositWithSig((market, d.addr("requester"), *rest), NO_PERMIT),
        )
    assert caught.args == {"account": d.addr("requester")}
    assert d.balance("requester", d.token.address) == 0


def _submitted(d: Deployment, requester: str = "requester") -> tuple[int, dict]:
    job_id, job = d.create(requester)
    return job_id, d.submit(job_id, d.claim(job_id, job))


def test_dispute_by_signature_takes_the_bond_from_the_deposit(d: Deployment) -> None:
    _fund(d, amount=BOND)
    job_id, job = _submitted(d)
    signed = sign_dispute_tuple(d, d.actors.requester, job_id, job, nonce=1)
    assert d.router.functions.disputeFor(signed).call({"from": d.addr("relayer")}) == BOND
    receipt = d.tx("relayer", d.router.functions.disputeFor(signed))
    assert event(d.market, receipt, "JobDisputed")["bond"] == BOND
    assert d.status(job_id)[0] == DISPUTED
    assert d.balance("requester") == 0
    with reverts("JobRouterNonceUsed"):
        d.tx("relayer", d.router.functions.disputeFor(signed))


def test_dispute_by_signature_refusals(d: Deployment) -> None:
    job_id, job = _submitted(d)
    stranger = sign_dispute_tuple(d, d.actors.requester2, job_id, job, nonce=1)
    with reverts("JobRouterInvalidSignature"):
        d.tx("relayer", d.router.functions.disputeFor(stranger))
    unfunded = sign_dispute_tuple(d, d.actors.requester, job_id, job, nonce=2)
    with reverts("JobMarketInsufficientBalance"):
        d.tx("relayer", d.router.functions.disputeFor(unfunded))
    _fund(d, amount=BOND)
    late = sign_dispute_tuple(d, d.actors.requester, job_id, job, nonce=3, expiry=d.now() - 1)
    with reverts("JobRouterSignatureExpired"):
        d.tx("relayer", d.router.functions.disputeFor(late))
    tampered = {**job, "outputHash": b"\x22" * 32}
    forged = sign_dispute_tuple(d, d.actors.requester, job_id, tampered, nonce=4)
    with reverts("JobMarketJobMismatch"):
        d.tx("relayer", d.router.functions.disputeFor(forged))


def test_session_signer_disputes_within_its_cap_and_cannot_deposit(d: Deployment) -> None:
    session = Account.from_key("0x" + "5e" * 32)
    _fund(d, amount=ETH_PRICE + BOND)
    expiry = d.now() + 3_600
    d.tx("requester", d.router.functions.increaseSignerCap(session.address, ETH, BOND, expiry))
    job_id, job = _submitted(d)
    signed = sign_dispute_tuple(d, session.key.hex(), job_id, job, nonce=1)
    receipt = d.tx("relayer", d.router.functions.disputeFor(signed))
    assert event(d.router, receipt, "SignerSpent")["remaining"] == 0
    market, _signer, *rest = sign_deposit_tuple(d, session.key.hex(), d.token.address, 1, nonce=2)
    with reverts("JobRouterInvalidSignature"):
        call = d.router.functions.depositWithSig((market, d.addr("requester"), *rest), NO_PERMIT)
        d.tx("relayer", call)
