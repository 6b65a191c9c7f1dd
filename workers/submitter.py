"""Pinned jobs → results (or failure reports) on-chain, in batches, never twice.

Before every submission the contract's state is checked: a batch is simulated at the latest
block, and a job restored after a restart is asked about with ``jobStatus``. A job already
submitted (a transaction that landed just before a crash) is adopted, not resubmitted; one
settled or past its deadline is abandoned. The contract would reject a second submission
anyway; asking first saves the gas.

``submitBatch`` skips a job a rival took or that ran out of time (``BatchItemSkipped``) and
submits the rest; a skipped job, or every job of a batch that reverted, is asked about with
``jobStatus`` and then dropped, adopted, abandoned or retried.

Speculative jobs (the fast path) are submitted on Open, which claims them in the same
transaction. One that is no longer Open lost its race to a rival: it is dropped quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from web3.logs import DISCARD
from web3.types import TxReceipt

from inferchain.chain import Chain, ContractReverted, TransactionFailed
from inferchain.market import JobStatus, Market
from inferchain.worker._tx import send
from inferchain.worker.errors import TransientFailure
from inferchain.worker.seams import Sender
from inferchain.worker.tracked import Phase, TrackedJob

log = logging.getLogger(__name__)

Failure = tuple[TrackedJob, Exception]


class Submitter:
    def __init__(
        self, chain: Chain, market: Market, sender: Sender, batch: int | None = None
    ) -> None:
        self._chain, self._market, self._sender = chain, market, sender
        # One submitBatch carries at most the market's MAX_BATCH jobs (None: that many).
        self._batch = market.max_batch if batch is None else min(batch, market.max_batch)

    def submit(self, jobs: Sequence[TrackedJob], block_ts: int) -> list[Failure]:
        """Submit results and report refusals; returns transient failures to retry."""
        failures: list[Failure] = []
        for job in jobs:
            if job.speculative and job.is_failure:
                failures += self._claim_to_report(job)
        # Dropped, or still unclaimed (a retry is due): not this round.
        jobs = [j for j in jobs if j.phase is Phase.PINNED and not (j.speculative and j.is_failure)]
        # Jobs claimed by this process are checked by the batch's simulation (one eth_call at
        # the latest block); jobs restored from disk are asked about one by one first.
        ready = [job for job in jobs if job.checked or self._still_ours(job, block_ts)]
        results = [job for job in ready if not job.is_failure]
        for start in range(0, len(results), self._batch):
            failures += self._submit_batch(results[start : start + self._batch])
        for job in (job for job in ready if job.is_failure):
            failures += self._report(job)
        return failures

    def _claim_to_report(self, job: TrackedJob) -> list[Failure]:
        """A fast-path job whose input was refused: only a claimed job's failure can be
        reported (and refunded at once), so claim it first; a rival's claim ends it."""
        fns = self._market.jobs.functions
        try:
            receipt = send(self._sender, fns.claim(job.job_id, job.job.as_abi()), "claim")
        except (ContractReverted, TransactionFailed) as exc:
            job.checked = False
            if not self._still_ours(job, self._chain.block_timestamp()):
                return []  # dropped: a rival holds it
            return [(job, exc)]
        claimed = self._market.jobs.events.JobClaimed().process_receipt(receipt, errors=DISCARD)
        job.job = job.job.claimed_by(self._sender.address)
        job.claim_deadline = claimed[0]["args"]["deadline"]
        job.speculative, job.checked = False, True
        return []

    def _still_ours(self, job: TrackedJob, block_ts: int) -> bool:
        fns = self._market.jobs.functions
        status, deadline = self._chain.call(fns.jobStatus(job.job_id))
        status = JobStatus(status)
        job.checked = True
        if job.speculative:
            if status is JobStatus.OPEN and block_ts < deadline:
                return True
            log.info(
                "fast-path job lost its race; dropped",
                extra={"job_id": job.job_id, "status": status.name},
            )
            job.advance(Phase.DROPPED)
            return False
        if status is JobStatus.CLAIMED and block_ts < deadline:
            return True
        if status in (JobStatus.SUBMITTED, JobStatus.DISPUTED) and not job.is_failure:
            log.info("result already on-chain; not resubmitting", extra={"job_id": job.job_id})
            if status is JobStatus.SUBMITTED:
                job.submitted(deadline)
            else:  # its deadline is the arbitration's: the challenge window is over
                job.submitted(0)
                job.disputed(deadline)
            return False
        log.warning(
            "abandoning job",
            extra={"job_id": job.job_id, "status": status.name, "deadline": deadline},
        )
        job.advance(Phase.ABANDONED)
        return False

    def _submit_batch(self, batch: Sequence[TrackedJob]) -> list[Failure]:
        try:
            receipt = self._send(batch)
        except (ContractReverted, TransactionFailed) as exc:
            return self._recheck(batch, exc)
        events = self._market.jobs.events
        submitted = events.ResultSubmitted().process_receipt(receipt, errors=DISCARD)
        deadlines = {e["args"]["jobId"]: e["args"]["challengeDeadline"] for e in submitted}
        me = self._sender.address
        for job in batch:
            if job.job_id in deadlines:
                job.submitted(deadlines[job.job_id], worker=me)
        if deadlines:
            log.info(
                "results submitted",
                extra={"job_ids": list(deadlines),
                       "tx": receipt["transactionHash"].to_0x_hex(),
                       "challenge_deadline": max(deadlines.values())},
            )  # fmt: skip
        skipped = [job for job in batch if job.job_id not in deadlines]
        return self._recheck(skipped, None) if skipped else []

    def _recheck(self, jobs: Sequence[TrackedJob], exc: Exception | None) -> list[Failure]:
        """Jobs a batch skipped, or a reverted batch: ask the contract about each, so a lost
        race is dropped and a submitted or settled job adopted or abandoned; those still ours
        are retried next round."""
        failures: list[Failure] = []
        block_ts = self._chain.block_timestamp()
        for job in jobs:
            job.checked = False
            if self._still_ours(job, block_ts):
                failures.append((job, exc or TransientFailure("skipped by submitBatch")))
        return failures

    def _send(self, batch: Sequence[TrackedJob]) -> TxReceipt:
        fns = self._market.jobs.functions
        results = [job.result().as_abi() for job in batch]
        proofs = any(job.proof for job in batch)  # verified on-chain: gas estimated
        if len(batch) == 1:
            job = batch[0]
            call = fns.submitResult(job.job_id, job.job.as_abi(), results[0])
            return send(self._sender, call, "submit", estimate=proofs)
        ids = [job.job_id for job in batch]
        tuples = [job.job.as_abi() for job in batch]
        call = fns.submitBatch(ids, tuples, results)
        return send(self._sender, call, "submit", len(batch), estimate=proofs)

    def _report(self, job: TrackedJob) -> list[Failure]:
        fns = self._market.jobs.functions
        evidence = job.pinned_cid.to_bytes()  # type: ignore[union-attr]
        try:
            call = fns.reportFailure(job.job_id, job.job.as_abi(), evidence)
            receipt = send(self._sender, call, "fail")
        except (ContractReverted, TransactionFailed) as exc:
            return [(job, exc)]
        log.info(
            "invalid input reported",
            extra={"job_id": job.job_id, "evidence": str(job.pinned_cid),
                   "reason": job.refusal.reason if job.refusal else None,
                   "tx": receipt["transactionHash"].to_0x_hex()},
        )  # fmt: skip
        job.advance(Phase.FAILED)
        return []
