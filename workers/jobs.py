"""A claimed job as the worker sees it: one lifecycle enum with guarded transitions.

    claimed ─▶ fetched ─▶ ran ─▶ pinned ─▶ submitted ─▶ finalized
       │          │        │        │
       └──────────┴────────┴────────┴─▶ failed (invalid input reported) or abandoned

``ran`` holds either an output or the input's refusal (``InvalidInput``); ``pinned`` holds
the CID of one or the other, so the submit stage either submits or reports failure. Every
phase but the last two can also end in ``abandoned`` (deadline passed, job settled by
someone else). A restart resumes unpinned work from ``claimed``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from inferchain.bundle import InvalidInput
from inferchain.ipfs import Cid
from inferchain.market import Job
from inferchain.worker.errors import IllegalTransition


class Phase(StrEnum):
    CLAIMED = "claimed"
    FETCHED = "fetched"
    RAN = "ran"
    PINNED = "pinned"
    SUBMITTED = "submitted"
    FINALIZED = "finalized"
    FAILED = "failed"
    ABANDONED = "abandoned"


_NEXT: dict[Phase, frozenset[Phase]] = {
    Phase.CLAIMED: frozenset({Phase.FETCHED, Phase.RAN, Phase.ABANDONED}),
    Phase.FETCHED: frozenset({Phase.RAN, Phase.ABANDONED}),
    Phase.RAN: frozenset({Phase.PINNED, Phase.ABANDONED}),
    Phase.PINNED: frozenset({Phase.SUBMITTED, Phase.FAILED, Phase.ABANDONED}),
    Phase.SUBMITTED: frozenset({Phase.FINALIZED, Phase.ABANDONED}),
    Phase.FINALIZED: frozenset(),
    Phase.FAILED: frozenset(),
    Phase.ABANDONED: frozenset(),
}
#: Phases in which the worker still owes the market something before the claim deadline.
IN_FLIGHT = frozenset({Phase.CLAIMED, Phase.FETCHED, Phase.RAN, Phase.PINNED})
DONE = frozenset({Phase.FINALIZED, Phase.FAILED, Phase.ABANDONED})


@dataclass
class TrackedJob:
    """A job this worker holds. ``job`` is the tuple the next transition must pass."""

    job_id: int
    job: Job
    input_cid: bytes
    claim_deadline: int
    phase: Phase = Phase.CLAIMED
    input: bytes | None = None
    output: bytes | None = None
    refusal: InvalidInput | None = None
    pinned_cid: Cid | None = None
    output_hash: bytes | None = None
    is_failure: bool = False
    challenge_deadline: int | None = None
    model_time_s: float = 0.0
    claimed_at: float = field(default_factory=time.monotonic)
    retry_at: float = 0.0
    attempts: int = 0
    #: False until the contract confirmed this process holds the job (claim receipt or
    #: ``jobStatus``); jobs restored from disk start unchecked.
    checked: bool = False

    @property
    def model_id(self) -> int:
        return self.job.model_id

    def advance(self, to: Phase) -> None:
        if to not in _NEXT[self.phase]:
            raise IllegalTransition(f"job {self.job_id}: {self.phase} -> {to} is not allowed")
        self.phase = to

    def fetched(self, data: bytes) -> None:
        self.advance(Phase.FETCHED)
        self.input = data

    def ran(self, output: bytes | None, refusal: InvalidInput | None, model_time_s: float) -> None:
        self.advance(Phase.RAN)
        self.output, self.refusal, self.model_time_s = output, refusal, model_time_s
        self.input = None

    def pinned(self, cid: Cid, output_hash: bytes | None) -> None:
        self.advance(Phase.PINNED)
        self.pinned_cid, self.output_hash = cid, output_hash
        self.is_failure = self.refusal is not None
        self.output = None

    def submitted(self, challenge_deadline: int) -> None:
        self.advance(Phase.SUBMITTED)
        assert self.pinned_cid is not None and self.output_hash is not None
        self.job = self.job.with_output(self.pinned_cid, self.output_hash)
        self.challenge_deadline = challenge_deadline

    def later(self, delay_s: float) -> None:
        """Retry this job's current stage no sooner than ``delay_s`` from now."""
        self.attempts += 1
        self.retry_at = time.monotonic() + delay_s

    def due(self) -> bool:
        return time.monotonic() >= self.retry_at
