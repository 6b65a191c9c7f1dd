"""The worker's persisted state: last block scanned, open jobs known, jobs held.

One JSON file, replaced atomically (write a temp file, fsync, rename), so a SIGKILL at
any instant leaves either the old or the new state. It is a cache: the contract stays the
source of truth and every job read back is checked with ``jobStatus`` before use.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inferchain.ipfs import Cid
from inferchain.market import Job, JobOutcome, JobRecord, JobStatus, JobTerms
from inferchain.worker.jobs import Phase, TrackedJob

VERSION = 1


@dataclass
class WorkerState:
    chain_id: int
    market: str
    last_block: int
    open_jobs: dict[int, JobRecord] = field(default_factory=dict)
    held: dict[int, TrackedJob] = field(default_factory=dict)


def save_state(path: Path, state: WorkerState) -> None:
    doc = {
        "version": VERSION,
        "chain_id": state.chain_id,
        "market": state.market,
        "last_block": state.last_block,
        "open_jobs": [_record_to_json(r) for r in state.open_jobs.values()],
        "held": [_tracked_to_json(t) for t in state.held.values()],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(doc, handle, separators=(",", ":"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_state(path: Path, chain_id: int, market: str) -> WorkerState | None:
    """The saved state for this chain and market, or None (missing, other market, unreadable)."""
    try:
        doc = json.loads(path.read_text())
        if (
            doc.get("version") != VERSION
            or doc["chain_id"] != chain_id
            or doc["market"].lower() != market.lower()
        ):
            return None
        records = [_record_from_json(r) for r in doc["open_jobs"]]
        held = [_tracked_from_json(t) for t in doc["held"]]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return WorkerState(
        chain_id=chain_id,
        market=market,
        last_block=int(doc["last_block"]),
        open_jobs={r.job_id: r for r in records},
        held={t.job_id: t for t in held},
    )


# -- encoding ---------------------------------------------------------------------------


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def _unhex(value: str | None) -> bytes | None:
    return None if value is None else bytes.fromhex(value)


def _job_to_json(job: Job) -> dict[str, Any]:
    return {
        "requester": job.requester,
        "model_id": job.model_id,
        "terms": job.terms.__dict__,
        "worker": job.worker,
        "output_codec": job.output_codec,
        "output_digest": job.output_digest.hex(),
        "output_hash": job.output_hash.hex(),
        "bond": job.bond,
    }


def _job_from_json(d: dict[str, Any]) -> Job:
    return Job(
        requester=d["requester"],
        model_id=d["model_id"],
        terms=JobTerms(**d["terms"]),
        worker=d["worker"],
        output_codec=d["output_codec"],
        output_digest=bytes.fromhex(d["output_digest"]),
        output_hash=bytes.fromhex(d["output_hash"]),
        bond=d["bond"],
    )


def _record_to_json(r: JobRecord) -> dict[str, Any]:
    return {
        "job_id": r.job_id,
        "job": _job_to_json(r.job),
        "status": int(r.status),
        "input_cid": r.input_cid.hex(),
        "request_deadline": r.request_deadline,
        "created_block": r.created_block,
        "claim_deadline": r.claim_deadline,
        "challenge_deadline": r.challenge_deadline,
        "output_cid": _hex(r.output_cid),
        "evidence_cid": _hex(r.evidence_cid),
        "outcome": r.outcome.value if r.outcome else None,
    }


def _record_from_json(d: dict[str, Any]) -> JobRecord:
    return JobRecord(
        job_id=d["job_id"],
        job=_job_from_json(d["job"]),
        status=JobStatus(d["status"]),
        input_cid=bytes.fromhex(d["input_cid"]),
        request_deadline=d["request_deadline"],
        created_block=d["created_block"],
        claim_deadline=d["claim_deadline"],
        challenge_deadline=d["challenge_deadline"],
        output_cid=_unhex(d["output_cid"]),
        evidence_cid=_unhex(d["evidence_cid"]),
        outcome=JobOutcome(d["outcome"]) if d["outcome"] else None,
    )


def _tracked_to_json(t: TrackedJob) -> dict[str, Any]:
    # Unpinned work is redone after a restart (outputs are deterministic), so only the
    # pinned CID and hash survive; earlier phases are saved as `claimed`.
    keep = t.phase in (Phase.PINNED, Phase.SUBMITTED)
    return {
        "job_id": t.job_id,
        "job": _job_to_json(t.job),
        "input_cid": t.input_cid.hex(),
        "claim_deadline": t.claim_deadline,
        "phase": t.phase.value if keep else Phase.CLAIMED.value,
        "pinned_cid": str(t.pinned_cid) if keep and t.pinned_cid else None,
        "output_hash": _hex(t.output_hash) if keep else None,
        "is_failure": t.is_failure if keep else False,
        "challenge_deadline": t.challenge_deadline,
    }


def _tracked_from_json(d: dict[str, Any]) -> TrackedJob:
    return TrackedJob(
        job_id=d["job_id"],
        job=_job_from_json(d["job"]),
        input_cid=bytes.fromhex(d["input_cid"]),
        claim_deadline=d["claim_deadline"],
        phase=Phase(d["phase"]),
        pinned_cid=Cid.parse(d["pinned_cid"]) if d["pinned_cid"] else None,
        output_hash=_unhex(d["output_hash"]),
        is_failure=d["is_failure"],
        challenge_deadline=d["challenge_deadline"],
    )
