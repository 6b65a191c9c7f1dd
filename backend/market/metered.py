"""Per-token metered jobs for the gateway (issue 16).

A model whose provider set per-token rates (``TokenMeteredPricing``, the market's pricing id
1) is paid per token: each job's ``pricingData`` names the most prompt tokens (counted from
the checked input with the model's tokenizer; ``ModelLimits.token_limits``) and new tokens
(``max_tokens``) it may use, and escrows what they would cost. The worker commits the tokens
it used with the result; settlement charges those and credits the rest to the requester's
balance. A model without rates, or a market without the pricing, stays flat. The answer's
``usage`` is the output document's counts, checked equal to the usage the worker committed
on-chain (what the chain charges).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from inferchain.gateway.container import Services
from inferchain.gateway.errors import BadRequest, GatewayError
from inferchain.gateway.market.limits import model_limits
from inferchain.gateway.translate import chain_errors
from inferchain.market.jobs import ZERO32
from inferchain.market.metering import (
    METERED_PRICING,
    TokenCounts,
    metered_pricing,
    read_rates,
)

__all__ = ["Pricing", "check_usage", "metered_requests"]

_UINT96_MAX = 2**96 - 1


@dataclass(frozen=True)
class Pricing:
    """How one job is paid: its escrow (``maxPrice``), pricing id and ``pricingData``."""

    max_price: int
    pricing: int = 0
    pricing_data: bytes = ZERO32


def metered_requests(services: Services, model_id: int, inputs: Sequence[bytes]) -> list[Pricing]:
    """One metered ``Pricing`` per checked input when the model has rates; [] for flat."""
    c = services.contracts()
    with chain_errors("reading the metered rates"):
        module = metered_pricing(c.chain, c.market)
        rates = None if module is None else read_rates(c.chain, module, model_id)
    if rates is None:
        return []
    limits = model_limits(services.model_limits, c, model_id)
    pricings = []
    for data in inputs:
        bounds = limits.token_limits(data)
        if bounds is None:  # not a generation input: nothing to meter it by
            return []
        counts = TokenCounts(max(bounds[0], 0), bounds[1])
        most = rates.terms(counts).max_price
        if most > _UINT96_MAX:
            raise BadRequest(
                "job.price_too_large",
                f"at model {model_id}'s rates this request could cost {most}, more than a job "
                "may escrow; ask for fewer tokens",
                status=422,
            )
        pricings.append(Pricing(most, METERED_PRICING, counts.to_word()))
    return pricings


def check_usage(job_id: int, output: bytes, usage: bytes) -> None:
    """502 unless the output document's token counts are the usage committed on-chain."""
    from inferchain.gateway.market.completion import parse_output

    _text, _finish, prompt, completion = parse_output(output)
    committed = TokenCounts.from_word(usage)
    if (prompt, completion) != (committed.input_tokens, committed.output_tokens):
        raise GatewayError(
            "openai.usage_mismatch",
            f"job {job_id}'s result states {prompt} prompt and {completion} completion tokens "
            f"but its worker committed {committed.input_tokens} and {committed.output_tokens}"
            " on-chain; dispute it (see /jobs/{job_id})".replace("{job_id}", str(job_id)),
            status=502,
        )
