"""The words of per-token metered pricing (``contracts/pricing/TokenMeteredPricing.sol``).

The market treats them as opaque ``bytes32``: a request's ``pricingData`` (the most tokens it
may use), the worker's ``usage`` (the tokens it used, committed with the result) and the job's
``pricingTerms`` (the rates snapshotted at creation). The gateway packs the first from
``max_tokens``, the worker the second from its token counts, and anyone can recompute a
job's charge from the third, which is what settlement charges.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from inferchain.chain import Chain
from inferchain.market.modes import read_pricing

__all__ = [
    "METERED_PRICING",
    "UINT32_MAX",
    "MeteredTerms",
    "Rates",
    "TokenCounts",
    "metered_pricing",
    "read_rates",
]

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
#: The pricing id a deployment registers TokenMeteredPricing under (0 is flat, built in).
METERED_PRICING = 1


@dataclass(frozen=True)
class TokenCounts:
    """Input and output tokens: a request's limits (``pricingData``) or a job's usage."""

    input_tokens: int
    output_tokens: int

    def __post_init__(self) -> None:
        for name in ("input_tokens", "output_tokens"):
            value = getattr(self, name)
            if not 0 <= value <= UINT32_MAX:
                raise ValueError(f"{name} must be within 0..{UINT32_MAX}, got {value}")

    def to_word(self) -> bytes:
        return ((self.input_tokens << 32) | self.output_tokens).to_bytes(32, "big")

    @classmethod
    def from_word(cls, word: bytes) -> TokenCounts:
        value = int.from_bytes(word, "big")
        return cls((value >> 32) & UINT32_MAX, value & UINT32_MAX)


@dataclass(frozen=True)
class MeteredTerms:
    """The rates and limits a metered job was created with (its ``pricingTerms``)."""

    base: int
    per_input_token: int
    per_output_token: int
    limits: TokenCounts

    @classmethod
    def from_word(cls, word: bytes) -> MeteredTerms:
        value = int.from_bytes(word, "big")
        return cls(
            base=value >> 192,
            per_input_token=(value >> 128) & UINT64_MAX,
            per_output_token=(value >> 64) & UINT64_MAX,
            limits=TokenCounts.from_word(word),
        )

    def charge(self, usage: TokenCounts) -> int:
        """What the job costs for ``usage``; tokens beyond the request's limits are not billed."""
        used_in = min(usage.input_tokens, self.limits.input_tokens)
        used_out = min(usage.output_tokens, self.limits.output_tokens)
        return self.base + self.per_input_token * used_in + self.per_output_token * used_out

    @property
    def max_price(self) -> int:
        """The most the job can cost: what its requester escrows."""
        return self.charge(self.limits)


@dataclass(frozen=True)
class Rates:
    """What a model's provider charges per metered job (``TokenMeteredPricing.Rates``), in the
    model's payment token's smallest unit."""

    base: int
    per_input_token: int
    per_output_token: int

    def __post_init__(self) -> None:
        for name in ("base", "per_input_token", "per_output_token"):
            value = getattr(self, name)
            if not 0 <= value <= UINT64_MAX:
                raise ValueError(f"{name} must be within 0..{UINT64_MAX}, got {value}")

    def terms(self, limits: TokenCounts) -> MeteredTerms:
        """The terms a job with these rates and ``limits`` gets (what ``quote`` snapshots)."""
        return MeteredTerms(self.base, self.per_input_token, self.per_output_token, limits)


def metered_pricing(chain: Chain, market: Contract) -> Contract | None:
    """The market's TokenMeteredPricing (pricing id ``METERED_PRICING``), or None when the id
    is not registered or not enabled for new jobs."""
    pricing = read_pricing(chain, market, METERED_PRICING)
    if not (pricing.registered and pricing.enabled):
        return None
    return chain.contract("TokenMeteredPricing", pricing.module)


def read_rates(chain: Chain, pricing: Contract, model_id: int) -> Rates | None:
    """The metered rates of ``model_id``; None when its provider set none (flat only)."""
    base, per_in, per_out, is_set = chain.call(pricing.functions.ratesOf(model_id))
    return Rates(int(base), int(per_in), int(per_out)) if is_set else None
