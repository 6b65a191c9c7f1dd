"""A streaming job decodes while its claim is in flight; readers see text only once it is won.

Anvil's automine is off while the worker's claim is pending, so the test decides what the
block holds: the claim alone (won: the reader, connected before, gets the whole text, equal
to the pinned result), or a rival's claim paying a higher tip first (lost: the reader gets
one ``job.lost`` error and not a token, and the worker stops the job).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from inferchain.chain import Chain
from inferchain.ipfs import Cid, IpfsClient
from inferchain.market import ETH, JobRequest
from inferchain.worker import Worker
from inferchain.worker.account import ensure_ready
from tests.conftest import AnvilNode
from tests.worker.helpers import (
    PRICE,
    REQUESTER,
    STAKE,
    WORKER_KEYS,
    Deployed,
    events_named,
    records,
    wait_until,
)
from tests.worker.test_stream_server import PROMPT, _auth, _events, _template, served

__all__ = ["served"]

GWEI = 10**9


@contextmanager
def _manual_mining(chain: Chain) -> Iterator[None]:
    chain._rpc("evm_setAutomine", False)
    try:
        yield
    finally:
        chain._rpc("evm_setAutomine", True)
        chain.mine()  # whatever the worker sent meanwhile
        for sender in chain._senders.values():
            sender.reset_nonce()


def _pending(chain: Chain) -> int:
    return int(chain._rpc("txpool_status")["pending"], 16)


def _job_whose_claim_is_pending(
    worker: Worker, chain: Chain, anvil: AnvilNode, ipfs: IpfsClient, deployed: Deployed,
    model_id: int,
) -> int:  # fmt: skip
    """Create a job (mined) and wait until the worker decodes it with its claim unmined."""
    market = deployed.market.jobs
    first = int(chain.call(market.functions.nextJobId()))
    deadline = chain.block_timestamp() + 3600
    cid = ipfs.add_bytes(PROMPT).to_bytes()
    request = JobRequest(model_id, cid, PRICE, deadline, 600).as_abi()
    requester = anvil.accounts[REQUESTER]
    market.functions.createJob(requester, request).transact(
        {"from": requester, "value": PRICE, "gas": 400_000}
    )
    chain.mine()
    wait_until(lambda: first in worker.held and _pending(chain) == 1, 30, "the claim sent")
    assert worker.held[first].speculative and worker.streams.get(first) is not None
    return first


def _read_in_background(url: str, params: dict) -> tuple[threading.Thread, list]:
    """Connect now; the events land in the list once the stream ends."""
    got: list = []

    def read() -> None:
        with httpx.stream("GET", url, params=params, timeout=60) as response:
            assert response.status_code == 200, response.read()
            got.extend(_events(response))

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, got


def test_reader_connected_before_the_claim_gets_the_whole_text_once_it_is_won(
    served: tuple[Worker, int], chain: Chain, anvil: AnvilNode, ipfs: IpfsClient,
    deployed: Deployed,
) -> None:  # fmt: skip
    worker, model_id = served
    with _manual_mining(chain):
        job_id = _job_whose_claim_is_pending(worker, chain, anvil, ipfs, deployed, model_id)
        url = _template(chain, deployed, ipfs, worker.sender.address)
        reader, got = _read_in_background(
            url.replace("{job_id}", str(job_id)),
            _auth(chain, deployed, anvil.keys[REQUESTER], job_id),
        )
        reader.join(1.0)
        assert reader.is_alive() and got == []  # held back while the claim is pending
        chain.mine()
        wait_until(lambda: not getattr(worker.held.get(job_id), "speculative", True), 30, "won")
    reader.join(60)
    wait_until(lambda: events_named(deployed.market, "ResultSubmitted"), 60, "the result")
    *tokens, (kind, done) = got
    assert kind == "done" and tokens and all(k == "token" for k, _ in tokens)
    (submitted,) = events_named(deployed.market, "ResultSubmitted")
    cid = Cid.parse(bytes(submitted["outputCid"]))
    assert done["output_cid"] == str(cid)
    assert "".join(t["text"] for _, t in tokens) == json.loads(ipfs.cat(cid))["result"]["text"]


def test_claim_lost_to_a_rival_stops_the_job_and_shows_readers_no_text(
    served: tuple[Worker, int], chain: Chain, anvil: AnvilNode, ipfs: IpfsClient,
    deployed: Deployed,
) -> None:  # fmt: skip
    worker, model_id = served
    market = deployed.market
    rival = chain.sender(anvil.keys[WORKER_KEYS[1]])
    ensure_ready(chain, market, rival, [model_id], register=True, stake={ETH: STAKE})
    with _manual_mining(chain):
        job_id = _job_whose_claim_is_pending(worker, chain, anvil, ipfs, deployed, model_id)
        url = _template(chain, deployed, ipfs, worker.sender.address)
        reader, got = _read_in_background(
            url.replace("{job_id}", str(job_id)),
            _auth(chain, deployed, anvil.keys[REQUESTER], job_id),
        )
        job = records(market)[job_id].job
        # The rival's claim pays a higher tip: Anvil orders it first in the block.
        market.jobs.functions.claim(job_id, job.as_abi()).transact(
            {"from": rival.address, "gas": 400_000, "maxPriorityFeePerGas": 100 * GWEI,
             "maxFeePerGas": 300 * GWEI}
        )  # fmt: skip
        chain.mine()
        wait_until(lambda: job_id not in worker.held, 30, "the lost job dropped")
    reader.join(30)
    assert got == [("error", {"code": "job.lost", "message": got[0][1]["message"]})]
    (claimed,) = events_named(market, "JobClaimed")
    assert claimed["worker"] == rival.address
    assert worker.metrics.races_lost.labels("claim")._value.get() == 1
    assert worker.failure is None
