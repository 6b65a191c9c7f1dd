"""Start-up reconciliation: which jobs does this worker hold, according to the contract?

The saved state is a cache. Events since the saved block add jobs claimed just before a
crash; if the registry still counts more held jobs than that (state lost), the whole
history is folded. Every job is then checked with ``jobStatus``: still claimed and in time
→ resume; already submitted → adopt for finalization, never resubmit; disputed → keep, to
collect its pay when the dispute ends (workers/disputes.py); saved as disputed and settled
meanwhile → keep, for the first tick to read how it ended; otherwise settled or past its
deadline → drop.
"""

from __future__ import annotations

import logging

from inferchain.chain import Chain
from inferchain.market import JobRecord, JobStatus, Market, read_job_state
from inferchain.worker.discovery import fold_range
from inferchain.worker.tracked import Phase, TrackedJob

log = logging.getLogger(__name__)


def tracked_from_record(record: JobRecord) -> TrackedJob:
    job = TrackedJob(
        job_id=record.job_id,
        job=record.job,
        input_cid=record.input_cid,
        claim_deadline=record.claim_deadline or 0,
    )
    if record.status in (JobStatus.SUBMITTED, JobStatus.DISPUTED):
        job.phase = Phase.SUBMITTED
        job.challenge_deadline = record.challenge_deadline
    if record.status is JobStatus.DISPUTED:
        job.disputed(record.arbitration_deadline or 0)
    return job


def own_records(
    market: Market, me: str, from_block: int, to_block: int, chunk: int
) -> dict[int, JobRecord]:
    folded = fold_range(market, from_block, to_block, chunk=chunk)
    live = (JobStatus.CLAIMED, JobStatus.SUBMITTED, JobStatus.DISPUTED)
    return {
        i: r for i, r in folded.items() if r.job.worker.lower() == me.lower() and r.status in live
    }


def reconcile_held(
    chain: Chain,
    market: Market,
    held: dict[int, TrackedJob],
    records: dict[int, JobRecord],
    block_ts: int,
) -> dict[int, TrackedJob]:
    """Check every held job against the contract; returns the ones still worth keeping."""
    for job_id, record in records.items():
        held.setdefault(job_id, tracked_from_record(record))
    kept: dict[int, TrackedJob] = {}
    for job_id, job in held.items():
        state = read_job_state(chain, market.jobs, job_id)
        status, deadline = state.status, state.deadline
        if status is JobStatus.CLAIMED and block_ts < deadline:
            if job.phase is Phase.SUBMITTED:
                log.warning("saved as submitted but still claimed", extra={"job_id": job_id})
                continue
            kept[job_id] = job
        elif job.speculative and job_id not in records:
            # Unclaimed fast-path work: nothing is owed; submitted by a rival if not Open.
            log.info("fast-path job dropped at start", extra={"job_id": job_id})
        elif status is JobStatus.DISPUTED and not job.is_failure:
            if job.phase is not Phase.DISPUTED:
                record = records.get(job_id)
                if job.phase is Phase.PINNED:  # submitted just before the crash, then disputed
                    job.submitted(0, worker=record.job.worker if record else None)
                elif job.phase is not Phase.SUBMITTED:
                    log.warning("disputed job without its tuple", extra={"job_id": job_id})
                    continue
                job.disputed(deadline)
            job.arbitration_deadline = deadline
            kept[job_id] = job
        elif job.phase is Phase.DISPUTED and status in (JobStatus.SETTLED, JobStatus.PAID):
            kept[job_id] = job  # ended while this worker was down: the first tick reads how
        elif status is JobStatus.SUBMITTED:
            if job.phase is Phase.PINNED and not job.is_failure:
                # The submit landed just before the crash (on Open: the record names us).
                own = records.get(job_id)
                job.submitted(deadline, worker=own.job.worker if own else None)
            elif job.phase is not Phase.SUBMITTED:
                record = records.get(job_id)
                if record is None or record.status is not JobStatus.SUBMITTED:
                    log.warning("submitted job without its tuple", extra={"job_id": job_id})
                    continue
                job = tracked_from_record(record)
            job.challenge_deadline = deadline
            kept[job_id] = job
        else:
            log.info(
                "held job dropped at start",
                extra={"job_id": job_id, "status": status.name, "deadline": deadline},
            )
    return kept
