"""Disputed results → paid or lost: the worker collects what a dispute leaves it.

A disputed job waits in the market until someone calls ``resolveDispute`` (once the mode's
module has a verdict: the committee's majority, or a manual ruling) or, past the arbitration
deadline, ``expireDispute`` (the result stands: the worker is paid, the bond goes back). Both
are open to anyone, and nobody else has a reason to hurry: a requester who disputes and never
opens a dispute round, or a silent committee, would leave the worker's pay and its locked
collateral waiting for a stranger. So the worker sends them itself, once per new block for
each disputed job it holds:

- before the deadline, ``resolveDispute`` is simulated and sent only when it would pass
  (``JobMarketVerdictPending``: no verdict yet, asked again next block);
- past it, ``expireDispute``;
- a block on the other side of the deadline than the tick read: the other call next block;
- any other refusal (settled by someone else, a mined transaction that lost a race) is checked with
  ``jobStatus``: still disputed → retried next block; settled → how it ended is read from the
  market's events (``find_end``).

One job's refusal never stops the others; RPC failures end the tick like any other stage's.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from eth_utils import event_abi_to_log_topic
from web3.types import EventData

from inferchain.chain import Chain, ContractReverted, TransactionFailed
from inferchain.market import JobStatus, Market, decode_logs, read_job_state
from inferchain.worker.seams import Sender
from inferchain.worker.tracked import Phase, TrackedJob

log = logging.getLogger(__name__)

#: Refusals of a block on the other side of the arbitration deadline than the tick read.
_DEADLINE_RACES = ("JobMarketArbitrationClosed", "JobMarketArbitrationOpen")
#: The events that tell how a submitted job ended.
_END_EVENTS = ("DisputeResolved", "DisputeExpired", "JobFinalized")


@dataclass(frozen=True)
class JobEnd:
    """How a submitted job ended for its worker.

    ``outcome``: ``paid`` (finalized undisputed), ``won`` (the court ruled for the worker),
    ``expired`` (no verdict in time: the result stood), ``lost`` (ruled against: refunded,
    the worker slashed) or ``unknown`` (settled, but no event says how). ``amount`` is what
    the worker was paid, or for ``lost`` what it was slashed.
    """

    outcome: str
    amount: int = 0

    @property
    def paid(self) -> bool:
        return self.outcome in ("paid", "won", "expired")


def end_of(events: Iterable[EventData]) -> JobEnd:
    """The end that one job's events (``_END_EVENTS``, in chain order) tell."""
    by_name = {e["event"]: e["args"] for e in events}
    resolved, finalized = by_name.get("DisputeResolved"), by_name.get("JobFinalized")
    if resolved is not None and not resolved["workerWins"]:
        return JobEnd("lost", int(resolved["slashed"]))
    if finalized is None:
        return JobEnd("unknown")
    if resolved is not None:
        outcome = "won"
    else:
        outcome = "expired" if "DisputeExpired" in by_name else "paid"
    return JobEnd(outcome, int(finalized["workerAmount"]))


def find_end(chain: Chain, market: Market, job_id: int, head: int, chunk: int) -> JobEnd:
    """How job ``job_id``, settled by someone else, ended: its end events, searched backwards
    from ``head`` in ``chunk``-block ranges (they are recent: the job was live lately)."""
    jobs = market.jobs
    topics = [
        [event_abi_to_log_topic(item) for item in jobs.abi
         if item.get("type") == "event" and item["name"] in _END_EVENTS],
        job_id.to_bytes(32, "big"),
    ]  # fmt: skip
    floor = market.addresses.deployed_block
    end = head
    while end >= floor:
        start = max(floor, end - chunk + 1)
        logs = chain.w3.eth.get_logs(
            {"address": jobs.address, "fromBlock": start, "toBlock": end, "topics": topics}  # type: ignore[typeddict-item]
        )
        if logs:
            return end_of(decode_logs(jobs, logs))
        end = start - 1
    return JobEnd("unknown")


