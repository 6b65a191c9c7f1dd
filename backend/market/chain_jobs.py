"""A job read from the chain itself, for the moments before the indexer has it.

A job exists once its creating transaction is mined, but reaches the index only on the
indexer's next step (a poll later, more behind ``confirmations``). ``job_from_chain``
rebuilds it from its own events with the one shared fold (``inferchain.market.history``)
and takes the current deadline from ``jobStatus``, as the same public view the index gives.
"""

from __future__ import annotations

from web3.types import EventData

from inferchain.gateway.market.contracts import MarketContracts
from inferchain.gateway.schemas.jobs import JobPublic, status_word
from inferchain.ipfs import Cid
from inferchain.market import (
    JobRecord,
    decode_logs,
    fold_events,
    read_job_state,
)


def job_from_chain(c: MarketContracts, job_id: int, from_block: int) -> JobPublic | None:
    """Job ``job_id`` as its events since ``from_block`` say; None if there is no such job."""
    if not 1 <= job_id < int(c.chain.call(c.market.functions.nextJobId())):
        return None
    topic = "0x" + job_id.to_bytes(32, "big").hex()
    logs = c.chain.w3.eth.get_logs(
        {
            "address": c.market.address,
            "fromBlock": from_block,
            "toBlock": "latest",
            "topics": [None, topic],  # every job event indexes the job id first
        }
    )
    events = decode_logs(c.market, logs)
    record = fold_events(events).get(job_id)
    if record is None:
        return None
    created = next(e for e in events if e["event"] == "JobCreated")
    deadline = read_job_state(c.chain, c.market, job_id).deadline
    block_time = int(c.chain.w3.eth.get_block(created["blockNumber"])["timestamp"])
    return _public(record, created, events[-1], int(deadline), block_time)


def _public(
    record: JobRecord, created: EventData, last: EventData, deadline: int, created_time: int
) -> JobPublic:
    job = record.job
    return JobPublic(
        job_id=record.job_id,
        status=status_word(record),  # type: ignore[arg-type]
        status_deadline=None if record.outcome else deadline,
        requester=job.requester,
        model_id=job.model_id,
        token=job.terms.token,
        price=job.terms.price,
        collateral=job.terms.collateral,
        worker=None if int(job.worker, 16) == 0 else job.worker,
        input_cid=str(Cid.parse(record.input_cid)),
        output_cid=_cid(record.output_cid),
        evidence_cid=_cid(record.evidence_cid),
        request_deadline=record.request_deadline,
        work_time=job.terms.work_time,
        created_block=record.created_block,
        created_time=created_time,
        created_tx=created["transactionHash"].to_0x_hex(),
        updated_block=int(last["blockNumber"]),
    )


def _cid(raw: bytes | None) -> str | None:
    return str(Cid.parse(raw)) if raw else None
