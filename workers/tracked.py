"""A job the worker holds: one lifecycle enum with guarded transitions.

    claimed ─▶ fetched ─▶ ran ─▶ pinned ─▶ submitted ─▶ finalized
       │          │        │        │          │              ▲
       │          │        │        │          └▶ disputed ───┤ (won, or expired: paid)
       │          │        │        │                └───────▶ lost (ruled against: slashed)
       └──────────┴────────┴────────┴─▶ failed (invalid input reported) or abandoned
    open ─▶ (the same stages, unclaimed) ─▶ submitted, or dropped when a rival wins

``open`` starts the fast path: a short job is run before it is claimed and submitted on
Open (claim and submit in one transaction). Nothing is owed while it is unclaimed, so a
lost race or a passed request deadline ends it quietly in ``dropped``.

``ran`` holds either an output or the input's refusal (``InvalidInput``); ``pinned`` holds
the CID of one or the other, so the submit stage either submits or reports failure. Every
phase but the last two can also end in ``abandoned`` (deadline passed, job settled by
someone else). A restart resumes unpinned work from ``claimed``.

``disputed`` holds a result its requester disputed until the court rules or the arbitration
deadline passes (workers/disputes.py): the pay and the locked collateral are still this
worker's to collect, so the job is kept (and saved) rather than abandoned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum

from inferchain.bundle import InvalidInput
from inferchain.ipfs import Cid
from inferchain.market import Job, JobRecord, Result
from inferchain.market.jobs import ZERO32
from inferchain.worker.errors import IllegalTransition
from inferchain.worker.metering import usage_word


class Phase(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    FETCHED = "fetched"
    RAN = "ran"
    PINNED = "pinned"
    SUBMITTED = "submitted"
    FINALIZED = "finalized"
    FAILED = "failed"
    ABANDONED = "abandoned"
    DROPPED = "dropped"
    DISPUTED = "disputed"
    LOST = "lost"


_NEXT: dict[Phase, frozenset[Phase]] = {
    Phase.OPEN: frozenset({Phase.FETCHED, Phase.RAN, Phase.DROPPED}),
    Phase.CLAIMED: frozenset({Phase.FETCHED, Phase.RAN, Phase.ABANDONED}),
    Phase.FETCHED: frozenset({Phase.RAN, Phase.ABANDONED, Phase.DROPPED}),
    Phase.RAN: frozenset({Phase.PINNED, Phase.ABANDONED, Phase.DROPPED}),
    Phase.PINNED: frozenset({Phase.SUBMITTED, Phase.FAILED, Phase.ABANDONED, Phase.DROPPED}),
    Phase.SUBMITTED: frozenset({Phase.FINALIZED, Phase.DISPUTED, Phase.LOST, Phase.ABANDONED}),
    Phase.DISPUTED: frozenset({Phase.FINALIZED, Phase.LOST, Phase.ABANDONED}),
    Phase.FINALIZED: frozenset(),
    Phase.FAILED: frozenset(),
    Phase.ABANDONED: frozenset(),
    Phase.DROPPED: frozenset(),
    Phase.LOST: frozenset(),
}
#: Phases of work under way before the (claim or request) deadline. A speculative job in
#: them owes nothing, but takes a slot all the same.
IN_FLIGHT = frozenset({Phase.OPEN, Phase.CLAIMED, Phase.FETCHED, Phase.RAN, Phase.PINNED})
#: Phases whose input is still wanted.
AWAITING_INPUT = frozenset({Phase.OPEN, Phase.CLAIMED})
DONE = frozenset({Phase.FINALIZED, Phase.FAILED, Phase.ABANDONED, Phase.DROPPED, Phase.LOST})


@dataclass
class TrackedJob:
    """A job this worker holds. ``job`` is the tuple the next transition must pass.

    A ``speculative`` job is unclaimed (the fast path): its ``claim_deadline`` is the
    request deadline, the last second it may be submitted on Open.
    """

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
    #: Set when the result was disputed: the market's deadline for a verdict, after which
    #: the dispute expires and the result stands.
    arbitration_deadline: int | None = None
    model_time_s: float = 0.0
    claimed_at: float = field(default_factory=time.monotonic)
    retry_at: float = 0.0
    attempts: int = 0
    #: False until the contract confirmed this process holds the job (claim receipt or
    #: ``jobStatus``); jobs restored from disk start unchecked.
    checked: bool = False
    speculative: bool = False
    #: ``Result.proof`` for a verification mode that checks one at submission (the ZK mode:
    #: workers/proving.py attaches it); not persisted: a restarted worker proves again.
    proof: bytes = b""
    #: ``Result.usage``: the token counts of a metered job's output (zero for flat pricing).
    usage: bytes = ZERO32

    @classmethod
    def held_open(cls, record: JobRecord) -> TrackedJob:
        """An Open job held unclaimed (speculative), to submit on Open by its request deadline."""
        return cls(
            job_id=record.job_id,
            job=record.job,
            input_cid=record.input_cid,
            claim_deadline=record.request_deadline,
            phase=Phase.OPEN,
            checked=True,
            speculative=True,
        )

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
        """An output, or the input's refusal. A metered job's usage is read from its output
        now; one over its paid-for limits is refused instead (workers/metering.py)."""
        self.advance(Phase.RAN)
        if output is not None:
            try:
                self.usage = usage_word(self.job, output)
            except InvalidInput as exc:
                output, refusal = None, exc
        self.output, self.refusal, self.model_time_s = output, refusal, model_time_s
        self.input = None

    def pinned(self, cid: Cid, output_hash: bytes | None) -> None:
        self.advance(Phase.PINNED)
        self.pinned_cid, self.output_hash = cid, output_hash
        self.is_failure = self.refusal is not None
        self.output = None

    def submitted(self, challenge_deadline: int, worker: str | None = None) -> None:
        """On-chain now; `worker` names the submitter of a speculative job (its claim)."""
        self.advance(Phase.SUBMITTED)
        assert self.pinned_cid is not None and self.output_hash is not None
        self.job = self.job.with_output(
            self.pinned_cid, self.output_hash, self.usage, worker=worker
        )
        self.challenge_deadline = challenge_deadline
        self.speculative = False

    def disputed(self, arbitration_deadline: int) -> None:
        """Its requester disputed the result: kept until the verdict or the deadline."""
        self.advance(Phase.DISPUTED)
        self.arbitration_deadline = arbitration_deadline

    def result(self) -> Result:
        """What `submitResult` takes for this pinned job (flat pricing: zero usage)."""
        assert self.pinned_cid is not None and self.output_hash is not None
        return Result(self.pinned_cid.to_bytes(), self.output_hash, self.usage, self.proof)

    def later(self, delay_s: float) -> None:
        """Retry this job's current stage no sooner than ``delay_s`` from now."""
        self.attempts += 1
        self.retry_at = time.monotonic() + delay_s

    def due(self) -> bool:
        return time.monotonic() >= self.retry_at
