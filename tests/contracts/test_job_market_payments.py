"""Money in and out: ETH, allow-listed ERC-20s, deposits, withdrawals, and the hostile cases
(fee-on-transfer token, reentrant receiver, stray ETH). Permits and signed deposits go
through the router (test_router.py)."""

from __future__ import annotations

import pytest
from web3.exceptions import ContractLogicError

from inferchain.chain import decode_revert
from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    ETH,
    ETH_PRICE,
    ETHER,
    FEE_BPS,
    TOKEN_PRICE,
    TOKEN_ROYALTY_BPS,
    Deployment,
    event,
    job_tuple,
    model_spec,
    reverts,
)


def test_token_job_pulls_exactly_the_price_and_pays_out_in_the_token(d: Deployment) -> None:
    d.tx("requester", d.token.functions.approve(d.market.address, 10 * TOKEN_PRICE))
    before = d.token.functions.balanceOf(d.addr("requester")).call()
    job_id, job = d.create(model=d.token_model)
    assert d.token.functions.balanceOf(d.addr("requester")).call() == before - TOKEN_PRICE
    assert d.token.functions.balanceOf(d.market.address).call() == TOKEN_PRICE
    job = d.claim(job_id, job)
    job = d.submit(job_id, job)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    royalty = TOKEN_PRICE * TOKEN_ROYALTY_BPS // 10_000
    fee = TOKEN_PRICE * FEE_BPS // 10_000
    token = d.token.address
    assert d.balance("worker", token) == TOKEN_PRICE - royalty - fee
    assert (d.balance("provider", token), d.balance(d.fees, token)) == (royalty, fee)
    d.tx("provider", d.market.functions.withdraw(token, d.addr("provider"), royalty))
    assert d.token.functions.balanceOf(d.market.address).call() == TOKEN_PRICE - royalty


def test_token_job_without_allowance_is_refused(d: Deployment) -> None:
    with reverts("ERC20InsufficientAllowance"):
        d.create(model=d.token_model)


def test_disallowed_token_takes_no_new_jobs_but_settles_old_ones(d: Deployment) -> None:
    d.tx("requester", d.token.functions.approve(d.market.address, 10 * TOKEN_PRICE))
    job_id, job = d.create(model=d.token_model)
    # The guardian's brake: at once, no timelock.
    receipt = d.tx(
        "guardian", d.governor.functions.setTokenAllowed(d.market.address, d.token.address, False)
    )
    assert dict(event(d.market, receipt, "TokenAllowed")) == {
        "token": d.token.address,
        "allowed": False,
    }
    assert not d.market.functions.isTokenAllowed(d.token.address).call()
    with reverts("JobMarketTokenNotAllowed"):
        d.create(model=d.token_model)
    with reverts("JobMarketTokenNotAllowed"):
        d.tx("requester", d.market.functions.deposit(d.token.address, 1))
    d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    d.tx(
        "requester", d.market.functions.withdraw(d.token.address, d.addr("requester"), TOKEN_PRICE)
    )
    assert d.token.functions.balanceOf(d.market.address).call() == 0


def test_deposit_and_withdraw_eth(d: Deployment) -> None:
    receipt = d.tx("requester", d.market.functions.deposit(ETH, ETHER), value=ETHER)
    assert dict(event(d.market, receipt, "Deposited")) == {
        "account": d.addr("requester"),
        "token": ETH,
        "amount": ETHER,
    }
    with reverts("JobMarketValueMismatch"):
        d.tx("requester", d.market.functions.deposit(ETH, ETHER), value=ETHER - 1)
    with reverts("JobMarketInsufficientBalance") as caught:
        d.tx("requester", d.market.functions.withdraw(ETH, d.addr("requester"), ETHER + 1))
    assert caught.args == {
        "account": d.addr("requester"),
        "token": ETH,
        "balance": ETHER,
        "needed": ETHER + 1,
    }
    before = d.chain.balance(d.addr("outsider"))
    receipt = d.tx("requester", d.market.functions.withdraw(ETH, d.addr("outsider"), ETHER))
    assert event(d.market, receipt, "Withdrawn")["to"] == d.addr("outsider")
    assert d.chain.balance(d.addr("outsider")) == before + ETHER
    assert d.balance("requester") == 0


