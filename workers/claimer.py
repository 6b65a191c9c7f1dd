"""Queue → claimed jobs: pick what can be finished in time, claim in batches, lose races quietly.

Deadlines are block time. A job is worth claiming when its request deadline is still ahead
and its work time covers the expected processing time plus the safety margin. ``claimBatch``
skips a job another worker took first (it reports it with ``BatchItemSkipped``) and claims the
rest, so the jobs held are the ones its ``JobClaimed`` events name; a single ``claim`` that
lost its race reverts and is dropped quietly.

Every claim locks the job's collateral from the worker's allocation to the market
(``lockedOf + collateral <= allocationOf``): ``within`` keeps to the free allocation, and a
job the market still finds beyond it (``JobMarketAllocationExceeded``: the lock grew
meanwhile) is skipped in a batch, or reverts a single claim, like a lost race; it stays
open to be tried once allocation frees up. A revert that refuses every claim (a paused
market) stops claiming at once and is handed back: retrying every tick would only repeat it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from web3.logs import DISCARD
from web3.types import TxReceipt

from inferchain.chain import Chain, ContractReverted, TransactionFailed
from inferchain.market import JobRecord, Market
from inferchain.worker._tx import send
from inferchain.worker.errors import CannotClaim
from inferchain.worker.seams import Sender
from inferchain.worker.tracked import TrackedJob

log = logging.getLogger(__name__)

#: A single claim's reverts that mean "someone else got there first" or "too late": normal,
#: not alarming (a batch skips such jobs instead).
RACE_ERRORS = frozenset(
    {
        "JobMarketInvalidStatus",
        "JobMarketRequestExpired",
        "JobMarketJobMismatch",
        "JobMarketAllocationExceeded",
    }
)
#: Reverts that refuse every claim, whatever the job.
STANDING_ERRORS = frozenset({"JobMarketPaused"})


class Claimer:
    def __init__(
        self,
        chain: Chain,
        market: Market,
        sender: Sender,
        *,
        margin_s: int,
        estimate_s: Callable[[int], float],
        batch: int | None = None,
    ) -> None:
        # One claimBatch carries at most the market's MAX_BATCH jobs (None: that many).
        self._batch = market.max_batch if batch is None else min(batch, market.max_batch)
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

    @staticmethod
    def within(records: Sequence[JobRecord], free: dict[str, int]) -> list[JobRecord]:
        """The jobs of ``records``, in order, whose collateral fits in ``free`` (wei of free
        allocation per token), each taking its share: what one claim round may lock."""
        left = dict(free)
        chosen = []
        for record in records:
            token, collateral = record.job.terms.token, record.job.terms.collateral
            if collateral <= left.get(token, 0):
                left[token] -= collateral
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
        for start in range(0, len(pending), self._batch):
            batch = pending[start : start + self._batch]
            try:
                receipt = self._send(batch)
            except (ContractReverted, TransactionFailed) as exc:
                reason = exc if isinstance(exc, ContractReverted) else exc.reason
                if reason is not None:
                    _refuse_standing(reason)
                name = reason.error_name if reason else "unknown"
                ids = [r.job_id for r in batch]
                if len(batch) == 1 and name in RACE_ERRORS:
                    log.debug("claim race lost", extra={"job_id": ids[0], "error": name})
                else:
                    log.warning("claim refused", extra={"job_ids": ids, "error": str(exc)})
                continue
            won += self._held(batch, receipt)

    def _send(self, batch: Sequence[JobRecord]) -> TxReceipt:
        fns = self._market.jobs.functions
        if len(batch) == 1:
            call = fns.claim(batch[0].job_id, batch[0].job.as_abi())
            return send(self._sender, call, "claim")
        ids = [r.job_id for r in batch]
        call = fns.claimBatch(ids, [r.job.as_abi() for r in batch])
        return send(self._sender, call, "claim", len(batch))

    def _held(self, batch: Sequence[JobRecord], receipt: TxReceipt) -> list[TrackedJob]:
        events = self._market.jobs.events
        claimed = events.JobClaimed().process_receipt(receipt, errors=DISCARD)
        deadlines = {e["args"]["jobId"]: e["args"]["deadline"] for e in claimed}
        for skipped in events.BatchItemSkipped().process_receipt(receipt, errors=DISCARD):
            job_id, reason = skipped["args"]["jobId"], "0x" + bytes(skipped["args"]["reason"]).hex()
            log.debug("claim skipped", extra={"job_id": job_id, "reason": reason})
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
