"""TokenMeteredPricing: providers set per-token rates; a job escrows its most and is charged
what it used, never more than its requester allowed. The market-side flow (escrow, refund
at payout) is tested with the market's pricing seam."""

from __future__ import annotations

import pytest

from inferchain.market.jobs import Result
from inferchain.market.metering import MeteredTerms, TokenCounts, metered_pricing
from tests.contracts.helpers import (
    Deployment,
    cid,
    cid_parts,
    event,
    job_tuple,
    reverts,
)

BASE, PER_IN, PER_OUT = 1_000, 7, 31


@pytest.fixture
def pricing(d: Deployment):  # type: ignore[no-untyped-def]
    contract = d.chain.sender(d.actors.owner).deploy("TokenMeteredPricing", d.models.address)
    d.tx("provider", contract.functions.setRates(d.eth_model, BASE, PER_IN, PER_OUT))
    return contract


def _quote(d: Deployment, pricing, model: int, limits: TokenCounts) -> tuple[int, bytes]:  # type: ignore[no-untyped-def]
    terms = d.models.functions.terms(model).call()
    return d.chain.call(
        pricing.functions.quote(d.addr("requester"), model, terms, limits.to_word())
    )


def test_quote_escrows_the_most_and_snapshots_the_rates(d: Deployment, pricing) -> None:  # type: ignore[no-untyped-def]
    limits = TokenCounts(input_tokens=120, output_tokens=64)
    max_price, word = _quote(d, pricing, d.eth_model, limits)
    terms = MeteredTerms.from_word(word)
    assert terms == MeteredTerms(BASE, PER_IN, PER_OUT, limits)
    assert max_price == terms.max_price == BASE + 120 * PER_IN + 64 * PER_OUT


@pytest.mark.parametrize(
    "used",
    [TokenCounts(0, 0), TokenCounts(11, 5), TokenCounts(120, 64), TokenCounts(500, 10_000)],
)
def test_charge_is_what_was_used_within_the_limits(
    d: Deployment,
    pricing,  # type: ignore[no-untyped-def]
    used: TokenCounts,
) -> None:
    limits = TokenCounts(120, 64)
    max_price, word = _quote(d, pricing, d.eth_model, limits)
    charged = pricing.functions.charge(word, used.to_word()).call()
    assert charged == MeteredTerms.from_word(word).charge(used) <= max_price
    if used.input_tokens > 120 or used.output_tokens > 64:  # a worker over-reporting
        assert charged == max_price


def test_a_later_rate_change_never_touches_a_created_job(d: Deployment, pricing) -> None:  # type: ignore[no-untyped-def]
    limits = TokenCounts(10, 10)
    _, old = _quote(d, pricing, d.eth_model, limits)
    d.tx("provider", pricing.functions.setRates(d.eth_model, 0, 10**9, 10**9))
    used = TokenCounts(10, 10).to_word()
    assert pricing.functions.charge(old, used).call() == BASE + 10 * PER_IN + 10 * PER_OUT
    _, new = _quote(d, pricing, d.eth_model, limits)
    assert pricing.functions.charge(new, used).call() == 20 * 10**9


def test_only_the_models_provider_sets_its_rates(d: Deployment, pricing) -> None:  # type: ignore[no-untyped-def]
    for stranger in ("requester", "worker", "owner"):
        with reverts("TokenMeteredPricingNotProvider"):
            d.tx(stranger, pricing.functions.setRates(d.eth_model, 0, 0, 0))
    assert pricing.functions.ratesOf(d.eth_model).call()[:3] == (BASE, PER_IN, PER_OUT)


def test_quote_refuses_unpriced_models_empty_limits_and_overflow(d: Deployment, pricing) -> None:  # type: ignore[no-untyped-def]
    with reverts("TokenMeteredPricingNoRates"):
        _quote(d, pricing, d.token_model, TokenCounts(1, 1))
    with reverts("TokenMeteredPricingNoTokens"):
        _quote(d, pricing, d.eth_model, TokenCounts(0, 0))
    d.tx("provider", pricing.functions.setRates(d.eth_model, 0, 2**64 - 1, 2**64 - 1))
    with reverts("TokenMeteredPricingPriceOverflow"):
        _quote(d, pricing, d.eth_model, TokenCounts(2**32 - 1, 2**32 - 1))


def test_token_counts_refuse_values_the_word_cannot_hold() -> None:
    with pytest.raises(ValueError, match="output_tokens"):
        TokenCounts(1, 2**32)
    with pytest.raises(ValueError, match="input_tokens"):
        TokenCounts(-1, 0)
    assert TokenCounts.from_word(TokenCounts(3, 4).to_word()) == TokenCounts(3, 4)


@pytest.mark.parametrize(
    ("usage", "inflated"),
    [(TokenCounts(9, 3), False), (TokenCounts(10**6, 10**6), True)],
)
def test_a_worker_inflating_usage_is_charged_at_most_the_escrow(
    d: Deployment, usage: TokenCounts, inflated: bool
) -> None:
    """The deployment's pricing id 1 (TokenMeteredPricing, registered through the timelock):
    an honest meter is charged its tokens and the rest refunded; an inflated one is charged at
    the request's limits, never above what the requester escrowed."""
    module = metered_pricing(d.chain, d.market)
    assert module is not None
    d.tx("provider", module.functions.setRates(d.eth_model, BASE, PER_IN, PER_OUT))
    limits = TokenCounts(input_tokens=12, output_tokens=8)
    most = MeteredTerms(BASE, PER_IN, PER_OUT, limits).max_price
    before = d.balance("requester")
    job_id, job = d.create(pricing=1, pricingData=limits.to_word(), maxPrice=most)
    assert job["terms"]["price"] == most
    output = cid(f"metered {job_id}")
    result = Result(output, b"\x11" * 32, usage.to_word(), b"").as_abi()
    d.tx("worker", d.market.functions.submitResult(job_id, job_tuple(job), result))
    codec, digest = cid_parts(output)
    job = {**job, "worker": d.addr("worker"), "outputCodec": codec, "outputDigest": digest,
           "outputHash": b"\x11" * 32, "usage": usage.to_word()}  # fmt: skip
    d.chain.increase_time(d.market.functions.modeOf(0).call()[1] + 1)
    receipt = d.finalize(job_id, job)
    charged = event(d.market, receipt, "JobCharged")
    expected = most if inflated else BASE + 9 * PER_IN + 3 * PER_OUT
    assert (charged["charged"], charged["refund"]) == (expected, most - expected)
    paid = event(d.market, receipt, "JobFinalized")
    assert paid["workerAmount"] + paid["royalty"] + paid["fee"] == expected
    # The requester escrowed `most` and got back what the usage did not cost.
    assert d.balance("requester") - before == most - expected
