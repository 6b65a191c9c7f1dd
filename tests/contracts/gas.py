"""Gas measurements shared by `scripts/bench_gas.py` and the gas-target tests.

Figures are `gasUsed` of mined transactions on Anvil's default hardfork, refunds included.
"Steady state" means the accounts involved already hold balances and counters, as they do
for every job after a worker's and a provider's first: the first job pays one-time
zero-to-nonzero storage writes that no later job pays.
"""

from __future__ import annotations

from typing import Any

from inferchain.market import NO_PERMIT
from inferchain.market.metering import MeteredTerms, TokenCounts, metered_pricing
from tests.contracts.helpers import (
    CHALLENGE_WINDOW,
    ETH,
    ETH_PRICE,
    Deployment,
    cid,
    cid_parts,
    event,
    events,
    job_from_created,
    job_tuple,
    request_tuple,
    result_tuple,
    sign_deposit_tuple,
    sign_dispute_tuple,
    sign_permit,
    sign_request,
)

#: The caps of issue 12 (from contracts v2 slice 3 on), its aims and v1's figures.
LIFECYCLE_TARGET = 215_000
BATCH_PER_JOB_TARGET = 95_000
LIFECYCLE_AIM = 200_000
BATCH_PER_JOB_AIM = 90_000
LIFECYCLE_V1 = 214_977
BATCH_PER_JOB_V1 = 95_080
BATCH_SIZE = 20


def _gas(receipt: Any) -> int:
    return int(receipt["gasUsed"])


def _submitted(job: dict[str, Any], worker: str, output: bytes, output_hash: bytes) -> dict:
    codec, digest = cid_parts(output)
    return {
        **job,
        "worker": worker,
        "outputCodec": codec,
        "outputDigest": digest,
        "outputHash": output_hash,
    }


def lifecycle(d: Deployment) -> dict[str, int]:
    """Gas of create + submit on Open (claim and submit in one transaction) + finalize for
    one ETH job, by step and in total: the shape the caps apply to."""
    request = d.request()
    create = d.market.functions.createJob(d.addr("requester"), request_tuple(request))
    r = d.tx("requester", create, value=ETH_PRICE)
    created = event(d.market, r, "JobCreated")
    job_id, job = created["jobId"], job_from_created(created)
    gas = {"createJob": _gas(r)}
    output, output_hash = cid(f"out {job_id}"), b"\x11" * 32
    submit = d.market.functions.submitResult(
        job_id, job_tuple(job), result_tuple(output, output_hash)
    )
    gas["submitResult(open)"] = _gas(d.tx("worker", submit))
    job = _submitted(job, d.addr("worker"), output, output_hash)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    gas["finalize"] = _gas(d.finalize(job_id, job))
    gas["total"] = sum(gas.values())
    return gas


def lifecycle_claim_first(d: Deployment) -> dict[str, int]:
    """Gas of create + claim + submit + finalize (the long-job shape; reported, not capped)."""
    request = d.request()
    create = d.market.functions.createJob(d.addr("requester"), request_tuple(request))
    r = d.tx("requester", create, value=ETH_PRICE)
    created = event(d.market, r, "JobCreated")
    job_id, job = created["jobId"], job_from_created(created)
    gas = {"createJob": _gas(r)}
    gas["claim"] = _gas(d.tx("worker", d.market.functions.claim(job_id, job_tuple(job))))
    job = {**job, "worker": d.addr("worker")}
    output, output_hash = cid(f"out {job_id}"), b"\x11" * 32
    submit = d.market.functions.submitResult(
        job_id, job_tuple(job), result_tuple(output, output_hash)
    )
    gas["submitResult"] = _gas(d.tx("worker", submit))
    job = _submitted(job, d.addr("worker"), output, output_hash)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    gas["finalize"] = _gas(d.finalize(job_id, job))
    gas["total"] = sum(gas.values())
    return gas


