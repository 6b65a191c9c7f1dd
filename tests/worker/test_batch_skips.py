"""Claimer, submitter and settler read a batch's skip reports (issue 12, attack 7): a job a
rival took or settled first is dropped, the rest of the batch is held, submitted or paid. A
job whose collateral the worker's free allocation does not cover is not claimed (attack 2):
the claimer keeps within it, and a batch sent beyond it is cut by the market's skips."""

from __future__ import annotations

from web3 import Web3

from inferchain.chain import Chain
from inferchain.ipfs import Cid
from inferchain.market import ETH, JobRecord
from inferchain.worker.account import Standing, ensure_ready
from inferchain.worker.claimer import Claimer
from inferchain.worker.settlement import Settler
from inferchain.worker.submitter import Submitter
from inferchain.worker.tracked import Phase
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    CHALLENGE_S,
    FEE_BPS,
    PRICE,
    REQUESTER,
    ROYALTY_BPS,
    SENTIMENT_INPUT,
    STAKE,
    WORKER_KEYS,
    Deployed,
    create_jobs_in_one_block,
    records,
)

COUNT = 4
RIVAL_TAKES = 1  # index of the job the rival takes first


def _ready(chain: Chain, deployed: Deployed, key: str, stake: int = STAKE) -> None:
    ensure_ready(chain, deployed.market, chain.sender(key), [deployed.sentiment],
                 register=True, stake={ETH: stake})  # fmt: skip


def _open(chain: Chain, anvil: AnvilNode, deployed: Deployed) -> list[JobRecord]:
    cid = Cid.for_raw_block(SENTIMENT_INPUT)
    requester = anvil.accounts[REQUESTER]
    ids = create_jobs_in_one_block(
        chain, deployed.market, requester, deployed.sentiment, cid, COUNT
    )
    known = records(deployed.market)
    return [known[i] for i in ids]


def _claimer(chain: Chain, deployed: Deployed, key: str) -> Claimer:
    return Claimer(chain, deployed.market, chain.sender(key), margin_s=0, estimate_s=lambda _: 0.0)


def test_batches_drop_what_a_rival_took_and_do_the_rest(
    chain: Chain, anvil: AnvilNode, deployed: Deployed
) -> None:
    me, rival = (anvil.keys[k] for k in WORKER_KEYS[:2])
    for key in (me, rival):
        _ready(chain, deployed, key)
    jobs = _open(chain, anvil, deployed)
    taken, _ = _claimer(chain, deployed, rival).claim([jobs[RIVAL_TAKES]])
    assert [t.job_id for t in taken] == [jobs[RIVAL_TAKES].job_id]

    held, refused = _claimer(chain, deployed, me).claim(jobs)
    others = [r.job_id for k, r in enumerate(jobs) if k != RIVAL_TAKES]
    assert (refused, [t.job_id for t in held]) == (None, others)

    output = Cid.for_raw_block(b'{"label": "positive"}')
    for job in held:
        job.fetched(SENTIMENT_INPUT)
        job.ran(b'{"label": "positive"}', None, 0.01)
        job.pinned(output, b"\x11" * 32)
    submitter = Submitter(chain, deployed.market, chain.sender(me))
    assert submitter.submit(held, chain.block_timestamp()) == []
    assert {j.phase for j in held} == {Phase.SUBMITTED}

    # The rival finalizes one job alone first: our batch skips it and pays the other two.
    chain.increase_time(CHALLENGE_S + 1)
    first = held[0]
    fns = deployed.market.jobs.functions
    chain.sender(rival).transact(fns.finalize(first.job_id, first.job.as_abi()))
    earned = Settler(chain, deployed.market, chain.sender(me)).finalize(
        held, chain.block_timestamp()
    )
    assert {j.phase for j in held} == {Phase.FINALIZED}
    share = PRICE - PRICE * ROYALTY_BPS // 10_000 - PRICE * FEE_BPS // 10_000
    assert earned == {ETH: 2 * share}


def test_claims_stay_within_the_free_allocation_and_the_market_skips_the_rest(
    chain: Chain, anvil: AnvilNode, deployed: Deployed
) -> None:
    """Allocated enough for two jobs' collateral (the price each, by default): the claimer
    picks two of four; a batch of all four (a stale view of the lock) holds two and the
    market skips two with `JobMarketAllocationExceeded`, like a lost race; a lone claim
    beyond it reverts quietly. The lock frees up as jobs end."""
    me = anvil.keys[WORKER_KEYS[2]]
    address = anvil.accounts[WORKER_KEYS[2]]
    _ready(chain, deployed, me, stake=2 * PRICE)
    jobs = _open(chain, anvil, deployed)
    assert {j.job.terms.collateral for j in jobs} == {PRICE}
    standing = Standing(chain, deployed.market, address)
    assert standing.free([ETH]) == {ETH: 2 * PRICE}
    claimer = _claimer(chain, deployed, me)
    assert claimer.within(jobs, standing.free([ETH])) == jobs[:2]

    first = chain.w3.eth.block_number + 1
    held, refused = claimer.claim(jobs)
    assert (refused, [t.job_id for t in held]) == (None, [j.job_id for j in jobs[:2]])
    logs = deployed.market.jobs.events.BatchItemSkipped().get_logs(from_block=first)
    skipped = {e["args"]["jobId"]: bytes(e["args"]["reason"]) for e in logs}
    exceeded = _selector(deployed, "JobMarketAllocationExceeded")
    assert skipped == {j.job_id: exceeded for j in jobs[2:]}
    assert standing.free([ETH]) == {ETH: 0}
    assert claimer.within(jobs[2:], standing.free([ETH])) == []
    assert claimer.claim(jobs[2:3]) == ([], None)  # reverted, quietly: still open
    assert int(chain.call(deployed.market.jobs.functions.lockedOf(address, ETH))) == 2 * PRICE
    standing.check()
    assert standing.reason is None  # allocated, only locked: no refusal

    # Submitting the two held jobs and finalizing them releases their collateral.
    output = Cid.for_raw_block(b'{"label": "positive"}')
    for job in held:
        job.fetched(SENTIMENT_INPUT)
        job.ran(b'{"label": "positive"}', None, 0.01)
        job.pinned(output, b"\x11" * 32)
    assert (
        Submitter(chain, deployed.market, chain.sender(me)).submit(held, chain.block_timestamp())
        == []
    )
    chain.increase_time(CHALLENGE_S + 1)
    Settler(chain, deployed.market, chain.sender(me)).finalize(held, chain.block_timestamp())
    assert standing.free([ETH]) == {ETH: 2 * PRICE}
    again, _ = claimer.claim(jobs[2:])
    assert [t.job_id for t in again] == [j.job_id for j in jobs[2:]]


def _selector(deployed: Deployed, error: str) -> bytes:
    """The 4-byte selector of the market's custom error ``error``."""
    abi = next(e for e in deployed.market.jobs.abi if e.get("name") == error)
    signature = f"{error}({','.join(i['type'] for i in abi['inputs'])})"
    return bytes(Web3.keccak(text=signature)[:4])