def settle_ended(job: TrackedJob, end: JobEnd, *, how: str) -> None:
    """Move ``job`` to what ``end`` says and log it (a loss loudly: collateral slashed)."""
    extra: dict[str, Any] = {"job_id": job.job_id, "outcome": end.outcome, "how": how}
    if end.outcome == "lost":
        job.advance(Phase.LOST)
        log.warning(
            "dispute lost: the court ruled the result wrong; price refunded, collateral "
            "slashed to the requester",
            extra={**extra, "slashed": end.amount, "token": job.job.terms.token},
        )
    elif end.outcome == "unknown":
        job.advance(Phase.ABANDONED)
        log.warning("job settled, but no event says how; dropped", extra=extra)
    else:
        job.advance(Phase.FINALIZED)
        log.info("disputed job paid" if end.outcome != "paid" else "job paid",
                 extra={**extra, "earned": end.amount, "token": job.job.terms.token})  # fmt: skip


class Disputes:
    """Resolves or expires the disputed jobs this worker holds; one attempt per new block."""

    def __init__(self, chain: Chain, market: Market, sender: Sender, chunk: int) -> None:
        self._chain, self._market, self._sender, self._chunk = chain, market, sender, chunk
        #: Job id → the head it was last tried at: a verdict or a deadline only changes with a
        #: new block, so a tick without one asks nothing.
        self._tried_at: dict[int, int] = {}

    def settle(
        self, jobs: Sequence[TrackedJob], head: int, block_ts: int
    ) -> list[tuple[TrackedJob, JobEnd]]:
        """Try every disputed job in ``jobs``; returns those that ended, with how."""
        ended: list[tuple[TrackedJob, JobEnd]] = []
        disputed = [j for j in jobs if j.phase is Phase.DISPUTED]
        self._tried_at = {j.job_id: self._tried_at.get(j.job_id, -1) for j in disputed}
        for job in disputed:
            if self._tried_at[job.job_id] >= head:
                continue
            self._tried_at[job.job_id] = head
            try:
                end = self._settle_one(job, head, block_ts)
            except (ContractReverted, TransactionFailed) as exc:
                log.warning(
                    "dispute not settled; retried next block",
                    extra={"job_id": job.job_id, "error": str(exc)},
                )
                continue
            if end is not None:
                ended.append((job, end))
        return ended

    def _settle_one(self, job: TrackedJob, head: int, block_ts: int) -> JobEnd | None:
        fns = self._market.jobs.functions
        expired = job.arbitration_deadline is not None and block_ts > job.arbitration_deadline
        fn = fns.expireDispute if expired else fns.resolveDispute
        try:
            receipt = self._sender.transact(fn(job.job_id, job.job.as_abi()))
        except ContractReverted as exc:
            if exc.error_name == "JobMarketVerdictPending":
                log.debug("dispute: no verdict yet", extra={"job_id": job.job_id})
                return None
            if exc.error_name in _DEADLINE_RACES:  # the block time crossed the deadline
                job.arbitration_deadline = int(exc.error_args["deadline"])
                log.debug("dispute: deadline crossed; next block", extra={"job_id": job.job_id})
                return None
            return self._recheck(job, head, exc)
        except TransactionFailed as exc:  # mined after a rival's, or past the deadline
            return self._recheck(job, head, exc)
        ended = end_of(decode_logs(self._market.jobs, receipt["logs"]))
        how = "expireDispute" if expired else "resolveDispute"
        settle_ended(job, ended, how=f"{how} {receipt['transactionHash'].to_0x_hex()}")
        return ended

    def _recheck(self, job: TrackedJob, head: int, exc: Exception) -> JobEnd | None:
        """A refused transaction: still disputed (retry next block, raised to be logged), or
        settled by someone else (read how from the events)."""
        state = read_job_state(self._chain, self._market.jobs, job.job_id)
        if state.status is JobStatus.DISPUTED:
            job.arbitration_deadline = state.deadline
            raise exc
        if state.status in (JobStatus.SETTLED, JobStatus.PAID):
            ended = find_end(self._chain, self._market, job.job_id, head, self._chunk)
            settle_ended(job, ended, how="settled by someone else")
            return ended
        log.warning(
            "disputed job in an unexpected state; dropped",
            extra={"job_id": job.job_id, "status": state.status.name, "error": str(exc)},
        )
        job.advance(Phase.ABANDONED)
        return JobEnd("unknown")