@pytest.mark.parametrize(
    ("args", "error"),
    [((ETH, "outsider", 0), "JobMarketZeroAmount"), ((ETH, None, 1), "JobMarketZeroAddress")],
)
def test_withdraw_rejects_zero_amount_and_zero_address(
    d: Deployment, args: tuple, error: str
) -> None:
    token, to, amount = args
    with reverts(error):
        d.tx("requester", d.market.functions.withdraw(token, d.addr(to) if to else ETH, amount))


def test_deposit_rejects_zero_and_unlisted_tokens(d: Deployment) -> None:
    with reverts("JobMarketZeroAmount"):
        d.tx("requester", d.market.functions.deposit(ETH, 0))
    with reverts("JobMarketTokenNotAllowed"):
        d.tx("requester", d.market.functions.deposit(d.models.address, 1))
    d.tx("requester", d.token.functions.approve(d.market.address, ETHER))
    with reverts("JobMarketValueMismatch"):
        d.tx("requester", d.market.functions.deposit(d.token.address, ETHER), value=1)
    d.tx("requester", d.market.functions.deposit(d.token.address, ETHER))
    assert d.balance("requester", d.token.address) == ETHER


def test_fee_on_transfer_token_is_refused_and_funds_stay_exact(d: Deployment) -> None:
    fot = d.chain.sender(d.actors.owner).deploy("FeeOnTransferToken")
    d.govern(d.governor.functions.setTokenAllowed(d.market.address, fot.address, True))
    receipt = d.tx(
        "provider", d.models.functions.registerModel(model_spec(fot.address, 1_000, 100))
    )
    model_id = event(d.models, receipt, "ModelRegistered")["modelId"]
    d.tx("owner", fot.functions.mint(d.addr("requester"), 10**6))
    d.tx("requester", fot.functions.approve(d.market.address, 10**6))
    with reverts("TokenTransferAmountMismatch") as caught:
        d.create(model=model_id, maxPrice=1_000)
    assert caught.args == {"expected": 1_000, "received": 990}
    with reverts("TokenTransferAmountMismatch"):
        d.tx("requester", d.market.functions.deposit(fot.address, 1_000))
    assert fot.functions.balanceOf(d.market.address).call() == 0
    assert d.balance("requester", fot.address) == 0


@pytest.mark.parametrize("bubble", [False, True])
def test_reentrant_receiver_cannot_withdraw_twice(d: Deployment, bubble: bool) -> None:
    attacker = d.chain.sender(d.actors.owner).deploy(
        "ReentrantReceiver", d.market.address, d.workers.address, bubble
    )
    d.tx("outsider", attacker.functions.depositToMarket(), value=ETHER)
    d.tx("requester", d.market.functions.deposit(ETH, ETHER), value=ETHER)  # someone else's money
    market_before = d.chain.balance(d.market.address)
    if bubble:
        with reverts("TokenTransferEthFailed"):
            d.tx("outsider", attacker.functions.withdrawFromMarket(ETHER))
        assert d.balance(attacker.address) == ETHER
        assert d.chain.balance(d.market.address) == market_before
    else:
        d.tx("outsider", attacker.functions.withdrawFromMarket(ETHER))
        assert attacker.functions.reentryAttempts().call() == 1
        assert attacker.functions.reentrySuccesses().call() == 0
        assert d.balance(attacker.address) == 0
        assert d.chain.balance(attacker.address) == ETHER
        assert d.chain.balance(d.market.address) == market_before - ETHER
    assert d.balance("requester") == ETHER


def test_stray_eth_is_refused(d: Deployment) -> None:
    with reverts("JobMarketUnexpectedEth") as caught:
        try:
            d.chain.w3.eth.call({"from": d.addr("outsider"), "to": d.market.address, "value": 1})
        except ContractLogicError as exc:
            raise decode_revert(exc.data if isinstance(exc.data, str) else None) from exc
    assert caught.args == {"sender": d.addr("outsider")}
    assert d.chain.balance(d.market.address) == 0


def test_requester_keeps_excess_and_refunds_in_one_balance(d: Deployment) -> None:
    job_id, job = d.create(maxPrice=2 * ETH_PRICE, value=2 * ETH_PRICE)
    d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    assert d.balance("requester") == 2 * ETH_PRICE
