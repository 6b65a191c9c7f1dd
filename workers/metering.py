"""The worker's side of per-token metered pricing (issue 16).

A metered job (``terms.pricing`` is ``METERED_PRICING``) carries in its ``pricingTerms`` the
most input and output tokens its requester pays for. The worker refuses, as invalid input
(``reportFailure``: the requester is refunded, nobody is slashed), a job whose prompt or whose
asked-for new tokens exceed them, before decoding when it can; so it never generates, nor
reports, more than was paid for. Its usage is read from the output document it pins (the
text-generation runtimes state ``result.prompt_tokens`` and ``completion_tokens``), so the
counts the chain charges are the ones the result commits to. A flat job's usage stays zero.
"""

from __future__ import annotations

from typing import Any

from inferchain import untrusted_json
from inferchain.bundle import InvalidInput
from inferchain.market import Job
from inferchain.market.jobs import ZERO32
from inferchain.market.metering import METERED_PRICING, MeteredTerms, TokenCounts

__all__ = ["check_request", "metered_limits", "usage_word"]


def metered_limits(job: Job) -> TokenCounts | None:
    """The token limits a metered job's requester paid for; None for any other pricing."""
    if job.terms.pricing != METERED_PRICING:
        return None
    return MeteredTerms.from_word(job.terms.pricing_terms).limits


def check_request(job: Job, request: Any) -> None:
    """Refuse a runtime request (one with ``prompt_tokens`` and ``max_new_tokens``) that asks
    for more tokens than the metered job pays for; anything else passes."""
    limits = metered_limits(job)
    prompt = getattr(request, "prompt_tokens", None)
    new = getattr(request, "max_new_tokens", None)
    if limits is None or not isinstance(prompt, int) or not isinstance(new, int):
        return
    _check(TokenCounts(prompt, new), limits, "asks for")


def usage_word(job: Job, output: bytes) -> bytes:
    """``Result.usage`` for ``job`` with this output document: zero for flat pricing, else the
    document's token counts. Raises InvalidInput when they exceed the paid-for limits."""
    limits = metered_limits(job)
    if limits is None:
        return ZERO32
    try:
        document = untrusted_json.loads(output, source="the output document")
    except untrusted_json.UntrustedJsonError:
        document = None  # not a document with counts: only the base is charged
    result = document.get("result") if isinstance(document, dict) else None
    counts = TokenCounts(_count(result, "prompt_tokens"), _count(result, "completion_tokens"))
    _check(counts, limits, "used")
    return counts.to_word()


def _count(document: object, key: str) -> int:
    value = document.get(key) if isinstance(document, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _check(counts: TokenCounts, limits: TokenCounts, verb: str) -> None:
    if counts.input_tokens > limits.input_tokens or counts.output_tokens > limits.output_tokens:
        raise InvalidInput(
            "over_limits",
            f"the job {verb} {counts.input_tokens} prompt and {counts.output_tokens} new "
            f"tokens; its metered request pays for at most {limits.input_tokens} and "
            f"{limits.output_tokens}",
        )