def input_commitment_calldata(job: dict[str, Any]) -> int:
    """Calldata gas of the two input words (`inputCodec`, `inputDigest`) in one call that
    carries the job tuple: what committing the input costs each such transaction."""
    words = job["inputCodec"].to_bytes(32, "big") + bytes(job["inputDigest"])
    return sum(4 if b == 0 else 16 for b in words)


def batch(d: Deployment, size: int = BATCH_SIZE, nonce_base: int = 0) -> dict[str, int]:
    """Gas of `size` jobs created by batched signed requests, submitted on Open (claimed in
    the same call) and finalized in batches; `deposit` (funding the requester once) is
    reported apart."""
    gas = {
        "deposit": _gas(
            d.tx(
                "requester",
                d.market.functions.deposit(ETH, size * ETH_PRICE),
                value=size * ETH_PRICE,
            )
        )
    }
    expiry = d.now() + 3_600
    signed = [
        sign_request(
            d,
            d.actors.requester,
            d.request(inputCid=cid(f"batch {nonce_base + i}")),
            nonce=nonce_base + i,
            expiry=expiry,
        )
        for i in range(size)
    ]
    r = d.tx("relayer", d.router.functions.createJobsFor(signed))
    gas["createJobsFor"] = _gas(r)
    created = events(d.market, r, "JobCreated")
    ids = [e["jobId"] for e in created]
    jobs = [job_from_created(e) for e in created]
    outputs = [cid(f"batch out {i}") for i in ids]
    hashes = [bytes([i % 251 + 1]) * 32 for i in ids]
    results = [result_tuple(o, h) for o, h in zip(outputs, hashes, strict=True)]
    gas["submitBatch(open)"] = _gas(
        d.tx(
            "worker",
            d.market.functions.submitBatch(ids, [job_tuple(j) for j in jobs], results),
        )
    )
    worker = d.addr("worker")
    jobs = [_submitted(j, worker, o, h) for j, o, h in zip(jobs, outputs, hashes, strict=True)]
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    gas["finalizeBatch"] = _gas(
        d.tx("outsider", d.market.functions.finalizeBatch(ids, [job_tuple(j) for j in jobs]))
    )
    gas["total"] = sum(v for k, v in gas.items() if k != "deposit")
    gas["perJob"] = gas["total"] // size
    gas["perJobWithDeposit"] = (gas["total"] + gas["deposit"]) // size
    return gas


def _metered(d: Deployment) -> dict[str, int]:
    """The steady-state lifecycle of a metered job (pricing id 1, TokenMeteredPricing): the
    module's quote at creation, the usage committed at submission, the charge and refund at
    payout. Compare with `lifecycle`'s steady state."""
    module = metered_pricing(d.chain, d.market)
    assert module is not None, "the deployment registers TokenMeteredPricing"
    rates = MeteredTerms(10**12, 10**9, 10**10, TokenCounts(32, 64))
    d.tx("provider", module.functions.setRates(d.eth_model, rates.base, rates.per_input_token,
                                              rates.per_output_token))  # fmt: skip
    out: dict[str, int] = {}
    for _ in range(2):  # the second run is the steady state
        request = d.request(pricing=1, pricingData=rates.limits.to_word(), maxPrice=rates.max_price)
        r = d.tx("requester", d.market.functions.createJob(d.addr("requester"),
                 request_tuple(request)), value=rates.max_price)  # fmt: skip
        created = event(d.market, r, "JobCreated")
        job_id, job = created["jobId"], job_from_created(created)
        out["createJob(metered)"] = _gas(r)
        output, usage = cid(f"metered {job_id}"), TokenCounts(20, 40).to_word()
        r = d.tx("worker", d.market.functions.submitResult(
            job_id, job_tuple(job), result_tuple(output, usage=usage)))  # fmt: skip
        out["submitResult(open, metered)"] = _gas(r)
        codec, digest = cid_parts(output)
        job = {**job, "worker": d.addr("worker"), "outputCodec": codec, "outputDigest": digest,
               "outputHash": b"\x11" * 32, "usage": usage}  # fmt: skip
        d.chain.increase_time(CHALLENGE_WINDOW + 1)
        out["finalize(metered)"] = _gas(d.finalize(job_id, job))
    out["lifecycle(metered)"] = sum(out.values())
    return out


