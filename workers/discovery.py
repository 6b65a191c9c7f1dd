"""Chain events → the job queue: open jobs for served models, behind a confirmation depth.

Events only propose work. The queue is pruned with contract state (``jobStatus``) before
claims, and the claim itself is simulated, so a stale or reorged event costs one call.
Jobs of a mode that checks a proof at submission (hook ``ON_SUBMIT``: the ZK mode) are left
to workers that prove for it (``zk_modes``): without a proof the market refuses the result,
and a claimed job that cannot be submitted would only time out and cost stake.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from inferchain.chain import Chain
from inferchain.market import (
    JobRecord,
    JobStatus,
    Market,
    fetch_market_events,
    fold_events,
    read_job_state,
)
from inferchain.market.modes import ON_SUBMIT, read_mode

log = logging.getLogger(__name__)


def fold_range(
    market: Market,
    from_block: int,
    to_block: int,
    *,
    chunk: int,
    known: Mapping[int, JobRecord] | None = None,
) -> dict[int, JobRecord]:
    """Fold the market's events of ``[from_block, to_block]`` onto ``known``, chunk by chunk."""
    records = dict(known or {})
    start = from_block
    while start <= to_block:
        end = min(start + chunk - 1, to_block)
        records = fold_events(fetch_market_events(market.jobs, start, end), records)
        start = end + 1
    return records


def chain_statuses(chain: Chain, market: Market, job_ids: Iterable[int]) -> dict[int, JobStatus]:
    """The contract's word on each job (one eth_call each; cheap next to a failed tx)."""
    return {job_id: read_job_state(chain, market.jobs, job_id).status for job_id in job_ids}


class Discovery:
    """Keeps ``open_jobs`` (served models, status Open) up to the confirmed head."""

    def __init__(
        self,
        chain: Chain,
        market: Market,
        served: set[int],
        confirmations: int,
        chunk: int,
        zk_modes: Iterable[int] = (),
    ) -> None:
        self._chain, self._market = chain, market
        self.served = served
        self._confirmations, self._chunk = confirmations, chunk
        self.zk_modes = frozenset(zk_modes)
        #: Whether this worker can serve each mode seen (a registered mode's hooks are fixed).
        self._servable: dict[int, bool] = {}

    def servable_mode(self, mode_id: int) -> bool:
        """False for a mode that wants a proof at submission this worker does not make."""
        if mode_id in self.zk_modes:
            return True
        known = self._servable.get(mode_id)
        if known is None:
            mode = read_mode(self._chain, self._market.jobs, mode_id)
            known = not mode.hooks & ON_SUBMIT
            if mode.registered:
                self._servable[mode_id] = known
        return known

    def scan(
        self, open_jobs: dict[int, JobRecord], last_block: int, head: int
    ) -> tuple[dict[int, JobRecord], int]:
        """New open jobs and the new last block; events after ``head - confirmations`` wait."""
        target = head - self._confirmations
        if target <= last_block:
            return open_jobs, last_block
        folded = fold_range(
            self._market, last_block + 1, target, chunk=self._chunk, known=open_jobs
        )
        fresh = {
            job_id: record
            for job_id, record in folded.items()
            if record.status is JobStatus.OPEN
            and record.job.model_id in self.served
            and self.servable_mode(record.job.terms.verification)
        }
        added = len(fresh.keys() - open_jobs.keys())
        if added:
            log.debug("discovered jobs", extra={"count": added, "to_block": target})
        return fresh, target

    def prune(self, open_jobs: dict[int, JobRecord]) -> dict[int, JobRecord]:
        """Drop queued jobs the contract says are no longer open (claimed by others, settled)."""
        statuses = chain_statuses(self._chain, self._market, open_jobs)
        return {i: r for i, r in open_jobs.items() if statuses[i] is JobStatus.OPEN}
