"""The verification and pricing seams (contracts v2 §1.6, slice 4), through test modules:
`MockVerifier` (every hook, its fee and verdicts set by the test) and `MockPricing` (linear
in usage). Each outcome is checked with the market's books: what it holds in ETH equals the
balances it credited plus the escrow of jobs still live."""

from __future__ import annotations

from typing import Any

import pytest

from inferchain.market.jobs import Result
from tests.contracts.helpers import (
    ARBITRATION_WINDOW,
    CHALLENGE_WINDOW,
    ETH,
    ETH_PRICE,
    ETH_ROYALTY_BPS,
    FEE_BPS,
    SETTLED,
    SUBMITTED,
    ZERO32,
    Deployment,
    cid,
    cid_parts,
    event,
    job_tuple,
    reverts,
)

QUOTE, ON_SUBMIT, ON_FINALIZE = 1, 2, 4
PENDING, WORKER_WINS, WORKER_LOSES = range(3)
MODE = 1
VERIFY_FEE = 10**13
ROLES = ("requester", "worker", "provider", "outsider")


def _mode(d: Deployment, hooks: int, fee: int = 0) -> Any:
    module = d.chain.sender(d.actors.owner).deploy(
        "MockVerifier", CHALLENGE_WINDOW, ARBITRATION_WINDOW, hooks
    )
    d.tx("owner", module.functions.setFee(fee))
    d.govern(d.governor.functions.registerMode(d.market.address, MODE, module.address))
    d.govern(d.governor.functions.setModeEnabled(d.market.address, MODE, True))
    assert d.market.functions.modeOf(MODE).call()[3] == hooks
    return module


def _books(d: Deployment, *extra: str) -> int:
    """ETH the market holds beyond what it credited to the parties (the live escrow)."""
    held = d.chain.w3.eth.get_balance(d.market.address)
    accounts = [d.addr(r) for r in ROLES] + [d.fees, *extra]
    return held - sum(d.balance(a) for a in accounts)


def _submit(d: Deployment, job_id: int, job: dict, proof: bytes = b"") -> tuple[Any, dict]:
    output = cid(f"output {job_id}")
    result = Result(output, b"\x11" * 32, ZERO32, proof).as_abi()
    receipt = d.tx("worker", d.market.functions.submitResult(job_id, job_tuple(job), result))
    codec, digest = cid_parts(output)
    submitted = {**job, "worker": d.addr("worker"), "outputCodec": codec, "outputDigest": digest,
                 "outputHash": b"\x11" * 32}  # fmt: skip
    return receipt, submitted


SHARE = ETH_PRICE - ETH_PRICE * ETH_ROYALTY_BPS // 10_000 - ETH_PRICE * FEE_BPS // 10_000


def test_mock_verifier_quote_is_escrowed_and_earned_after_submission(d: Deployment) -> None:
    module = _mode(d, QUOTE, VERIFY_FEE)
    base = _books(d, module.address)
    with reverts("JobMarketPriceAboveMax"):  # maxPrice must cover price + verifyFee
        d.create(verification=MODE)
    job_id, job = d.create(verification=MODE, maxPrice=ETH_PRICE + VERIFY_FEE)
    assert job["terms"]["verifyFee"] == VERIFY_FEE
    assert _books(d, module.address) - base == ETH_PRICE + VERIFY_FEE
    _receipt, job = _submit(d, job_id, job)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    d.finalize(job_id, job)
    assert d.balance(module.address) == VERIFY_FEE
    assert d.balance("worker") == SHARE
    assert _books(d, module.address) == base
    # The module withdraws its fee like any account.
    d.tx("owner", module.functions.withdrawFees(d.market.address, ETH, d.addr("owner"), VERIFY_FEE))
    assert d.balance(module.address) == 0 and _books(d, module.address) == base


def test_mock_verifier_fee_is_refunded_before_submission(d: Deployment) -> None:
    module = _mode(d, QUOTE, VERIFY_FEE)
    base = _books(d, module.address)
    before = d.balance("requester")
    job_id, job = d.create(verification=MODE, maxPrice=ETH_PRICE + VERIFY_FEE)
    d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job)))
    assert d.balance("requester") - before == ETH_PRICE + VERIFY_FEE
    assert d.balance(module.address) == 0 and _books(d, module.address) == base