def calls(d: Deployment) -> dict[str, int]:
    """Gas of each other call, in steady state where that matters (run after `lifecycle`)."""
    out: dict[str, int] = {}
    tok = d.token_model
    # ERC-20 job with allowance, then with a permit.
    d.tx("requester", d.token.functions.approve(d.market.address, 2**255))
    create = d.market.functions.createJob(d.addr("requester"), request_tuple(d.request(model=tok)))
    r = d.tx("requester", create)
    out["createJob(erc20)"] = _gas(r)
    d.tx("requester2", d.token.functions.approve(d.market.address, 0))
    request = d.request(model=tok)
    v, rr, ss = sign_permit(
        d.token,
        d.chain.chain_id,
        d.actors.requester2,
        d.market.address,
        request["maxPrice"],
        d.now() + 600,
    )
    permit = (d.now() + 600, v, rr, ss)
    r = d.tx(
        "requester2",
        d.router.functions.createJobWithPermit(d.market.address, request_tuple(request), permit),
    )
    out["createJobWithPermit"] = _gas(r)
    # Claim, then submit (the claim-first shape of long jobs).
    job_id, job = d.create()
    out["claim"] = _gas(d.tx("worker", d.market.functions.claim(job_id, job_tuple(job))))
    job = {**job, "worker": d.addr("worker")}
    submit = d.market.functions.submitResult(job_id, job_tuple(job), result_tuple(cid("o")))
    out["submitResult(claimed)"] = _gas(d.tx("worker", submit))
    # Signed single request from a deposit.
    d.tx("requester", d.market.functions.deposit(ETH, 10 * ETH_PRICE), value=10 * ETH_PRICE)
    out["deposit(eth)"] = _gas(
        d.tx("requester", d.market.functions.deposit(ETH, ETH_PRICE), value=ETH_PRICE)
    )
    signed = sign_request(
        d,
        d.actors.requester,
        d.request(),
        nonce=10**6,
        expiry=d.now() + 600,
    )
    out["createJobFor"] = _gas(d.tx("relayer", d.router.functions.createJobFor(signed)))
    grant = d.router.functions.increaseSignerCap(d.addr("outsider"), ETH, ETH_PRICE, d.now() + 600)
    out["increaseSignerCap"] = _gas(d.tx("requester", grant))
    # A dispute signed by the requester, the bond from its deposit, relayed.
    job_id, job = d.create()
    job = d.submit(job_id, d.claim(job_id, job))
    signed_dispute = sign_dispute_tuple(d, d.actors.requester, job_id, job, nonce=10**6 + 1)
    out["disputeFor"] = _gas(d.tx("relayer", d.router.functions.disputeFor(signed_dispute)))
    # Cancel, expire.
    job_id, job = d.create()
    out["cancel"] = _gas(d.tx("requester", d.market.functions.cancel(job_id, job_tuple(job))))
    job_id, job = d.create(requestDeadline=d.now() + 10)
    d.chain.increase_time(11)
    out["expire"] = _gas(d.tx("outsider", d.market.functions.expire(job_id, job_tuple(job))))
    # Failure report, timeout.
    job_id, job = d.create()
    job = d.claim(job_id, job)
    out["reportFailure"] = _gas(
        d.tx("worker", d.market.functions.reportFailure(job_id, job_tuple(job), cid("bad input")))
    )
    job_id, job = d.create()
    job = d.claim(job_id, job)
    d.chain.increase_time(job["terms"]["workTime"] + 1)
    out["timeout"] = _gas(d.tx("outsider", d.market.functions.timeout(job_id, job_tuple(job))))
    # Disputes: worker wins, worker loses, nobody decides.
    for label, wins in (
        ("resolve(workerWins)", True),
        ("resolve(workerLoses)", False),
        ("expireDispute", None),
    ):
        job_id, job = d.create()
        job = d.claim(job_id, job)
        job = d.submit(job_id, job)
        bond = job["terms"]["disputeBond"]
        r = d.tx("requester", d.market.functions.dispute(job_id, job_tuple(job)), value=bond)
        out["dispute"] = _gas(r)
        if wins is None:
            d.chain.increase_time(d.market.functions.modeOf(0).call()[2] + 1)
            out[label] = _gas(
                d.tx("outsider", d.market.functions.expireDispute(job_id, job_tuple(job)))
            )
        else:
            out[label] = _gas(
                d.tx(
                    "arbiter",
                    d.arbiter.functions.rule(d.market.address, job_id, job_tuple(job), wins),
                )
            )
    # Callback job through the example consumer.
    consumer = d.chain.sender(d.actors.owner).deploy("ExampleConsumer", d.market.address)
    r = d.tx(
        "requester",
        consumer.functions.ask(d.eth_model, cid("oracle q"), ETH_PRICE, d.now() + 600, 600, 0),
        value=ETH_PRICE,
    )
    created = event(d.market, r, "JobCreated")
    job_id, job = created["jobId"], job_from_created(created)
    out["ExampleConsumer.ask"] = _gas(r)
    job = d.claim(job_id, job)
    job = d.submit(job_id, job)
    d.chain.increase_time(CHALLENGE_WINDOW + 1)
    out["finalize(callback)"] = _gas(d.finalize(job_id, job))
    # The consumer stores the answer: what a real callback costs its deliverer.
    out["deliver(ExampleConsumer)"] = _gas(d.deliver(job_id, job))
    out.update(_metered(d))
    # Withdrawals.
    out["withdraw(eth)"] = _gas(
        d.tx("worker", d.market.functions.withdraw(ETH, d.addr("worker"), 1))
    )
    out["deposit(erc20)"] = _gas(
        d.tx("requester", d.market.functions.deposit(d.token.address, 10**18))
    )
    signed_deposit = sign_deposit_tuple(
        d, d.actors.requester, d.token.address, 10**18, nonce=10**6 + 2
    )
    out["depositWithSig(erc20)"] = _gas(
        d.tx("relayer", d.router.functions.depositWithSig(signed_deposit, NO_PERMIT))
    )
    out["withdraw(erc20)"] = _gas(
        d.tx("requester", d.market.functions.withdraw(d.token.address, d.addr("requester"), 1))
    )
    # Registries.
    spec = (
        cid(b"bundle 2", 0x70),
        b"\x42" * 32,
        b"text-classification".ljust(32, b"\0"),
        ETH,
        ETH_PRICE,
        500,
    )
    out["registerModel"] = _gas(d.tx("provider", d.models.functions.registerModel(spec)))
    out["updateTerms"] = _gas(
        d.tx("provider", d.models.functions.updateTerms(d.eth_model, ETH_PRICE, 900))
    )
    w = d.workers.functions
    r = d.tx("outsider", w.register(cid("meta 2"), [d.eth_model]))
    out["registerWorker(1 model)"] = _gas(r)
    stake = w.stakeAndAllocate(d.market.address, ETH, 10**18)
    out["stakeAndAllocate(eth)"] = _gas(d.tx("outsider", stake, value=10**18))
    out["deallocate"] = _gas(d.tx("outsider", w.deallocate(d.market.address, ETH, 10**18)))
    out["unstake(eth)"] = _gas(d.tx("outsider", w.unstake(ETH, 10**18, d.addr("outsider"))))
    return out
