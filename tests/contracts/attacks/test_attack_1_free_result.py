"""Issue 12, attack 1: a requester gets the result free by disputing before a silent arbiter.

The output CID is public in `ResultSubmitted` before anyone pays. The requester reads it,
disputes, and waits: if the arbiter said nothing, v1's `expireDispute` refunded the price and
the bond, and the honest worker was paid nothing for work the requester already had. Since
slice 2 of contracts v2 the result stands on silence: `expireDispute` pays the job as
`finalize` would and only the bond goes back.
"""

from __future__ import annotations

from tests.contracts.attacks.harness import AttackStepFailed, Move, attack_steps, outcome
from tests.contracts.helpers import Deployment, cid, cid_parts, event, job_tuple, result_tuple

ANSWER = cid("the honest worker's answer")
ANSWER_HASH = b"\x11" * 32


def test_attack1_silent_arbiter_does_not_give_the_result_free(d: Deployment) -> None:
    with attack_steps():
        worker_before, requester_before = d.balance("worker"), d.balance("requester")
        job_id, job = d.create()
        job = d.claim(job_id, job)
        receipt = d.tx(
            "worker",
            d.market.functions.submitResult(
                job_id, job_tuple(job), result_tuple(ANSWER, ANSWER_HASH)
            ),
        )
        if event(d.market, receipt, "ResultSubmitted")["outputCid"] != ANSWER:
            raise AttackStepFailed("the requester could not read the answer before paying")
        codec, digest = cid_parts(ANSWER)
        job = {**job, "outputCodec": codec, "outputDigest": digest, "outputHash": ANSWER_HASH}
        job = d.dispute(job_id, job)
        # The arbiter says nothing; the requester unwinds the dispute once it may.
        deadline = d.status(job_id)[1]
        expire = Move("requester", d.market.functions.expireDispute(job_id, job_tuple(job)))
        if outcome(d, expire, refusals=["JobMarketArbitrationOpen"]) is None:
            raise AttackStepFailed("the dispute expired while the arbiter could still rule")
        d.tx_at(deadline + 1, "requester", expire.call)
        worker_paid = d.balance("worker") - worker_before
        # The requester sent the price, then the bond: what it was not credited back it paid.
        price, bond = job["terms"]["price"], job["terms"]["disputeBond"]
        requester_paid = price + bond - (d.balance("requester") - requester_before)
    terms = job["terms"]
    owed = price - price * terms["royaltyBps"] // 10_000 - price * terms["feeBps"] // 10_000
    assert (worker_paid, requester_paid) == (owed, price), (
        f"the arbiter stayed silent: the worker was paid {worker_paid} of {owed} and the "
        f"requester, who has the answer, paid {requester_paid} of {price}"
    )
