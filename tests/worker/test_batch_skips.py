"""Claimer, submitter and settler read a batch's skip reports (issue 12, attack 7): a job a
rival took or settled first is dropped, the rest of the batch is held, submitted or paid."""

from __future__ import annotations

from inferchain.chain import Chain
from inferchain.ipfs import Cid
from inferchain.market import ETH, JobRecord
from inferchain.worker.account import ensure_ready
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
    WORKER_KEYS,
    Deployed,
    create_jobs_in_one_block,
    records,
)

COUNT = 4
RIVAL_TAKES = 1  # index of the job the rival takes first


def _ready(chain: Chain, deployed: Deployed, key: str) -> None:
    ensure_ready(chain, deployed.market, chain.sender(key), [deployed.sentiment], register=True)


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