@pytest.mark.parametrize("verdict", [WORKER_WINS, PENDING, WORKER_LOSES])
def test_mock_verifier_on_submit(d: Deployment, verdict: int) -> None:
    module = _mode(d, ON_SUBMIT)
    d.tx("owner", module.functions.setSubmitVerdict(verdict))
    base = _books(d, module.address)
    job_id, job = d.create(verification=MODE)
    if verdict == WORKER_LOSES:
        with reverts("JobMarketProofRejected") as caught:
            _submit(d, job_id, job, proof=b"bad proof")
        assert caught.args == {"jobId": job_id}
        assert d.status(job_id)[0] == 1  # still Open: the submission left no trace
        assert _books(d, module.address) - base == ETH_PRICE
        return
    receipt, submitted = _submit(d, job_id, job, proof=b"zk proof")
    # The module saw the tuple as committed (worker and output set) and the proof.
    assert module.functions.lastProof().call() == b"zk proof"
    assert module.functions.submitCalls().call() == 1
    assert event(d.market, receipt, "ResultSubmitted")["worker"] == d.addr("worker")
    if verdict == WORKER_WINS:  # paid at once, no window
        assert event(d.market, receipt, "JobFinalized")["workerAmount"] == SHARE
        assert d.status(job_id) == (SETTLED, 0)
        assert _books(d, module.address) == base
    else:
        assert d.status(job_id)[0] == SUBMITTED
        d.chain.increase_time(CHALLENGE_WINDOW + 1)
        d.finalize(job_id, submitted)
        assert d.balance("worker") == SHARE and _books(d, module.address) == base


@pytest.mark.parametrize("verdict", [WORKER_WINS, PENDING, WORKER_LOSES])
def test_mock_verifier_on_finalize(d: Deployment, verdict: int) -> None:
    module = _mode(d, ON_FINALIZE)
    base = _books(d, module.address)
    before = d.balance("requester")
    job_id, job = d.create(verification=MODE)
    _receipt, job = _submit(d, job_id, job)
    d.tx("owner", module.functions.setVerdict(job_id, verdict))
    if verdict == PENDING:
        with reverts("JobMarketChallengeWindowOpen"):
            d.finalize(job_id, job)
        d.chain.increase_time(CHALLENGE_WINDOW + 1)  # still pending after the window: paid
    receipt = d.finalize(job_id, job)  # a verdict decides before the window ends
    if verdict == WORKER_LOSES:
        resolved = event(d.market, receipt, "DisputeResolved")
        assert resolved["workerWins"] is False and resolved["slashed"] > 0
        # Refunded, with the worker's slash on top (slashes go to the requester).
        assert d.balance("requester") - before == ETH_PRICE + resolved["slashed"]
        assert d.balance("worker") == 0
    else:
        assert event(d.market, receipt, "JobFinalized")["workerAmount"] == SHARE
    assert d.status(job_id) == (SETTLED, 0)
    assert _books(d, module.address) == base


#: Id 1 is TokenMeteredPricing, registered at deployment.
MOCK_PRICING = 2


def test_mock_pricing_charge_capped_and_surplus_refunded(d: Deployment) -> None:
    pricing = d.chain.sender(d.actors.owner).deploy("MockPricing")
    with reverts("JobMarketPricingDisabled"):
        d.create(pricing=MOCK_PRICING)
    d.govern(d.governor.functions.registerPricing(d.market.address, MOCK_PRICING, pricing.address))
    d.govern(d.governor.functions.setPricingEnabled(d.market.address, MOCK_PRICING, True))
    base = _books(d)
    units = (10).to_bytes(32, "big")  # at most 10 units of ETH_PRICE each
    for used, charged in ((4, 4 * ETH_PRICE), (15, 10 * ETH_PRICE)):  # the second is capped
        before = d.balance("requester")
        job_id, job = d.create(pricing=MOCK_PRICING, pricingData=units, maxPrice=10 * ETH_PRICE)
        assert job["terms"]["price"] == 10 * ETH_PRICE
        output = cid(f"metered {job_id}")
        usage = used.to_bytes(32, "big")
        result = Result(output, b"\x11" * 32, usage, b"").as_abi()
        d.tx("worker", d.market.functions.submitResult(job_id, job_tuple(job), result))
        codec, digest = cid_parts(output)
        job = {**job, "worker": d.addr("worker"), "outputCodec": codec, "outputDigest": digest,
               "outputHash": b"\x11" * 32, "usage": usage}  # fmt: skip
        d.chain.increase_time(CHALLENGE_WINDOW + 1)
        receipt = d.finalize(job_id, job)
        assert dict(event(d.market, receipt, "JobCharged")) == {
            "jobId": job_id,
            "charged": charged,
            "refund": 10 * ETH_PRICE - charged,
        }
        paid = event(d.market, receipt, "JobFinalized")
        assert paid["workerAmount"] + paid["royalty"] + paid["fee"] == charged
        # The requester paid the maximum up front and got back what usage did not cost.
        assert d.balance("requester") - before == 10 * ETH_PRICE - charged
        assert _books(d) == base
