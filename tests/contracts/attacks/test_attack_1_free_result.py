"""Issue 12, attack 1: a requester gets the result free by disputing before a silent arbiter.

The output CID is public in `ResultSubmitted` before anyone pays. The requester reads it,
disputes, and waits: if the arbiter says nothing, v1's `expireDispute` refunds the price and
the bond, and the honest worker is paid nothing for work the requester already has.
"""

from __future__ import annotations

import pytest

from tests.contracts.attacks.harness import AttackStepFailed, attack_steps
from tests.contracts.helpers import Deployment, cid, cid_parts, event, job_tuple

ANSWER = cid("the honest worker's answer")
ANSWER_HASH = b"\x11" * 32


@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="issue 12 attack 1 works on contracts v1: a silent arbiter refunds the disputer",
)
def test_attack1_silent_arbiter_does_not_give_the_result_free(d: Deployment) -> None:
    with attack_steps():
        worker_before, requester_before = d.balance("worker"), d.balance("requester")
        job_id, job = d.create()
        job = d.claim(job_id, job)
        receipt = d.tx(
            "worker",
            d.market.functions.submitResult(job_id, job_tuple(job), ANSWER, ANSWER_HASH),
        )
        if event(d.market, receipt, "ResultSubmitted")["outputCid"] != ANSWER:
            raise AttackStepFailed("the requester could not read the answer before paying")
        codec, digest = cid_parts(ANSWER)
        job = {**job, "outputCodec": codec, "outputDigest": digest, "outputHash": ANSWER_HASH}
        job = d.dispute(job_id, job)
        # The arbiter says nothing; the requester unwinds the dispute once it may.
        d.tx_at(
            d.status(job_id)[1] + 1,
            "requester",
            d.market.functions.expireDispute(job_id, job_tuple(job)),
        )
        worker_paid = d.balance("worker") - worker_before
        # The requester sent the price, then the bond: what it was not credited back it paid.
        price, bond = job["terms"]["price"], job["bond"]
        requester_paid = price + bond - (d.balance("requester") - requester_before)
    terms = job["terms"]
    owed = price - price * terms["royaltyBps"] // 10_000 - price * terms["feeBps"] // 10_000
    assert (worker_paid, requester_paid) == (owed, price), (
        f"the arbiter stayed silent: the worker was paid {worker_paid} of {owed} and the "
        f"requester, who has the answer, paid {requester_paid} of {price}"
    )
