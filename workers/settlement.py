"""Submitted jobs → paid: finalize matured jobs in batches, withdraw earnings past a threshold.

Finalization is open to anyone; ``finalizeBatch`` skips a job someone else finalized (or
disputed) first (``BatchItemSkipped``), which is checked instead of retried: a disputed job
goes on to workers/disputes.py (its pay is still to collect), a settled one ends as its
events tell (paid, or a dispute lost). A batch that reverts (the market paused) is retried
next tick.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from web3.logs import DISCARD

from inferchain.chain import Chain, ContractReverted, TransactionFailed
from inferchain.market import ETH, JobStatus, Market, read_job_state
from inferchain.worker.disputes import JobEnd, find_end, settle_ended
from inferchain.worker.seams import Sender
from inferchain.worker.tracked import Phase, TrackedJob

log = logging.getLogger(__name__)


class Settler:
    def __init__(self, chain: Chain, market: Market, sender: Sender, chunk: int = 5_000) -> None:
        self._chain, self._market, self._sender, self._chunk = chain, market, sender, chunk
        #: Jobs the last ``finalize`` found settled by someone else, with how they ended.
        self.ended: list[tuple[TrackedJob, JobEnd]] = []

    def finalize(self, jobs: Sequence[TrackedJob], block_ts: int) -> dict[str, int]:
        """Finalize every matured job; returns the worker's earnings per token."""
        matured = [
            j for j in jobs if j.challenge_deadline is not None and block_ts > j.challenge_deadline
        ]
        earned: dict[str, int] = {}
        self.ended = []
        size = self._market.max_batch
        for start in range(0, len(matured), size):
            batch = matured[start : start + size]
            try:
                earned = _add(earned, self._finalize_batch(batch))
            except (ContractReverted, TransactionFailed) as exc:
                log.warning("finalize refused", extra={"job_ids": [j.job_id for j in batch],
                                                       "error": str(exc)})  # fmt: skip
        return earned

    def _finalize_batch(self, batch: Sequence[TrackedJob]) -> dict[str, int]:
        fns = self._market.jobs.functions
        ids = [j.job_id for j in batch]
        receipt = self._sender.transact(fns.finalizeBatch(ids, [j.job.as_abi() for j in batch]))
        events = self._market.jobs.events.JobFinalized().process_receipt(receipt, errors=DISCARD)
        paid = {e["args"]["jobId"]: e["args"]["workerAmount"] for e in events}
        earned: dict[str, int] = {}
        for job in batch:
            if job.job_id not in paid:
                self._skipped(job)
                continue
            job.advance(Phase.FINALIZED)
            token = job.job.terms.token
            earned[token] = earned.get(token, 0) + paid[job.job_id]
        log.info(
            "jobs finalized",
            extra={"job_ids": list(paid), "tx": receipt["transactionHash"].to_0x_hex(),
                   "earned": earned},
        )  # fmt: skip
        return earned

    def _skipped(self, job: TrackedJob) -> None:
        """A job the batch skipped: not yet due (kept), disputed (kept, to collect its pay
        once the dispute ends) or settled elsewhere (ended as its events tell)."""
        state = read_job_state(self._chain, self._market.jobs, job.job_id)
        if state.status is JobStatus.SUBMITTED:
            return  # its window is still open at the mined block: next tick
        if state.status is JobStatus.DISPUTED:
            log.warning(
                "result disputed by the requester; waiting for the verdict or the deadline",
                extra={"job_id": job.job_id, "arbitration_deadline": state.deadline},
            )
            job.disputed(state.deadline)
            return
        head = self._chain.w3.eth.block_number
        end = find_end(self._chain, self._market, job.job_id, head, self._chunk)
        settle_ended(job, end, how="settled by someone else")
        self.ended.append((job, end))

    def maybe_withdraw(self, threshold: int | None, tokens: set[str]) -> dict[str, int]:
        """Withdraw each token balance at or above ``threshold`` to the worker's own address."""
        if threshold is None:
            return {}
        out = {}
        for token in tokens | {ETH}:
            balance = self.balance(token)
            if balance >= threshold:
                withdraw(self._market, self._sender, token, balance)
                out[token] = balance
        return out

    def balance(self, token: str = ETH) -> int:
        fns = self._market.jobs.functions
        return int(self._chain.call(fns.balanceOf(self._sender.address, token)))


def withdraw(market: Market, sender: Sender, token: str, amount: int) -> None:
    receipt = sender.transact(market.jobs.functions.withdraw(token, sender.address, amount))
    log.info(
        "withdrew",
        extra={"token": token, "amount": amount, "tx": receipt["transactionHash"].to_0x_hex()},
    )


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    return {k: a.get(k, 0) + b.get(k, 0) for k in a.keys() | b.keys()}
