"""The worker's meter: a metered job's usage is its output document's token counts, within
what the request paid for; more is refused as invalid input; a flat job's usage stays zero."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from inferchain.bundle import InvalidInput
from inferchain.market import Job
from inferchain.market.jobs import ZERO32
from inferchain.market.metering import MeteredTerms, TokenCounts
from inferchain.worker.metering import check_request, usage_word
from inferchain.worker.runtimes.hf_generation import HfGenerationRequest
from inferchain.worker.runtimes.text_generation import GenerationRequest
from inferchain.worker.state import _tracked_from_json, _tracked_to_json
from inferchain.worker.tracked import Phase, TrackedJob
from tests.worker.test_units import CID, JOB, TERMS

LIMITS = TokenCounts(input_tokens=5, output_tokens=4)


def _metered(limits: TokenCounts = LIMITS) -> Job:
    """A job priced by pricing id 1: base 3, 2 per input and 1 per output token."""
    word = 3 << 192 | 2 << 128 | 1 << 64 | int.from_bytes(limits.to_word(), "big")
    terms = word.to_bytes(32, "big")
    assert MeteredTerms.from_word(terms).limits == limits
    return replace(JOB, terms=replace(TERMS, pricing=1, pricing_terms=terms))


def _output(prompt: int, completion: int) -> bytes:
    result = {"text": "x", "prompt_tokens": prompt, "completion_tokens": completion}
    return json.dumps({"result": result, "task": "text-generation"}).encode()


def test_usage_is_the_output_documents_counts_and_zero_for_flat_jobs() -> None:
    assert usage_word(_metered(), _output(5, 2)) == TokenCounts(5, 2).to_word()
    assert usage_word(JOB, _output(5, 2)) == ZERO32
    assert usage_word(_metered(), b"not json") == TokenCounts(0, 0).to_word()


@pytest.mark.parametrize(("prompt", "completion"), [(6, 1), (1, 5)])
def test_a_job_over_its_paid_limits_is_refused_not_reported(prompt: int, completion: int) -> None:
    job = TrackedJob(1, _metered(), CID.to_bytes(), claim_deadline=1000)
    job.fetched(b"in")
    job.ran(_output(prompt, completion), None, 0.1)
    assert job.output is None and job.refusal is not None
    assert job.refusal.reason == "over_limits" and job.usage == ZERO32


def test_requests_asking_more_than_paid_for_are_refused_before_decoding() -> None:
    fits = GenerationRequest((0, 1, 2, 3, 4, 5), 4, 0.0, 0, 0, ())  # BOS + 5 prompt tokens
    check_request(_metered(), fits)
    with pytest.raises(InvalidInput, match="at most 5 and 4"):
        check_request(_metered(), replace(fits, max_new_tokens=5))
    hf = HfGenerationRequest(tuple(range(6)), 4, 0.0, 1.0, 0, ())
    with pytest.raises(InvalidInput, match="6 prompt"):
        check_request(_metered(), hf)
    check_request(JOB, hf)  # flat: no limits of this kind


def test_a_pinned_jobs_usage_survives_a_restart() -> None:
    job = TrackedJob(1, _metered(), CID.to_bytes(), claim_deadline=1000)
    job.fetched(b"in")
    job.ran(_output(3, 4), None, 0.1)
    job.pinned(CID, b"\x01" * 32)
    restored = _tracked_from_json(json.loads(json.dumps(_tracked_to_json(job))))
    assert restored.phase is Phase.PINNED
    assert restored.result().usage == TokenCounts(3, 4).to_word()
