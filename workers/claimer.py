"""Queue → claimed jobs: pick what can be finished in time, claim in batches, lose races quietly.

Deadlines are block time. A job is worth claiming when its request deadline is still ahead
and its work time covers the expected processing time plus the safety margin. ``claimBatch``
is all-or-nothing, so a batch that reverts on one job (another worker was faster) is retried
with only the jobs the contract still reports open; a batch whose revert names no job, or
that lost a race after being mined, falls back to one claim per job. A revert saying the
registry refuses this worker (stake below minimum, exiting) stops claiming at once and is
handed back: retrying every tick would only repeat it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from web3.logs import DISCARD
from web3.types import TxReceipt

from inferchain.chain import Chain, ContractReverted, TransactionFailed, TransactionSender
from inferchain.market import JobRecord, Market
from inferchain.worker._tx import send
from inferchain.worker.errors import CannotClaim
from inferchain.worker.jobs import TrackedJob

log = logging.getLogger(__name__)

MAX_BATCH = 50
#: Reverts that mean "someone else got there first" or "too late": normal, not alarming.
RACE_ERRORS = frozenset(
    {"JobMarketInvalidStatus", "JobMarketRequestExpired", "JobMarketJobMismatch"}
)
#: Reverts that refuse the worker itself, whatever the job.
STANDING_ERRORS = frozenset(
    {"WorkerRegistryStakeBelowMinimum", "WorkerRegistryExiting", "WorkerRegistryNotRegistered"}
)


class Claimer:
    def __init__(
        self,
        chain: Chain,
        market: Market,
        sender: TransactionSender,
        *,
        margin_s: int,
        estimate_s: Callable[[int], float],
        batch: int = MAX_BATCH,
        still_open: Callable[[list[int]], set[int]] | None = None,
    ) -> None:
        self._still_open = still_open
        self._batch = min(batch, MAX_BATCH)
        self._chain, self._market, self._sender = chain, market, sender
        self._margin = margin_s
        self._estimate = estimate_s

    def select(self, open_jobs: dict[int, JobRecord], block_ts: int) -> list[JobRecord]:
        """Oldest first, only jobs finishable before their deadlines."""
        chosen = []
        for job_id in sorted(open_jobs):
            record = open_jobs[job_id]
            if record.request_deadline <= block_ts + 1:
                continue  # the claim would land after the request deadline
            if record.job.terms.work_time < self._estimate(record.job.model_id) + self._margin:
                continue  # could not submit before the claim deadline
            chosen.append(record)
        return chosen

    def claim(self, records: Sequence[JobRecord]) -> tuple[list[TrackedJob], str | None]:
        """Claim as many of ``records`` as possible: (jobs now held, refusal).

        The refusal is set, and claiming stops, when the registry refuses this worker; jobs
        won before that are returned all the same (they are held, and owed).
        """
        won: list[TrackedJob] = []
        try:
            self._claim_all(list(records), won)
        except CannotClaim as exc:
            return won, exc.reason
        return won, None

    def _claim_all(self, pending: list[JobRecord], won: list[TrackedJob]) -> None:
        while pending:
            batch = pending[: self._batch]
            try:
                receipt = self._send(batch)
            except ContractReverted as exc:
                _refuse_standing(exc)
                lost = exc.error_args.get("jobId")
                if exc.error_name in RACE_ERRORS and lost in {r.job_id for r in batch}:
                    log.debug("claim race lost", extra={"job_id": lost, "error": exc.error_name})
                    pending = [r for r in pending if r.job_id != lost]
                    if self._still_open is not None and pending:  # a rival took more than one
                        open_ids = self._still_open([r.job_id for r in pending])
                        pending = [r for r in pending if r.job_id in open_ids]
                    continue
                self._one_by_one(batch, won)
            except TransactionFailed:
                self._one_by_one(batch, won)  # mined after a rival's claim in the same block
            else:
                won += self._held(batch, receipt)
            pending = pending[len(batch) :]

    def _send(self, batch: Sequence[JobRecord]) -> TxReceipt:
        fns = self._market.jobs.functions
        if len(batch) == 1:
            call = fns.claim(batch[0].job_id, batch[0].job.as_abi())
            return send(self._sender, call, "claim")
        ids = [r.job_id for r in batch]
        call = fns.claimBatch(ids, [r.job.as_abi() for r in batch])
        return send(self._sender, call, "claim", len(batch))

    def _one_by_one(self, batch: Sequence[JobRecord], won: list[TrackedJob]) -> None:
        for record in batch:
            try:
                receipt = self._send([record])
            except (ContractReverted, TransactionFailed) as exc:
                reason = exc if isinstance(exc, ContractReverted) else exc.reason
                if reason is not None:
                    _refuse_standing(reason)
                name = reason.error_name if reason else "unknown"
                if name in RACE_ERRORS:
                    log.debug("claim race lost", extra={"job_id": record.job_id, "error": name})
                else:
                    log.warning("claim refused", extra={"job_id": record.job_id, "error": str(exc)})
                continue
            won += self._held([record], receipt)

    def _held(self, batch: Sequence[JobRecord], receipt: TxReceipt) -> list[TrackedJob]:
        events = self._market.jobs.events.JobClaimed().process_receipt(receipt, errors=DISCARD)
        deadlines = {e["args"]["jobId"]: e["args"]["deadline"] for e in events}
        me = self._sender.address
        return [
            TrackedJob(
                job_id=r.job_id,
                job=r.job.claimed_by(me),
                input_cid=r.input_cid,
                claim_deadline=deadlines[r.job_id],
                checked=True,
            )
            for r in batch
            if r.job_id in deadlines
        ]


def _refuse_standing(exc: ContractReverted) -> None:
    if exc.error_name in STANDING_ERRORS:
        raise CannotClaim(f"{exc.error_name} {exc.error_args}") from exc
